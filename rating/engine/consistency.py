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

from dataclasses import dataclass

import numpy as np

from ..book import RateBook, national_rules
from ..book.fields import EXPOSURE_FIELDS
from .columns import Encoded, encode
from .lookups import Inputs

SHARE_FIELDS = ("prevention_share", "commission_rate")
OPTIONAL_EXPOSURES = tuple(f for f in EXPOSURE_FIELDS.values() if f != "headcount")


@dataclass(frozen=True)
class ExposureUse:
    """Which optional exposure fields each sub-sector of a book reads, by sub-sector code
    (the engine's order of ``(sector, sub-sector)`` keys)."""

    reads: dict[str, np.ndarray]  # field -> bool per sub-sector: its basis, or a sector table
    rated_on: list[str]           # per sub-sector: "sector/sub-sector is rated on ..."


def exposure_use(book: RateBook, keys: list[tuple[str, str]]) -> ExposureUse:
    """The :class:`ExposureUse` of ``book`` for its sub-sector ``keys`` (derived once per
    book, with the engine's sub-sector table)."""
    bases = [book.sectors[s].subsectors[ss].basis for s, ss in keys]
    reads = {f: np.array([EXPOSURE_FIELDS[basis] == f or _keyed(book, s, ss, f)
                          for (s, ss), basis in zip(keys, bases)], dtype=bool)
             for f in OPTIONAL_EXPOSURES}
    rated_on = [f"{s}/{ss} is rated on {basis} ({EXPOSURE_FIELDS[basis]})"
                for (s, ss), basis in zip(keys, bases)]
    return ExposureUse(reads, rated_on)


def check_consistency(inputs: Inputs, sub_code: np.ndarray, use: ExposureUse) -> None:
    """Report the problems of the rules above to ``inputs.problems``.

    Parameters
    ----------
    inputs : Inputs
        The frame's columns, parsed once and kept for the other stages.
    sub_code : ndarray of int
        Each row's sub-sector code (MISSING where the engine found none: it reports those).
    use : ExposureUse
        What the book's sub-sectors read.
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
    _check_exposures(inputs, sub_code, use)


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


def _check_exposures(inputs: Inputs, sub_code: np.ndarray, use: ExposureUse) -> None:
    """Exposure fields given on rows whose sub-sector basis and tables do not use them."""
    for f, reads in use.reads.items():
        if f not in inputs.columns:
            continue
        # numbers as the engine reads them (parsed once, kept): NaN where not given or invalid
        rows = np.flatnonzero(~np.isnan(inputs.numeric(f)))
        code = sub_code[rows]
        rated = code >= 0  # rows without a sub-sector are reported by the engine
        rows, code = rows[rated], code[rated]
        unused = ~reads[code]
        if not np.count_nonzero(unused):
            continue
        bad_rows, bad_codes = rows[unused], code[unused]
        for k in np.unique(bad_codes):
            mask = np.zeros(inputs.n, dtype=bool)
            mask[bad_rows[bad_codes == k]] = True
            inputs.problems.add(mask, f, f"is not used: {use.rated_on[k]}, and no factor table "
                                f"of the rate book keys on {f} for this sector; leave it out (or "
                                "check the sector)")


def _keyed(book: RateBook, sector: str, sub: str, field: str) -> bool:
    """Whether a tier or floating table applying to the sub-sector keys on ``field``."""
    tables = list(book.tiers.values()) + [t for g in book.floating_rules.groups.values()
                                          for t in g.factors.values()]
    return any(t.variable == field and (t.sectors is None or sector in t.sectors)
               and (t.subsectors is None or f"{sector}.{sub}" in t.subsectors)
               for t in tables)
