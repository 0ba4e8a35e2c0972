"""Portfolio rating: the same engine as single quotes, in the input's order and index."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import random_profiles

import rating
from rating.coinsurance import split_by_insurer, summary_by_insurer


def frame_of(profiles, index=None):
    rows = [{k: (";".join(v) if isinstance(v, list) else v) for k, v in p.items()}
            for p in profiles]
    return pd.DataFrame(rows, index=index)


@pytest.fixture(scope="module")
def book():
    return rating.books()[0]


def test_ten_thousand_rows_agree_with_single_quotes(book):
    """Every sector and exposure basis; each row's premium equals rating.quote's to the fen."""
    profiles = random_profiles(book, 10_000, seed=404)
    index = pd.Index([f"E{i:05d}" for i in range(len(profiles))][::-1], name="enterprise")
    result = rating.rate_portfolio(frame_of(profiles, index))
    assert list(result.index) == list(index)
    bases = {book.sectors[p["sector"]].subsectors[p["subsector"]].basis for p in profiles}
    assert bases == {"persons", "contract_value", "vehicles", "vessels", "capacity_tonnes",
                     "payroll", "revenue"}
    sample = range(0, len(profiles), 7)  # every 7th: ~1,400 single quotes
    for i in sample:
        q = rating.quote(profiles[i])
        row = result.iloc[i]
        assert (row["premium"], row["prevention_fund"], row["commission"]) == (
            q.premium, q.split.prevention_fund, q.split.commission)


def test_result_columns_and_factors(book):
    """other/general, 10 persons, large: 10 × 150 × 1.08 × 0.90 = 1,458.00."""
    frame = pd.DataFrame([{"jurisdiction": "CN-FJ-XM", "sector": "other", "headcount": 10,
                           "scale": "large", "inception_date": "2024-01-01"}])
    row = rating.rate_portfolio(frame).iloc[0]
    assert row["premium"] == 1458.00 and row["per_person_limit"] == 730000
    assert row["factor_limit"] == 1.08 and row["factor_tier.scale"] == 0.9
    assert row["factor_floating"] == 1.0 and row["rate_book"] == "CN-FJ-XM-2022"
    assert row["prevention_fund"] + row["commission"] + row["net"] == row["premium"]


def test_mixed_dates_rated_on_rules_in_force(book):
    """Same enterprise, two inception dates: 2022 floor 550,000 (limit factor 1.00) and
    2024 floor 730,000 (1.08): 1,350.00 and 1,458.00."""
    base = {"jurisdiction": "CN-FJ-XM", "sector": "other", "headcount": 10, "scale": "large"}
    frame = pd.DataFrame([dict(base, inception_date="2022-07-01"),
                          dict(base, inception_date="2024-07-01")])
    result = rating.rate_portfolio(frame)
    assert list(result["premium"]) == [1350.00, 1458.00]
    assert list(result["floor"]) == [550000, 730000]


def test_bad_rows_raise_or_are_collected(book):
    profiles = random_profiles(book, 50, seed=9)
    frame = frame_of(profiles)
    frame.loc[3, "sector"] = "mining"
    frame.loc[17, "jurisdiction"] = "CN-GD"
    with pytest.raises(rating.ProfileError) as err:
        rating.rate_portfolio(frame)
    assert err.value.row == 3 and err.value.field == "sector"
    good, bad = rating.rate_portfolio(frame, errors="collect")
    assert list(good.index) == [i for i in range(50) if i not in (3, 17)]
    assert set(zip(bad["row"], bad["field"])) == {(3, "sector"), (17, "jurisdiction")}
    assert good["premium"].gt(0).all() and good["premium"].notna().all()


def test_same_input_same_output(book):
    frame = frame_of(random_profiles(book, 500, seed=12))
    a = rating.rate_portfolio(frame).to_csv()
    b = rating.rate_portfolio(frame.copy()).to_csv()
    assert a == b


@settings(max_examples=150, deadline=None)
@given(weights=st.lists(st.integers(1, 10_000), min_size=1, max_size=6),
       headcount=st.integers(1, 5000))
def test_coinsurance_splits_add_up_exactly(weights, headcount):
    """Shares in steps of 1/10,000 summing to 1: premium, fund and commission split by
    insurer add up exactly to the policy's amounts, and no part is negative."""
    raw = [w * 10_000 // sum(weights) for w in weights]
    raw = [max(r, 1) for r in raw]
    raw[0] += 10_000 - sum(raw)
    if raw[0] <= 0:
        return
    pool = ";".join(f"I{i}:{r / 10_000}" for i, r in enumerate(raw))
    frame = pd.DataFrame([{"jurisdiction": "CN-FJ-XM", "sector": "other",
                           "headcount": headcount, "scale": "small",
                           "inception_date": "2025-06-01", "commission_rate": 0.05,
                           "coinsurance": pool}])
    result = rating.rate_portfolio(frame)
    parts = split_by_insurer(frame, result)
    assert list(parts["insurer"]) == [f"I{i}" for i in range(len(raw))]
    for column in ("premium", "prevention_fund", "commission", "net"):
        fen = np.round(parts[column] * 100).astype(int)
        assert fen.sum() == round(result[column].iloc[0] * 100) and fen.min() >= 0


def test_summary_by_insurer():
    """Two policies: A alone (1,458.00), and a 0.6/0.4 pool led by B over 1,458.00:
    B 874.80, A 583.20. A: 2 policies, 2,041.20; B: 1 policy, lead."""
    base = {"jurisdiction": "CN-FJ-XM", "sector": "other", "headcount": 10, "scale": "large",
            "inception_date": "2024-01-01"}
    frame = pd.DataFrame([dict(base, insurer="A"), dict(base, coinsurance="B:0.6;A:0.4")])
    parts = split_by_insurer(frame, rating.rate_portfolio(frame))
    summary = summary_by_insurer(parts)
    assert summary.loc["A", "premium"] == 2041.20 and summary.loc["A", "policies"] == 2
    assert summary.loc["B", "premium"] == 874.80 and summary.loc["B", "lead_policies"] == 1


@pytest.mark.parametrize("pool, needle", [
    ("A:0.5;B:0.4", "add up to 0.9"), ("A:0.5;A:0.5", "appears twice"),
    ("A:1.2;B:-0.2", "share > 0"), ("A0.5;B:0.5", "not insurer:share"),
])
def test_bad_coinsurance(pool, needle):
    profile = {"jurisdiction": "CN-FJ-XM", "sector": "other", "headcount": 10,
               "scale": "large", "inception_date": "2024-01-01", "coinsurance": pool}
    with pytest.raises(rating.ProfileError, match=needle) as err:
        rating.quote(profile)
    assert err.value.field == "coinsurance"


def test_quote_commission_cap_by_date():
    """5% cap from 2025-03-29 (应急〔2025〕27号 第十四条); no national cap before."""
    base = {"jurisdiction": "CN-FJ-XM", "sector": "other", "headcount": 10, "scale": "large"}
    assert rating.quote(dict(base, inception_date="2025-03-28", commission_rate=0.08))
    with pytest.raises(rating.ProfileError, match="cap of 0.05"):
        rating.quote(dict(base, inception_date="2025-03-29", commission_rate=0.08))
