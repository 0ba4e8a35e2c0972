"""The synthetic portfolio generator: deterministic, covering, and valid for the engine."""

import io

import numpy as np
import pandas as pd
import pytest

import rating
from rating.book.fields import EXPOSURE_FIELDS
from rating.synthetic import synthetic_portfolio

N = 10_000


@pytest.fixture(scope="module")
def book():
    return rating.find_book("CN-FJ-XM", pd.Timestamp("2024-01-01").date())


@pytest.fixture(scope="module")
def portfolio():
    return synthetic_portfolio(N, seed=0)


def test_same_seed_same_frame(portfolio):
    pd.testing.assert_frame_equal(synthetic_portfolio(N, seed=0), portfolio)


def test_another_seed_another_frame(portfolio):
    assert not synthetic_portfolio(N, seed=1).equals(portfolio)


@pytest.fixture(scope="module")
def rated(portfolio):
    return rating.rate_portfolio(portfolio)


def test_every_sector_and_basis_appears(portfolio, book):
    assert set(portfolio["sector"]) == set(book.sectors)
    filled = {basis for basis, name in EXPOSURE_FIELDS.items() if portfolio[name].notna().any()}
    bases = {sub.basis for sec in book.sectors.values() for sub in sec.subsectors.values()}
    assert filled == bases


def test_columns_are_profile_fields_as_a_csv_holds_them(portfolio):
    assert len(portfolio) == N and list(portfolio.index) == list(range(N))
    dates = portfolio["inception_date"]
    assert dates.str.fullmatch(r"20(23|24|25|26)-\d\d-\d\d").all()
    money = portfolio["contract_value"].dropna()
    assert (np.round(money * 100) / 100 == money).all() and (money > 0).all()
    assert portfolio["extensions"].dropna().str.fullmatch(r"[a-z_]+(;[a-z_]+)*").all()


def test_limits_and_commissions_are_within_the_rules(portfolio, rated):
    chosen = portfolio["per_person_limit"].notna()
    assert 0 < chosen.mean() < 1
    assert (rated.loc[chosen, "per_person_limit"] > rated.loc[chosen, "floor"]).all()
    capped = portfolio["inception_date"] >= "2025-03-29"
    assert portfolio.loc[capped, "commission_rate"].max() <= 0.05


def test_rate_portfolio_rates_every_row(portfolio, rated):
    assert rated.index.equals(portfolio.index)
    assert (rated["premium"] > 0).all() and rated["premium"].notna().all()


def test_rate_portfolio_rates_the_csv_round_trip(portfolio, rated):
    buffer = io.StringIO()
    portfolio.to_csv(buffer, index=False)
    buffer.seek(0)
    frame = pd.read_csv(buffer)
    np.testing.assert_array_equal(rating.rate_portfolio(frame)["premium"], rated["premium"])


def test_empty_portfolio():
    assert len(synthetic_portfolio(0)) == 0
