"""The sourced rate books reproduce their published tables, quoted through the public API.

Every reference value below is typed from shared/domain.md §3 (the tables as published), not
read from the books: a book that misreads a cell fails here.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest

import rating

# --- Hunan construction (shared/domain.md §3.1) ------------------------------------------------
# Rate ‰ of project cost. Per cost band, per per-person option (10k yuan: 30/2.5, 40/4, 50/5,
# 60/6), the six columns: general 200 / 400 / 600, high-risk 200 / 400 / 600 (aggregate, 10k).
HUNAN = {
    ">80m": [[1.20, 1.28, 1.37, 1.37, 1.45, 1.54], [1.45, 1.54, 1.62, 1.62, 1.71, 1.80],
             [1.71, 1.80, 1.88, 1.88, 1.97, 2.05], [1.97, 2.05, 2.14, 2.14, 2.22, 2.31]],
    "30m-80m": [[1.28, 1.37, 1.45, 1.45, 1.54, 1.62], [1.54, 1.62, 1.71, 1.71, 1.80, 1.88],
                [1.80, 1.88, 1.97, 1.97, 2.05, 2.14], [2.05, 2.14, 2.22, 2.22, 2.31, 2.39]],
    "5m-30m": [[1.37, 1.45, 1.54, 1.54, 1.62, 1.71], [1.62, 1.71, 1.80, 1.80, 1.88, 1.97],
               [1.88, 1.97, 2.05, 2.05, 2.14, 2.22], [2.14, 2.22, 2.31, 2.31, 2.39, 2.48]],
    "<=5m": [[1.45, 1.54, 1.62, 1.62, 1.71, 1.80], [1.71, 1.80, 1.88, 1.88, 1.97, 2.05],
             [1.97, 2.05, 2.14, 2.14, 2.22, 2.31], [2.22, 2.31, 2.39, 2.39, 2.48, 2.57]],
}
# a project cost inside each band: the upper ends are included ("含"), the top band is open
COST = {"<=5m": 5_000_000, "5m-30m": 30_000_000, "30m-80m": 80_000_000, ">80m": 100_000_000}
OPTIONS = [(300_000, 25_000), (400_000, 40_000), (500_000, 50_000), (600_000, 60_000)]
AGGREGATES = [2_000_000, 4_000_000, 6_000_000]
CLASSES = ["general", "high_risk"]


def fen(amount: Decimal) -> float:
    return float(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def hunan_profile(cost, limit, aggregate, works="general", date="2024-03-01"):
    return {"jurisdiction": "CN-HN", "sector": "construction", "contract_value": cost,
            "per_person_limit": limit, "limit_aggregate": aggregate, "project_type": works,
            "inception_date": date}


def hunan_cells():
    for band, rows in HUNAN.items():
        for (limit, medical), row in zip(OPTIONS, rows):
            for c, works in enumerate(CLASSES):
                for a, aggregate in enumerate(AGGREGATES):
                    yield band, limit, medical, aggregate, works, row[3 * c + a]


def test_hunan_every_published_cell():
    """96 cells: premium = project cost × rate / 1000, e.g. 80,000,000 × 1.62‰ = 129,600.00;
    the bundled accident-medical limit comes with each per-person option."""
    wrong = []
    for band, limit, medical, aggregate, works, rate in hunan_cells():
        q = rating.quote(hunan_profile(COST[band], limit, aggregate, works))
        expected = fen(Decimal(COST[band]) * Decimal(str(rate)) / 1000)
        if (q.premium, q.schedule.medical_per_person, q.schedule.aggregate) != (
                expected, medical, aggregate):
            wrong.append((band, limit, aggregate, works, q.premium, expected))
    assert len(list(hunan_cells())) == 96
    assert wrong == []


def test_hunan_portfolio_prices_the_same_cells():
    """The same 96 profiles as one frame: one engine, the same premiums."""
    import pandas as pd

    cells = list(hunan_cells())
    frame = pd.DataFrame([hunan_profile(COST[b], lim, agg, w) for b, lim, _, agg, w, _ in cells])
    rated = rating.rate_portfolio(frame)
    expected = [fen(Decimal(COST[b]) * Decimal(str(r)) / 1000) for b, *_, r in cells]
    assert rated["premium"].tolist() == expected


def test_hunan_the_done_when_command():
    """The issue's command: 50,000,000 × 1.62‰ (30m-80m, 40/4, general, aggregate 400)."""
    q = rating.quote(hunan_profile(50_000_000, 400_000, 4_000_000))
    assert q.premium == 81_000.00
    assert q.rate_book_id == "CN-HN-CONSTRUCTION"


def test_hunan_band_edges_are_closed_on_the_right():
    """At 30/2.5, general, aggregate 400: 5,000,000 is "500万元（含）以下", the first band,
    1.54‰; 5,000,000.01 is in 5m-30m, 1.45‰."""
    at = rating.quote(hunan_profile(5_000_000, 300_000, 4_000_000))
    above = rating.quote(hunan_profile(5_000_000.01, 300_000, 4_000_000))
    assert at.premium == fen(Decimal(5_000_000) * Decimal("1.54") / 1000)     # 7,700.00
    assert above.premium == fen(Decimal("5000000.01") * Decimal("1.45") / 1000)  # 7,250.00


def test_hunan_subway_is_the_high_risk_column_plus_half():
    """Subway works: the high-risk cell (>80m, 50/5, aggregate 600: 2.05‰) raised by 50%:
    100,000,000 × 2.05‰ × 1.5 = 307,500.00."""
    q = rating.quote(hunan_profile(100_000_000, 500_000, 6_000_000, "subway"))
    assert q.premium == 307_500.00


def test_hunan_options_meet_the_national_floor():
    """From 2025-03-29 the national floor is 400,000 (应急〔2025〕27号 art. 15): the 300,000
    option is refused, and without a stated limit the lowest option at or above the floor
    (400,000) is taken. Before that date the default is 300,000."""
    with pytest.raises(rating.ProfileError, match="per_person_limit.*below the statutory"):
        rating.quote(hunan_profile(10_000_000, 300_000, 2_000_000, date="2025-06-01"))
    later = hunan_profile(10_000_000, None, 2_000_000, date="2025-06-01")
    del later["per_person_limit"]
    assert rating.quote(later).per_person_limit == 400_000
    earlier = dict(later, inception_date="2024-06-01")
    assert rating.quote(earlier).per_person_limit == 300_000


def test_hunan_refuses_what_the_table_does_not_price():
    with pytest.raises(rating.ProfileError, match="per_person_limit: is not one of"):
        rating.quote(hunan_profile(10_000_000, 450_000, 2_000_000))
    with pytest.raises(rating.ProfileError, match="limit_aggregate: is not one of"):
        rating.quote(hunan_profile(10_000_000, 400_000, 3_000_000))
    missing = hunan_profile(10_000_000, 400_000, 2_000_000)
    del missing["limit_aggregate"]
    with pytest.raises(rating.ProfileError, match="limit_aggregate: is required"):
        rating.quote(missing)


def test_sourced_books_are_listed_as_final_with_their_source():
    found = {b.id: b for b in rating.books()}
    hunan = found["CN-HN-CONSTRUCTION"]
    assert hunan.status == "final"
    assert hunan.sources["hunan"].url == "https://360docs.net/doc/1918789599.html"
    assert rating.find_book("CN-HN", dt.date(2024, 3, 1)) is hunan


# --- Shandong 2018 construction (shared/domain.md §3.2) ----------------------------------------
# (a project cost inside the band, rate ‰, policy aggregate limit in 10k yuan)
SHANDONG = [(10_000_000, "0.65", 2100), (50_000_000, "0.60", 4200), (100_000_000, "0.55", 6300),
            (500_000_000, "0.50", 8400), (1_000_000_000, "0.45", 9450),
            (1_500_000_000, "0.40", 10500)]


def shandong_profile(cost, **more):
    return {"jurisdiction": "CN-SD", "sector": "construction", "contract_value": cost,
            "inception_date": "2024-05-01", **more}


@pytest.mark.parametrize("cost, rate, aggregate_10k", SHANDONG)
def test_shandong_every_band(cost, rate, aggregate_10k):
    """Premium = cost × rate ‰ (no discount stated), e.g. 10,000,000 × 0.65‰ = 6,500.00; the
    aggregate that goes with the band; the bundled 500,000 / 100,000 / 100,000 limits."""
    q = rating.quote(shandong_profile(cost))
    assert q.premium == fen(Decimal(cost) * Decimal(rate) / 1000)
    assert q.schedule.aggregate == aggregate_10k * 10_000
    assert (q.per_person_limit, q.schedule.third_party_per_person,
            q.schedule.medical_per_person, q.schedule.third_party_property) == (
        500_000, 500_000, 100_000, 100_000)


def test_shandong_discount_is_an_input():
    """Total premium = cost × rate × (1 − discount): 30,000,000 × 0.60‰ × (1 − 0.07)
    = 18,000 × 0.93 = 16,740.00."""
    assert rating.quote(shandong_profile(30_000_000, risk_discount=0.07)).premium == 16_740.00
    assert rating.quote(shandong_profile(30_000_000)).premium == 18_000.00


def test_shandong_free_extension_and_band_edge():
    book = rating.find_book("CN-SD", dt.date(2024, 5, 1))
    assert book.term.free_extension_days == 180
    # 10,000,000 is "≤10m": 0.65‰; a fen more is in the next band, 0.60‰
    assert rating.quote(shandong_profile(10_000_000.01)).premium == fen(
        Decimal("10000000.01") * Decimal("0.60") / 1000)


# --- Hubei coal mines (shared/domain.md §3.4) ---------------------------------------------------

def hubei_profile(**more):
    return {"jurisdiction": "CN-HB", "sector": "coal_mines", "capacity_tonnes": 150_000,
            "inception_date": "2016-05-01", "limit_aggregate": 2_000_000, **more}


@pytest.mark.parametrize("more, factor", [
    ({}, "1"),
    ({"standardisation_grade": "grade_2"}, "0.92"),
    ({"standardisation_grade": "grade_1"}, "0.90"),
    ({"honour": "provincial"}, "0.90"),
    # the highest management discount only, not cumulative
    ({"standardisation_grade": "grade_1", "honour": "provincial"}, "0.90"),
    ({"standardisation_grade": "grade_2", "honour": "provincial"}, "0.90"),
    ({"claim_free_years": 1}, "0.95"),
    ({"claim_free_years": 2}, "0.92"),
    ({"claim_free_years": 7}, "0.90"),
    # the two groups multiply: 0.92 × 0.92, 0.90 × 0.90
    ({"standardisation_grade": "grade_2", "claim_free_years": 2}, "0.8464"),
    ({"standardisation_grade": "grade_1", "claim_free_years": 3}, "0.81"),
])
def test_hubei_rate_and_discounts(more, factor):
    """2.3 yuan per tonne × 150,000 t = 345,000.00, times the discounts."""
    q = rating.quote(hubei_profile(**more))
    assert q.premium == fen(Decimal("2.3") * 150_000 * Decimal(factor))
    assert q.per_person_limit == 200_000


def test_hubei_predates_the_national_floor():
    """The 200,000 cover is below the 300,000 national floor of 2018-01-01: no Hubei book is
    in force then, and the book given for a 2019 date cannot price its only option."""
    with pytest.raises(rating.RatingError, match="no rate book is in force"):
        rating.quote(hubei_profile(inception_date="2019-01-01"))
    book = rating.find_book("CN-HB", dt.date(2016, 5, 1))
    assert (book.effective_from, book.effective_to) == (dt.date(2015, 9, 3),
                                                        dt.date(2017, 12, 31))
    with pytest.raises(rating.RatingError, match="2015-09-03..2017-12-31"):
        rating.quote(hubei_profile(inception_date="2019-01-01"), book=book)
    # a what-if run past its dates meets the national floor
    with pytest.raises(rating.ProfileError, match="per_person_limit: no limit option"):
        rating.quote(hubei_profile(inception_date="2019-01-01"), book=book, any_date=True)


# --- Fuyang floating scheme (shared/domain.md §3.4) ---------------------------------------------

def book_with_fuyang(include="CN-AH-FY-FLOAT"):
    """The shipped Xiamen book with its floating groups replaced by the Fuyang group."""
    import yaml

    from rating.book import tables_dir

    data = yaml.safe_load((tables_dir() / "books" / "cn-fj-xm-2022.yaml").read_text("utf-8"))
    data["id"] = "TEST-FUYANG"
    data["floating"] = {"floor": 0.7, "cap": 1.5, "illustrative": True,
                        "groups": {"fuyang": {"include": include}}}
    return rating.load_book(data)


@pytest.mark.parametrize("more, factor", [
    # all relative to the base rate, so they add: 1 + (h − 1) + (a − 1)
    ({}, "0.90"),                                               # no accident −10%
    ({"honour": "city", "accidents_general": 1}, "1.05"),       # 1 − 0.05 + 0.10
    ({"honour": "provincial"}, "0.80"),                          # 1 − 0.10 − 0.10
    ({"accidents_larger": 1}, "1.20"),
    ({"accidents_major": 2, "accidents_general": 3}, "1.30"),   # the worst grade counts
    ({"honour": "provincial", "accidents_especially_major": 1}, "1.20"),  # 1 − 0.10 + 0.30
])
def test_fuyang_group_included_in_a_book(more, factor):
    book = book_with_fuyang()
    assert book.floating.groups["fuyang"].rule == "additive"
    assert book.sources["fuyang"].url == "http://fsou.com/html/text/lar/172172/17217274_1.html"
    profile = {"jurisdiction": "CN-FJ-XM", "sector": "hazardous_chemicals",
               "subsector": "production", "headcount": 120, "scale": "small",
               "product": "toxic", "inception_date": "2024-07-01", **more}
    steps = rating.quote(profile, book=book).worksheet.set_index("step")
    assert Decimal(str(steps.loc["floating", "factor"])) == Decimal(factor)


def test_an_unknown_floating_group_is_named():
    with pytest.raises(rating.BookError, match=r"floating\.groups\.fuyang\.include.*no floating "
                                               r"group 'CN-XX'"):
        book_with_fuyang("CN-XX")


# --- tier tables scoped to a sub-sector ---------------------------------------------------------

def test_a_tier_table_scoped_to_a_sub_sector():
    """A payroll-banded tier (factor 1.2 from 1,000,000 yuan) scoped to
    hazardous_chemicals.production applies there and nowhere else: 72,000 × ... × 1.2 for
    production, 0.5 for storage; a second table on payroll for another sub-sector of the
    same sector is allowed, one for the same sub-sector is refused."""
    import yaml

    from rating.book import tables_dir

    data = yaml.safe_load((tables_dir() / "books" / "cn-fj-xm-2022.yaml").read_text("utf-8"))
    data["id"] = "TEST-SCOPED"
    data["tiers"]["payroll_production"] = {
        "label": {"zh": "工资总额", "en": "payroll"}, "variable": "payroll",
        "subsectors": ["hazardous_chemicals.production"], "illustrative": True,
        "bands": [{"lower": 0, "upper": 1_000_000, "factor": 1.0},
                  {"lower": 1_000_000, "factor": 1.2}]}
    data["tiers"]["payroll_trading"] = dict(data["tiers"]["payroll_production"],
                                            subsectors=["hazardous_chemicals.storage"],
                                            bands=[{"lower": 0, "factor": 0.5}])
    scoped = rating.load_book(data)
    base = {"jurisdiction": "CN-FJ-XM", "sector": "hazardous_chemicals", "headcount": 120,
            "scale": "small", "product": "toxic", "inception_date": "2024-07-01"}
    plain = rating.find_book("CN-FJ-XM", dt.date(2024, 7, 1))
    for sub, factor in (("production", Decimal("1.2")), ("storage", Decimal("0.5"))):
        profile = dict(base, subsector=sub)
        unscoped = Decimal(str(rating.quote(profile, book=plain).premium))
        profile["payroll"] = 2_000_000  # read by the scoped tables only
        assert Decimal(str(rating.quote(profile, book=scoped).premium)) == (
            unscoped * factor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    data["tiers"]["payroll_trading"]["subsectors"] = ["hazardous_chemicals.production"]
    with pytest.raises(rating.BookError, match="already has a table for sector "
                                               "'hazardous_chemicals' \\(sub-sector 'production'"):
        rating.load_book(data)
    data["tiers"]["payroll_trading"]["subsectors"] = ["hazardous_chemicals.nowhere"]
    with pytest.raises(rating.BookError, match="unknown sub-sector 'hazardous_chemicals.nowhere'"):
        rating.load_book(data)


def test_rating_books_json_lists_the_sourced_books(capsys):
    import json

    from rating.cli import main

    assert main(["books", "--json"]) == 0
    listed = {b["id"]: b for b in json.loads(capsys.readouterr().out)}
    for book_id, key, url in (
            ("CN-HN-CONSTRUCTION", "hunan", "https://360docs.net/doc/1918789599.html"),
            ("CN-SD-CONSTRUCTION-2018", "shandong", "https://www.doczj.com/doc/4611862298.html"),
            ("CN-HB-COAL-2015", "hubei", "https://mdjjksjc.com/html/2015/0903/24591967.shtm")):
        assert listed[book_id]["status"] == "final"
        assert listed[book_id]["sources"][key]["url"] == url
    assert listed["CN-FJ-XM-2022"]["status"] == "illustrative"
