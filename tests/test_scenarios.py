"""Scenarios (issue 6): applied as data, never mutating, reproducing the baseline when they
change nothing, and moving premiums, limits and splits by hand-checkable amounts.

Hand figures use the shipped Xiamen book (all rates illustrative):
construction.building is rated on 0.9‰ of the contract value, minimum premium 1,000 yuan;
project type ``general`` 1.0; contract value band (5m, 30m] 1.07, up to 5m 1.13; limit
factors 600k-800k 1.08, 800k-1m 1.2 (bands closed left); the per-person floor is
10 x Xiamen urban income of the year before, rounded up to 10,000 yuan (Xiamen 2023:
72,880 yuan, the last published figure, so 730,000 for policies from 2024 on).
"""

from __future__ import annotations

import copy
import datetime as dt
import textwrap

import numpy as np
import pandas as pd
import pytest
from expect import warns_units_without_claims

import rating
from rating import scenarios as S
from rating.book import find_book, income_statistics
from rating.book.schema import as_data
from rating.errors import BookError, RatingError
from rating.scenarios.run import POLICY_COLUMNS
from rating.scenarios.summary import SUMMARY_COLUMNS
from rating.synthetic import synthetic_portfolio

BOOK = find_book("CN-FJ-XM", dt.date(2024, 6, 1))


def building(contract_value: float, inception: str = "2024-06-01", **extra) -> dict:
    return {"id": f"B{contract_value:.0f}", "jurisdiction": "CN-FJ-XM",
            "sector": "construction", "subsector": "building", "inception_date": inception,
            "contract_value": contract_value, "project_type": "general", **extra}


@pytest.fixture(scope="module")
def book_frame() -> pd.DataFrame:
    return synthetic_portfolio(1500, seed=11)


# --- applying never mutates; an identity reproduces the baseline ------------------------------

def test_apply_book_returns_a_new_book_and_leaves_the_input_alone():
    before = copy.deepcopy(as_data(BOOK))
    sha = BOOK.sha256
    new = S.apply_book(BOOK, {"name": "x", "book": {
        "base_rate": {"construction": 1.1}, "float_cap": 1.5, "prevention_share": 0.25,
        "factors": [{"table": "tiers.project_type", "level": "subway", "factor": 1.6}]}})
    assert new is not BOOK
    assert as_data(BOOK) == before and BOOK.sha256 == sha
    sub = new.sectors["construction"].subsectors["building"]
    assert sub.base_rate == pytest.approx(0.99)
    assert new.floating.cap == 1.5 and new.expenses.prevention_share_min == 0.25
    assert new.tiers["project_type"].levels["subway"].factor == 1.6
    assert new.status == "draft" and "scenario: x" in new.title.en
    assert "scenario 'x'" in sub.note
    # the untouched parts are equal
    assert new.sectors["fishery"] == BOOK.sectors["fishery"]


def test_apply_portfolio_and_statistics_do_not_mutate(book_frame):
    frame = book_frame.copy()
    income = income_statistics()
    before_income = copy.deepcopy(as_data(income))
    sc = {"name": "x", "book": {"prevention_share": 0.3},
          "statistics": {"income_growth": {"first_year": 2024, "rates": [0.05]},
                         "regions": ["CN-FJ-XM"]},
          "portfolio": {"years_forward": 1, "exposure_growth": {"headcount": 0.2},
                        "record_shift": [{"field": "deaths", "add": 1, "share": 0.5}]}}
    changed = S.apply_portfolio(frame, sc)
    S.apply_statistics(income, sc)
    pd.testing.assert_frame_equal(frame, book_frame)
    assert as_data(income) == before_income
    assert changed is not frame and not changed["headcount"].equals(frame["headcount"])


def test_identity_scenario_reproduces_the_baseline_exactly(book_frame):
    """An empty scenario and one that rebuilds the book without changing a number
    (base rates x 1) rate every policy exactly as the baseline."""
    policies = S.rate_scenarios(book_frame, [
        {"name": "same"}, {"name": "rebuilt", "book": {"base_rate": {"all": 1}}}])
    base = rating.rate_portfolio(book_frame)
    for name in ("same", "rebuilt"):
        part = policies[policies["scenario"] == name]
        np.testing.assert_array_equal(part["premium"].to_numpy(), base["premium"].to_numpy())
        np.testing.assert_array_equal(part["prevention_fund"].to_numpy(),
                                      base["prevention_fund"].to_numpy())
        assert (part["premium_change"] == 0).all()
    assert list(policies.columns) == POLICY_COLUMNS
    summary = S.summarise(policies, by=[])
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert (summary["premium"] == summary["premium"].iloc[0]).all()
    assert list(summary["scenario"]) == ["baseline", "same", "rebuilt"]


# --- +10% on one sector --------------------------------------------------------------------

def test_ten_percent_on_construction_by_hand():
    """Base rate 0.9‰ -> 0.99‰ for construction only.

    20m building: 20,000,000 x 0.9‰ = 18,000 x 1.08 (limit 730,000) x 1.07 = 20,800.80;
    after: 20,000,000 x 0.99‰ = 19,800 x 1.08 x 1.07 = 22,880.88 (+10% exactly).
    500k building: 500,000 x 0.9‰ = 450 x 1.08 x 1.13 = 549.18 < 1,000 -> 1,000; after
    604.10 < 1,000 -> still 1,000 (the minimum binds: +0%).
    860k building: 774 x 1.08 x 1.13 = 944.59 -> 1,000 (minimum); after 851.40 x 1.08 x
    1.13 = 1,039.04856 -> 1,039.05 (+3.905%: the minimum bound only before).
    A fishery policy does not move.
    """
    frame = pd.DataFrame([building(20_000_000), building(500_000), building(860_000),
                          {"id": "F", "jurisdiction": "CN-FJ-XM", "sector": "fishery",
                           "subsector": "marine_fishing", "inception_date": "2024-06-01",
                           "headcount": 10}])
    policies = S.rate_scenarios(frame, [{"name": "up", "book": {
        "base_rate": {"construction": 1.1}}}])
    up = policies[policies["scenario"] == "up"].reset_index(drop=True)
    assert list(up["baseline_premium"][:3]) == [20800.80, 1000.00, 1000.00]
    assert list(up["premium"][:3]) == [22880.88, 1000.00, 1039.05]
    assert list(up["minimum_binds"][:3]) == [False, True, False]
    assert up["premium"][3] == up["baseline_premium"][3]
    assert up["premium_change_pct"][0] == pytest.approx(0.10, abs=1e-12)
    assert up["premium_change_pct"][1] == 0
    assert up["premium_change_pct"][2] == pytest.approx(39.05 / 1000)


def test_ten_percent_on_one_sector_over_a_book(book_frame):
    """Over a synthetic book: construction policies whose minimum binds neither before nor
    after move by 10% up to the fen roundings (|new - 1.1 x old| <= 0.005 + 1.1 x 0.005);
    those at the minimum before and after do not move; every other sector is unchanged.
    Small projects (300k-700k: at most 700,000 x 0.99‰ x 1.08 x 1.13 = 845.72 < 1,000) are
    added, since the synthetic book has none at the minimum."""
    small = pd.DataFrame([building(v) for v in (300_000, 500_000, 700_000)])
    frame = pd.concat([book_frame, small.astype({"id": "str"})], ignore_index=True)
    policies = S.rate_scenarios(frame, [{"name": "up", "book": {
        "base_rate": {"construction": 1.1}}}])
    up = policies[policies["scenario"] == "up"]
    base = policies[policies["scenario"] == "baseline"]
    construction = (up["sector"] == "construction").to_numpy()
    at_min_before = base["minimum_binds"].to_numpy()
    at_min_after = up["minimum_binds"].to_numpy()
    free = construction & ~at_min_before & ~at_min_after
    both = construction & at_min_before & at_min_after
    assert free.sum() > 100 and both.sum() > 0
    new, old = up["premium"].to_numpy(), up["baseline_premium"].to_numpy()
    assert np.abs(new[free] - 1.1 * old[free]).max() <= 0.0105 + 1e-9
    np.testing.assert_array_equal(new[both], old[both])
    np.testing.assert_array_equal(new[~construction], old[~construction])


# --- invalid scenarios ------------------------------------------------------------------------

@pytest.mark.parametrize("spec, message", [
    ({"name": "x", "book": {"base_rate": {"constructon": 1.1}}},
     "book.base_rate.constructon: unknown sector 'constructon'"),
    ({"name": "x", "book": {"base_rate": {"construction.roads": 1.1}}},
     "unknown sub-sector 'roads' of construction"),
    ({"name": "x", "book": {"base_rate": {"construction": -1.1}}},
     "book.base_rate.construction: -1.1 is out of range; use a finite number > 0"),
    ({"name": "x", "book": {"base_rate": {"all": 1.1, "construction": 1.2}}},
     "addressed by both 'all' and 'construction'"),
    ({"name": "x", "book": {"float_floor": 1.6, "float_cap": 1.5}},
     "float floor 1.6 is above the float cap 1.5"),
    ({"name": "x", "book": {"float_floor": 1.4}},
     "float floor 1.4 would be above the float cap 1.3"),
    ({"name": "x", "book": {"float_cap": 0.9}}, "float cap 0.9 is below 1"),
    ({"name": "x", "book": {"factors": [{"table": "tiers.nope", "level": "a", "factor": 1}]}},
     "has no table 'tiers.nope'"),
    ({"name": "x", "book": {"factors": [{"table": "tiers.project_type", "level": "dam",
                                         "factor": 1.2}]}},
     "has no level 'dam'; use one of: general, high_risk, subway"),
    ({"name": "x", "book": {"factors": [{"table": "tiers.contract_value", "band": 1e6,
                                         "factor": 1.2}]}},
     "no band starting at 1e+06; bands start at: 0, 5e+06, 3e+07, 8e+07"),
    ({"name": "x", "book": {"base_rate": {"water_transport.passenger": 200}}},
     "the changed rate book is not valid: sectors.water_transport.subsectors.passenger."
     "base_rate: 1.6e+06 is out of range"),
    ({"name": "x", "book": {"minimum_premium": {"all": 10.001}}}, "fractions of a fen"),
    ({"name": "x", "book": {"rate": 1}}, "unknown key 'rate'"),
    ({"name": "baseline"}, "'baseline' names the unchanged book"),
    ({"name": "x", "portfolio": {"exposure_growth": {"scale": 0.1}}},
     "'scale' is not an exposure field"),
    ({"name": "x", "portfolio": {"record_shift": [{"field": "deaths", "add": 0,
                                                   "share": 0.5}]}}, "must not be 0"),
    ({"name": "x", "statistics": {"income_growth": {"first_year": 2026, "rates": [0.05]},
                                  "regions": ["CN-FJ-XM"]}},
     "CN-FJ-XM's last figure is for 2023: the path must start by 2024"),
    ({"name": "x", "statistics": {"income_growth": {"first_year": 2024, "rates": [0.05]},
                                  "regions": ["CN-XX"]}}, "no income series 'CN-XX'"),
    ({"name": "x", "portfolio": {"sectors": ["mining"]}}, "unknown sector 'mining'"),
])
def test_invalid_scenarios_are_rejected_clearly(spec, message):
    frame = pd.DataFrame([building(20_000_000)])
    with pytest.raises(RatingError) as info:
        S.rate_scenarios(frame, [spec])
    assert message in str(info.value)
    assert "scenario 'x'" in str(info.value) or spec["name"] == "baseline"


def test_subway_factor_below_high_risk_is_refused_by_the_book_rules():
    """project_type is not an adverse variable, so lowering a level is allowed; but adverse
    tables must keep rising: deaths bands may not fall as the record worsens."""
    deaths = next(name for name, t in BOOK.floating.groups["accidents"].factors.items()
                  if t.variable == "deaths")
    with pytest.raises(BookError, match="must not decrease as the record worsens"):
        S.apply_book(BOOK, {"name": "x", "book": {"factors": [
            {"table": f"floating.accidents.{deaths}", "band": 1, "factor": 0.5}]}})


def test_scenario_names_must_be_unique():
    frame = pd.DataFrame([building(20_000_000)])
    with pytest.raises(BookError, match="used twice"):
        S.rate_scenarios(frame, [{"name": "a"}, {"name": "a"}])


def test_yaml_errors_name_file_and_line(tmp_path):
    path = tmp_path / "scenarios.yaml"
    path.write_text(textwrap.dedent("""\
        scenarios:
          - name: up
            book:
              base_rate: {construction: 1.1}
          - name: bad
            book:
              float_cap: 1.2
              float_floor: 0.9
              minimum_premum: {all: 100}
        """), encoding="utf-8")
    with pytest.raises(BookError) as info:
        S.load_scenarios(path)
    assert f"{path}:9: scenarios[1].book.minimum_premum: unknown key" in str(info.value)
    path.write_text(textwrap.dedent("""\
        name: up
        book:
          base_rate:
            constructon: 1.1
        """), encoding="utf-8")
    (sc,) = S.load_scenarios(path)
    with pytest.raises(BookError) as info:
        S.apply_book(BOOK, sc)
    assert str(info.value).startswith(f"{path}:4: book.base_rate.constructon: unknown sector")


# --- statistics: income growth moves floors and limits ----------------------------------------

def test_income_growth_projects_figures_by_hand():
    """Xiamen 2023: 72,880. +5% -> 2024: 76,524; +4% -> 2025: 79,584.96 -> 79,585 (rounded
    half-up to the yuan). Published figures stay (CN has 2024 and 2025 already)."""
    income = income_statistics()
    new = S.apply_statistics(income, {"name": "g", "statistics": {
        "income_growth": {"first_year": 2024, "rates": [0.05, 0.04]},
        "regions": ["CN-FJ-XM", "CN"]}})
    xm = {v.year: v for v in new.series["CN-FJ-XM"].values}
    assert xm[2024].value == 76_524 and xm[2025].value == 79_585
    assert xm[2024].illustrative and xm[2024].confidence == "low"
    assert xm[2023].value == 72_880 and not xm[2023].illustrative
    assert new.series["CN"].values == income.series["CN"].values


def test_income_growth_raises_floors_limits_and_premiums():
    """A 20m building incepting 2026-06-01 rates on 2025 income. Baseline: not published,
    2023's 72,880 -> floor 730,000 -> limit factor 1.08 -> 20,800.80. With +5% then +4%:
    79,585 -> 795,850 -> 800,000 -> factor 1.2 -> 18,000 x 1.2 x 1.07 = 23,112.00.

    A 2025-06-01 policy stating 750,000 rates on 2024 income: 76,524 -> 765,240 -> floor
    770,000 > 750,000, so its limit is raised to 770,000 (factor still 1.08)."""
    frame = pd.DataFrame([building(20_000_000, "2026-06-01"),
                          building(20_000_000, "2025-06-01", per_person_limit=750_000)])
    policies = S.rate_scenarios(frame, [{"name": "g", "statistics": {
        "income_growth": {"first_year": 2024, "rates": [0.05, 0.04]},
        "regions": ["CN-FJ-XM"]}}])
    g = policies[policies["scenario"] == "g"].reset_index(drop=True)
    assert list(g["baseline_premium"]) == [20800.80, 20800.80]
    assert list(g["premium"]) == [23112.00, 20800.80]
    assert list(g["per_person_limit"]) == [800_000, 770_000]
    assert list(g["limit_raised"]) == [False, True]
    base = policies[policies["scenario"] == "baseline"]
    assert list(base["per_person_limit"]) == [730_000, 750_000]


# --- portfolio changes ------------------------------------------------------------------------

def test_exposure_growth_rounds_counts_half_up_and_money_to_the_fen():
    """headcount x 1.05: 10 -> 10.5 -> 11; 30 -> 31.5 -> 32; 7 -> 7.35 -> 7. contract value
    x 1.05: 1,000,000.10 -> 1,050,000.105 -> 1,050,000.11 (half-up; the float 1050000.105
    is 1050000.10499..., so the fen step adds half a fen before flooring)."""
    frame = pd.DataFrame({"sector": ["other"] * 3, "headcount": [10.0, 30.0, 7.0],
                          "contract_value": [np.nan, 1_000_000.10, np.nan]})
    out = S.apply_portfolio(frame, {"name": "g", "portfolio": {
        "exposure_growth": {"headcount": 0.05, "contract_value": 0.05}}})
    assert list(out["headcount"]) == [11, 32, 7]
    assert out["contract_value"][1] == 1_050_000.11
    assert np.isnan(out["contract_value"][0])


def test_years_forward_moves_dates_and_keeps_their_kind():
    """2024-02-29 + 1 year -> 2025-02-28; text stays text, datetimes stay datetimes."""
    text = pd.DataFrame({"sector": ["other", "other"],
                         "inception_date": ["2024-02-29", "2023-07-01"],
                         "expiry_date": ["2025-02-27", None]})
    out = S.apply_portfolio(text, {"name": "n", "portfolio": {"years_forward": 1}})
    assert list(out["inception_date"]) == ["2025-02-28", "2024-07-01"]
    assert out["expiry_date"][0] == "2026-02-27" and pd.isna(out["expiry_date"][1])
    stamps = text.assign(inception_date=pd.to_datetime(text["inception_date"]))
    out = S.apply_portfolio(stamps, {"name": "n", "portfolio": {"years_forward": 2}})
    assert out["inception_date"].dtype == stamps["inception_date"].dtype
    assert out["inception_date"][0] == pd.Timestamp("2026-02-28")


def test_record_shift_draws_the_share_with_its_seed():
    """share 0.25 of 10 eligible rows -> 2.5 -> 3 rows (half-up); the same seed draws the
    same rows; a negative shift draws among rows with a positive count and stops at 0."""
    frame = pd.DataFrame({"sector": ["other"] * 10 + ["fishery"] * 2,
                          "accidents_general": [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0]})
    up = {"name": "s", "portfolio": {"sectors": ["other"], "record_shift": [
        {"field": "accidents_general", "add": 1, "share": 0.25, "seed": 3}]}}
    a = S.apply_portfolio(frame, up)
    b = S.apply_portfolio(frame, up)
    moved = a["accidents_general"].to_numpy() - frame["accidents_general"].to_numpy()
    assert moved.sum() == 3 and set(np.flatnonzero(moved)) <= set(range(10))
    pd.testing.assert_frame_equal(a, b)
    down = {"name": "d", "portfolio": {"record_shift": [
        {"field": "accidents_general", "add": -5, "share": 1.0}]}}
    c = S.apply_portfolio(frame, down)
    assert list(c["accidents_general"]) == [0] * 12
    added = S.apply_portfolio(frame.drop(columns="accidents_general"), {
        "name": "n", "portfolio": {"record_shift": [{"field": "deaths", "add": 1,
                                                     "share": 0.5}]}})
    assert added["deaths"].sum() == 6


def test_prevention_share_is_raised_on_policies_that_state_less():
    """prevention share 0.3: a policy stating 0.245 is raised to 0.3; one stating 0.35
    keeps it; a 20,800.80 premium at 0.3 funds 6,240.24 yuan of prevention."""
    frame = pd.DataFrame([building(20_000_000, prevention_share=0.245),
                          building(30_000_000, prevention_share=0.35),
                          building(20_000_000)])
    policies = S.rate_scenarios(frame, [{"name": "p", "book": {"prevention_share": 0.3}}])
    p = policies[policies["scenario"] == "p"].reset_index(drop=True)
    assert p["prevention_fund"][0] == 6240.24 and p["prevention_fund"][2] == 6240.24
    assert p["prevention_fund"][1] == round(p["premium"][1] * 0.35, 2)
    assert (p["premium"] == p["baseline_premium"]).all()


def test_moving_a_year_on_caps_commissions_at_the_rule_then_in_force():
    """A 2024-06-01 policy paying 8% commission is renewed on 2025-06-01, after the 5% cap of
    2025-03-29: its commission is lowered to 5% (20,800.80 x 5% = 1,040.04)."""
    frame = pd.DataFrame([building(20_000_000, commission_rate=0.08)])
    policies = S.rate_scenarios(frame, [{"name": "n", "portfolio": {"years_forward": 1}}])
    n = policies[policies["scenario"] == "n"].iloc[0]
    assert bool(n["commission_capped"]) and n["commission"] == 1040.04
    assert policies.iloc[0]["commission"] == 1664.06  # 8% of 20,800.80 = 1,664.064


# --- summaries, sweeps, loss models -----------------------------------------------------------

def test_summary_adds_up_in_fen_and_keeps_units_apart(book_frame):
    policies = S.rate_scenarios(book_frame, [{"name": "up", "book": {
        "base_rate": {"construction": 1.1}}}])
    summary = S.summarise(policies, by=["sector"])
    for (name, sector), row in summary.set_index(["scenario", "sector"]).iterrows():
        part = policies[(policies["scenario"] == name) & (policies["sector"] == sector)]
        assert row["policies"] == len(part)
        assert row["premium"] == round(np.round(part["premium"] * 100).sum() / 100, 2)
        assert row["avg_per_person_limit"] == pytest.approx(part["per_person_limit"].mean())
        if part["basis"].nunique() > 1:
            assert row["basis"] == "mixed" and np.isnan(row["exposure"])
        else:
            assert row["exposure"] == pytest.approx(part["exposure"].sum())
    up = summary.set_index(["scenario", "sector"]).loc[("up", "construction")]
    assert up["premium_change_pct"] == pytest.approx(
        up["premium"] / up["baseline_premium"] - 1)
    assert list(S.run_scenarios(book_frame, [{"name": "up", "book": {
        "base_rate": {"construction": 1.1}}}]).columns) == list(summary.columns)


def test_sweep_over_the_float_cap(book_frame):
    """Each point is a scenario named parameter=value; the book's own cap (1.3) reproduces
    the baseline; a lower cap never raises the total premium."""
    out = S.sweep(book_frame, "book.float_cap", [1.1, 1.2, 1.3])
    assert list(out["scenario"]) == ["baseline", "book.float_cap=1.1", "book.float_cap=1.2",
                                     "book.float_cap=1.3"]
    assert np.isnan(out["value"][0]) and list(out["value"][1:]) == [1.1, 1.2, 1.3]
    assert (out["parameter"] == "book.float_cap").all()
    assert out["premium"][3] == out["premium"][0]
    assert out["premium"][1] <= out["premium"][2] <= out["premium"][3]
    keyed = S.sweep(book_frame, "book.base_rate.construction.building", [1.0, 2.0],
                    by=["sector"])
    row = keyed.set_index(["scenario", "sector"]).loc[
        ("book.base_rate.construction.building=2", "fishery")]
    assert row["premium_change"] == 0
    with pytest.raises(RatingError, match="values is empty"):
        S.sweep(book_frame, "book.float_cap", [])


class ExposureModel:
    """Expected loss = 0.5 yuan per unit of earned exposure: exposes what the model sees."""

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        self.seen = data
        return 0.5 * data["exposure"].to_numpy()


def test_loss_model_sees_earned_exposure_and_gives_loss_ratios():
    """An annual fishery policy of 10 persons for 6 months earns 5 person-years (loss 2.50);
    a 20m project earns its contract value (loss 10,000,000; ratio 10,000,000 / 20,800.80)."""
    frame = pd.DataFrame([building(20_000_000),
                          {"id": "F", "jurisdiction": "CN-FJ-XM", "sector": "fishery",
                           "subsector": "marine_fishing", "inception_date": "2024-06-01",
                           "expiry_date": "2024-11-30", "headcount": 10}])
    model = ExposureModel()
    policies = S.rate_scenarios(frame, [], loss_model=model)
    assert list(model.seen["rating_unit"]) == ["construction.building", "fishery.marine_fishing"]
    assert list(model.seen["exposure"]) == [20_000_000, 5]
    assert list(policies["expected_loss"]) == [10_000_000, 2.5]
    assert policies["loss_ratio"][0] == pytest.approx(10_000_000 / 20800.80)
    summary = S.summarise(policies, by=[])
    assert summary["loss_ratio"][0] == pytest.approx(
        10_000_002.5 / (20800.80 + policies["premium"][1]))


def test_glm_loss_model_is_frequency_times_severity():
    from rating.synthetic import synthetic_experience

    policy_years, claims = synthetic_experience(3000, years=2, seed=5)
    with warns_units_without_claims(policy_years, claims):
        model = S.GLMLossModel(["rating_unit"]).fit(policy_years, claims)
    with warns_units_without_claims(policy_years, claims):
        assert model.fit(policy_years, claims) is model
    sample = policy_years.head(50)
    np.testing.assert_allclose(model.predict(sample), model.frequency_.predict(sample)
                               * model.severity_.predict(sample))
    frame = synthetic_portfolio(300, seed=2)
    # the experience has no urban-rail claim, so no urban-rail severity: a clear error
    unseen = ~frame["sector"].isin(model.severity_.levels_["sector"])
    assert unseen.sum() == 2
    with pytest.raises(RatingError, match="the loss model cannot predict .*urban_rail"):
        S.rate_scenarios(frame, [], loss_model=model)
    frame = frame[~unseen]
    summary = S.run_scenarios(frame, [{"name": "up", "book": {"base_rate": {"all": 1.2}}}],
                              by=[], loss_model=model)
    # the same expected loss under both: only the premium moved, so the ratio falls by 1.2
    assert summary["expected_loss"][0] == summary["expected_loss"][1] > 0
    assert summary["loss_ratio"][1] == pytest.approx(
        summary["expected_loss"][1] / summary["premium"][1])
    with pytest.raises(RuntimeError, match="not fitted"):
        S.GLMLossModel().predict(sample)


# --- plots --------------------------------------------------------------------------------------

def test_plots_return_figures_and_never_show(book_frame):
    from matplotlib.figure import Figure

    from rating.scenarios import plots

    pyplot = pytest.importorskip("matplotlib.pyplot")
    open_before = pyplot.get_fignums()
    policies = S.rate_scenarios(book_frame, [
        {"name": "up", "book": {"base_rate": {"construction": 1.1}}},
        {"name": "band", "book": {"float_floor": 0.9, "float_cap": 1.1}}])
    summary = S.summarise(policies, by=["sector"])
    fig = plots.plot_change_by_segment(summary)
    assert isinstance(fig, Figure)
    assert len(fig.axes[0].patches) == 2 * summary["sector"].nunique()
    up = summary[summary["scenario"] == "up"].sort_values("sector")
    heights = [bar.get_height() for bar in fig.axes[0].containers[0]]  # first scenario
    np.testing.assert_allclose(heights, 100 * up["premium_change_pct"].to_numpy())
    assert isinstance(plots.plot_change_distribution(policies), Figure)
    sweep = S.sweep(book_frame, "book.float_cap", [1.1, 1.2])
    curve = plots.plot_sweep(sweep)
    assert list(curve.axes[0].lines[0].get_xdata()) == [1.1, 1.2]
    assert pyplot.get_fignums() == open_before  # nothing registered with pyplot
    with pytest.raises(RatingError, match="no column 'nope'"):
        plots.plot_sweep(sweep, y="nope")


# --- command line -----------------------------------------------------------------------------

def test_cli_writes_the_summary_and_refuses_bad_scenarios(tmp_path, capsys):
    """construction +10% on the 20m and 860k buildings: 20,800.80 -> 22,880.88 and
    1,000.00 (minimum) -> 1,039.05, so the construction total goes 21,800.80 -> 23,919.93."""
    from rating.cli import main

    portfolio = tmp_path / "book.csv"
    pd.DataFrame([building(20_000_000), building(860_000)]).to_csv(portfolio, index=False)
    spec = tmp_path / "sc.yaml"
    spec.write_text("name: up\nbook:\n  base_rate: {construction: 1.1}\n", encoding="utf-8")
    out, per_policy = tmp_path / "summary.csv", tmp_path / "policies.csv"
    assert main(["scenarios", str(portfolio), str(spec), "-o", str(out),
                 "--policies", str(per_policy)]) == 0
    summary = pd.read_csv(out)
    assert list(summary["scenario"]) == ["baseline", "up"]
    assert list(summary["premium"]) == [21800.80, 23919.93]
    assert len(pd.read_csv(per_policy)) == 4
    assert "up: premium 23,919.93 CNY (+9.72%)" in capsys.readouterr().out
    spec.write_text("name: up\nbook:\n  base_rate: {construction: -1}\n", encoding="utf-8")
    again = tmp_path / "again.csv"
    assert main(["scenarios", str(portfolio), str(spec), "-o", str(again)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rating: error: {spec}:3: book.base_rate.construction: -1 is out")
    assert not again.exists()


# --- review findings: shapes of input a book of business really has ---------------------------

def test_sector_without_subsector_column_and_with_whitespace():
    """'other' has one sub-sector, so a profile may leave the column out; a sector written
    ' construction ' is the construction sector (the rating strips text) and is summarised
    with the others."""
    frame = pd.DataFrame([
        {"jurisdiction": "CN-FJ-XM", "sector": "other", "inception_date": "2024-06-01",
         "headcount": 20, "scale": "small"},
        {"jurisdiction": "CN-FJ-XM", "sector": " construction ", "subsector": "building",
         "inception_date": "2024-06-01", "contract_value": 20_000_000},
        building(20_000_000)]).drop(columns="id")
    summary = S.run_scenarios(frame, {"name": "up", "book": {"base_rate": {"construction": 1.1}}})
    up = summary[summary["scenario"] == "up"].set_index("sector")
    assert up.loc["construction", "policies"] == 2
    assert up.loc["construction", "premium"] == 2 * 22880.88
    assert up.loc["other", "premium_change"] == 0


def test_duplicate_labels_and_several_editions(monkeypatch):
    """Two editions: the shipped book to 2024-12-31 and a copy from 2025-01-01 with every
    base rate doubled. Rows keep their labels (here all 7) and their order; a 2024 policy
    moved a year on is rated on the 2025 edition: 20,800.80 -> 2 x 20,800.80 = 41,601.60
    (the 2025 floor, 730,000 on 2024's missing figure, keeps the 1.08 limit factor)."""
    import rating.book as book_module

    old = BOOK
    doc = as_data(old)
    doc["effective_to"] = dt.date(2024, 12, 31)
    first = rating.load_book(doc)
    doc = as_data(old)
    doc.update(id="CN-FJ-XM-2025", effective_from=dt.date(2025, 1, 1))
    for sector in doc["sectors"].values():
        for sub in sector["subsectors"].values():
            sub["base_rate"] *= 2
    second = rating.load_book(doc)
    monkeypatch.setattr(book_module, "_shipped", lambda: (first, second))
    frame = pd.DataFrame([building(20_000_000, "2025-06-01"), building(20_000_000),
                          building(20_000_000, "2025-06-01")], index=[7, 7, 7])
    policies = S.rate_scenarios(frame, {"name": "next", "portfolio": {"years_forward": 1}})
    base = policies[policies["scenario"] == "baseline"]
    nxt = policies[policies["scenario"] == "next"]
    assert list(base["row"]) == [7, 7, 7]
    assert list(base["premium"]) == [41601.60, 20800.80, 41601.60]
    assert list(nxt["premium"]) == [41601.60, 41601.60, 41601.60]


def test_empty_portfolio_gives_empty_results():
    frame = pd.DataFrame([building(20_000_000)]).iloc[:0]
    policies = S.rate_scenarios(frame, {"name": "up", "book": {"base_rate": {"all": 1.1}}})
    assert len(policies) == 0 and list(policies.columns) == POLICY_COLUMNS
    assert len(S.summarise(policies, by=[])) == 0


def test_own_segment_columns_are_carried_not_rated():
    """A 'branch' column is no profile field: named as a segment it is carried; not named,
    it is refused like any misspelt field."""
    frame = pd.DataFrame([building(20_000_000), building(860_000)]).assign(
        branch=["north", "south"])
    summary = S.run_scenarios(frame, {"name": "up", "book": {"base_rate": {"all": 1.1}}},
                              by=["branch"])
    up = summary[summary["scenario"] == "up"].set_index("branch")
    assert up.loc["north", "premium"] == 22880.88 and up.loc["south", "premium"] == 1039.05
    with pytest.raises(RatingError, match="branch: unknown field"):
        S.rate_scenarios(frame, {"name": "up"})


def test_collect_leaves_rows_bad_in_any_run_out_of_every_run():
    """headcount 1 x (1 - 0.6) = 0.4 rounds to 0, which no policy may have: that row is bad
    in the scenario only, so it leaves every run; a row bad in the baseline too."""
    frame = pd.DataFrame([
        {"id": "ok", "jurisdiction": "CN-FJ-XM", "sector": "fishery",
         "subsector": "marine_fishing", "inception_date": "2024-06-01", "headcount": 10},
        {"id": "tiny", "jurisdiction": "CN-FJ-XM", "sector": "fishery",
         "subsector": "marine_fishing", "inception_date": "2024-06-01", "headcount": 1},
        {"id": "bad", "jurisdiction": "CN-FJ-XM", "sector": "fishery",
         "subsector": "nope", "inception_date": "2024-06-01", "headcount": 5}],
        index=["a", "b", "c"])
    shrink = {"name": "shrink", "portfolio": {"exposure_growth": {"headcount": -0.6}}}
    policies, problems = S.rate_scenarios(frame, shrink, errors="collect")
    assert list(policies["row"]) == ["a", "a"]
    assert policies["premium"].iloc[1] == pytest.approx(policies["premium"].iloc[0] * 0.4,
                                                        abs=0.01)
    assert list(dict.fromkeys(zip(problems["scenario"], problems["row"], problems["field"]))) == [
        ("baseline", "c", "subsector"), ("shrink", "b", "headcount")]
    with pytest.raises(RatingError, match=r"scenario 'shrink': row 'b': headcount: must be "
                                          "greater than 0"):
        S.rate_scenarios(frame.loc[["a", "b"]], shrink)


def test_years_forward_moves_a_fixed_rating_date_too():
    """date 2024-06-01 and one year on: rated on 2025-06-01, after the 5% cap, so an 8%
    commission is lowered to 5%."""
    frame = pd.DataFrame([building(20_000_000, commission_rate=0.08)])
    policies = S.rate_scenarios(frame, {"name": "n", "portfolio": {"years_forward": 1}},
                                date="2024-06-01")
    assert policies["commission_capped"].tolist() == [False, True]
    assert policies["commission"].tolist() == [1664.06, 1040.04]


def test_default_income_regions_are_the_books():
    """Without 'regions' the path projects the series the rated book's floor reads (Xiamen,
    last 2023), not CN-FJ (last 2022), so a path from 2024 is fine: the 2026 building of the
    hand example above moves to 23,112.00. Standalone, every series must reach the path."""
    frame = pd.DataFrame([building(20_000_000, "2026-06-01")])
    growth = {"name": "g", "statistics": {"income_growth": {"first_year": 2024,
                                                           "rates": [0.05, 0.04]}}}
    policies = S.rate_scenarios(frame, growth)
    assert policies["premium"].tolist() == [20800.80, 23112.00]
    with pytest.raises(BookError, match="CN-FJ's last figure is for 2022"):
        S.apply_statistics(income_statistics(), growth)
    with pytest.raises(BookError, match="list at least one region"):
        S.scenario({"name": "g", "statistics": {**growth["statistics"], "regions": []}})


def test_the_format_example_in_the_docstring_runs():
    from rating.scenarios import spec

    text = spec.__doc__.split("Example (YAML)::")[1].split('"""')[0]
    (sc,) = _load_text(textwrap.dedent(text))
    frame = synthetic_portfolio(200, seed=4)
    policies = S.rate_scenarios(frame, sc)
    assert (policies["scenario"] == "construction_up").sum() == 200


def _load_text(text: str):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        return S.load_scenarios(path)


def test_scenarios_built_in_code_are_checked():
    with pytest.raises(BookError, match="'baseline' names the unchanged book"):
        S.rate_scenarios(pd.DataFrame([building(1e6)]), S.Scenario(name="baseline"))
    with pytest.raises(BookError, match="book.float_cap: 0 is out of range"):
        S.scenario(S.Scenario(name="x", book={"float_cap": 0}))


def test_money_growth_is_exactly_half_up():
    """1.50 x (1 - 0.81) = 0.285 exactly, 0.29 half-up (in float it is 0.28499999...)."""
    frame = pd.DataFrame({"sector": ["other"], "payroll": [1.50]})
    out = S.apply_portfolio(frame, {"name": "g", "portfolio": {
        "exposure_growth": {"payroll": -0.81}}})
    assert out["payroll"][0] == 0.29


def test_sweep_names_and_values():
    frame = pd.DataFrame([building(20_000_000)])
    with pytest.raises(RatingError, match="both print as '1.3'"):
        S.sweep(frame, "book.float_cap", [1.3, 1.3 + 1e-14])
    out = S.sweep(frame, "statistics.income_growth",
                  [{"first_year": 2024, "rates": [0.1]}])
    assert out["value"][1] == {"first_year": 2024, "rates": [0.1]}


def test_plots_add_finer_segments_up_and_refuse_mixed_sweeps(book_frame):
    """A summary by sector and sub-sector plots each sector's own change: construction's
    bar is (sum of its premiums / sum of its baseline premiums - 1), not a mean of parts."""
    from rating.scenarios import plots

    policies = S.rate_scenarios(book_frame, [
        {"name": "up", "book": {"base_rate": {"construction.building": 1.5}}}])
    fine = S.summarise(policies, by=["sector", "subsector"])
    coarse = S.summarise(policies, by=["sector"])
    fig = plots.plot_change_by_segment(fine)
    heights = [bar.get_height() for bar in fig.axes[0].containers[0]]
    up = coarse[coarse["scenario"] == "up"].sort_values("sector")
    np.testing.assert_allclose(heights, 100 * up["premium_change_pct"].to_numpy())
    sweep = S.sweep(book_frame, "book.float_cap", [1.1, 1.2], by=["sector"])
    with pytest.raises(RatingError, match="pass segment="):
        plots.plot_sweep(sweep)
    assert len(plots.plot_sweep(sweep, segment="sector").axes[0].lines) == \
        sweep["sector"].nunique()


def test_loss_model_data_carries_the_worst_accident_grade():
    """Derived from the accident counts as the rating derives it: none; general (1 general);
    major (1 general and 2 major: the worst with a non-zero count)."""
    rows = [building(20_000_000), building(20_000_000, accidents_general=1),
            building(20_000_000, accidents_general=1, accidents_major=2)]
    model = ExposureModel()
    S.rate_scenarios(pd.DataFrame(rows), [], loss_model=model)
    assert list(model.seen["worst_accident_grade"]) == ["none", "general", "major"]


def test_a_projected_income_figure_is_labelled_in_the_floor():
    """The floor's income component names the figure as a scenario projection."""
    income = S.apply_statistics(income_statistics(), {"name": "g", "statistics": {
        "income_growth": {"first_year": 2024, "rates": [0.05]}, "regions": ["CN-FJ-XM"]}})
    floor = rating.per_person_floor(BOOK, dt.date(2025, 6, 1), income=income)
    part = next(c for c in floor.components if c.name == "income")
    assert part.amount == 765_240 and floor.amount == 770_000
    assert "illustrative: scenario 'g': 2023 figure x 1.05" in part.basis


def test_cli_collects_bad_rows_into_a_problems_file(tmp_path, capsys):
    from rating.cli import main

    portfolio = tmp_path / "book.csv"
    rows = [building(20_000_000), {**building(860_000), "subsector": "nope"}]
    pd.DataFrame(rows).to_csv(portfolio, index=False)
    spec = tmp_path / "sc.yaml"
    spec.write_text("name: up\nbook:\n  base_rate: {construction: 1.1}\n", encoding="utf-8")
    out = tmp_path / "summary.csv"
    assert main(["scenarios", str(portfolio), str(spec), "-o", str(out),
                 "--collect-errors"]) == 0
    assert list(pd.read_csv(out)["premium"]) == [20800.80, 22880.88]
    problems = pd.read_csv(tmp_path / "summary.problems.csv")
    assert set(problems["row"]) == {1} and set(problems["field"]) == {"subsector"}
    assert "1 bad row left out" in capsys.readouterr().out
