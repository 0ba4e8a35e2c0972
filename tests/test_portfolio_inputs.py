"""Portfolios in awkward shapes: every bad row reported, none silently dropped, and the same
answer however a column happens to be typed."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

import rating
from rating.coinsurance import split_by_insurer, summary_by_insurer

B = {"jurisdiction": "CN-FJ-XM", "sector": "hazardous_chemicals", "subsector": "production",
     "headcount": 120, "scale": "small", "product": "toxic", "inception_date": "2024-07-01"}
PREMIUM = 89812.80  # 120 × 600 × limit 1.08 × small 1.05 × toxic 1.10


def test_row_without_inception_date_is_reported_not_dropped():
    frame = pd.DataFrame([B, {**B, "inception_date": None}])
    with pytest.raises(rating.ProfileError) as err:
        rating.rate_portfolio(frame)
    assert (err.value.row, err.value.field) == (1, "inception_date")
    good, bad = rating.rate_portfolio(frame, errors="collect")
    assert list(good.index) == [0] and list(bad["field"]) == ["inception_date"]


def test_explicit_book_still_checks_jurisdiction():
    frame = pd.DataFrame([B, {**B, "jurisdiction": "CN-GD"}])
    good, bad = rating.rate_portfolio(frame, book=rating.books()[0], errors="collect")
    assert list(good["premium"]) == [PREMIUM]
    assert list(bad["field"]) == ["jurisdiction"] and "outside" in bad["reason"].iloc[0]


def test_collect_mode_collects_overflow_and_nan_text():
    frame = pd.DataFrame([B, {**B, "headcount": 1e11}, {**B, "headcount": "nan"}])
    good, bad = rating.rate_portfolio(frame, errors="collect")
    assert list(good.index) == [0]
    assert dict(zip(bad["row"], bad["field"])) == {1: "exposure", 2: "headcount"}
    assert "not a number" in bad["reason"].iloc[1]


@pytest.mark.parametrize("field, value", [
    ("headcount", [120]), ("coinsurance", {"A": 1.0}), ("scale", ("small",)),
])
@pytest.mark.parametrize("rows", [1, 17])
def test_containers_in_cells_are_profile_errors(field, value, rows):
    frame = pd.DataFrame([B] * rows)
    frame[field] = pd.Series([value] * rows, dtype=object)
    with pytest.raises(rating.ProfileError) as err:
        rating.rate_portfolio(frame)
    assert err.value.field == field


@pytest.mark.parametrize("missing", [None, np.nan, np.float32("nan"), np.datetime64("NaT"),
                                     Decimal("NaN"), pd.NA, ""])
@pytest.mark.parametrize("rows", [16, 17])
def test_missing_values_mean_the_same_at_any_size(missing, rows):
    """A missing expiry and a missing project type count as absent in a 16-row frame (the
    small-frame path) exactly as in a 17-row one."""
    frame = pd.DataFrame([B] * rows)
    frame["expiry_date"] = pd.Series([missing] * rows, dtype=object)
    frame["project_type"] = pd.Series([missing] * rows, dtype=object)
    assert (rating.rate_portfolio(frame)["premium"] == PREMIUM).all()


def test_float32_commission_at_the_cap():
    """Parquet stores 0.05 as float32 (0.0500000007 in float64); it is the 5% cap itself."""
    frame = pd.DataFrame([{**B, "inception_date": "2025-06-01"}])
    frame["commission_rate"] = np.array([0.05], dtype=np.float32)
    assert rating.rate_portfolio(frame)["commission"].iloc[0] == round(PREMIUM * 0.05, 2)


def test_duplicate_labels_and_padded_insurer_names():
    frame = pd.DataFrame([{**B, "insurer": "PICC "}, {**B, "insurer": "PICC"}], index=[0, 0])
    parts = split_by_insurer(frame, rating.rate_portfolio(frame))
    assert summary_by_insurer(parts).loc["PICC", "policies"] == 2


def test_dates_given_as_objects_and_duplicate_columns():
    q = rating.quote(B, date=dt.datetime(2024, 7, 1, 9, 30))
    assert q.premium == PREMIUM
    assert rating.rate_portfolio(pd.DataFrame([B]), date=pd.Timestamp("2024-07-01"))[
        "premium"].iloc[0] == PREMIUM
    assert rating.find_book("CN-FJ-XM", "2024-07-01").id == "CN-FJ-XM-2022"
    with pytest.raises(rating.ProfileError, match="not a date"):
        rating.quote(B, date=20240701)
    frame = pd.concat([pd.DataFrame([B]), pd.DataFrame([{"headcount": 5}])], axis=1)
    with pytest.raises(rating.ProfileError, match="appears twice"):
        rating.rate_portfolio(frame)
