"""Checks across profile fields, a stage of :func:`rating.engine.rate_frame`: values each
valid alone that together cannot describe one policy.

Rules (each a problem on the field named, for the row):

- ``prevention_share`` and ``commission_rate`` are shares of the premium: at most 1.
- ``insurer`` (a sole insurer) and ``coinsurance`` (a pool) are not both given: which one writes
  the policy would otherwise be a guess (the pool's split used to win, silently).
- ``deaths`` (accident deaths in the year before), where ``headcount`` is given, is at most
  the headcount or at most what the accidents counted can hold, whichever is more. The dead
  are the enterprise's workers (at most its headcount) or third parties, and the grades of
  国务院令第493号 第三条 (``tables/national.yaml`` ``accident_grades``) bound the deaths of
  an accident: general at most 2, larger 9, major 29, especially major no bound. So refused
  is ``deaths > headcount`` and ``deaths > 2 × accidents_general + 9 × accidents_larger +
  29 × accidents_major`` (no especially major accident counted). Without a headcount (a
  fleet or a project rated on other exposures) deaths are not checked.
- An exposure field other than ``headcount`` (``contract_value``, ``vehicles``, ``vessels``,
  ``capacity_tonnes``, ``payroll``, ``revenue``) is given only where the row's sub-sector is
  rated on it, or a factor table of the book that applies to the row's sector keys on it; a
  value nothing reads is a sign of a wrong sector or column. ``headcount`` describes any
  enterprise and is always accepted.

Rows whose sector or sub-sector is missing or unknown are left to the engine, which reports
them.
"""

from __future__ import annotations

import numpy as np

from ..book import RateBook, national_rules
from ..book.fields import EXPOSURE_FIELDS
from .columns import Encoded, encode, level_map
from .lookups import Inputs

SHARE_FIELDS = ("prevention_share", "commission_rate")
OPTIONAL_EXPOSURES = tuple(f for f in EXPOSURE_FIELDS.values() if f != "headcount")


def check_consistency(inputs: Inputs, book: RateBook) -> None:
    """Report the problems of the rules above to ``inputs.problems``.

    Parameters
    ----------
    inputs : Inputs
        The frame's columns, parsed once and kept for the other stages.
    book : RateBook
        The edition the rows are rated on (sub-sector bases and factor tables).
    """
    columns = inputs.columns
    problems = inputs.problems
    for name in SHARE_FIELDS:
        if name in columns:
            share = inputs.numeric(name)
            problems.add(share > 1, name,
                         "is not a share of the premium; use a number from 0 to 1 (e.g. 0.05)")
    if "insurer" in columns and "coinsurance" in columns:
        both = _given(inputs, "insurer") & _given(inputs, "coinsurance")
        problems.add(both, "coinsurance", "is given together with insurer; give insurer for a "
                     "sole insurer or coinsurance (insurer:share;..., lead first) for a pool, "
                     "not both")
    if "deaths" in columns:
        _check_deaths(inputs)
    extra = [f for f in OPTIONAL_EXPOSURES if f in columns]
    if extra:
        _check_exposures(inputs, book, extra)


def _check_deaths(inputs: Inputs) -> None:
    """Deaths that neither the headcount nor the accidents counted can account for (see the
    module docstring)."""
    if "headcount" not in inputs.columns:
        return
    thresholds = national_rules().accident_grades.thresholds
    grades = ["general"] + [t.grade for t in thresholds]
    most = [t.deaths - 1 for t in thresholds]  # most deaths of general, larger, major
    deaths, heads = inputs.numeric("deaths"), inputs.numeric("headcount")
    # the accidents are read only on the few rows with more deaths than heads
    beyond = np.flatnonzero(deaths > heads)  # NaN compares false: no check
    if not beyond.size:
        return
    bound = np.zeros(beyond.size)
    for grade, per in zip(grades, most + [np.inf]):
        name = f"accidents_{grade}"
        if name in inputs.columns:
            count = np.nan_to_num(inputs.numeric(name)[beyond])  # missing: none
            bound = np.where(count > 0, np.inf, bound) if per == np.inf else bound + count * per
    exceeds = deaths[beyond] > bound
    if not np.count_nonzero(exceeds):
        return
    over = np.zeros(inputs.n, dtype=bool)
    over[beyond[exceeds]] = True
    bound_of = np.full(inputs.n, np.nan)
    bound_of[beyond] = bound
    rule = ", ".join(f"{g} {m}" for g, m in zip(grades, most))
    for h, b in sorted({(float(h), float(b)) for h, b in zip(heads[over], bound_of[over])}):
        inputs.problems.add(over & (heads == h) & (bound_of == b), "deaths", (
            f"is more than the headcount {h:,.0f} and more than the accidents counted can "
            f"hold ({b:,.0f}: at most {rule} deaths per accident of each grade, 国务院令第493号 "
            "第三条); give the accidents of the year by grade, or check the deaths"))


def _given(inputs: Inputs, name: str) -> np.ndarray:
    """Rows where the field has a value (not missing, not blank text)."""
    col = inputs.column(name)
    if isinstance(col, Encoded):
        return ~col.blank
    if isinstance(col, np.ndarray) and col.dtype.kind in "biuf":
        return ~np.isnan(col) if col.dtype.kind == "f" else np.ones(len(col), dtype=bool)
    if getattr(col, "dtype", None) is not None and col.dtype.kind in "biuf":
        return col.notna().to_numpy()
    return ~encode(col).blank


def _check_exposures(inputs: Inputs, book: RateBook, fields: list[str]) -> None:
    """Exposure fields given on rows whose sub-sector basis and tables do not use them.

    Each row is keyed by its (sector value, sub-sector value) pair, a small space resolved
    once per pair; only the rows that give one of ``fields`` are keyed."""
    if "sector" not in inputs.columns:
        return
    # numbers as the engine reads them (parsed once, kept): NaN where not given or invalid
    given = {f: rows for f in fields
             if (rows := np.flatnonzero(~np.isnan(inputs.numeric(f)))).size}
    if not given:
        return
    sectors = list(book.sectors)
    s_enc = _encoded(inputs, "sector")
    s_of = level_map(s_enc, "sector", sectors, None)  # per unique, then MISSING; < 0: unknown
    sub = _encoded(inputs, "subsector") if "subsector" in inputs.columns else None
    width = (len(sub.uniques) if sub is not None else 0) + 1

    def key_of(rows: np.ndarray) -> np.ndarray:
        s = s_enc.codes[rows]
        j = sub.codes[rows] if sub is not None else np.full(rows.size, -1, dtype=np.int64)
        return np.where(s >= 0, s * width + j + 1, -1)

    keys = {f: key_of(rows) for f, rows in given.items()}
    present = np.unique(np.concatenate([k[k >= 0] for k in keys.values()]))
    used = {f: np.zeros(len(s_enc.uniques) * width + 1, dtype=bool) for f in fields}
    described: dict[int, str] = {}
    for k in present:
        s, j = divmod(int(k), width)
        if s_of[s] < 0:
            for f in fields:
                used[f][k] = True  # unknown sector: the engine reports it
            continue
        sector_key = sectors[s_of[s]]
        sector = book.sectors[sector_key]
        if j == 0:  # no sub-sector given
            names = list(sector.subsectors)
            sub_key = names[0] if len(names) == 1 else None
        else:
            assert sub is not None  # j > 0 only where a sub-sector column was read
            raw = sub.uniques[j - 1]
            raw = raw.strip() if isinstance(raw, str) else raw
            sub_key = raw if raw in sector.subsectors else None
        if sub_key is None:
            for f in fields:
                used[f][k] = True  # the engine reports the sub-sector
            continue
        basis = sector.subsectors[sub_key].basis
        for f in fields:
            used[f][k] = EXPOSURE_FIELDS[basis] == f or _keyed(book, sector_key, f)
        described[int(k)] = (f"{sector_key}/{sub_key} is rated on {basis} "
                             f"({EXPOSURE_FIELDS[basis]})")
    for f, rows in given.items():
        key = keys[f]
        keyed = key >= 0  # rows without a sector are the engine's to report
        unused_at = ~used[f][key[keyed]]
        if not np.count_nonzero(unused_at):
            continue
        bad_rows, bad_keys = rows[keyed][unused_at], key[keyed][unused_at]
        for k in np.unique(bad_keys):
            mask = np.zeros(inputs.n, dtype=bool)
            mask[bad_rows[bad_keys == k]] = True
            inputs.problems.add(mask, f, f"is not used: {described[int(k)]}, and no "
                                "factor table of the rate book keys on "
                                f"{f} for this sector; leave it out (or check the sector)")


def _encoded(inputs: Inputs, name: str) -> Encoded:
    col = inputs.column(name)
    return col if isinstance(col, Encoded) else encode(col)


def _keyed(book: RateBook, sector: str, field: str) -> bool:
    """Whether a tier or floating table applying to ``sector`` keys on ``field``."""
    tables = list(book.tiers.values()) + [t for g in book.floating.groups.values()
                                          for t in g.factors.values()]
    return any(t.variable == field and (t.sectors is None or sector in t.sectors)
               for t in tables)
