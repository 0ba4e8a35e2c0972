"""Properties of the premium that must hold for every valid profile."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import GRADES
from strategies import BOOK, profiles

import rating

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def book():
    return BOOK


def _sub(book, p):
    sec = book.sectors[p["sector"]]
    return sec.subsectors[p.get("subsector") or next(iter(sec.subsectors))]


@SETTINGS
@given(p=profiles())
def test_premium_at_least_minimum_and_floating_bounded(p):
    book = BOOK
    res = rating.quote(p)
    assert res.rate_book_id == book.id
    assert res.premium >= _sub(book, p).minimum_premium
    floating = res.worksheet.set_index("step").loc["floating", "factor"]
    assert book.floating.floor <= floating <= book.floating.cap


@SETTINGS
@given(p=profiles(), field=st.sampled_from(
    [f"accidents_{g}" for g in GRADES] + ["deaths", "major_hazards_unrectified"]),
    extra=st.integers(1, 5))
def test_worse_record_never_lowers_premium(p, field, extra):
    worse = dict(p, **{field: p.get(field, 0) + extra})
    assert rating.quote(worse).premium >= rating.quote(p).premium


@SETTINGS
@given(p=profiles(), extra=st.integers(1, 300))
def test_higher_limit_never_lowers_premium(p, extra):
    base = rating.quote(p)
    higher = dict(p, per_person_limit=base.per_person_limit + 10000 * extra)
    assert rating.quote(higher).premium >= base.premium


@SETTINGS
@given(p=profiles())
def test_worksheet_reconciles_split_adds_up_and_repeats(p):
    res = rating.quote(p)
    ws = res.worksheet
    product = ws["input"].iloc[0]
    for f in ws["factor"].iloc[:-1]:
        product *= f
    assert product == pytest.approx(ws["premium"].iloc[-2], rel=1e-12)
    assert ws["premium"].iloc[-1] == res.premium
    fen = lambda x: round(x * 100)  # noqa: E731
    assert fen(res.split.prevention_fund) + fen(res.split.commission) + fen(res.split.net) \
        == fen(res.premium)
    assert res.split.prevention_fund >= 0 and res.split.net >= 0
    again = rating.quote(p)
    assert again.to_dict() == res.to_dict()


def test_floor_never_below_national_floor(book):
    """On every day from 2022-06-01 to 2026-12-31 the floor is >= the national floor in force
    (300,000 before 2025-03-29, 400,000 from then on)."""
    day = dt.date(2022, 6, 1)
    while day <= dt.date(2026, 12, 31):
        national = 400000 if day >= dt.date(2025, 3, 29) else 300000
        assert rating.per_person_floor(book, day).amount >= national
        day += dt.timedelta(days=13)
