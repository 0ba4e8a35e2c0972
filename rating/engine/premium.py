"""The rating engine: one columnar algorithm for a single quote and a whole portfolio.

Per row, in the order of the rating manual::

    exposure × base rate            (yuan per unit, or ‰ of a money amount)
      × limit factor                (chosen per-person limit)
      × tier factors                (分级费率)
      × floating factor             (浮动费率: groups combined, then bounded by floor and cap)
      × loadings                    (extensions chosen)
      × term factor                 (short-term scale; 1 for a full year or a project)
    max(…, minimum premium)
    rounded half-up to the fen

Lookups (:mod:`rating.engine.lookups`) produce one float column per step; :func:`_chain` multiplies
them. ``_chain`` uses only operators that also work on arrays of :class:`decimal.Decimal`, so
the rows whose float result is too close to a half fen are recomputed exactly by the very
same function.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from functools import reduce

import numpy as np
import pandas as pd

from ..book import IncomeStatistics, RateBook, income_statistics, national_rules
from ..book.fields import EXPOSURE_FIELDS, check_known
from ..book.model import SCHEDULE_KEYS, Floating, Label
from ..coinsurance import coinsurance_codes
from .columns import MISSING, Days, Encoded, OneRow, Problems, categories, key_lists
from .limits import LimitFloor, ScheduleColumns, build_schedule, per_person_floor
from .lookups import Inputs, Step, band_step, in_sectors, table_step
from .memo import by_identity
from .money import exact, places, share_of, to_fen

MAX_PREMIUM = 1e13
"""Premiums above this many yuan are refused: far beyond any real policy, and their fen would
approach the limits of exact float and int64 arithmetic."""


@dataclass(frozen=True)
class Member:
    """One floating-factor table's column inside its group."""

    group: str
    step: Step


@dataclass
class Rated:
    """Everything the engine computed for a frame of profiles (row-aligned arrays)."""

    book: RateBook
    index: pd.Index
    sector_code: np.ndarray       # into book.sectors
    subsector_code: np.ndarray    # into subsector_keys
    subsector_keys: list[tuple[str, str]]
    rate: Days                    # rating dates, as codes into distinct days
    exposure: np.ndarray          # in the sub-sector's unit
    base_rate: np.ndarray         # as in the book (yuan per unit, or ‰)
    per_unit: np.ndarray          # 1 or 1000
    limit: np.ndarray             # per-person limit, yuan
    floor: np.ndarray             # statutory floor, yuan
    floors: dict[dt.date, LimitFloor]
    schedule: ScheduleColumns         # limit schedule, int64 fen, by key (see LimitSchedule)
    steps: list[Step]             # limit, tiers, floating, loadings, term: in order
    members: list[Member]
    groups: dict[str, np.ndarray]
    floating_raw: np.ndarray
    minimum: np.ndarray
    before_minimum: np.ndarray
    premium_fen: np.ndarray
    prevention_fen: np.ndarray
    commission_fen: np.ndarray
    prevention_share: np.ndarray
    commission_rate: np.ndarray
    commission_cap: np.ndarray
    problems: Problems

    @property
    def premium(self) -> np.ndarray:
        return self.premium_fen / 100.0

    @property
    def rate_date(self) -> np.ndarray:
        """Rating dates (datetime64[D])."""
        return self.rate.per_row

    @property
    def sector(self) -> np.ndarray:
        """Sector keys (object array)."""
        return np.array([s for s, _ in self.subsector_keys], dtype=object)[self.subsector_code]

    @property
    def subsector(self) -> np.ndarray:
        """Sub-sector keys (object array)."""
        return np.array([ss for _, ss in self.subsector_keys], dtype=object)[self.subsector_code]


def rate_frame(frame: pd.DataFrame | OneRow, book: RateBook, *, date: dt.date | None = None,
               single: bool = False, errors: str = "raise",
               encoded: dict[str, Encoded] | None = None,
               income: IncomeStatistics | None = None) -> Rated:
    """Rate every row of ``frame`` against ``book``.

    Parameters
    ----------
    frame : DataFrame or OneRow
        One enterprise profile per row; columns are profile fields (see the README).
    book : RateBook
    date : date, optional
        Rating date for national rules and the limit floor; default each row's inception date.
    single : bool
        The frame holds one quote: errors name the field only.
    errors : {"raise", "collect"}
        ``collect``: rate the good rows only; ``Rated.index`` then holds their labels and
        ``Rated.problems`` every problem found.
    encoded : dict, optional
        Text columns of ``frame`` already factorised by the caller, by name.
    income : IncomeStatistics, optional
        Income statistics for the limit floors; default the shipped ones (scenarios pass
        projected figures).

    Raises
    ------
    ProfileError
        For unknown columns, or rows whose values are invalid (naming row and field).
    """
    check_known(frame.columns)
    n = len(frame)
    problems = Problems(frame.index, single=single)
    inputs = Inputs(frame, problems, encoded)
    col = inputs.column

    # --- sector and sub-sector -------------------------------------------------------------
    subsectors = _subsector_table(book)
    s_code, sub_code = _subsectors(book, subsectors, inputs)
    subs = subsectors.keys
    ok_sub = np.where(sub_code >= 0, sub_code, 0)

    # --- dates and term ----------------------------------------------------------------------
    start, end = inputs.days("inception_date"), inputs.days("expiry_date")
    problems.add(np.isnat(start.days)[start.codes] & inputs.absent("inception_date"),
                 "inception_date", "is required (YYYY-MM-DD)")
    rate = start if date is None else Days(np.zeros(n, dtype=np.int64),
                                            np.array([date, "NaT"], dtype="datetime64[D]"))
    project = subsectors.project[ok_sub]
    months, ends_before = _term_months(start, end)
    problems.add(ends_before, "expiry_date", "is before inception_date")
    max_m = book.term.max_months
    problems.add(~project & (months > max_m), "expiry_date",
                 f"an annual policy runs at most {max_m} months; longer terms are not allowed")
    annual_months = np.where(np.isnat(end.days)[end.codes], max_m, months)
    annual_months = np.maximum(np.minimum(annual_months, max_m), 1)  # np.clip costs 3 times more
    scale = np.asarray(book.term.short_term_scale)
    term_step = Step("term", Label(zh="保险期限", en="term"), "term",
                     np.where(project, 1.0, scale[annual_months - 1]), ~project,
                     annual_months, None, "months")

    # --- exposure ----------------------------------------------------------------------------
    per_unit, base_rate, minimum = (subsectors.per_unit[ok_sub], subsectors.base_rate[ok_sub],
                                    subsectors.minimum[ok_sub])
    exposure = np.full(n, np.nan)
    basis_code = np.where(sub_code >= 0, subsectors.basis_code[ok_sub], -1)
    for b, (basis, fname) in enumerate(EXPOSURE_FIELDS.items()):
        rows = basis_code == b
        # np.count_nonzero for a truth test: a quarter of the cost of ndarray.any on a
        # quote's one-row masks, and as fast on a million rows
        if not np.count_nonzero(rows) and fname not in frame.columns:
            continue
        values = inputs.numeric(fname)
        np.copyto(exposure, values, where=rows)
        if np.count_nonzero(rows & ~(values > 0)):  # some exposure missing or 0 (NaN > 0 is false)
            problems.add(rows & np.isnan(values) & inputs.absent(fname), fname,
                         f"is required: the sub-sector is rated on {basis}")
            problems.add(rows & (values == 0), fname, "must be greater than 0")

    # --- limits --------------------------------------------------------------------------------
    floors, floor = _floors(book, rate, problems, income)
    limit = inputs.numeric("per_person_limit")
    limit = np.where(np.isnan(limit), floor, limit)
    below = limit < floor
    for amount in np.unique(floor[below]) if np.count_nonzero(below) else ():
        problems.add(below & (floor == amount), "per_person_limit",
                     f"is below the statutory per-person floor of {amount:,.0f} yuan in force "
                     "on the rating date")
    schedule = _schedule(book, limit, inputs)
    limit_step = band_step("limit", book.limit_factors.label, "limit_factors",
                           book.limit_factors.bands, book.limit_factors.closed, limit,
                           np.ones(n, dtype=bool), "per_person_limit", problems)

    # --- tiers and floating factors ----------------------------------------------------------
    # rows in a set of sectors, found once per set: several tables cover the same sectors
    rows_in = functools.cache(lambda sectors: in_sectors(sectors, book, s_code))
    tier_steps = [table_step(f"tier.{name}", f"tiers.{name}", table, rows_in(table.sectors),
                             inputs)
                  for name, table in book.tiers.items()]
    members = [Member(g, table_step(f"floating.{g}.{name}",
                                    f"floating.groups.{g}.factors.{name}", table,
                                    rows_in(table.sectors), inputs))
               for g, group in book.floating.groups.items()
               for name, table in group.factors.items()]

    # --- loadings --------------------------------------------------------------------------
    chosen = key_lists(col("extensions"), "extensions", list(book.loadings), problems, n=n)
    loading_steps = []
    for j, (name, loading) in enumerate(book.loadings.items()):
        allowed = rows_in(loading.sectors)
        problems.add(chosen[:, j] & ~allowed, "extensions",
                     f"{name!r} is not offered for this sector")
        applies = chosen[:, j] & allowed
        loading_steps.append(Step(f"loading.{name}", loading.label, f"loadings.{name}",
                                  np.where(applies, loading.factor, 1.0), applies,
                                  applies.astype(np.int8), ("", name)))

    # --- distribution ------------------------------------------------------------------------
    share_min = book.expenses.prevention_share_min
    prevention = inputs.numeric("prevention_share")
    prevention = np.where(np.isnan(prevention), share_min, prevention)
    problems.add(prevention < share_min, "prevention_share",
                 f"is below the book's minimum prevention-fund share {share_min:g}")
    commission = inputs.numeric("commission_rate")  # finite or NaN: none given means 0
    commission = np.where(np.isnan(commission), 0.0, commission)
    cap = _commission_caps(book, rate)
    over = commission > cap
    for amount in np.unique(cap[over]) if np.count_nonzero(over) else ():
        problems.add(over & (cap == amount), "commission_rate",
                     f"is above the commission cap of {amount:g} in force on the rating date")
    problems.add(prevention + commission > 1.0, "commission_rate",
                 "prevention share plus commission exceed the premium")

    coinsurance_codes(col("coinsurance"), problems, n)  # validated here, split on output
    inputs.check_the_rest()
    if problems.items and errors == "collect":
        return _rate_good_rows(frame, book, date, problems, ~problems.bad_rows(), income)
    problems.raise_if_any()

    # --- arithmetic --------------------------------------------------------------------------
    factor_cols = [limit_step.factor] + [s.factor for s in tier_steps]
    member_cols = [[m.step.factor for m in members if m.group == g]
                   for g in book.floating.groups]
    member_masks = [[m.step.applies for m in members if m.group == g]
                    for g in book.floating.groups]
    loading_cols = [s.factor for s in loading_steps]
    floated, groups, raw = _chain_floating(book.floating, member_cols, member_masks, float)
    before_min, final = _chain(exposure, base_rate, per_unit, factor_cols, floated,
                               loading_cols, term_step.factor, minimum)

    def exact_final(rows: np.ndarray) -> np.ndarray:
        mem = [[exact(c[rows]) for c in g] for g in member_cols]
        masks = [[m[rows] for m in g] for g in member_masks]
        fl, _, _ = _chain_floating(book.floating, mem, masks, exact_scalar)
        return _chain(exact(exposure[rows]), exact(base_rate[rows]), exact(per_unit[rows]),
                      [exact(c[rows]) for c in factor_cols], fl,
                      [exact(c[rows]) for c in loading_cols], exact(term_step.factor[rows]),
                      exact(minimum[rows]))[1]

    def final_places(rows: np.ndarray) -> np.ndarray:
        # at most as many decimal places as the chain of exact_final can produce (see
        # _floating_places); dividing by per_unit (1 or 1000) adds the places of its reciprocal
        # (another divisor's would have too many places to settle anything)
        mem = [[places(c[rows]) for c in g] for g in member_cols]
        product = [places(c[rows]) for c in [exposure, base_rate, 1.0 / per_unit, *factor_cols,
                                             *loading_cols, term_step.factor]]
        return np.maximum(sum(product) + _floating_places(book.floating, mem),
                          places(minimum[rows]))

    too_big = ~(final < MAX_PREMIUM)
    if np.count_nonzero(too_big):
        problems.add(too_big, "exposure", f"the premium would exceed {MAX_PREMIUM:g} yuan; "
                     "check the exposure and the rate book's rates")
        if errors == "collect":
            return _rate_good_rows(frame, book, date, problems, ~too_big, income)
        problems.raise_if_any()
    premium_fen = to_fen(final, exact_final, final_places)
    prevention_fen = share_of(premium_fen, prevention)
    # each share is rounded on its own; when they add up to 1 both may round up by half a fen
    commission_fen = np.minimum(share_of(premium_fen, commission), premium_fen - prevention_fen)
    floating_step = Step("floating", Label(zh="浮动费率系数", en="floating factor"), "floating",
                         floated, np.ones(n, dtype=bool), raw)
    return Rated(
        book=book, index=frame.index, sector_code=s_code, subsector_code=ok_sub,
        subsector_keys=subs, rate=rate, exposure=exposure, base_rate=base_rate,
        per_unit=per_unit, limit=limit, floor=floor, floors=floors, schedule=schedule,
        steps=[limit_step, *tier_steps, floating_step, *loading_steps, term_step],
        members=members, groups=dict(zip(book.floating.groups, groups)), floating_raw=raw,
        minimum=minimum, before_minimum=before_min, premium_fen=premium_fen,
        prevention_fen=prevention_fen, commission_fen=commission_fen,
        prevention_share=prevention, commission_rate=commission, commission_cap=cap,
        problems=problems)


def _rate_good_rows(frame: pd.DataFrame, book: RateBook, date, problems: Problems,
                    good: np.ndarray, income: IncomeStatistics | None) -> Rated:
    """Rate only the ``good`` rows; the result's problems are those found so far plus any the
    good rows raise only later (a premium out of range), at the frame's positions."""
    keep = np.flatnonzero(good)
    rated = rate_frame(frame.iloc[keep], book, date=date, errors="collect", income=income)
    for positions, field_name, reason in rated.problems.items:
        mask = np.zeros(len(frame), dtype=bool)
        mask[keep[positions]] = True
        problems.add(mask, field_name, reason)
    rated.problems = problems
    return rated


@dataclass(frozen=True)
class SubsectorTable:
    """A book's sub-sectors as arrays, indexed by sub-sector code (see :func:`_subsector_table`)."""

    keys: list[tuple[str, str]]   # (sector, sub-sector)
    names: list[str]              # sub-sector names, sorted
    pairs: np.ndarray             # (sector code, name code) -> sub-sector code
    per_unit: np.ndarray
    base_rate: np.ndarray
    minimum: np.ndarray
    project: np.ndarray           # rated per project rather than per year
    basis_code: np.ndarray        # into EXPOSURE_FIELDS


@by_identity
def _subsector_table(book: RateBook) -> SubsectorTable:
    """The book's sub-sectors, derived once per book."""
    sectors = list(book.sectors)
    keys = [(s, ss) for s in sectors for ss in book.sectors[s].subsectors]
    names = sorted({ss for _, ss in keys})
    # (sector code, sub-sector name code) -> index into keys; MISSING where the pair is not a
    # sub-sector; the last name slot (no name given) picks a sector's only sub-sector.
    pairs = np.full((len(sectors) + 1, len(names) + 1), MISSING, dtype=np.int64)
    for i, (s, ss) in enumerate(keys):
        pairs[sectors.index(s), names.index(ss)] = i
        if len(book.sectors[s].subsectors) == 1:
            pairs[sectors.index(s), -1] = i
    objs = [book.sectors[s].subsectors[ss] for s, ss in keys]
    bases = list(EXPOSURE_FIELDS)
    return SubsectorTable(
        keys, names, pairs, np.array([x.per_unit for x in objs]),
        np.array([x.base_rate for x in objs]), np.array([x.minimum_premium for x in objs]),
        np.array([x.term == "project" for x in objs]),
        np.array([bases.index(x.basis) for x in objs]))


def _subsectors(book: RateBook, table: SubsectorTable, inputs: Inputs):
    """Sector codes, sub-sector codes (into ``table.keys``)."""
    problems, n = inputs.problems, inputs.n
    sectors = list(book.sectors)
    s_code = categories(inputs.column("sector"), "sector", sectors, problems, n=n)
    problems.add((s_code == MISSING) & inputs.absent("sector"), "sector", "is required")
    raw_sub = categories(inputs.column("subsector"), "subsector", table.names, problems, n=n)
    sub_code = table.pairs[s_code, raw_sub]
    unrated = sub_code == MISSING
    for sc, s in enumerate(sectors if np.count_nonzero(unrated) else []):
        bad = (s_code == sc) & unrated
        if not np.count_nonzero(bad):
            continue
        choices = ", ".join(book.sectors[s].subsectors)
        problems.add(bad & (raw_sub == MISSING), "subsector",
                     f"sector {s!r} needs a sub-sector; use one of: {choices}")
        problems.add(bad & (raw_sub != MISSING), "subsector",
                     f"is not a sub-sector of {s!r}; use one of: {choices}")
    return s_code, sub_code


def _schedule(book: RateBook, limit: np.ndarray, inputs: Inputs) -> ScheduleColumns:
    """Limit schedule per row (int64 fen): book defaults, overridden by ``limit_*`` fields."""
    overrides = {key: inputs.numeric(f"limit_{key}") for key in SCHEDULE_KEYS
                 if f"limit_{key}" in inputs.frame.columns}
    per_person = limit * 100  # np.round(np.nan_to_num(limit) * 100) in place: 0 where NaN
    np.rint(per_person, out=per_person)
    per_person[np.isnan(per_person)] = 0
    per_person = per_person.astype(np.int64)
    schedule, violations = build_schedule(book, per_person, overrides)
    for mask, field_name, reason in violations:
        inputs.problems.add(mask, field_name, reason)
    return schedule


def exact_floating(rated: Rated, rows: np.ndarray) -> np.ndarray:
    """The bounded floating factor of ``rows`` in exact decimal arithmetic (Decimal objects),
    for worksheets a person multiplies by hand (1.012, not 1.0120000000000002)."""
    groups = rated.book.floating.groups
    cols = [[exact(m.step.factor[rows]) for m in rated.members if m.group == g] for g in groups]
    masks = [[m.step.applies[rows] for m in rated.members if m.group == g] for g in groups]
    return _chain_floating(rated.book.floating, cols, masks, exact_scalar)[0]


def exact_scalar(x: float):
    """The exact decimal twin of a rate-book constant."""
    return exact(np.array([x]))[0]


def _chain(exposure, base_rate, per_unit, factors, floated, loadings, term, minimum):
    """The multiplicative chain; generic over float and Decimal arrays."""
    premium = exposure * base_rate / per_unit
    for f in [*factors, floated, *loadings, term]:
        premium *= f  # in place: the same products, without a new array per step
    return premium, np.maximum(premium, minimum)


def _product(cols, masks, one):
    return reduce(lambda a, b: a * b, cols)  # a table that does not apply holds 1


def _additive(cols, masks, one):
    return one + reduce(lambda a, b: a + b, [c - one for c in cols])


def _extreme(pick, neutral):
    """Highest or lowest among the tables that apply to the row; 1 when none does."""
    def rule(cols, masks, one):
        far = neutral(one)
        # most tables apply to every row: no masking
        everywhere = [np.count_nonzero(m) == m.size for m in masks]
        best = reduce(pick, [c if full else np.where(m, c, far)
                             for c, m, full in zip(cols, masks, everywhere)])
        return best if any(everywhere) else np.where(reduce(np.logical_or, masks), best, one)
    return rule


_RULES = {
    "product": _product,
    "additive": _additive,
    "highest": _extreme(np.maximum, lambda one: -type(one)("Infinity")),
    "lowest": _extreme(np.minimum, lambda one: type(one)("Infinity")),
}


def _chain_floating(floating: Floating, member_cols, member_masks, num):
    """Combine each group by its rule, the groups by ``floating.combine``, then bound."""
    one = num(1.0)
    groups = [_RULES[grp.rule](cols, masks, one)
              for grp, cols, masks in zip(floating.groups.values(), member_cols, member_masks)]
    raw = _RULES[floating.combine](groups, None, one)
    bounded = np.maximum(raw, num(floating.floor))
    np.minimum(bounded, num(floating.cap), out=bounded)
    return bounded, groups, raw


def _floating_places(floating: Floating, member_places) -> np.ndarray:
    """An upper bound on the decimal places of the exact bounded floating factor, from its
    members' places: a product of decimals has at most the sum of their places; a sum (of
    factors less 1), a highest, a lowest and a bound at most the most of theirs."""
    def rule(name, cols):
        return sum(cols) if name == "product" else reduce(np.maximum, cols)
    groups = [rule(grp.rule, cols) for grp, cols in zip(floating.groups.values(), member_places)]
    bounds = places(np.array([floating.floor, floating.cap])).max()
    return np.maximum(rule(floating.combine, groups), bounds)


def _term_months(start: Days, end: Days) -> tuple[np.ndarray, np.ndarray]:
    """Months from inception to an inclusive expiry date, a started month counting whole (0
    where either date is missing); and where the expiry date is before the inception date.
    Calendar arithmetic is done once per distinct date."""
    months = np.zeros(len(start.codes), dtype=np.int64)
    before = np.zeros(len(start.codes), dtype=bool)
    rows = np.flatnonzero(~np.isnat(end.days)[end.codes])  # most policies give no expiry
    rows = rows[~np.isnat(start.days)[start.codes[rows]]]
    if not rows.size:  # a quote without an expiry date
        return months, before
    month_i, day_i = _month_and_day(start.days)
    month_e, day_e = _month_and_day(end.days)
    i, e = start.codes[rows], end.codes[rows]
    months[rows] = (month_e[e] - month_i[i]) + (day_e[e] >= day_i[i])
    before[rows] = end.days[e] < start.days[i]
    return months, before


def _month_and_day(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Months since 1970 and day of the month (0-based) of each day (meaningless for NaT)."""
    months = days.astype("datetime64[M]")
    return months.astype(np.int64), (days - months.astype("datetime64[D]")).astype(np.int64)


@by_identity
def _floor_memo(book: RateBook) -> dict[dt.date, tuple]:
    """Per date, the book's floor (or why there is none) with the national rules and income
    statistics it was computed from, filled as dates come (quotes repeat dates)."""
    return {}


def _floor_on(book: RateBook, day: dt.date,
              income: IncomeStatistics | None) -> LimitFloor | str:
    """:func:`per_person_floor` with the shipped national rules and ``income`` (default the
    shipped statistics), or the reason there is none."""
    memo = _floor_memo(book)
    sources = national_rules(), income or income_statistics()
    hit = memo.get(day)
    if hit is None or hit[0] is not sources[0] or hit[1] is not sources[1]:
        try:
            found = per_person_floor(book, day, national=sources[0], income=sources[1])
        except LookupError as exc:
            found = str(exc)
        if len(memo) >= 4096:
            memo.clear()
        hit = memo[day] = (*sources, found)
    return hit[2]


def _floors(book: RateBook, rate: Days, problems: Problems, income: IncomeStatistics | None):
    """The per-person floor of each row, computed once per distinct date."""
    floors: dict[dt.date, LimitFloor] = {}
    failed: dict[dt.date, str] = {}
    amounts = np.full(len(rate.days), np.nan)  # NaT: no date
    for k, day in enumerate(rate.days.tolist()):  # dates, None for NaT
        if day is None:
            continue
        if day not in floors and day not in failed:
            found = _floor_on(book, day, income)
            if isinstance(found, str):
                failed[day] = found
            else:
                floors[day] = found
        if day in floors:
            amounts[k] = floors[day].amount
    for day, reason in failed.items():
        problems.add((rate.days == np.datetime64(day, "D"))[rate.codes], "inception_date",
                     reason)
    return floors, amounts[rate.codes]


@by_identity
def _cap_entries(entries) -> tuple[np.ndarray, np.ndarray]:
    """The national commission caps' start dates, and the caps with inf before the first."""
    return (np.array([e.effective_from for e in entries], dtype="datetime64[D]"),
            np.array([np.inf] + [e.value for e in entries]))


def _commission_caps(book: RateBook, rate: Days) -> np.ndarray:
    """The cap in force per row: the national cap at the date and the book's own, the lower;
    inf where there is none."""
    starts, caps = _cap_entries(national_rules().commission_cap)
    which = np.searchsorted(starts, rate.days, side="right")  # 0: before the first entry
    out = caps[which]
    if book.expenses.commission_cap is not None:
        out = np.minimum(out, book.expenses.commission_cap)
    return out[rate.codes]
