"""Reading profile columns into typed arrays, collecting every problem with its row.

Portfolios arrive as ``pd.read_csv`` gives them (plain string columns) and single quotes as a
one-row frame built from a mapping; both pass through these parsers. Text columns are
factorised first, so the per-value work (matching a level, parsing a date) is done once per
distinct value rather than once per row.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..book.dates import iso_date
from ..errors import ProfileError

MISSING = -1
"""Code for a missing categorical value."""
INVALID = -2
"""Code for a categorical value that is not a level (when not reported at once)."""


@dataclass
class Problems:
    """Problems found while reading a frame: (row positions, field, reason)."""

    index: pd.Index
    single: bool = False  # a one-row quote: errors name no row
    items: list[tuple[np.ndarray, str, str]] = field(default_factory=list)

    def add(self, where: np.ndarray, field_name: str, reason: str) -> None:
        """Record ``reason`` for the rows where the boolean mask ``where`` is true."""
        if np.count_nonzero(where):  # cheaper than finding no rows, the usual outcome
            self.items.append((np.flatnonzero(where), field_name, reason))

    def bad_rows(self) -> np.ndarray:
        """Boolean mask of the rows with at least one problem."""
        mask = np.zeros(len(self.index), dtype=bool)
        for rows, _, _ in self.items:
            mask[rows] = True
        return mask

    def table(self) -> pd.DataFrame:
        """One line per (row, field) problem, in row order."""
        rows = [(int(r), f, reason) for positions, f, reason in self.items for r in positions]
        rows.sort(key=lambda t: t[0])  # stable: within a row, in the order found
        return pd.DataFrame({
            "row": pd.Index(self.index).take([r for r, _, _ in rows]),
            "field": [f for _, f, _ in rows],
            "reason": [reason for _, _, reason in rows],
        })

    def raise_if_any(self, limit: int = 5) -> None:
        """Raise one ProfileError describing the first few bad rows."""
        if not self.items:
            return
        # the first bad row; within it, the problem found first (the most basic one)
        pos, _, field_name, reason = min((int(p[0]), k, f, r)
                                         for k, (p, f, r) in enumerate(self.items))
        if self.single:
            raise ProfileError(field_name, reason)
        label = self.index[pos]
        label = label.item() if isinstance(label, np.generic) else label
        problems = self.table()
        if len(problems) == 1:
            raise ProfileError(field_name, reason, row=label)
        more = int(self.bad_rows().sum())
        detail = "; ".join(f"row {show_value(r)}: {f}: {why}"
                           for r, f, why in problems.iloc[1:limit].itertuples(index=False))
        raise ProfileError(field_name, f"{reason}; also {detail}"
                           + (f" ({more} bad rows in all)" if more > 1 else ""), row=label)


MAX_NUMBER = 1e12
"""Largest accepted number in any field (yuan, persons, tonnes ...); keeps premiums in fen
well inside int64."""


@dataclass(frozen=True)
class Encoded:
    """A text (or mixed) column factorised once: ``codes`` (-1 where missing) into
    ``uniques``. Every parser below accepts one in place of the Series, so a column read by
    several tables is hashed once, and per-value work is done once per distinct value."""

    codes: np.ndarray
    uniques: np.ndarray

    @functools.cached_property
    def blank(self) -> np.ndarray:
        """Rows that are missing or blank text (kept: several checks ask)."""
        is_blank = np.array([isinstance(u, str) and not u.strip() for u in self.uniques]
                            + [True], dtype=bool)
        return is_blank[self.codes]


def encode(values: pd.Series) -> Encoded:
    """Factorise a column (see :class:`Encoded`)."""
    if isinstance(values.dtype, pd.CategoricalDtype):  # already factorised: reuse the codes
        return Encoded(values.cat.codes.to_numpy(dtype=np.int64),
                       np.asarray(values.cat.categories, dtype=object))
    if len(values) <= 16:  # a quote: a dict beats pandas' hashing machinery by far
        seen: dict = {}
        codes = [-1 if _is_na(v) else seen.setdefault(_hashable(v), len(seen))
                 for v in values.tolist()]
        return Encoded(np.array(codes, dtype=np.int64), np.array(list(seen), dtype=object))
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # lists or dicts in the column: they will be reported as invalid
        codes, uniques = pd.factorize(values.map(_hashable), use_na_sentinel=True)
    return Encoded(codes, np.asarray(uniques, dtype=object))


_UNHASHABLE = (list, tuple, dict, set, np.ndarray)


def _hashable(value):
    """A value, or for a container a text stand-in that no parser accepts."""
    return f"<{type(value).__name__}>" if isinstance(value, _UNHASHABLE) else value


def _is_na(value) -> bool:
    return not isinstance(value, _UNHASHABLE) and bool(pd.isna(value))


def _encoded(values) -> Encoded:
    return values if isinstance(values, Encoded) else encode(values)


def is_text(values) -> bool:
    """A column that is parsed by value (text, categories or mixed objects), not as numbers."""
    if isinstance(values, np.ndarray):  # a quote's number: skip pandas' dtype machinery
        return values.dtype.kind in "OSU"
    return isinstance(values, Encoded) or values.dtype == object or \
        pd.api.types.is_string_dtype(values.dtype) or \
        isinstance(values.dtype, pd.CategoricalDtype)


def absent(values, n: int) -> np.ndarray:
    """Rows where a field is missing: no column, NaN/None, or blank text."""
    if values is None:
        return np.ones(n, dtype=bool)
    if is_text(values):
        return _encoded(values).blank
    return _isna(values)


def _isna(values: pd.Series | np.ndarray) -> np.ndarray:
    """Missing entries of a column that is not text (a Series, or a quote's numpy array)."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":  # skip pandas
        return np.isnan(values) if values.dtype.kind == "f" else np.zeros(len(values), bool)
    return np.asarray(pd.isna(values), dtype=bool)


class OneRow:
    """A single profile as the one-row frame the engine rates, without building a DataFrame
    (for one quote that costs more than the rating itself).

    Each field is typed as ``pd.DataFrame({name: [value]})`` would type its column: text and
    blanks factorised (:class:`Encoded`), plain numbers and true/false as numpy arrays, rarer
    values (dates, numpy scalars, lists) as a one-element Series. It offers what the engine
    reads from a frame: ``columns``, ``index``, ``len`` and ``[name]``.
    """

    index = pd.RangeIndex(1)

    def __init__(self, profile: Mapping[str, Any]):
        self.fields = {name: _one_column(value) for name, value in profile.items()}
        self.columns = list(self.fields)

    def __len__(self) -> int:
        return 1

    def __getitem__(self, name: str):
        return self.fields[name]

    def get(self, name: str, default=None):
        return self.fields.get(name, default)


def _one_column(value):
    """One value as a one-row column (see :class:`OneRow`); bool before int: True is an int."""
    if value is None:
        return Encoded(np.array([MISSING], dtype=np.int64), np.array([], dtype=object))
    if isinstance(value, str):  # plain str, as pandas reads a numpy str_ back
        return Encoded(np.zeros(1, dtype=np.int64), np.array([str(value)], dtype=object))
    if isinstance(value, bool):
        return np.array([value])
    if isinstance(value, float):
        return np.array([value], dtype=np.float64)
    if isinstance(value, int) and -2**63 <= value < 2**63:
        return np.array([value], dtype=np.int64)
    return pd.Series([value])


def show_value(value) -> str:
    """A value as the user wrote it (no numpy reprs)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _level_key(value):
    """The level key a raw value stands for: text stripped, true/false, whole numbers as text."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return value.strip() if isinstance(value, str) else value


def categories(values: pd.Series | None, field_name: str, levels: Sequence[str],
               problems: Problems | None, *, n: int) -> np.ndarray:
    """Codes of ``values`` in ``levels`` (int array, MISSING where absent).

    A value that is present but not a level is a problem naming the valid levels; with
    ``problems=None`` it gets the code INVALID instead, for the caller to judge (a level may be
    valid for one sector's table and not another's).
    """
    if values is None:
        return np.full(n, MISSING, dtype=np.int64)
    enc = _encoded(values)
    return level_map(enc, field_name, levels, problems)[enc.codes]


def level_map(enc: Encoded, field_name: str, levels: Sequence[str],
              problems: Problems | None) -> np.ndarray:
    """The level code of each of ``enc.uniques``, then MISSING (the slot code -1 indexes):
    the per-value half of :func:`categories`, so callers can map a few codes, not the rows."""
    codes, uniques = enc.codes, enc.uniques
    lookup = {level: i for i, level in enumerate(levels)}
    mapped = np.empty(len(uniques) + 1, dtype=np.int64)
    mapped[-1] = MISSING  # code -1 from factorize indexes the last slot
    bad_unique = []
    for i, u in enumerate(uniques):
        key = _level_key(u)
        if isinstance(key, str) and key == "":
            mapped[i] = MISSING
        elif key in lookup:
            mapped[i] = lookup[key]
        else:
            mapped[i] = MISSING if problems is not None else INVALID
            bad_unique.append(i)
    if problems is not None:
        for i in bad_unique:
            problems.add(codes == i, field_name,
                         f"{show_value(uniques[i])} is not valid; use one of: " + ", ".join(levels))
    return mapped


def numbers(values: pd.Series | None, field_name: str, problems: Problems, *, n: int,
            integer: bool = False) -> np.ndarray:
    """Finite numbers >= 0 as float64, NaN where absent.

    Text that is not a number, negative or non-finite values, booleans and (with ``integer``)
    fractions are problems.
    """
    if values is None:
        return np.full(n, np.nan)
    text = is_text(values)
    if not text and _dtype_is(values, "b", pd.api.types.is_bool_dtype):
        problems.add(~_isna(values), field_name, "expected a number, got true/false")
        return np.full(n, np.nan)
    blank_of = None  # per distinct text value: blank
    if not text and _dtype_is(values, "biufc", pd.api.types.is_numeric_dtype):
        if values.dtype.kind == "f" and values.dtype.itemsize < 8:
            # float32 (Parquet) 0.05 is 0.0500000007 in float64: read it as its shortest text
            values = values.astype(str).replace("nan", "").replace("", np.nan).astype(float)
        # no copy where the column is float64 already: the fast path below only reads it
        out = values.astype(np.float64, copy=False) if isinstance(values, np.ndarray) else \
            values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        enc = _encoded(values)
        codes, uniques = enc.codes, enc.uniques
        parsed = np.full(len(uniques) + 1, np.nan)
        for i, u in enumerate(uniques):
            try:
                parsed[i] = _one_number(u)
            except ValueError:
                problems.add(codes == i, field_name, f"{show_value(u)} is not a number")
        out = parsed[codes]
        blank_of = np.array([isinstance(u, str) and not u.strip() for u in uniques] + [True])
    whole = integer and not _dtype_is(values, "iu", pd.api.types.is_integer_dtype)
    if _plainly_valid(out, whole):
        return out  # the usual case: none of the checks below can find anything
    out = out.copy()  # values found invalid are blanked below
    present = ~np.isnan(out) if blank_of is None else ~blank_of[codes] & ~np.isnan(out)
    finite = np.isfinite(out)
    problems.add(present & ~np.isnan(out) & ~finite, field_name, "must be finite")
    problems.add(finite & (out < 0), field_name, "must not be negative")
    problems.add(finite & (out > MAX_NUMBER), field_name, f"must be at most {MAX_NUMBER:g}")
    if whole:
        problems.add(finite & (out != np.floor(out)), field_name, "must be a whole number")
    out[present & (~finite | (out > MAX_NUMBER) | (out < 0))] = np.nan
    return out


def _dtype_is(values, kinds: str, check) -> bool:
    """``check(values.dtype)``, a pandas dtype test, answered from the kind of a numpy dtype
    (which it is for most columns): pandas' tests cost more than a quote's arithmetic."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype):
        return dtype.kind in kinds
    return check(dtype)


def _plainly_valid(out: np.ndarray, whole: bool) -> bool:
    """Every number (NaN aside) is within [0, MAX_NUMBER], and whole where ``whole``: checked
    with reductions that skip NaN, allocating at most one array."""
    if len(out) == 1:  # a quote's number: one Python float beats three reductions
        v = float(out[0])
        return v != v or (0 <= v <= MAX_NUMBER and (not whole or v.is_integer()))
    low, high = np.fmin.reduce(out, initial=np.inf), np.fmax.reduce(out, initial=-np.inf)
    if not (0 <= low and high <= MAX_NUMBER):
        return False
    if whole:
        fraction = np.floor(out)
        np.subtract(out, fraction, out=fraction)
        return not np.fmax.reduce(fraction, initial=0.0) > 0
    return True


def _one_number(value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (str, int, float, np.integer, np.floating)):
        raise ValueError(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return np.nan
        number = float(text)
        if "_" in text or not np.isfinite(number):  # "1_000", "nan", "inf": not amounts
            raise ValueError(value)
        return number
    return float(value)


def flags(values: pd.Series | None, field_name: str, problems: Problems, *,
          n: int) -> np.ndarray:
    """Booleans as codes: 0 false, 1 true, MISSING where absent."""
    if values is None:
        return np.full(n, MISSING, dtype=np.int64)
    if not is_text(values) and _dtype_is(values, "b", pd.api.types.is_bool_dtype) and \
            not np.count_nonzero(_isna(values)):
        return np.array(values, dtype=np.int64)
    enc = _encoded(values)
    codes, uniques = enc.codes, enc.uniques
    mapped = np.full(len(uniques) + 1, MISSING, dtype=np.int64)
    for i, u in enumerate(uniques):
        key = str(_level_key(u)).strip().lower()
        if key in ("true", "1", "yes", "是"):
            mapped[i] = 1
        elif key in ("false", "0", "no", "否"):
            mapped[i] = 0
        elif key in ("", "nan", "none"):
            mapped[i] = MISSING
        else:
            problems.add(codes == i, field_name, f"{show_value(u)} is not true or false")
    return mapped[codes]


def dates(values: pd.Series | None, field_name: str, problems: Problems, *,
          n: int) -> np.ndarray:
    """Dates as ``datetime64[D]``, NaT where absent; text must be YYYY-MM-DD."""
    if values is None:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if not is_text(values):
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_localize(None)  # the local calendar date, not UTC's
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            return values.to_numpy().astype("datetime64[D]", copy=True)
    enc = _encoded(values)
    return date_map(enc, field_name, problems)[enc.codes]


@dataclass(frozen=True)
class Days:
    """A date column as codes into its distinct days, so that per-date work (a floor, a cap, a
    rate book) is done once per day: ``days[codes]`` is the date of each row, and code -1
    (missing) indexes the last day, NaT. A day may appear more than once in ``days``."""

    codes: np.ndarray
    days: np.ndarray

    @property
    def per_row(self) -> np.ndarray:
        return self.days[self.codes]


def distinct_dates(values, field_name: str, problems: Problems, *, n: int) -> Days:
    """:func:`dates`, as :class:`Days`."""
    if values is None:
        return Days(np.full(n, -1, dtype=np.int64), np.array(["NaT"], dtype="datetime64[D]"))
    if not is_text(values):
        per_row = dates(values, field_name, problems, n=n)
        codes, uniques = pd.factorize(per_row, use_na_sentinel=True)
        days = np.asarray(uniques).astype("datetime64[D]")
        return Days(codes, np.append(days, np.datetime64("NaT", "D")))
    enc = _encoded(values)
    return Days(enc.codes, date_map(enc, field_name, problems))


def date_map(enc: Encoded, field_name: str, problems: Problems) -> np.ndarray:
    """The date of each of ``enc.uniques``, then NaT (the slot code -1 indexes); values that
    are not dates written YYYY-MM-DD are problems."""
    codes, uniques = enc.codes, enc.uniques
    mapped = np.full(len(uniques) + 1, np.datetime64("NaT"), dtype="datetime64[D]")
    if len(uniques) > 16 and all(map(_plain_iso, uniques)):  # numpy parses many at once
        try:
            mapped[:-1] = np.array(uniques, dtype="U10").astype("datetime64[D]")
            return mapped
        except ValueError:
            pass  # a day that does not exist (2022-02-30): reported below
    for i, u in enumerate(uniques):
        if isinstance(u, str) and not u.strip():
            continue  # blank: missing, like any other field
        try:
            mapped[i] = _one_date(u)
        except ValueError:
            problems.add(codes == i, field_name,
                         f"{show_value(u)} is not a date written YYYY-MM-DD")
    return mapped


def _plain_iso(value) -> bool:
    """Text exactly YYYY-MM-DD in ASCII digits, year 1 or later: what both
    :func:`iso_date` and numpy read as the same date, when it is a real day."""
    return isinstance(value, str) and len(value) == 10 and value[4] == "-" and \
        value[7] == "-" and value[:4] != "0000" and value.isascii() and \
        (value[:4] + value[5:7] + value[8:]).isdigit()


@functools.lru_cache(maxsize=4096)
def _text_date(text: str) -> np.datetime64:
    """A date written YYYY-MM-DD as numpy's day, kept: a quote reads its inception date twice
    (to choose the book, then to rate), and quotes repeat dates."""
    return np.datetime64(iso_date(text), "D")


def _one_date(value) -> np.datetime64:
    if isinstance(value, str):
        return _text_date(value)
    if hasattr(value, "year") and hasattr(value, "month") and hasattr(value, "day"):
        return np.datetime64(f"{value.year:04d}-{value.month:02d}-{value.day:02d}", "D")
    raise ValueError(value)


def key_lists(values: pd.Series | None, field_name: str, keys: Sequence[str],
              problems: Problems, *, n: int) -> np.ndarray:
    """Membership matrix (rows × keys, bool) of a list field.

    A value is a list of keys, or text with keys separated by ``;`` (for CSV files).
    """
    if values is None:
        return np.zeros((n, len(keys)), dtype=bool)
    if not isinstance(values, Encoded) and values.dtype == object:
        # lists from a Python mapping; CSV gives text
        values = pd.Series([";".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray))
                            else v for v in values], dtype=object)
    enc = _encoded(values)
    codes, uniques = enc.codes, enc.uniques
    lookup = {k: j for j, k in enumerate(keys)}
    member = np.zeros((len(uniques) + 1, len(keys)), dtype=bool)  # per distinct value
    for i, u in enumerate(uniques):
        chosen = [part.strip() for part in str(u).split(";") if part.strip()]
        for key in chosen:
            if key in lookup:
                member[i, lookup[key]] = True
            else:
                problems.add(codes == i, field_name, f"{key!r} is not an extension of this rate "
                             "book; use any of: " + (", ".join(keys) or "(none defined)"))
    return member[codes]
