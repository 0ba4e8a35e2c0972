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
