"""The engine's premiums and splits equal exact decimal arithmetic, to the fen."""

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
import strategies
from hypothesis import HealthCheck, given, settings
from reference import random_profiles, reference_quote

import rating
from rating.engine.premium import rate_frame


@pytest.fixture(scope="module")
def book():
    return rating.books()[0]


def _frame(profiles):
    rows = [{k: (";".join(v) if isinstance(v, list) else v) for k, v in p.items()}
            for p in profiles]
    return pd.DataFrame(rows)


def test_zero_mismatches_against_decimal_reference(book):
    """20,000 random profiles rated in one vectorised call match the exact scalar
    reference on premium, prevention fund and commission, to the fen. The sample is large
    enough that plain float rounding gets some of them wrong, so the test has teeth."""
    profiles = random_profiles(book, 20_000, seed=20221)
    rated = rate_frame(_frame(profiles), book)
    expected = [reference_quote(p, book) for p in profiles]
    want = np.array([int(e["premium"] * 100) for e in expected])
    assert np.array_equal(rated.premium_fen, want)
    assert np.array_equal(rated.prevention_fen,
                          [int(e["prevention_fund"] * 100) for e in expected])
    assert np.array_equal(rated.commission_fen, [int(e["commission"] * 100) for e in expected])
    naive = np.floor(np.maximum(rated.before_minimum, rated.minimum) * 100 + 0.5)
    assert (naive != want).sum() > 0, "no half-fen case in the sample: the test lost its teeth"


def test_a_half_fen_case_rounds_up():
    """Every random profile whose exact premium lies exactly on a half fen is rounded up
    by rating.quote (the exact value is found by the Decimal reference, not the engine)."""
    book = rating.books()[0]
    profiles = random_profiles(book, 20_000, seed=7)
    halves = []
    for p in profiles:
        e = reference_quote(p, book)
        cents = e["unrounded"] * 100
        if cents == cents.to_integral_value() + Decimal("0.5") and e["premium"] > 0:
            halves.append((p, e))
    assert halves, "sample holds no exact half-fen premium"
    for p, e in halves[:20]:
        res = rating.quote(p, book=book)
        assert Decimal(repr(res.premium)) == e["premium"]
        assert e["premium"] * 100 == (e["unrounded"] * 100).to_integral_value() + 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=strategies.profiles())
def test_single_quote_equals_reference(p):
    """rating.quote (the one-row path) agrees with the reference on random profiles."""
    book = strategies.BOOK
    res = rating.quote(p)
    e = reference_quote(p, book)
    assert Decimal(repr(res.premium)) == e["premium"]
    assert Decimal(repr(res.split.prevention_fund)) == e["prevention_fund"]
    assert Decimal(repr(res.split.commission)) == e["commission"]
    assert Decimal(repr(res.split.net)) == e["net"]
