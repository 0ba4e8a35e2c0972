"""Shortcuts taken for speed give what the general path gives: a quote's one-row columns
against a one-row DataFrame, numpy's bulk date parsing against parsing one date at a time,
one gather against ``np.where``, limit columns in yuan against fen / 100, a binary search of
bands against one comparison per edge, one number checked against many, rows on a half fen
settled by their decimal places against exact decimals."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

import rating
from rating.engine import money
from rating.engine.columns import OneRow, Problems, date_map, encode, numbers
from rating.engine.lookups import _factors_where, _with_ones, band_step
from rating.engine.premium import rate_frame
from rating.errors import ProfileError

BOOK = rating.books()[0]
BASE = {"jurisdiction": "CN-FJ-XM", "sector": "hazardous_chemicals", "subsector": "production",
        "headcount": 120, "scale": "small", "product": "toxic", "inception_date": "2024-07-01"}


def _outcome(frame):
    """The premium split and factors of a one-row frame, or the error it raises."""
    try:
        rated = rate_frame(frame, BOOK, single=True)
    except ProfileError as exc:
        return ("error", exc.field, str(exc))
    return (int(rated.premium_fen[0]), int(rated.prevention_fen[0]),
            int(rated.commission_fen[0]), [float(s.factor[0]) for s in rated.steps],
            {k: int(v[0]) for k, v in rated.schedule.items()})


@pytest.mark.parametrize("changes", [
    {},
    {"headcount": 120.0, "commission_rate": np.float64(0.05)},
    {"headcount": np.int32(120), "prevention_share": np.float32(0.05)},
    {"headcount": 120.5},
    {"headcount": True},
    {"headcount": "120"},
    {"headcount": " 120 "},
    {"headcount": None},
    {"headcount": 2**70},
    {"scale": None},
    {"scale": ""},
    {"scale": "huge"},
    {"product": np.str_("toxic")},
    {"inception_date": dt.date(2024, 7, 1)},
    {"inception_date": dt.datetime(2024, 7, 1, 15, 30)},
    {"inception_date": pd.Timestamp("2024-07-01", tz="Asia/Shanghai")},
    {"inception_date": np.datetime64("2024-07-01")},
    {"inception_date": "2024-02-30"},
    {"inception_date": 20240701},
    {"expiry_date": "2025-03-31"},
    {"blacklisted": True},
    {"blacklisted": "yes"},
    {"blacklisted": 1},
    {"blacklisted": 2.5},
    {"deaths": 1},
    {"deaths": -1},
    {"extensions": ["occupational_disease"]},
    {"extensions": "occupational_disease;nonsense"},
    {"per_person_limit": 1_000_000},
    {"per_person_limit": 1.0},
    {"limit_legal": 150_000, "limit_rescue": 10**9},
])
def test_one_row_columns_rate_as_a_one_row_frame(changes):
    profile = {**BASE, **changes}
    assert _outcome(OneRow(profile)) == _outcome(pd.DataFrame({k: [v] for k, v in profile.items()}))


def test_many_dates_parse_as_one_at_a_time():
    days = pd.date_range("2021-01-01", periods=40).strftime("%Y-%m-%d").tolist()
    for extra in ([], ["2022-02-30"], ["2022-2-03"], ["0000-01-01"], [" 2022-01-03"], [None],
                  ["２０２２-01-03"]):
        values = encode(pd.Series(days + extra, dtype=object))
        bulk = Problems(pd.RangeIndex(len(values.codes)))
        parsed = date_map(values, "d", bulk)
        expected, reasons = [], []
        for u in values.uniques:  # one value: parsed on its own
            alone = Problems(pd.RangeIndex(1))
            expected.append(str(date_map(encode(pd.Series([u], dtype=object)), "d", alone)[0]))
            reasons += [why for _, _, why in alone.items]
        assert [str(d) for d in parsed[:-1]] == expected and np.isnat(parsed[-1])
        assert [why for _, _, why in bulk.items] == reasons


@pytest.mark.parametrize("n", [3, 5000])
def test_one_gather_equals_where(n):
    rng = np.random.default_rng(n)
    factors = [0.8, 1.0, 1.15, 1.3]
    idx = rng.integers(0, len(factors), n).astype(np.int8)
    applies = rng.random(n) < 0.4
    got = _factors_where(_with_ones(factors), idx, applies)
    assert np.array_equal(got, np.where(applies, np.array(factors)[idx], 1.0))


def test_limit_columns_in_yuan_are_fen_over_100():
    frame = pd.DataFrame([BASE, {**BASE, "per_person_limit": 1_234_567.89},
                          {**BASE, "limit_legal": 150_000}])
    rated = rate_frame(frame, BOOK)
    for key in rated.schedule:
        assert np.array_equal(rated.schedule.yuan(key), rated.schedule[key] / 100)


@pytest.mark.parametrize("closed", ["left", "right"])
def test_few_rows_search_bands_as_many_rows_compare(closed):
    """A few rows take one binary search, many rows a comparison per edge: same factors,
    values on an edge included."""
    bands = BOOK.tiers["contract_value"].bands
    edges = [b.lower for b in bands]
    few = np.array(edges + [e + 0.5 for e in edges] + [e - 0.5 for e in edges[1:]], dtype=float)
    many = np.tile(few, 1024 // len(few) + 1)
    factors = {}
    for values in (few, many):
        problems = Problems(pd.RangeIndex(len(values)))
        step = band_step("k", BOOK.tiers["contract_value"].label, "p", bands, closed, values,
                         np.ones(len(values), dtype=bool), "contract_value", problems)
        assert not problems.items
        factors[len(values)] = step.factor[:len(few)]
    assert np.array_equal(factors[len(few)], factors[len(many)])


@pytest.mark.parametrize("value", [0.0, 3.0, 2.5, 1e12, 1e12 + 1, -1.0, np.nan])
def test_one_number_is_checked_as_many(value):
    one, many = Problems(pd.RangeIndex(1)), Problems(pd.RangeIndex(3))
    got = numbers(np.array([value]), "headcount", one, n=1, integer=True)
    expected = numbers(np.array([value] * 3), "headcount", many, n=3, integer=True)
    assert np.array_equal(got, expected[:1], equal_nan=True)
    assert [why for _, _, why in one.items] == [why for _, _, why in many.items]


def test_rows_on_a_half_fen_settled_by_places_as_by_decimals():
    """Rounding rows near a half fen by their decimal places gives what exact decimal
    arithmetic gives: products of decimal literals on, near and off a half fen, with too many
    places to settle some, and exact halves among them."""
    rng = np.random.default_rng(5)
    n = 20_000
    exposure = rng.integers(1, 5000, n).astype(float)
    rate = rng.choice([0.35, 1.2, 12.5, 0.005, 7.0], n)
    factors = rng.choice([1.0, 0.9, 1.15, 1.05, 0.85, 1.234567, 0.1], (n, 3))
    # too many places to settle, within float error of a half fen: left to decimals
    close = [1.00500000001, 1.00499999999, 2.00500000000001]
    exposure = np.append(exposure, close)
    rate, factors = np.append(rate, [1.0] * 3), np.vstack([factors, np.ones((3, 3))])
    yuan = exposure * rate * factors[:, 0] * factors[:, 1] * factors[:, 2]
    cols = [exposure, rate, *factors.T]
    n = len(yuan)

    def exact_yuan(rows):
        product = money.exact(cols[0][rows])
        for c in cols[1:]:
            product = product * money.exact(c[rows])
        return product

    def yuan_places(rows):
        return sum(money.places(c[rows]) for c in cols)

    exact = money.to_fen(yuan, exact_yuan)
    left = []
    assert np.array_equal(money.to_fen(yuan, lambda rows: left.append(rows) or exact_yuan(rows),
                                       yuan_places), exact)
    assert np.array_equal(np.concatenate(left), np.arange(n - 3, n))
    assert list(exact[-3:]) == [101, 100, 201]
    halves = [(v * 100) % 1 == Decimal("0.5") for v in exact_yuan(np.arange(n))]
    assert sum(halves) > 100, "no exact half fen: the test lost its teeth"


@pytest.mark.parametrize("value,expected", [(120.0, 0), (0.35, 2), (1e-05, 5), (1.5e20, 0),
                                            (0.1 + 0.2, 17), (np.nan, money.NO_PLACES),
                                            (np.inf, money.NO_PLACES)])
def test_places_of_literals(value, expected):
    assert money.places(np.array([value]))[0] == expected
