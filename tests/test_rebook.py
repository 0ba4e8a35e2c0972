"""Calibrating a new rate book from experience."""

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from expect import warns_units_without_claims

import rating
from rating.book import tables_dir
from rating.calibrate.experience import incurred
from rating.calibrate.rebook import CalibrationConfig, LoadsSpec, calibrate
from rating.cli import main
from rating.synthetic import synthetic_experience

BASE = tables_dir() / "books" / "cn-fj-xm-2022.yaml"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
LOADS = LoadsSpec(prevention_share=0.2, commission=0.05, variable_expense=0.1, profit_load=0.03)
TARGET = 1 - (0.2 + 0.05 + 0.1 + 0.03)  # 0.62: the loss ratio the loads leave room for


def config(**kw):
    return CalibrationConfig(**{"id": "XM-CAL", "effective_from": dt.date(2027, 1, 1),
                                "loads": LOADS, "tiers": [], **kw})


def experience_at(loss_ratio: float):
    """Synthetic experience rescaled so that every rating unit has the same loss ratio in
    every year; unit-years without a claim are left out (they cannot be rescaled)."""
    py, cl = synthetic_experience(4000, years=2, seed=3)
    cl = cl.copy()
    amount_cols = [c for c in cl.columns if c.startswith("paid_") or c == "reserved"]
    key = py.set_index(["policy_id", "year"])["rating_unit"]
    cl["unit"] = key.reindex(pd.MultiIndex.from_arrays([cl["policy_id"], cl["year"]])).to_numpy()
    premium = py.groupby(["rating_unit", "year"])["earned_premium"].sum()
    loss = pd.Series(incurred(cl).to_numpy(), index=cl.index).groupby(
        [cl["unit"], cl["year"]]).sum()
    scale = (loss_ratio * premium.reindex(loss.index) / loss)
    factor = scale.reindex(pd.MultiIndex.from_arrays([cl["unit"], cl["year"]])).to_numpy()
    cl[amount_cols] = cl[amount_cols].mul(factor, axis=0)
    kept = pd.MultiIndex.from_arrays([py["rating_unit"], py["year"]]).isin(loss.index)
    return py[kept].reset_index(drop=True), cl.drop(columns="unit")


def test_experience_at_target_loss_ratio_keeps_base_rates():
    """Loss ratio 0.62 everywhere = 1 - loads: the indicated change is 0.62 / 0.62 = 1, so
    no base rate moves (credibility is moot: every unit shows the collective ratio)."""
    py, cl = experience_at(TARGET)
    result = calibrate(BASE, py, cl, config())
    assert result.changes.empty
    assert result.book.id == "XM-CAL" and result.book.status == "draft"


def test_double_loss_ratio_doubles_base_rates():
    """Loss ratio 1.24 everywhere: change 1.24 / 0.62 = 2; e.g. underground mines 900 -> 1,800,
    construction building 0.9‰ -> 1.8‰ (when the unit has experience)."""
    py, cl = experience_at(2 * TARGET)
    result = calibrate(BASE, py, cl, config())
    changes = result.changes.set_index("path")
    assert len(changes) > 10
    assert np.allclose(changes["new"], 2 * changes["old"], rtol=1e-4)
    node = result.document["sectors"]["construction"]["subsectors"]["building"]
    assert node["source"] == "calibration" and "illustrative" not in node
    assert result.document["sectors"]["other"]["subsectors"]["general"]["base_rate"] == 300.0


def test_calibrated_book_validates_and_keeps_structure(tmp_path, capsys):
    py, cl = synthetic_experience(6000, years=3, seed=5)
    folder = tmp_path / "exp"
    folder.mkdir()
    py.to_csv(folder / "policy_years.csv", index=False)
    cl.to_csv(folder / "claims.csv", index=False)
    cfg = tmp_path / "cal.yaml"
    cfg.write_text(yaml.safe_dump({"id": "XM-CAL-2", "effective_from": "2027-01-01",
                                   "loads": {"prevention_share": 0.2, "commission": 0.05,
                                             "variable_expense": 0.1, "profit_load": 0.03},
                                   "tiers": ["scale"]}), encoding="utf-8")
    out = tmp_path / "new.yaml"
    assert main(["calibrate", str(folder), "--base", str(BASE), "--config", str(cfg),
                 "-o", str(out)]) == 0
    new = rating.load_book(out)
    old = rating.load_book(BASE)
    assert list(new.sectors) == list(old.sectors) and list(new.tiers) == list(old.tiers)
    assert "calibration" in new.sources and new.effective_from == dt.date(2027, 1, 1)
    assert new.floating == old.floating and new.limits == old.limits
    assert out.read_text("utf-8").startswith("# Calibrated rate book; changed values:")
    assert main(["validate", str(out)]) == 0
    indication = pd.read_csv(tmp_path / "new.indication.csv", index_col=0)
    assert {"pure_rate", "lower", "upper", "gross_rate", "credibility"} <= set(indication)
    # gross = pure / (1 - 0.38) for every unit (no fixed expense)
    assert np.allclose(indication["gross_rate"], indication["pure_rate"] / 0.62)


def test_loads_above_the_cap_are_refused():
    py, cl = experience_at(TARGET)
    bad = LoadsSpec(prevention_share=0.2, commission=0.06)
    with pytest.raises(rating.RatingError, match="above the cap 0.05"):
        calibrate(BASE, py, cl, config(loads=bad))


def test_floating_factors_refit_stay_monotone():
    """Refitting the accident-grade floating table: the new book loads (its validator refuses
    a worse record with a lower factor), the changed table is re-sourced to the calibration,
    and the factors do not decrease from 'none' to 'especially_major'."""
    py, cl = synthetic_experience(6000, years=3, seed=11)
    result = calibrate(BASE, py, cl, config(tiers=["worst_accident_grade"], min_claims=5))
    table = result.book.floating.groups["accidents"].factors["accident_grade"]
    factors = [table.levels[g].factor for g in
               ("none", "general", "larger", "major", "especially_major")]
    assert factors == sorted(factors)
    assert any(p.startswith("floating.groups.accidents") for p in result.changes["path"])
    assert table.source == "calibration"


@pytest.mark.parametrize("mutate, needle", [
    (lambda py, cl: (py, cl.iloc[:0]), "no claims"),
    (lambda py, cl: (py.assign(rating_unit=py["rating_unit"].astype(str).where(
        py.index != 0, "foobar")), cl), "'foobar' is not a sub-sector"),
    (lambda py, cl: (py.drop(columns="earned_premium"), cl), "'earned_premium'"),
])
def test_bad_experience_is_one_clear_error(mutate, needle):
    py, cl = synthetic_experience(2000, years=2, seed=2)
    py, cl = mutate(py, cl)
    with pytest.raises(rating.RatingError, match=needle):
        calibrate(BASE, py, cl, config(tiers=["scale"]))


def test_cli_errors_are_one_line(tmp_path, capsys):
    missing = tmp_path / "nodir" / "x.yaml"
    code = main(["calibrate", str(tmp_path), "--base", str(BASE), "--config",
                 str(EXAMPLES / "calibration.yaml"), "-o", str(missing)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err


def test_tier_refit_is_off_balanced_in_the_base_rates():
    """Experience at the target loss ratio (base change 1) with the scale table refitted: each
    unit's new base rate is its old one × sum(EP) / sum(EP × new/old scale factor) over the
    unit's rows, so that the refit alone leaves the unit's premium where it was."""
    py, cl = experience_at(TARGET)
    result = calibrate(BASE, py, cl, config(tiers=["scale"], min_claims=5))
    old_book, new_book = rating.load_book(BASE), result.book
    old_f = {k: v.factor for k, v in old_book.tiers["scale"].levels.items()}
    new_f = {k: v.factor for k, v in new_book.tiers["scale"].levels.items()}
    assert old_f != new_f
    units = py["rating_unit"].astype(str)
    applies = units.str.split(".").str[0].isin(old_book.tiers["scale"].sectors)
    level = py["scale"].astype(object).fillna("medium").astype(str)
    r = np.where(applies, level.map(new_f) / level.map(old_f), 1.0)
    frame = pd.DataFrame({"unit": units, "ep": py["earned_premium"], "r": r})
    sums = frame.groupby("unit").apply(lambda g: g["ep"].sum() / (g["ep"] * g["r"]).sum(),
                                       include_groups=False)
    for unit, factor in sums.items():
        sector, sub = unit.split(".")
        old = old_book.sectors[sector].subsectors[sub].base_rate
        new = new_book.sectors[sector].subsectors[sub].base_rate
        assert new == pytest.approx(round(old * factor, 4), abs=1e-4)


def model_base_is_medium(table) -> bool:
    return min(table.levels, key=lambda lv: abs(table.levels[lv].factor - 1.0)) == "medium"


def test_tier_factors_are_credibility_weighted():
    """A level with c claims moves Z = min(1, sqrt(c / 1,082)) of the way from its old factor
    to the indication (old factor of the GLM base level × fitted frequency relativity, with
    ``relativities: frequency``), rounded to 2
    decimals; the indication comes from the same GLM fitted here on the same data, the blend
    is checked level by level."""
    from rating.calibrate.experience import with_claims
    from rating.calibrate.glm import FrequencyGLM
    py, cl = synthetic_experience(6000, years=3, seed=5)
    # units without claims are left out of calibrate's fit: no warning (pytest would fail)
    new = calibrate(BASE, py, cl, config(tiers=["scale"], min_claims=5,
                                         relativities="frequency")).book.tiers["scale"]
    pure = calibrate(BASE, py, cl, config(tiers=["scale"], min_claims=5)).book.tiers["scale"]
    old = rating.load_book(BASE).tiers["scale"]
    # the default multiplies in the severity relativities: some level differs
    assert any(pure.levels[lv].factor != new.levels[lv].factor for lv in old.levels)
    data = with_claims(py, cl)
    # the documented fit: scale blank outside its table's sectors, anchored on the book's
    # neutral level (factor 1.00: medium); fitted here on every row, units without claims
    # included (the GLM warns of them): leaving them out, as calibrate does, gives the
    # limit of this fit
    in_scope = data["rating_unit"].astype(str).str.split(".").str[0].isin(old.sectors)
    data["scale"] = data["scale"].astype(object).where(in_scope, None)
    with warns_units_without_claims(py, cl):
        model = FrequencyGLM(["rating_unit", "scale"], base_levels={"scale": "medium"}).fit(data)
    rel = model.relativities_.query("factor == 'scale'").set_index("level")
    anchor = old.levels[model.base_levels_["scale"]].factor
    moved = 0
    for level, spec in old.levels.items():
        if level == model.base_levels_["scale"] or rel.loc[level, "claims"] < 5:
            assert new.levels[level].factor == spec.factor
            continue
        z = min(1.0, np.sqrt(rel.loc[level, "claims"] / 1082))
        want = round(z * anchor * rel.loc[level, "relativity"] + (1 - z) * spec.factor, 2)
        assert new.levels[level].factor == pytest.approx(want, abs=1e-9)
        moved += want != spec.factor
    assert moved


def _lev_lognormal(mu, sigma, u):
    """E[min(X, u)] for a lognormal (Loss Models, appendix A):
    exp(mu + sigma²/2) Φ((ln u − mu − sigma²)/sigma) + u (1 − Φ((ln u − mu)/sigma))."""
    from scipy.stats import norm
    return (np.exp(mu + sigma ** 2 / 2) * norm.cdf((np.log(u) - mu - sigma ** 2) / sigma)
            + u * norm.sf((np.log(u) - mu) / sigma))


def test_limit_factors_from_censored_death_losses():
    """Each band's factor = the anchor's (1.00 at 500,000) × LEV(lower)/LEV(500,000), the first
    band evaluated at the national floor in force on the new edition's date (400,000 in 2027),
    rounded to 2 decimals and non-decreasing; recomputed here from the fitted lognormal with
    the closed-form LEV."""
    py, cl = synthetic_experience(12_000, years=3, seed=5)
    result = calibrate(BASE, py, cl, config(limit_severity="lognorm", min_claims=5))
    sev = result.limit_severity
    mu, sigma = np.log(sev.kwds["scale"]), sev.kwds["s"]
    lowers = [b.lower for b in rating.load_book(BASE).limit_factors.bands]
    points = [max(x, 400_000) for x in lowers]
    want = np.maximum.accumulate(np.round(
        [_lev_lognormal(mu, sigma, p) / _lev_lognormal(mu, sigma, 500_000) for p in points], 2))
    got = [b.factor for b in result.book.limit_factors.bands]
    assert got == pytest.approx(list(want), abs=1e-9)
    assert result.book.limit_factors.source == "calibration"


def test_a_loaded_book_calibrates_like_its_file():
    py, cl = synthetic_experience(4000, years=2, seed=3)
    from_file = calibrate(BASE, py, cl, config(tiers=["scale"]))
    from_book = calibrate(rating.load_book(BASE), py, cl, config(tiers=["scale"]))
    assert from_book.book == from_file.book
    pd.testing.assert_frame_equal(from_book.changes, from_file.changes)


def test_limit_refit_is_off_balanced_in_the_base_rates():
    """Experience at the target loss ratio leaves the loss-ratio base rates as they are, so
    with only the limit factors refitted each unit's base rate moves by its off-balance
    alone: sum(EP) / sum(EP x new/old limit factor of the row's per-person limit), the band
    looked up here by hand ([lower, upper), closed left)."""
    py, cl = experience_at(TARGET)
    result = calibrate(BASE, py, cl, config(limit_severity="lognorm", min_claims=5))
    base = rating.load_book(BASE)
    old = [b.factor for b in base.limit_factors.bands]
    new = [b.factor for b in result.book.limit_factors.bands]
    assert old != new
    uppers = [b.upper if b.upper is not None else np.inf for b in base.limit_factors.bands]
    lowers = [b.lower for b in base.limit_factors.bands]

    def band(limit):
        return next(i for i, (lo, up) in enumerate(zip(lowers, uppers)) if lo <= limit < up)

    rows = py.assign(r=[new[band(x)] / old[band(x)] for x in py["per_person_limit"]])
    for unit, part in rows.groupby("rating_unit", observed=True):
        sector, sub = str(unit).split(".")
        was = base.sectors[sector].subsectors[sub].base_rate
        now = result.book.sectors[sector].subsectors[sub].base_rate
        want = was * part["earned_premium"].sum() / (part["earned_premium"] * part["r"]).sum()
        assert now == pytest.approx(want, abs=1e-4 + 1e-9 * want), unit


def test_censored_lognormal_recovers_parameters():
    """Lognormal(mu = 13, sigma = 1) losses capped at 1,000,000 (about 25% censored), 4,000
    draws: the censored fit is within 4 standard errors (about 0.02 for mu and sigma)."""
    from rating.calibrate.rebook import _censored_lognormal
    rng = np.random.default_rng(0)
    x = np.exp(rng.normal(13.0, 1.0, 4000))
    capped = np.minimum(x, 1_000_000.0)
    fit = _censored_lognormal(capped, capped >= 1_000_000.0)
    assert abs(np.log(fit.kwds["scale"]) - 13.0) < 0.08
    assert abs(fit.kwds["s"] - 1.0) < 0.08


def test_recalibration_keeps_the_earlier_round_source(tmp_path):
    """Calibrating a calibrated book adds a second source, calibration_2; values changed in
    the first round still point at the first round's entry, and the title is not doubled."""
    py, cl = experience_at(2 * TARGET)
    first = calibrate(BASE, py, cl, config())
    path = tmp_path / "first.yaml"
    path.write_text(first.to_yaml(), encoding="utf-8")
    second = calibrate(path, py, cl, config(id="XM-CAL-2"))
    assert {"calibration", "calibration_2"} <= set(second.book.sources)
    assert second.book.title.en.count("(calibrated)") == 1
    changed = second.document["sectors"]["construction"]["subsectors"]["building"]
    assert changed["source"] == "calibration_2"


def test_banded_tables_are_refitted_as_their_bands():
    """Banded tables (claim-free years; deaths, an adverse record) are refitted band by band:
    the new book loads (its validator refuses deaths factors that fall as deaths rise, and
    claim-free bands that do not start at 0), changed bands are listed by index and the
    tables re-sourced to the calibration."""
    py, cl = synthetic_experience(12_000, years=3, seed=7)
    result = calibrate(BASE, py, cl, config(tiers=["claim_free_years", "deaths"],
                                            min_claims=5))
    paths = list(result.changes["path"])
    assert any(p.startswith("floating.groups.claims.factors.claim_free.bands[") for p in paths)
    deaths = result.book.floating.groups["accidents"].factors["deaths"]
    factors = [b.factor for b in deaths.bands]
    assert factors == sorted(factors)
    claim_free = result.book.floating.groups["claims"].factors["claim_free"]
    assert claim_free.source == "calibration"
    band0 = claim_free.bands[0]
    assert (band0.lower, band0.factor) == (0, 1.0)  # the neutral band anchors the fit
    ladder = [b.factor for b in claim_free.bands]
    assert ladder == sorted(ladder, reverse=True)  # more claim-free years never cost more


def test_a_noisy_claim_free_refit_never_makes_more_years_cost_more():
    """Regression (notebook 03): the synthetic truth has no claim-free effect, and on this
    seed the noisy severity relativities of 2 and 3+ years came out above 1, giving the
    ladder 1.00 / 0.93 / 1.30 / 1.16. A better record may not raise a premium, so each band
    is capped by the band before it."""
    py, cl = synthetic_experience(20_000, years=3, seed=11)
    result = calibrate(BASE, py, cl, config(tiers=["claim_free_years"]))
    ladder = [b.factor for b in result.book.floating.groups["claims"].factors["claim_free"].bands]
    assert ladder == sorted(ladder, reverse=True) and ladder[0] == 1.0


def test_a_neutral_level_without_claims_does_not_stop_the_refit():
    """Regression: the product table's neutral level (corrosive, 1.00) had exposure but no
    claim, and calibrate anchored the fit on it anyway: the severity GLM, fitted on the
    claims, stopped with "base_levels: 'corrosive' is not a level of product in the data".
    Now the anchor is the neutral level among those with claims (other, also 1.00),
    corrosive is listed as left out and keeps its factor, and the other levels' factors are
    the credibility blend of a frequency GLM fitted here on every row (corrosive included,
    anchored on other): leaving the claim-free rows out gives the limit of that fit."""
    import warnings

    from rating.calibrate.experience import with_claims
    from rating.calibrate.glm import FrequencyGLM
    py, cl = synthetic_experience(3000, years=3, seed=0)
    key = py.set_index(["policy_id", "year"])["product"]
    product = key.reindex(pd.MultiIndex.from_frame(cl[["policy_id", "year"]])).to_numpy()
    cl = cl[product != "corrosive"].reset_index(drop=True)
    assert ((py["product"] == "corrosive") & (py["exposure"] > 0)).sum() > 0
    pure = calibrate(BASE, py, cl, config(tiers=["product"], min_claims=5))
    note = pure.book.sources["calibration"].note
    assert "product corrosive" in note
    table = next(name for name, t in pure.book.tiers.items() if t.variable == "product")
    old = rating.load_book(BASE).tiers[table]
    assert pure.book.tiers[table].levels["corrosive"].factor == old.levels["corrosive"].factor

    new = calibrate(BASE, py, cl, config(tiers=["product"], min_claims=5,
                                         relativities="frequency")).book.tiers[table]
    data = with_claims(py, cl)
    in_scope = data["rating_unit"].astype(str).str.split(".").str[0].isin(old.sectors)
    data["product"] = data["product"].astype(object).where(in_scope, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = FrequencyGLM(["rating_unit", "product"], base_levels={"product": "other"},
                             max_iter=300).fit(data)
    assert any("product='corrosive' has no claims" in str(w.message) for w in caught)
    rel = model.relativities_.query("factor == 'product'").set_index("level")
    moved = 0
    for level, spec in old.levels.items():
        if level in ("other", "corrosive") or rel.loc[level, "claims"] < 5:
            assert new.levels[level].factor == spec.factor, level
            continue
        z = min(1.0, np.sqrt(rel.loc[level, "claims"] / 1082))
        want = round(z * old.levels["other"].factor * rel.loc[level, "relativity"]
                     + (1 - z) * spec.factor, 2)
        assert new.levels[level].factor == pytest.approx(want, abs=1e-9), level
        moved += want != spec.factor
    assert moved
