"""From profile columns to factor columns: reading inputs once, looking tables up.

Everything here works on whole columns. Text columns are factorised once
(:class:`rating.engine.columns.Encoded`) and shared by every table that reads them; a step keeps the
looked-up value as a number or a level code, never as a column of Python strings, so a
million-row portfolio costs a handful of array operations per table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..book import RateBook
from ..book.fields import (
    ACCIDENT_GRADES,
    CLEAN_RECORD,
    FIELDS,
    WORST_GRADE_LEVELS,
    variable_kind,
)
from ..book.model import Band, FactorTable, Label
from .columns import (
    INVALID,
    MISSING,
    Days,
    Encoded,
    OneRow,
    Problems,
    absent,
    distinct_dates,
    encode,
    flags,
    is_text,
    level_map,
    numbers,
    show_value,
)
from .memo import by_identity


@dataclass(frozen=True)
class Step:
    """One multiplicative column of the worksheet.

    Attributes
    ----------
    key : str
        Stable step key (``tier.scale``, ``loading.occupational_disease`` ...).
    label : Label
        Bilingual step name.
    table : str
        Key path of the rate-book table the factor comes from.
    factor : ndarray of float
        The factor per row (1 where the step does not apply).
    applies : ndarray of bool
        Rows the step applies to.
    value : ndarray
        The input looked up: a number, or a code into ``levels``.
    levels : tuple of str, optional
        Names of the codes in ``value``.
    unit : str
        Unit of a numeric ``value`` in worksheets.
    """

    key: str
    label: Label
    table: str
    factor: np.ndarray
    applies: np.ndarray
    value: np.ndarray
    levels: tuple[str, ...] | None = None
    unit: str = ""

    def shown(self, i: int):
        """The input of row ``i`` as a worksheet shows it."""
        if not self.applies[i]:
            return ""
        v = self.value[i]
        if self.levels is not None:
            return self.levels[int(v)] if 0 <= v < len(self.levels) else ""
        if self.unit:
            return f"{v:g} {self.unit}"
        return float(v)


class Inputs:
    """A frame's profile columns, each parsed on first use and kept.

    Problems found while parsing go to ``problems``; parsed arrays are cached, so a column
    read by several tables is parsed (and reported) once.
    """

    def __init__(self, frame: pd.DataFrame | OneRow, problems: Problems,
                 encoded: dict[str, Encoded] | None = None):
        self.frame, self.problems, self.n = frame, problems, len(frame)
        self.columns = frozenset(frame.columns)
        # text columns the caller has factorised already (for these rows): not hashed again.
        # Values of several types, keyed by kind: each method returns its own kind's as the
        # type it stored (Any here rather than a cast per call: a quote calls them often)
        self.cache: dict[tuple, Any] = {("col", k): v for k, v in (encoded or {}).items()}

    def column(self, name: str):
        """The raw column: :class:`Encoded` for text, the Series otherwise, None if absent."""
        key = ("col", name)
        if key not in self.cache:
            values = self.frame[name] if name in self.columns else None
            if values is not None and not isinstance(values, Encoded) and is_text(values) \
                    and not (name == "extensions" and values.dtype == object):  # lists: unhashable
                values = encode(values)
            self.cache[key] = values
        return self.cache[key]

    def numeric(self, name: str) -> np.ndarray:
        """Finite numbers >= 0 (NaN where absent); whole numbers for counts."""
        key = ("num", name)
        if key not in self.cache:
            self.cache[key] = numbers(self.column(name), name, self.problems, n=self.n,
                                      integer=FIELDS[name].kind == "count")
        return self.cache[key]

    def days(self, name: str) -> Days:
        """Dates (see :class:`rating.engine.columns.Days`); bad ones are reported, once."""
        key = ("days", name)
        if key not in self.cache:
            self.cache[key] = distinct_dates(self.column(name), name, self.problems, n=self.n)
        return self.cache[key]

    def absent(self, name: str) -> np.ndarray:
        key = ("absent", name)
        if key not in self.cache:
            self.cache[key] = absent(self.column(name), self.n)
        return self.cache[key]

    def flag(self, name: str) -> np.ndarray:
        key = ("flag", name)
        if key not in self.cache:
            self.cache[key] = flags(self.column(name), name, self.problems, n=self.n)
        return self.cache[key]

    def level_codes(self, name: str, levels: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per row a code, and the level each code stands for: a row's level is
        ``level_of[codes]``, MISSING where absent and INVALID where not a level (not reported
        here: a value may be a level of one sector's table and not of another's). Kept apart
        so that a table maps the few codes rather than a million rows; code -1 indexes the
        last entry."""
        key = ("cat", name, tuple(levels))
        if key not in self.cache:
            if name == "worst_accident_grade":
                found = self._worst_grade(levels)
            elif variable_kind(name) == "flag":  # 0 false, 1 true, -1 (MISSING) absent
                found = self.flag(name), np.array([levels.index("false"),
                                                   levels.index("true"), MISSING])
            elif (col := self.column(name)) is None:
                found = np.full(self.n, MISSING, dtype=np.int64), np.array([MISSING])
            else:
                enc = col if isinstance(col, Encoded) else encode(col)
                found = enc.codes, level_map(enc, name, levels, None)
            self.cache[key] = found
        return self.cache[key]

    def check_the_rest(self) -> None:
        """Validate numeric and true/false columns no table read, so no garbage passes."""
        for name in self.frame.columns:
            kind = FIELDS[name].kind
            if kind in ("number", "count"):
                self.numeric(name)
            elif kind == "flag":
                self.flag(name)

    def raw_values(self, name: str, rows: np.ndarray) -> list:
        """The distinct raw values of a column at ``rows`` (for messages)."""
        col = self.column(name)
        if isinstance(col, Encoded):
            return [col.uniques[c] for c in np.unique(col.codes[rows]) if c >= 0]
        return list(pd.unique(np.asarray(col)[rows]))

    def _worst_grade(self, levels: list[str]) -> tuple[np.ndarray, np.ndarray]:
        worst = np.zeros(self.n, dtype=np.int64)  # index into WORST_GRADE_LEVELS
        for g, grade in enumerate(ACCIDENT_GRADES, start=1):
            counts = self.numeric(f"accidents_{grade}")
            worst[counts > 0] = g  # NaN (no record) compares false: no accident
        return worst, np.array([levels.index(lvl) for lvl in WORST_GRADE_LEVELS])


@by_identity
def _sector_masks(book: RateBook) -> dict[Sequence[str], np.ndarray]:
    """Per set of sectors, which sector codes are in it; filled as sets are asked for. The
    keys are a table's or loading's ``sectors``, which the book reads as tuples (hashable)."""
    return {}


def in_sectors(sectors: Sequence[str] | None, book: RateBook,
               s_code: np.ndarray) -> np.ndarray:
    """Rows whose sector is in ``sectors`` (None: every sector)."""
    if sectors is None:
        return s_code >= 0
    masks = _sector_masks(book)
    if sectors not in masks:
        mask = np.zeros(len(book.sectors) + 1, dtype=bool)  # the extra slot: no sector
        mask[[list(book.sectors).index(s) for s in sectors]] = True
        masks[sectors] = mask
    return masks[sectors][s_code]


def table_step(key: str, path: str, table: FactorTable, applies: np.ndarray,
               inputs: Inputs) -> Step:
    """Look one factor table up for every row (factor 1 where it does not apply: ``applies``
    marks the rows in the table's sectors)."""
    problems = inputs.problems
    # Where the table applies to no row (a quote outside the table's sectors) nothing can be
    # reported and every factor is 1: the input is still parsed, so that its problems are
    # found in the same order, but neither checked against the table nor looked up.
    anywhere = np.count_nonzero(applies)  # a truth test: cheaper than ndarray.any
    if table.levels is not None:
        levels, position_of, factors = _level_table(table)
        codes, level_of = inputs.level_codes(table.variable, levels)
        position = position_of[level_of][codes]
        if not anywhere:
            return Step(key, table.label, path, np.ones(inputs.n), applies, position,
                        tuple(levels))
        if level_of.min() < MISSING or (table.default is None
                                        and np.count_nonzero(level_of == MISSING)):
            _check_levels(path, table, levels, level_of[codes], applies, inputs)
        factor = _factors_where(factors, position, applies)
        return Step(key, table.label, path, factor, applies, position, tuple(levels))
    values = inputs.numeric(table.variable)
    missing_input = None  # which NaN the profile left out: asked only when there are some
    if math.isnan(values.min(initial=0.0)):  # min propagates NaN: some value is missing
        if table.variable in CLEAN_RECORD:
            values = np.where(np.isnan(values), 0.0, values)  # no record means none
        else:
            missing_input = inputs.absent(table.variable)
    if not anywhere:
        return Step(key, table.label, path, np.ones(inputs.n), applies, values)
    if table.bands is None:  # FactorTable._check: a table has levels or bands
        raise ValueError(f"table {path} has neither levels nor bands")
    return band_step(key, table.label, path, table.bands, table.closed or "left", values,
                     applies, table.variable, problems, missing_input)


def _factors_where(factors: np.ndarray, idx: np.ndarray, applies: np.ndarray) -> np.ndarray:
    """``np.where(applies, factors[idx], 1.0)``, ``factors`` being followed by as many ones.

    Over many rows, one gather in which the rows a step skips index the ones (``np.where``
    costs three times as much on a million rows); over a few, ``np.where`` (fewer calls).
    ``idx`` is non-negative, of a :func:`_small_int` type.
    """
    half = len(factors) // 2
    if len(idx) < 1024:
        return np.where(applies, factors[idx], 1.0)
    return np.take(factors, idx + (~applies).astype(idx.dtype) * half)


@by_identity
def _level_table(table: FactorTable) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A level table's levels; the position looked up for each level code, indexed by the
    code itself (codes run from INVALID, -2, up: the negative ones index the last two slots,
    where a missing value takes the default or, when reported, anything); and the factor of
    each position, then ones."""
    if table.levels is None:
        raise ValueError(f"table of {table.variable!r} has no levels")
    levels = list(table.levels)
    default = levels.index(table.default) if table.default is not None else 0
    position: np.ndarray = np.array([*range(len(levels)), default, default],
                                    dtype=_small_int(len(levels)))
    return levels, position, _with_ones([lvl.factor for lvl in table.levels.values()])


def _with_ones(factors: list[float]) -> np.ndarray:
    """Factors followed by as many ones (see :func:`_factors_where`)."""
    return np.array(factors + [1.0] * len(factors))


def _check_levels(path: str, table: FactorTable, levels: list[str], codes: np.ndarray,
                  applies: np.ndarray, inputs: Inputs) -> None:
    """Report, where the table applies, values that are not its levels and, when it has no
    default, missing values."""
    invalid = applies & (codes == INVALID)
    if np.count_nonzero(invalid):
        for value in inputs.raw_values(table.variable, np.flatnonzero(invalid)):
            rows = invalid & _equals(inputs.column(table.variable), value)
            inputs.problems.add(rows, table.variable, f"{show_value(value)} is not a level "
                                f"of table {path}; use one of: " + ", ".join(levels))
    if table.default is None:
        inputs.problems.add(applies & (codes == MISSING), table.variable,
                            f"is required for this sector (table {path}); use one of: "
                            + ", ".join(levels))


def _small_int(count: int) -> type:
    """The narrowest integer type for ``count`` codes, with room for twice as many (see
    :func:`_factors_where`): row-sized arrays of codes stay small."""
    return np.int8 if count < 60 else np.int64


def band_step(key: str, label: Label, path: str, bands: Sequence[Band], closed: str,
              values: np.ndarray, applies: np.ndarray, variable: str, problems: Problems,
              missing_input: np.ndarray | None = None, unit: str = "") -> Step:
    """Look ``values`` up in contiguous bands; the first band's lower end always counts.

    NaN values are not looked up; they are reported as missing where ``missing_input``
    (default: wherever NaN) says the profile left the field out, since a bad value has
    already been reported by the parser.
    """
    lowers, edges, factors = _band_arrays(bands)
    top = bands[-1].upper
    if len(values) < 1024:  # a few rows: one binary search (NaN, not looked up, goes last)
        idx = np.searchsorted(edges, values, side="right" if closed == "left" else "left")
    else:  # few bands: one comparison per edge beats a binary search over a million rows
        idx = np.zeros(len(values), dtype=_small_int(len(bands)))
        above = np.empty(len(values), dtype=bool)
        for edge in lowers[1:]:
            (np.greater_equal if closed == "left" else np.greater)(values, edge, out=above)
            idx += above
    low = values.min(initial=np.inf)
    if math.isnan(low):  # min propagates NaN: some value is missing
        missing = np.isnan(values)
        reported = missing if missing_input is None else missing & missing_input
        problems.add(applies & reported, variable, f"is required for this sector (table {path})")
        low = np.fmin.reduce(values, initial=np.inf)
    # fmin/fmax skip NaN: only look for values outside the bands when some could be
    high = np.fmax.reduce(values, initial=-np.inf)
    if low < lowers[0] or (top is not None and (high >= top if closed == "left" else high > top)):
        above = np.zeros(len(values), dtype=bool) if top is None else (
            values >= top if closed == "left" else values > top)
        out_of_range = applies & ~np.isnan(values) & ((values < lowers[0]) | above)
        if np.count_nonzero(out_of_range):
            problems.add(out_of_range, variable, f"is outside the bands of table {path} "
                         f"({lowers[0]:g} to {'no limit' if top is None else f'{top:g}'})")
    # a missing value where the table applies has been reported; elsewhere the factor is 1
    return Step(key, label, path, _factors_where(factors, idx, applies), applies, values, None,
                unit)


@by_identity  # hashing the bands would cost more than the lookup of a quote
def _band_arrays(bands: Sequence[Band]) -> tuple[list[float], np.ndarray, np.ndarray]:
    """Lower ends of bands, the edges between them (an array), and their factors, then ones."""
    lowers = [b.lower for b in bands]
    return lowers, np.array(lowers[1:], dtype=np.float64), _with_ones([b.factor for b in bands])


def _equals(column, value) -> np.ndarray:
    if isinstance(column, Encoded):
        where = [i for i, u in enumerate(column.uniques) if u is value or u == value]
        return np.isin(column.codes, where)
    return np.asarray(column) == value
