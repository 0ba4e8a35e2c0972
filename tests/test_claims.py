"""Claim settlement (rating.settlement): statutory oracles, hand-worked settlements, properties and
the validation of claim files.

Every expected number is derived by hand in the docstring from the printed tables:
- tables/books/cn-fj-xm-2022.yaml, section ``limits``: injury scale ``employers_liability``;
  schedule medical 10% of the per-person limit, third party per person 1 × it, property
  100,000, rescue 200,000, medical aid 100,000, appraisal 50,000, legal 100,000, per accident
  10 ×, aggregate 30 ×; section ``claims``: quick payment up to 50,000 for ``general``
  accidents, advance share 0.5 for larger, major and especially major accidents.
- tables/scales/employers-liability.yaml: grades 1-10 pay 100/80/70/60/50/40/30/20/10/5 %.
- tables/national.yaml: accident grades (decree 493) and the work-injury rules.
- tables/statistics/income.yaml: national urban income 2021 = 47,412, 2025 = 56,502; Xiamen
  2018 = 54,401, 2022 = 70,467, 2023 = 72,880.

Amounts are compared in fen (``round(yuan * 100)``) or as yuan floats obtained from whole fen
(``fen / 100`` is the float nearest to the 2-decimal literal, so ``==`` is exact).
"""

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rating.engine.limits import per_person_floor, work_injury_benchmark
from rating.errors import BookError, RatingError
from rating.settlement import (
    Accident,
    Costs,
    PolicySpec,
    Share,
    Victim,
    accident_grade,
    load_claims,
    make_policy,
    settle,
    settle_year,
)

XM = "CN-FJ-XM"
D2024 = dt.date(2024, 5, 1)
SCALE = (1.0, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05)  # employers_liability, printed


def policy(per_person=None, limits=None, coinsurance=(), year=2024, pid="P-1"):
    # the Xiamen book is in force from 2022-05-31: 2022 policies incept on 2022-07-01
    start = dt.date(2022, 7, 1) if year == 2022 else dt.date(year, 1, 1)
    return make_policy(PolicySpec(
        id=pid, jurisdiction=XM, inception_date=start,
        expiry_date=dt.date(year, 12, 31), per_person_limit=per_person,
        limits=dict(limits or {}),
        coinsurance=[Share(insurer=n, share=s) for n, s in coinsurance]))


def victim(vid, outcome, type="employee", **kw):
    return Victim(id=vid, type=type, outcome=outcome, **kw)


def accident(*victims, aid="A-1", date=D2024, **kw):
    return Accident(id=aid, date=date, victims=list(victims), **kw)


def fen(yuan):
    return round(yuan * 100)


def line(s, vid, coverage):
    rows = s.lines[(s.lines["victim"] == vid) & (s.lines["coverage"] == coverage)]
    assert len(rows) == 1, f"expected one {coverage} line for {vid!r}"
    return rows.iloc[0]


def half_up(fen_amount: int, share: float) -> int:
    return int((Decimal(fen_amount) * Decimal(repr(share))).quantize(Decimal(1), ROUND_HALF_UP))


# --- statutory oracles ------------------------------------------------------------------------


def test_work_injury_death_subsidy_2022():
    """工伤保险条例 art. 39: 20 × national urban income of the prior year (2021: 47,412)
    = 948,240; 2021 is in the statistics, so not provisional."""
    b = work_injury_benchmark(dt.date(2022, 7, 1))
    assert b.death_subsidy == 948_240
    assert (b.death_multiple, b.national_income, b.income_year) == (20, 47_412, 2021)
    assert b.provisional is False


def test_work_injury_death_subsidy_2026():
    """2026: 20 × 2025 income 56,502 = 1,130,040; 2025 data present -> not provisional."""
    b = work_injury_benchmark(dt.date(2026, 3, 1))
    assert b.death_subsidy == 1_130_040
    assert (b.national_income, b.income_year, b.provisional) == (56_502, 2025, False)


def test_work_injury_disability_months():
    """Art. 37: one-off disability subsidy in months of wage, grades 1 to 10."""
    b = work_injury_benchmark(dt.date(2024, 1, 1))
    assert tuple(b.disability_months) == (27, 25, 23, 21, 18, 16, 13, 11, 9, 7)


@pytest.mark.parametrize("deaths, serious, loss, grade", [
    (0, 0, 0, "general"),
    (2, 0, 0, "general"),
    (3, 0, 0, "larger"),
    (9, 0, 0, "larger"),
    (10, 0, 0, "major"),
    (29, 0, 0, "major"),
    (30, 0, 0, "especially_major"),
    (0, 9, 0, "general"),
    (0, 10, 0, "larger"),
    (0, 49, 0, "larger"),
    (0, 50, 0, "major"),
    (0, 100, 0, "especially_major"),
    (0, 0, 9_999_999.99, "general"),
    (0, 0, 10_000_000, "larger"),
    (0, 0, 49_999_999.99, "larger"),
    (0, 0, 50_000_000, "major"),
    (0, 0, 100_000_000, "especially_major"),
    # any one measure suffices; the highest grade reached wins
    (1, 1, 10_000_000, "larger"),
    (2, 60, 0, "major"),
    (3, 0, 100_000_000, "especially_major"),
    (30, 0, 0, "especially_major"),
])
def test_accident_grade_decree_493(deaths, serious, loss, grade):
    """国务院令第493号 第三条 ("以上" includes the number): larger from 3 deaths, 10 serious
    injuries or 10,000,000 direct loss; major from 10 / 50 / 50,000,000; especially major from
    30 / 100 / 100,000,000."""
    assert accident_grade(deaths, serious, loss) == grade


def test_default_per_person_limit_is_the_floor():
    """2022: 10 × Xiamen 2018 income 54,401 = 544,010 -> 550,000 (2021 missing: provisional).
    2024: 10 × 2023 income 72,880 = 728,800 -> 730,000. Both above the national 300,000."""
    p22, p24 = policy(year=2022), policy(year=2024)
    assert p22.schedule.per_person == 550_000 and p24.schedule.per_person == 730_000
    f22 = per_person_floor(p22.book, dt.date(2022, 7, 1))
    assert f22.provisional and f22.income_year == 2018
    # the schedule follows the book: medical 10%, per accident 10 ×, aggregate 30 ×
    assert (p24.schedule.medical_per_person, p24.schedule.per_accident,
            p24.schedule.aggregate) == (73_000, 7_300_000, 21_900_000)


def test_policy_below_floor_refused():
    """2024 floor 730,000 (see above): 729,999.99 is refused, 730,000 accepted."""
    with pytest.raises(RatingError, match="below the statutory floor"):
        policy(per_person=729_999.99)
    assert policy(per_person=730_000).schedule.per_person == 730_000


def test_limit_override_above_its_parent_refused():
    """per_person 800,000 may not exceed per_accident; an override of 700,000 must fail."""
    with pytest.raises(RatingError, match="per_accident|per-accident"):
        policy(per_person=800_000, limits={"per_accident": 700_000})


# --- (a) one death, two disabled, medical: no cap binding ------------------------------------


def test_death_two_disabled_and_medical():
    """Policy 2024, per person 1,000,000 (floor 730,000); medical sub-limit 10% = 100,000;
    per accident 10,000,000; aggregate 30,000,000.

    E1 employee death, owed 1,200,000: min(1,200,000, 1,000,000) = 1,000,000
       medical 30,000: min(30,000, 100,000)                   =    30,000
    E2 dispatched grade 3, owed not given: 70% × 1,000,000       =   700,000
       medical 150,000: min(150,000, 100,000)                 =   100,000
    E3 temporary grade 7, owed 250,000: min(250,000, 30% × 1,000,000 = 300,000) = 250,000
       medical 8,000.50                                        =     8,000.50
    total 2,088,000.50 < 10,000,000: no reduction.
    Grade: 1 death, 2 serious injuries (the disabled), no loss -> general; total > 50,000
    -> no quick payment; general is no advance grade -> standard:
    emergency = medical 30,000 + 100,000 + 8,000.50 = 138,000.50; balance 1,950,000.00.
    Aggregate left 30,000,000 - 2,088,000.50 = 27,911,999.50.
    """
    p = policy(per_person=1_000_000)
    s = settle(p, accident(
        victim("E1", "death", owed=1_200_000, medical=30_000),
        victim("E2", "disability", "dispatched", grade=3, medical=150_000),
        victim("E3", "disability", "temporary", grade=7, owed=250_000, medical=8_000.50)))
    expected = [  # victim, coverage, claimed, limit, payout
        ("E1", "death", 1_200_000, 1_000_000, 1_000_000),
        ("E1", "medical", 30_000, 100_000, 30_000),
        ("E2", "disability", None, 700_000, 700_000),
        ("E2", "medical", 150_000, 100_000, 100_000),
        ("E3", "disability", 250_000, 300_000, 250_000),
        ("E3", "medical", 8_000.50, 100_000, 8_000.50),
    ]
    assert list(zip(s.lines["victim"], s.lines["coverage"])) == [e[:2] for e in expected]
    for (vid, cov, claimed, limit, pay), row in zip(expected, s.lines.itertuples()):
        assert (math.isnan(row.claimed) if claimed is None else row.claimed == claimed), vid
        assert row.limit == limit and row.payable == pay, (vid, cov)
        assert row.after_accident_limit == pay and row.payout == pay, (vid, cov)
    assert s.total == 2_088_000.50
    assert (s.grade, s.deaths, s.serious_injuries) == ("general", 1, 2)
    assert s.track == "standard"
    assert s.payments == {"emergency_advance": 138_000.50, "advance": 0.0,
                          "balance": 1_950_000.00}
    assert (s.aggregate_before, s.aggregate_after) == (30_000_000, 27_911_999.50)
    assert s.coinsurance is None


def test_third_party_limit_and_injury_without_disability():
    """Policy 2024, per person 1,000,000; third party per person overridden to 500,000.
    T1 third-party death, owed not given -> 500,000 (its own limit, not 1,000,000).
    T2 third-party grade 10 -> 5% × 500,000 = 25,000.
    E1 employee grade 10 -> 5% × 1,000,000 = 50,000.
    E2 employee injured without disability, medical 2,000 -> only a medical line, 2,000.
    E3 employee disability, owed 0 -> 0 (min(0, cap)).
    """
    p = policy(per_person=1_000_000, limits={"third_party_per_person": 500_000})
    s = settle(p, accident(
        victim("T1", "death", "third_party"),
        victim("T2", "disability", "third_party", grade=10),
        victim("E1", "disability", grade=10),
        victim("E2", "injury", medical=2_000),
        victim("E3", "disability", grade=1, owed=0)))
    assert line(s, "T1", "death")["payout"] == 500_000
    assert line(s, "T1", "death")["limit"] == 500_000
    assert line(s, "T2", "disability")["payout"] == 25_000
    assert line(s, "E1", "disability")["payout"] == 50_000
    assert list(s.lines.loc[s.lines["victim"] == "E2", "coverage"]) == ["medical"]
    assert line(s, "E2", "medical")["payout"] == 2_000
    assert line(s, "E3", "disability")["payout"] == 0
    assert s.total == 500_000 + 25_000 + 50_000 + 2_000


def test_accident_costs_capped_by_their_sub_limits():
    """Policy 2024 per person 800,000; sub-limits from the book: property 100,000, rescue
    200,000, medical aid 100,000, appraisal 50,000, legal 100,000.
    Claimed 150,000 / 250,000 / 90,000 / 60,000 / 100,000.01 ->
    paid 100,000 / 200,000 / 90,000 / 50,000 / 100,000; total 540,000.
    """
    p = policy(per_person=800_000)
    s = settle(p, accident(property_loss=150_000, costs=Costs(
        rescue=250_000, medical_aid=90_000, appraisal=60_000, legal=100_000.01)))
    got = {r.coverage: (r.claimed, r.limit, r.payout) for r in s.lines.itertuples()}
    assert got == {
        "third_party_property": (150_000, 100_000, 100_000),
        "rescue": (250_000, 200_000, 200_000),
        "medical_aid": (90_000, 100_000, 90_000),
        "appraisal": (60_000, 50_000, 50_000),
        "legal": (100_000.01, 100_000, 100_000),
    }
    assert s.total == 540_000


# --- (b) the per-accident limit -----------------------------------------------------------


def test_per_accident_limit_pro_rata_later_line_wins_remainder():
    """Policy 2024, per person 1,000,000, per accident overridden to 1,000,000.
    Lines (fen): E1 death 100,000,000; E1 medical 50,000 -> 5,000,000 (limit 100,000);
    rescue 150,000 -> 15,000,000. Total 120,000,000 > cap 100,000,000: factor 5/6.
      death   100,000,000 × 5/6 = 83,333,333 rem 1/3
      medical   5,000,000 × 5/6 =  4,166,666 rem 2/3
      rescue   15,000,000 × 5/6 = 12,500,000 rem 0
    floors add up to 99,999,999: 1 fen short, to the largest remainder (medical, a later
    line): 833,333.33 / 41,666.67 / 125,000.00 = 1,000,000.00 exactly.
    """
    p = policy(per_person=1_000_000, limits={"per_accident": 1_000_000})
    s = settle(p, accident(victim("E1", "death", medical=50_000),
                           costs=Costs(rescue=150_000)))
    assert list(s.lines["payable"]) == [1_000_000, 50_000, 150_000]
    assert list(s.lines["after_accident_limit"]) == [833_333.33, 41_666.67, 125_000.00]
    assert list(s.lines["payout"]) == [833_333.33, 41_666.67, 125_000.00]
    assert sum(fen(x) for x in s.lines["payout"]) == 100_000_000
    assert s.total == 1_000_000


def test_per_accident_limit_two_deaths_and_grade_10():
    """Per person 1,000,000, per accident 1,000,000. A, B deaths 1,000,000 each; C grade 10
    = 5% = 50,000. Total 2,050,000: factor 1,000,000 / 2,050,000 = 20/41.
      A, B: 100,000,000 × 20/41 = 2,000,000,000/41 = 48,780,487 rem 33 (41 × 48,780,487 =
            1,999,999,967)
      C:      5,000,000 × 20/41 =   100,000,000/41 =  2,439,024 rem 16 (41 × 2,439,024 =
            99,999,984)
    floors 48,780,487 × 2 + 2,439,024 = 99,999,998: 2 fen short -> A and B (remainder 33).
    A = B = 487,804.88, C = 24,390.24; 487,804.88 × 2 + 24,390.24 = 1,000,000.00.
    """
    p = policy(per_person=1_000_000, limits={"per_accident": 1_000_000})
    s = settle(p, accident(victim("A", "death"), victim("B", "death", "dispatched"),
                           victim("C", "disability", grade=10)))
    assert list(s.lines["payout"]) == [487_804.88, 487_804.88, 24_390.24]
    assert s.total == 1_000_000


def test_per_accident_limit_equal_remainders_go_to_earlier_lines():
    """Per person 1,000,000, per accident 1,000,000; three deaths (3 deaths -> larger).
    Each 100,000,000 fen × 1/3 = 33,333,333 rem 1/3; floors 99,999,999: 1 fen short, the
    remainders tie, the earliest line gets it: 333,333.34 / 333,333.33 / 333,333.33.
    Track: larger, liability clear -> advance 50% of determined non-emergency payouts
    (all three deaths, 1,000,000) = 500,000; no emergency costs; balance 500,000.
    """
    p = policy(per_person=1_000_000, limits={"per_accident": 1_000_000})
    s = settle(p, accident(victim("A", "death"), victim("B", "death"), victim("C", "death")))
    assert list(s.lines["payout"]) == [333_333.34, 333_333.33, 333_333.33]
    assert s.grade == "larger" and s.track == "advance"
    assert s.payments == {"emergency_advance": 0.0, "advance": 500_000.0, "balance": 500_000.0}


# --- (c) the annual aggregate --------------------------------------------------------------


def _aggregate_case():
    p = policy(per_person=800_000, limits={"per_accident": 1_000_000, "aggregate": 1_500_000})
    x = accident(victim("W1", "death", medical=50_000), aid="X", date=dt.date(2024, 3, 1))
    y = accident(victim("W2", "death"), aid="Y", date=dt.date(2024, 6, 1),
                 costs=Costs(rescue=100_000))
    z = accident(victim("W3", "injury", medical=1_000), aid="Z", date=dt.date(2024, 9, 1))
    return p, x, y, z


def test_two_accidents_erode_the_aggregate():
    """Policy 2024, per person 800,000 (medical 80,000), per accident 1,000,000, aggregate
    1,500,000.
    X (2024-03-01): death 800,000 + medical 50,000 = 850,000 (under every cap).
    Y (2024-06-01): death 800,000 + rescue 100,000 = 900,000 < 1,000,000, but only
      1,500,000 - 850,000 = 650,000 of the aggregate is left: factor 65/90 = 13/18.
        death 80,000,000 × 13/18 = 57,777,777 rem 14/18; rescue 10,000,000 × 13/18 =
        7,222,222 rem 4/18; floors 64,999,999, 1 fen to the death line:
        577,777.78 + 72,222.22 = 650,000.00; aggregate left 0.
      Grade general, total > 50,000: standard; emergency = rescue 72,222.22,
      balance 577,777.78.
    Z (2024-09-01): medical 1,000, nothing left -> pays 0.
    settle_year sorts by date: given [Z, Y, X], it settles X, Y, Z.
    """
    p, x, y, z = _aggregate_case()
    sx, sy, sz = settle_year(p, [z, y, x])
    assert [s.accident_id for s in (sx, sy, sz)] == ["X", "Y", "Z"]
    assert sx.total == 850_000 and (sx.aggregate_before, sx.aggregate_after) == (
        1_500_000, 650_000)
    assert list(sy.lines["payable"]) == [800_000, 100_000]
    assert list(sy.lines["after_accident_limit"]) == [800_000, 100_000]
    assert list(sy.lines["payout"]) == [577_777.78, 72_222.22]
    assert sy.total == 650_000 and (sy.aggregate_before, sy.aggregate_after) == (650_000, 0)
    assert sy.track == "standard"
    assert sy.payments == {"emergency_advance": 72_222.22, "advance": 0.0,
                           "balance": 577_777.78}
    assert sz.total == 0 and list(sz.lines["payout"]) == [0]
    assert sz.aggregate_before == 0


def test_aggregate_depends_on_date_order_not_list_order():
    """Settled alone first, Y would pay its full 900,000; after X (paid 850,000) it gets the
    650,000 left (see above), exactly as settle(..., paid_before=850,000)."""
    p, x, y, _ = _aggregate_case()
    assert settle(p, y).total == 900_000
    assert settle(p, y, paid_before=850_000).total == 650_000
    assert [s.total for s in settle_year(p, [y, x])] == [850_000, 650_000]


def test_accident_outside_policy_period_refused_by_settle():
    p = policy(per_person=800_000)
    with pytest.raises(RatingError, match="outside the policy period"):
        settle(p, accident(victim("W1", "death"), date=dt.date(2025, 1, 1)))


# --- (d) co-insurance ---------------------------------------------------------------------


def test_coinsurance_034_033_033():
    """Policy 2024, per person 800,000, shares lead 0.34, b 0.33, c 0.33.
    Lines: W1 death 800,000 (80,000,000 fen); W1 medical 12,345.67 (1,234,567 fen);
    legal 10,000.01 (1,000,001 fen).
      death:   b = c = 80,000,000 × 0.33 = 26,400,000; lead 80,000,000 - 52,800,000
               = 27,200,000
      medical: b = c = 1,234,567 × 0.33 = 407,407.11 -> 407,407; lead 1,234,567 - 814,814
               = 419,753 (its own 0.34 share would be 419,752.78: the lead takes the rest)
      legal:   b = c = 1,000,001 × 0.33 = 330,000.33 -> 330,000; lead 340,001
    Totals: lead 27,959,754 fen, b = c 27,137,407 fen; sum 82,234,568 = 822,345.68.
    """
    p = policy(per_person=800_000, coinsurance=[("lead", 0.34), ("b", 0.33), ("c", 0.33)])
    s = settle(p, accident(victim("W1", "death", medical=12_345.67),
                           costs=Costs(legal=10_000.01)))
    co = s.coinsurance
    assert list(co.columns) == ["victim", "coverage", "lead", "b", "c"]
    assert [fen(v) for v in co["lead"]] == [27_200_000, 419_753, 340_001]
    assert [fen(v) for v in co["b"]] == [26_400_000, 407_407, 330_000]
    assert [fen(v) for v in co["c"]] == [26_400_000, 407_407, 330_000]
    for i in range(len(co)):
        assert sum(fen(co[n].iloc[i]) for n in ("lead", "b", "c")) == fen(s.lines["payout"][i])
    assert sum(fen(v) for v in co["lead"]) == 27_959_754
    assert s.total == 822_345.68


def test_coinsurance_half_up_not_half_even():
    """Shares lead 0.5, b 0.3, c 0.2. Medical 1,000.15 = 100,015 fen:
    b = 100,015 × 0.3 = 30,004.5 -> 30,005 half-up (half-even would give 30,004);
    c = 100,015 × 0.2 = 20,003; lead = 100,015 - 30,005 - 20,003 = 50,007.
    Death 800,000: b 240,000, c 160,000, lead 400,000.
    """
    p = policy(per_person=800_000, coinsurance=[("lead", 0.5), ("b", 0.3), ("c", 0.2)])
    s = settle(p, accident(victim("W1", "death", medical=1_000.15)))
    co = s.coinsurance
    assert [fen(v) for v in co["b"]] == [24_000_000, 30_005]
    assert [fen(v) for v in co["c"]] == [16_000_000, 20_003]
    assert [fen(v) for v in co["lead"]] == [40_000_000, 50_007]


def test_coinsurance_no_negative_split():
    """Shares lead 0.01, b = c = d = 0.33; legal cost 0.05 = 5 fen:
    each non-lead 5 × 0.33 = 1.65 -> 2 fen, 6 fen in all > 5: the lead would get -1 fen.
    No insurer can pay a negative amount: either such a split is refused, or every split
    is >= 0 (and still adds up to 5 fen)."""
    try:
        p = policy(per_person=800_000,
                   coinsurance=[("lead", 0.01), ("b", 0.33), ("c", 0.33), ("d", 0.33)])
        s = settle(p, accident(costs=Costs(legal=0.05)))
    except RatingError:
        return
    row = s.coinsurance.iloc[0]
    splits = [fen(row[n]) for n in ("lead", "b", "c", "d")]
    assert sum(splits) == 5
    assert min(splits) >= 0


# --- (e) payment tracks ---------------------------------------------------------------------


def test_quick_payment_at_the_threshold():
    """General accident, liability clear: temporary worker injured, medical 30,000 (limit
    80,000) + rescue 20,000 = 50,000 = quick_payment_max ("at most") -> quick 50,000."""
    p = policy(per_person=800_000)
    s = settle(p, accident(victim("W1", "injury", "temporary", medical=30_000),
                           costs=Costs(rescue=20_000)))
    assert s.grade == "general" and s.track == "quick"
    assert s.payments == {"quick": 50_000.0}


def test_one_fen_over_the_quick_threshold():
    """Same with rescue 20,000.01: total 50,000.01 > 50,000 -> standard; everything is
    emergency cost (medical + rescue) = 50,000.01, advance 0, balance 0."""
    p = policy(per_person=800_000)
    s = settle(p, accident(victim("W1", "injury", "temporary", medical=30_000),
                           costs=Costs(rescue=20_000.01)))
    assert s.track == "standard"
    assert s.payments == {"emergency_advance": 50_000.01, "advance": 0.0, "balance": 0.0}


def test_liability_unclear_no_quick_payment():
    """The quick case above with liability_clear false: standard, emergency 50,000."""
    p = policy(per_person=800_000)
    s = settle(p, accident(victim("W1", "injury", "temporary", medical=30_000),
                           costs=Costs(rescue=20_000), liability_clear=False))
    assert s.track == "standard"
    assert s.payments == {"emergency_advance": 50_000.0, "advance": 0.0, "balance": 0.0}


def test_standard_track_with_emergency_advance():
    """Per person 800,000. Death owed 600,000 -> 600,000; medical 20,000; rescue 15,000;
    medical aid 5,000; legal 10,000. Total 650,000 > 50,000; 1 death -> general: standard.
    Emergency = rescue 15,000 + medical aid 5,000 + medical 20,000 = 40,000;
    balance 650,000 - 40,000 = 610,000."""
    p = policy(per_person=800_000)
    s = settle(p, accident(victim("W1", "death", owed=600_000, medical=20_000),
                           costs=Costs(rescue=15_000, medical_aid=5_000, legal=10_000)))
    assert s.total == 650_000 and s.track == "standard"
    assert s.payments == {"emergency_advance": 40_000.0, "advance": 0.0,
                          "balance": 610_000.0}


def _three_deaths(**kw):
    """Per person 800,000 (per accident 8,000,000). Employee, dispatched and temporary
    deaths, owed not given: 800,000 each = 2,400,000; D1 medical 10,000; rescue 50,000;
    appraisal 20,000. Total 2,480,000; 3 deaths -> larger."""
    d3 = kw.pop("d3", {})
    return accident(victim("D1", "death", medical=10_000), victim("D2", "death", "dispatched"),
                    victim("D3", "death", "temporary", **d3),
                    costs=Costs(rescue=50_000, appraisal=20_000), **kw)


def test_advance_track_larger_accident():
    """_three_deaths: emergency = medical 10,000 + rescue 50,000 = 60,000; determined
    non-emergency = deaths 2,400,000 + appraisal 20,000 = 2,420,000; advance 50% =
    1,210,000; balance 2,480,000 - 60,000 - 1,210,000 = 1,210,000."""
    p = policy(per_person=800_000)
    s = settle(p, _three_deaths())
    assert (s.grade, s.deaths, s.total) == ("larger", 3, 2_480_000)
    assert s.track == "advance"
    assert s.payments == {"emergency_advance": 60_000.0, "advance": 1_210_000.0,
                          "balance": 1_210_000.0}


def test_advance_excludes_undetermined_losses():
    """D3 not determined: advance 50% × (1,600,000 + 20,000) = 810,000;
    balance 2,480,000 - 60,000 - 810,000 = 1,610,000."""
    p = policy(per_person=800_000)
    s = settle(p, _three_deaths(d3={"determined": False}))
    assert s.track == "advance"
    assert s.payments == {"emergency_advance": 60_000.0, "advance": 810_000.0,
                          "balance": 1_610_000.0}


def test_no_advance_when_liability_unclear():
    """_three_deaths with liability unclear: no advance; emergency 60,000, balance
    2,420,000."""
    p = policy(per_person=800_000)
    s = settle(p, _three_deaths(liability_clear=False))
    assert s.grade == "larger" and s.track == "standard"
    assert s.payments == {"emergency_advance": 60_000.0, "advance": 0.0,
                          "balance": 2_420_000.0}


def test_small_total_of_a_larger_accident_is_not_quick():
    """Direct loss 10,000,000 -> larger although the payout is small: grade 10 disability
    5% × 800,000 = 40,000 <= 50,000 but only general accidents are paid quickly; advance
    50% = 20,000, balance 20,000."""
    p = policy(per_person=800_000)
    s = settle(p, accident(victim("W1", "disability", grade=10), direct_loss=10_000_000))
    assert s.grade == "larger" and s.total == 40_000
    assert s.track == "advance"
    assert s.payments == {"emergency_advance": 0.0, "advance": 20_000.0, "balance": 20_000.0}


def test_serious_injuries_default_and_override():
    """Ten grade-10 disabilities count as 10 serious injuries -> larger; serious_injuries
    given explicitly (9) takes precedence -> general."""
    p = policy(per_person=800_000)
    vs = [victim(f"W{i}", "disability", grade=10) for i in range(10)]
    assert settle(p, accident(*vs)).serious_injuries == 10
    assert settle(p, accident(*vs)).grade == "larger"
    assert settle(p, accident(*vs, serious_injuries=9)).grade == "general"


# --- properties ---------------------------------------------------------------------------

PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_POLICIES = {}


def _policy(kind):
    if kind not in _POLICIES:
        _POLICIES[kind] = {
            "book": lambda: policy(per_person=800_000),
            "tight": lambda: policy(per_person=800_000, limits={
                "per_accident": 1_000_000, "aggregate": 2_000_000, "rescue": 50_000}),
        }[kind]()
    return _POLICIES[kind]


yuan = st.integers(0, 150_000_000).map(lambda f: f / 100)  # whole fen, up to 1.5m


@st.composite
def victims(draw, max_size=6):
    n = draw(st.integers(0, max_size))
    out = []
    for i in range(n):
        outcome = draw(st.sampled_from(["death", "disability", "injury"]))
        out.append(Victim(
            id=f"V{i}", type=draw(st.sampled_from(
                ["employee", "dispatched", "temporary", "third_party"])),
            outcome=outcome, grade=draw(st.integers(1, 10)) if outcome == "disability" else None,
            medical=draw(st.one_of(st.just(0.0), yuan)),
            owed=draw(st.one_of(st.none(), yuan)), determined=draw(st.booleans())))
    return out


@st.composite
def accidents(draw):
    return Accident(
        id="A", date=D2024, victims=draw(victims()),
        property_loss=draw(st.one_of(st.just(0.0), yuan)),
        costs=Costs(rescue=draw(yuan), medical_aid=draw(yuan), appraisal=draw(yuan),
                    legal=draw(yuan)),
        liability_clear=draw(st.booleans()))


@PROPS
@given(acc=accidents(), kind=st.sampled_from(["book", "tight"]),
       paid=st.integers(0, 2_500_000_00).map(lambda f: f / 100))
def test_payouts_within_every_limit(acc, kind, paid):
    p = _policy(kind)
    s = settle(p, acc, paid_before=paid)
    sched = p.schedule
    left = max(fen(sched.aggregate) - fen(paid), 0)
    for r in s.lines.itertuples():
        for v in (r.limit, r.payable, r.after_accident_limit, r.payout):
            assert abs(v * 100 - round(v * 100)) < 1e-6, "whole fen"
        assert 0 <= r.payout <= r.after_accident_limit <= r.payable <= r.limit
        if not math.isnan(r.claimed):
            assert fen(r.payable) == min(fen(r.claimed), fen(r.limit))
    payouts = [fen(v) for v in s.lines["payout"]]
    assert fen(s.total) == sum(payouts)
    assert fen(s.total) <= fen(sched.per_accident)
    assert fen(s.total) <= left == fen(s.aggregate_before)
    assert fen(s.aggregate_after) == left - fen(s.total)
    # each cap: no reduction when it does not bind; otherwise the lines add up to the cap
    # and each is its pro-rata share rounded down, or one fen more
    payable = [fen(v) for v in s.lines["payable"]]
    after = [fen(v) for v in s.lines["after_accident_limit"]]
    for before, capped, cap in ((payable, after, fen(sched.per_accident)),
                                (after, payouts, left)):
        if sum(before) <= cap:
            assert capped == before
        else:
            assert sum(capped) == cap
            for a, b in zip(before, capped):
                assert a * cap // sum(before) <= b <= a * cap // sum(before) + 1
    # the payment steps add up to the total
    assert sum(fen(v) for v in s.payments.values()) == fen(s.total)


@PROPS
@given(outcome=st.sampled_from(["death", "disability"]), grade=st.integers(1, 10),
       medical=yuan, kind=st.sampled_from(["book", "tight"]))
def test_same_grade_pays_the_same_for_every_employee_type(outcome, grade, medical, kind):
    """One accident per employment type, owed not given: identical lines and totals;
    death pays the per-person limit, grade g pays ratio(g) × limit (800,000 × printed scale),
    medical min(cost, 80,000)."""
    p = _policy(kind)
    g = grade if outcome == "disability" else None
    paid = []
    for t in ("employee", "dispatched", "temporary"):
        s = settle(p, accident(victim("W", outcome, t, grade=g, medical=medical)))
        paid.append(([fen(v) for v in s.lines["payout"]], fen(s.total)))
    assert paid[0] == paid[1] == paid[2]
    benefit = 80_000_000 if outcome == "death" else round(80_000_000 * SCALE[grade - 1])
    assert paid[0][0][0] == benefit
    if medical:
        assert paid[0][0][1] == min(fen(medical), 8_000_000)


@PROPS
@given(acc=accidents(), weights=st.lists(st.integers(1, 10_000), min_size=2, max_size=5))
def test_coinsurance_splits_add_up_exactly(acc, weights):
    """Random shares summing exactly to 1 (integers over their sum, in 1e-4 steps):
    each row adds up to the line payout in fen and no insurer gets a negative amount;
    non-lead = half-up(payout × share) unless that would leave the lead below zero (then the
    documented fallback, largest remainders, applies)."""
    total_w = sum(weights)
    # shares in steps of 1/10,000 summing to exactly 1: scale the weights, remainder to lead
    raw = [w * 10_000 // total_w for w in weights]
    raw = [max(r, 1) for r in raw]
    raw[0] += 10_000 - sum(raw)
    if raw[0] <= 0:
        return
    shares = [(f"I{i}", r / 10_000) for i, r in enumerate(raw)]
    p = policy(per_person=800_000, coinsurance=shares)
    s = settle(p, acc)
    co = s.coinsurance
    names = [n for n, _ in shares]
    assert list(co.columns) == ["victim", "coverage", *names]
    for i, payout in enumerate(s.lines["payout"]):
        splits = {n: fen(co[n].iloc[i]) for n in names}
        assert sum(splits.values()) == fen(payout)
        assert min(splits.values()) >= 0
        half_ups = {n: half_up(fen(payout), share) for n, share in shares[1:]}
        if sum(half_ups.values()) <= fen(payout):
            for n in half_ups:
                assert splits[n] == half_ups[n]


# --- validation of claim files ------------------------------------------------------------

GOOD = """\
policy:
  id: P-1
  jurisdiction: CN-FJ-XM
  inception_date: 2024-01-01
  expiry_date: 2024-12-31
  per_person_limit: 800000
  coinsurance:
    - {insurer: lead, share: 0.6}
    - {insurer: second, share: 0.4}
accidents:
  - id: A-1
    date: 2024-03-01
    victims:
      - id: W1
        type: employee
        outcome: disability
        grade: 3
        medical: 1000
    costs:
      rescue: 500
"""


def write(tmp_path, text):
    f = tmp_path / "claims.yaml"
    f.write_text(text, encoding="utf-8")
    return f


def line_of(text, needle):
    """1-based line of the only line containing ``needle``."""
    hits = [i for i, s in enumerate(text.splitlines(), start=1) if needle in s]
    assert len(hits) == 1, needle
    return hits[0]


def test_good_claim_file_loads(tmp_path):
    """Grade 3 = 70% × 800,000 = 560,000; medical 1,000; rescue 500 -> 561,500."""
    p, accs = load_claims(write(tmp_path, GOOD))
    assert p.id == "P-1" and p.schedule.per_person == 800_000
    assert p.coinsurance == (("lead", 0.6), ("second", 0.4))
    (s,) = settle_year(p, accs)
    assert s.total == 561_500


@pytest.mark.parametrize("old, new, path, needle, reason", [
    ("grade: 3", "grade: 11", "accidents[0].victims[0].grade", "grade: 11",
     "injury grade from 1"),
    ("grade: 3", "grade: 0", "accidents[0].victims[0].grade", "grade: 0", "injury grade"),
    ("rescue: 500", "rescue: -500", "accidents[0].costs.rescue", "rescue: -500",
     "out of range"),
    ("medical: 1000", "medical: -1", "accidents[0].victims[0].medical", "medical: -1",
     "out of range"),
    ("medical: 1000", "medical: 1000.005", "accidents[0].victims[0].medical",
     "medical: 1000.005", "fractions of a fen"),
    ("rescue: 500", "rescue: 500.001", "accidents[0].costs.rescue", "rescue: 500.001",
     "fractions of a fen"),
    ("date: 2024-03-01", "date: 2025-03-01", "accidents[0].date", "date: 2025-03-01",
     "outside the policy period"),
    ("outcome: disability", "outcome: death", "accidents[0].victims[0].grade", "grade: 3",
     "a grade goes with outcome 'disability'"),
    ("type: employee", "type: contractor", "accidents[0].victims[0].type", "type: contractor",
     "not allowed"),
    ("share: 0.4}", "share: 0.3}", "policy.coinsurance", "coinsurance:",
     "shares must add up to 1"),
])
def test_bad_claim_file_names_file_line_and_path(tmp_path, old, new, path, needle, reason):
    text = GOOD.replace(old, new)
    assert text != GOOD
    f = write(tmp_path, text)
    with pytest.raises(BookError) as info:
        load_claims(f)
    e = info.value
    assert e.file == str(f) and e.path == path and e.line == line_of(text, needle)
    assert reason in e.reason
    assert str(e).startswith(f"{f}:{e.line}: {path}: ")


def test_victim_without_outcome(tmp_path):
    """The victim's mapping starts on the line of '- id: W1'."""
    text = GOOD.replace("        outcome: disability\n", "").replace("grade: 3", "owed: 10")
    f = write(tmp_path, text)
    with pytest.raises(BookError) as info:
        load_claims(f)
    e = info.value
    assert e.path == "accidents[0].victims[0]" and e.line == line_of(text, "- id: W1")
    assert "missing required key 'outcome'" in e.reason


def test_policy_below_floor_in_claim_file(tmp_path):
    """2024 floor 730,000 (10 × 72,880 = 728,800 rounded up); 700,000 is below it."""
    text = GOOD.replace("per_person_limit: 800000", "per_person_limit: 700000")
    f = write(tmp_path, text)
    with pytest.raises(BookError) as info:
        load_claims(f)
    e = info.value
    assert e.file == str(f) and e.line is not None and e.path.startswith("policy")
    assert "per_person_limit" in str(e) and "730,000" in str(e)


def test_duplicate_victim_ids(tmp_path):
    text = GOOD.replace("    costs:\n", "      - {id: W1, type: employee, outcome: injury}\n"
                        "    costs:\n")
    f = write(tmp_path, text)
    with pytest.raises(BookError) as info:
        load_claims(f)
    assert info.value.path == "accidents[0].victims" and "unique" in info.value.reason


@pytest.mark.parametrize("old, new", [
    ("per_person_limit: 800000", "per_person_limit: 800000.005"),
    ("per_person_limit: 800000", "per_person_limit: 800000\n  limits: {legal: 1000.005}"),
])
def test_policy_amount_with_fractions_of_a_fen(tmp_path, old, new):
    """Victim and cost amounts with fractions of a fen are refused; the policy's own amounts
    are amounts in yuan too and should be refused the same way."""
    f = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(BookError, match="fractions of a fen"):
        load_claims(f)


def test_example_file_loads():
    p, accs = load_claims(Path(__file__).parents[1] / "examples" / "accident.yaml")
    assert p.id == "XM-2024-0001" and len(accs) == 2
