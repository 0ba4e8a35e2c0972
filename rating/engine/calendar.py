"""Calendar arithmetic on arrays of ``datetime64[D]`` days, and writing days back as the
input wrote them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def add_months(days: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """The same day ``months`` later, clipped to the month's last day."""
    month = days.astype("datetime64[M]")
    day = (days - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(int)
    return target.astype("datetime64[D]") + np.minimum(day, length - 1)


def term_months(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Whole months from ``start`` to an inclusive ``end`` (a started month counts whole);
    0 where ``end`` is NaT."""
    ok = ~np.isnat(end)
    mi, me = start.astype("datetime64[M]"), np.where(ok, end, start).astype("datetime64[M]")
    di = (start - mi.astype("datetime64[D]")).astype(np.int64)
    de = (np.where(ok, end, start) - me.astype("datetime64[D]")).astype(np.int64)
    return np.where(ok, (me - mi).astype(np.int64) + (de >= di), 0)


def date_column(days: np.ndarray, like: pd.Series) -> pd.Series | np.ndarray:
    """Dates written as the input wrote them: datetimes stay datetimes, dates stay dates,
    anything else becomes YYYY-MM-DD text (None where NaT)."""
    if isinstance(like.dtype, pd.DatetimeTZDtype):
        return pd.Series(days, index=like.index).dt.tz_localize(like.dt.tz)
    if pd.api.types.is_datetime64_any_dtype(like.dtype):
        return pd.Series(days, index=like.index).astype(like.dtype)
    first = like.dropna()
    # np.where takes None as an object scalar; numpy's stubs allow no None for x or y
    if len(first) and isinstance(first.iloc[0], dt.date):
        return np.where(np.isnat(days), None, days.astype(object))  # type: ignore[call-overload]
    text = np.datetime_as_string(days, unit="D").astype(object)
    return np.where(np.isnat(days), None, text)  # type: ignore[call-overload]
