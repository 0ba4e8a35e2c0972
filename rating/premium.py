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

Lookups produce one float column per step; :func:`_chain` multiplies them. ``_chain`` uses
only operators that also work on arrays of :class:`decimal.Decimal`, so the rows whose float
result is too close to a half fen are recomputed exactly by the very same function.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import reduce

import numpy as np
import pandas as pd

from .book import RateBook, national_rules
from .book.model import Band, FactorTable, Floating, Label
from .book.reference import value_at
from .columns import (INVALID, MISSING, Problems, absent, categories, dates, flags, key_lists,
                      numbers, show_value)
from .book.model import SCHEDULE_KEYS
from .limits import LimitFloor, build_schedule, per_person_floor
from .money import exact, share_of, to_fen
from .profile_fields import (ACCIDENT_GRADES, CLEAN_RECORD, EXPOSURE_FIELDS, FIELDS, WORST_GRADE_LEVELS,
                             check_known, variable_kind)


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
    shown : ndarray
        The input value per row, as shown in a worksheet.
    applies : ndarray of bool
        Rows the step applies to.
    """

    key: str
    label: Label
    table: str
    factor: np.ndarray
    shown: np.ndarray
    applies: np.ndarray


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
    sector: np.ndarray            # sector keys
    subsector: np.ndarray         # sub-sector keys
    rate_date: np.ndarray         # datetime64[D]
    exposure: np.ndarray          # in the sub-sector's unit
    base_rate: np.ndarray         # as in the book (yuan per unit, or ‰)
    per_unit: np.ndarray          # 1 or 1000
    limit: np.ndarray             # per-person limit, yuan
    floor: np.ndarray             # statutory floor, yuan
    floors: dict[dt.date, LimitFloor]
    schedule: dict[str, np.ndarray]   # limit schedule, int64 fen, by key (see LimitSchedule)
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
    problems: Problems = field(repr=False, default=None)

    @property
    def premium(self) -> np.ndarray:
        return self.premium_fen / 100.0


def rate_frame(frame: pd.DataFrame, book: RateBook, *, date: dt.date | None = None,
               single: bool = False, errors: str = "raise") -> Rated:
    """Rate every row of ``frame`` against ``book``.

    Parameters
    ----------
    frame : DataFrame
        One enterprise profile per row; columns are profile fields (see the README).
    book : RateBook
    date : date, optional
        Rating date for national rules and the limit floor; default each row's inception date.
    single : bool
        The frame holds one quote: errors name the field only.
    errors : {"raise", "collect"}
        ``collect``: rate the good rows only; ``Rated.index`` then holds their labels and
        ``Rated.problems`` every problem found.

    Raises
    ------
    ProfileError
        For unknown columns, or rows whose values are invalid (naming row and field).
    """
    check_known(frame.columns)
    n = len(frame)
    problems = Problems(frame.index, single=single)
    col = frame.get

    # --- sector and sub-sector -------------------------------------------------------------
    sectors = list(book.sectors)
    s_code = categories(col("sector"), "sector", sectors, problems, n=n)
    problems.add((s_code == MISSING) & absent(col("sector"), n), "sector", "is required")
    subs = [(s, ss) for s in sectors for ss in book.sectors[s].subsectors]
    sub_keys = [ss for _, ss in subs]
    names = sorted(set(sub_keys))
    raw_sub = categories(col("subsector"), "subsector", names, problems, n=n)
    # (sector code, sub-sector name code) -> index into subs; -1 where the pair is not a
    # sub-sector; the last name slot (a missing name) picks a sector's only sub-sector.
    pairs = np.full((len(sectors) + 1, len(names) + 1), MISSING, dtype=np.int64)
    for i, (s, ss) in enumerate(subs):
        pairs[sectors.index(s), names.index(ss)] = i
        if len(book.sectors[s].subsectors) == 1:
            pairs[sectors.index(s), -1] = i
    sub_code = pairs[s_code, raw_sub]
    for sc, s in enumerate(sectors):
        bad = (s_code == sc) & (sub_code == MISSING)
        choices = ", ".join(book.sectors[s].subsectors)
        problems.add(bad & (raw_sub == MISSING), "subsector",
                     f"sector {s!r} needs a sub-sector; use one of: {choices}")
        problems.add(bad & (raw_sub != MISSING), "subsector",
                     f"is not a sub-sector of {s!r}; use one of: {choices}")
    ok_sub = np.where(sub_code >= 0, sub_code, 0)
    sub_objs = [book.sectors[s].subsectors[ss] for s, ss in subs]

    # --- dates and term ----------------------------------------------------------------------
    inception = dates(col("inception_date"), "inception_date", problems, n=n)
    expiry = dates(col("expiry_date"), "expiry_date", problems, n=n)
    problems.add(np.isnat(inception) & absent(col("inception_date"), n), "inception_date",
                 "is required (YYYY-MM-DD)")
    rate_date = (np.full(n, np.datetime64(date, "D")) if date is not None else inception)
    project = np.array([s.term == "project" for s in sub_objs])[ok_sub]
    months = _term_months(inception, expiry)
    problems.add(~np.isnat(expiry) & (expiry < inception), "expiry_date",
                 "is before inception_date")
    max_m = book.term.max_months
    problems.add(~project & (months > max_m), "expiry_date",
                 f"an annual policy runs at most {max_m} months; longer terms are not allowed")
    annual_months = np.clip(np.where(np.isnat(expiry), max_m, months), 1, max_m)
    scale = np.asarray(book.term.short_term_scale)
    term_factor = np.where(project, 1.0, scale[annual_months - 1])
    term_shown = np.where(project, "project", np.char.add(annual_months.astype(str), " months"))

    variables = _Variables(frame, problems, n)

    # --- exposure ----------------------------------------------------------------------------
    per_unit = np.array([s.per_unit for s in sub_objs])[ok_sub]
    base_rate = np.array([s.base_rate for s in sub_objs])[ok_sub]
    exposure = np.full(n, np.nan)
    basis_of = np.array([s.basis for s in sub_objs], dtype=object)[ok_sub]
    for basis, fname in EXPOSURE_FIELDS.items():
        values = variables.numeric(fname)
        rows = (basis_of == basis) & (sub_code >= 0)
        exposure[rows] = values[rows]
        problems.add(rows & np.isnan(values) & variables.absent(fname), fname,
                     f"is required: the sub-sector is rated on {basis}")
        problems.add(rows & (values == 0), fname, "must be greater than 0")

    # --- limits --------------------------------------------------------------------------------
    floors, floor = _floors(book, rate_date, problems)
    limit = variables.numeric("per_person_limit")
    limit = np.where(np.isnan(limit), floor, limit)
    for amount in np.unique(floor[limit < floor]):
        problems.add((limit < floor) & (floor == amount), "per_person_limit",
                     f"is below the statutory per-person floor of {amount:,.0f} yuan in force "
                     "on the rating date")
    schedule = _schedule(book, limit, variables)
    limit_step = _band_step("limit", book.limit_factors.label, "limit_factors",
                            book.limit_factors.bands, book.limit_factors.closed, limit,
                            np.ones(n, dtype=bool), "per_person_limit", problems)

    # --- tiers and floating factors ----------------------------------------------------------
    steps = [limit_step]
    for name, table in book.tiers.items():
        steps.append(_table_step(f"tier.{name}", f"tiers.{name}", table, book, s_code,
                                 variables, problems))
    members: list[Member] = []
    for g, group in book.floating.groups.items():
        for name, table in group.factors.items():
            members.append(Member(g, _table_step(
                f"floating.{g}.{name}", f"floating.groups.{g}.factors.{name}", table, book,
                s_code, variables, problems)))

    # --- loadings --------------------------------------------------------------------------
    loading_keys = list(book.loadings)
    chosen = key_lists(col("extensions"), "extensions", loading_keys, problems, n=n)
    loading_steps = []
    for j, (name, loading) in enumerate(book.loadings.items()):
        allowed = _in_sectors(loading.sectors, book, s_code)
        problems.add(chosen[:, j] & ~allowed, "extensions",
                     f"{name!r} is not offered for this sector")
        applies = chosen[:, j] & allowed
        loading_steps.append(Step(f"loading.{name}", loading.label, f"loadings.{name}",
                                  np.where(applies, loading.factor, 1.0),
                                  np.where(applies, name, ""), applies))

    term_step = Step("term", Label(zh="保险期限", en="term"), "term", term_factor, term_shown,
                     ~project)
    minimum = np.array([s.minimum_premium for s in sub_objs])[ok_sub]

    # --- distribution ------------------------------------------------------------------------
    prevention = variables.numeric("prevention_share")
    share_min = book.expenses.prevention_share_min
    prevention = np.where(np.isnan(prevention), share_min, prevention)
    problems.add(prevention < share_min, "prevention_share",
                 f"is below the book's minimum prevention-fund share {share_min:g}")
    commission = variables.numeric("commission_rate")
    commission = np.where(np.isnan(commission), 0.0, commission)
    cap = _commission_caps(book, rate_date)
    for amount in np.unique(cap[commission > cap]):
        problems.add((commission > cap) & (cap == amount), "commission_rate",
                     f"is above the commission cap of {amount:g} in force on the rating date")
    problems.add(prevention + commission > 1.0, "commission_rate",
                 "prevention share plus commission exceed the premium")

    variables.check_the_rest()
    if problems.items and errors == "collect":
        good = ~problems.bad_rows()
        rated = rate_frame(frame.iloc[np.flatnonzero(good)], book, date=date)
        rated.problems = problems
        return rated
    problems.raise_if_any()

    # --- arithmetic --------------------------------------------------------------------------
    tier_steps = steps[1:]
    factor_cols = [limit_step.factor] + [s.factor for s in tier_steps]
    member_cols = [[m.step.factor for m in members if m.group == g]
                   for g in book.floating.groups]
    member_masks = [[m.step.applies for m in members if m.group == g]
                    for g in book.floating.groups]
    loading_cols = [s.factor for s in loading_steps]
    floated, groups, raw = _chain_floating(book.floating, member_cols, member_masks, float)
    before_min, final = _chain(exposure, base_rate, per_unit, factor_cols, floated,
                               loading_cols, term_factor, minimum)

    def exact_final(rows: np.ndarray) -> np.ndarray:
        ex = [exact(c[rows]) for c in factor_cols]
        mem = [[exact(c[rows]) for c in g] for g in member_cols]
        masks = [[m[rows] for m in g] for g in member_masks]
        fl, _, _ = _chain_floating(book.floating, mem, masks, exact_scalar)
        return _chain(exact(exposure[rows]), exact(base_rate[rows]), exact(per_unit[rows]), ex,
                      fl, [exact(c[rows]) for c in loading_cols], exact(term_factor[rows]),
                      exact(minimum[rows]))[1]

    too_big = ~(final < MAX_PREMIUM)
    if too_big.any():
        problems.add(too_big, "exposure", f"the premium would exceed {MAX_PREMIUM:g} yuan; "
                     "check the exposure and the rate book's rates")
        problems.raise_if_any()
    premium_fen = to_fen(final, exact_final)
    prevention_fen = share_of(premium_fen, prevention)
    # each share is rounded on its own; when they add up to 1 both may round up by half a fen
    commission_fen = np.minimum(share_of(premium_fen, commission), premium_fen - prevention_fen)
    floating_step = Step("floating", Label(zh="浮动费率系数", en="floating factor"), "floating",
                         floated, np.full(n, "", dtype=object), np.ones(n, dtype=bool))
    return Rated(
        book=book, index=frame.index, sector=np.array(sectors + [""], dtype=object)[s_code],
        subsector=np.array(sub_keys, dtype=object)[ok_sub], rate_date=rate_date,
        exposure=exposure, base_rate=base_rate, per_unit=per_unit, limit=limit, floor=floor,
        floors=floors, schedule=schedule, steps=steps + [floating_step] + loading_steps + [term_step],
        members=members, groups=dict(zip(book.floating.groups, groups)), floating_raw=raw,
        minimum=minimum, before_minimum=before_min, premium_fen=premium_fen,
        prevention_fen=prevention_fen, commission_fen=commission_fen, prevention_share=prevention,
        commission_rate=commission, commission_cap=cap, problems=problems)


def _schedule(book: RateBook, limit: np.ndarray, variables: _Variables) -> dict[str, np.ndarray]:
    """Limit schedule per row (int64 fen): book defaults, overridden by ``limit_*`` fields."""
    overrides = {key: variables.numeric(f"limit_{key}") for key in SCHEDULE_KEYS}
    per_person = np.round(np.nan_to_num(limit) * 100).astype(np.int64)
    schedule, violations = build_schedule(book, per_person, overrides)
    for mask, field_name, reason in violations:
        variables.problems.add(mask, field_name, reason)
    return schedule


def exact_floating(rated: Rated, rows: np.ndarray) -> np.ndarray:
    """The bounded floating factor of ``rows`` in exact decimal arithmetic (Decimal objects),
    for worksheets a person multiplies by hand (1.012, not 1.0120000000000002)."""
    groups = rated.book.floating.groups
    cols = [[exact(m.step.factor[rows]) for m in rated.members if m.group == g] for g in groups]
    masks = [[m.step.applies[rows] for m in rated.members if m.group == g] for g in groups]
    return _chain_floating(rated.book.floating, cols, masks, exact_scalar)[0]


MAX_PREMIUM = 1e13
"""Premiums above this many yuan are refused: far beyond any real policy, and their fen would
approach the limits of exact float and int64 arithmetic."""


def exact_scalar(x: float):
    """The exact decimal twin of a rate-book constant."""
    return exact(np.array([x]))[0]


def _chain(exposure, base_rate, per_unit, factors, floated, loadings, term, minimum):
    """The multiplicative chain; generic over float and Decimal arrays."""
    premium = exposure * base_rate / per_unit
    for f in factors:
        premium = premium * f
    premium = premium * floated
    for f in loadings:
        premium = premium * f
    premium = premium * term
    return premium, np.maximum(premium, minimum)


def _product(cols, masks, one):
    return reduce(lambda a, b: a * b, cols)  # a table that does not apply holds 1


def _additive(cols, masks, one):
    return one + reduce(lambda a, b: a + b, [c - one for c in cols])


def _extreme(pick, neutral):
    """Highest or lowest among the tables that apply to the row; 1 when none does."""
    def rule(cols, masks, one):
        far = neutral(one)
        best = reduce(pick, [np.where(m, c, far) for c, m in zip(cols, masks)])
        return np.where(reduce(np.logical_or, masks), best, one)
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
    bounded = np.minimum(np.maximum(raw, num(floating.floor)), num(floating.cap))
    return bounded, groups, raw


def _in_sectors(sectors, book: RateBook, s_code: np.ndarray) -> np.ndarray:
    if sectors is None:
        return np.ones(len(s_code), dtype=bool)
    wanted = [list(book.sectors).index(s) for s in sectors]
    return np.isin(s_code, wanted)


def _term_months(inception: np.ndarray, expiry: np.ndarray) -> np.ndarray:
    """Months from inception to an inclusive expiry date; a started month counts whole."""
    mi = inception.astype("datetime64[M]")
    me = expiry.astype("datetime64[M]")
    di = (inception - mi.astype("datetime64[D]")).astype(np.int64)
    de = (expiry - me.astype("datetime64[D]")).astype(np.int64)
    months = (me - mi).astype(np.int64) + (de >= di)
    return np.where(np.isnat(expiry) | np.isnat(inception), 0, months)


def _per_date(rate_date: np.ndarray, value, missing) -> np.ndarray:
    """``value(date)`` for each distinct date, spread over the rows (``missing`` for NaT)."""
    uniq, inverse = np.unique(rate_date, return_inverse=True)
    per = [missing if np.isnat(d) else value(d.astype(dt.date)) for d in uniq]
    return np.array(per, dtype=object)[inverse] if per else np.array([], dtype=object)


def _floors(book: RateBook, rate_date: np.ndarray, problems: Problems):
    floors: dict[dt.date, LimitFloor] = {}

    def floor_on(day: dt.date):
        try:
            floors[day] = per_person_floor(book, day)
        except LookupError as exc:
            return str(exc)
        return floors[day].amount

    found = _per_date(rate_date, floor_on, np.nan)
    failed = np.array([isinstance(v, str) for v in found], dtype=bool)
    for reason in set(found[failed]):
        problems.add(found == reason, "inception_date", reason)
    return floors, np.where(failed, np.nan, found).astype(np.float64)


def _commission_caps(book: RateBook, rate_date: np.ndarray) -> np.ndarray:
    rules = national_rules()

    def cap_on(day: dt.date) -> float:
        entry = value_at(rules.commission_cap, day)
        caps = [c for c in (entry.value if entry else None, book.expenses.commission_cap)
                if c is not None]
        return min(caps) if caps else np.inf  # no cap

    return _per_date(rate_date, cap_on, np.inf).astype(np.float64)


class _Variables:
    """Profile variables parsed on first use, so each column is read once."""

    def __init__(self, frame: pd.DataFrame, problems: Problems, n: int):
        self.frame, self.problems, self.n = frame, problems, n
        self.cache: dict[tuple, np.ndarray] = {}

    def numeric(self, name: str) -> np.ndarray:
        key = ("num", name)
        if key not in self.cache:
            self.cache[key] = numbers(self.frame.get(name), name, self.problems, n=self.n,
                                      integer=FIELDS[name].kind == "count")
        return self.cache[key]

    def absent(self, name: str) -> np.ndarray:
        key = ("absent", name)
        if key not in self.cache:
            self.cache[key] = absent(self.frame.get(name), self.n)
        return self.cache[key]

    def check_the_rest(self) -> None:
        """Validate numeric and true/false columns no table read, so no garbage passes."""
        for name in self.frame.columns:
            kind = FIELDS[name].kind
            if kind in ("number", "count"):
                self.numeric(name)
            elif kind == "flag" and ("flag", name) not in self.cache:
                self.cache[("flag", name)] = flags(self.frame[name], name, self.problems,
                                                   n=self.n)

    def codes(self, name: str, levels: list[str]) -> np.ndarray:
        key = ("cat", name, tuple(levels))
        if key not in self.cache:
            if name == "worst_accident_grade":
                self.cache[key] = self._worst_grade(levels)
            elif variable_kind(name) == "flag":
                if ("flag", name) not in self.cache:
                    self.cache[("flag", name)] = flags(self.frame.get(name), name,
                                                       self.problems, n=self.n)
                raw = self.cache[("flag", name)]
                lookup = np.array([levels.index("false"), levels.index("true"), MISSING])
                self.cache[key] = lookup[np.where(raw == MISSING, 2, raw)]
            else:
                self.cache[key] = categories(self.frame.get(name), name, levels, None, n=self.n)
        return self.cache[key]

    def _worst_grade(self, levels: list[str]) -> np.ndarray:
        worst = np.zeros(self.n, dtype=np.int64)  # index into WORST_GRADE_LEVELS
        for g, grade in enumerate(ACCIDENT_GRADES, start=1):
            counts = self.numeric(f"accidents_{grade}")
            worst[np.nan_to_num(counts) > 0] = g
        lookup = np.array([levels.index(lvl) for lvl in WORST_GRADE_LEVELS])
        return lookup[worst]


def _table_step(key: str, path: str, table: FactorTable, book: RateBook, s_code: np.ndarray,
                variables: _Variables, problems: Problems) -> Step:
    applies = _in_sectors(table.sectors, book, s_code) & (s_code >= 0)
    n = len(s_code)
    if table.levels is not None:
        levels = list(table.levels)
        codes = variables.codes(table.variable, levels)
        invalid = applies & (codes == INVALID)
        if invalid.any():
            raw = variables.frame[table.variable].to_numpy()
            for value in pd.unique(raw[invalid]):
                problems.add(invalid & (raw == value), table.variable,
                             f"{show_value(value)} is not a level of table {path}; use one of: "
                             + ", ".join(levels))
        if table.default is not None:
            codes = np.where(codes == MISSING, levels.index(table.default), codes)
        else:
            problems.add(applies & (codes == MISSING), table.variable,
                         f"is required for this sector (table {path}); use one of: "
                         + ", ".join(levels))
        codes = np.where(codes < 0, len(levels), codes)
        factors = np.array([lvl.factor for lvl in table.levels.values()] + [1.0])
        names = np.array(levels + [""], dtype=object)
        factor = np.where(applies, factors[codes], 1.0)
        return Step(key, table.label, path, factor, np.where(applies, names[codes], ""), applies)
    values = variables.numeric(table.variable)
    if variable_kind(table.variable) == "count" and table.variable in CLEAN_RECORD:
        values = np.where(np.isnan(values), 0.0, values)  # no record means none
    step = _band_step(key, table.label, path, table.bands, table.closed or "left", values, applies,
                      table.variable, problems, variables.absent(table.variable))
    return step


def _band_step(key: str, label: Label, path: str, bands: tuple[Band, ...], closed: str,
               values: np.ndarray, applies: np.ndarray, variable: str,
               problems: Problems, missing_input: np.ndarray | None = None) -> Step:
    """Look ``values`` up in contiguous bands; the first band's lower end always counts.

    NaN values are not looked up; they are reported as missing where ``missing_input``
    (default: wherever NaN) says the profile left the field out, since a bad value has
    already been reported by the parser."""
    lowers = np.array([b.lower for b in bands])
    uppers = np.array([np.inf if b.upper is None else b.upper for b in bands])
    if closed == "left":
        idx = np.searchsorted(lowers, values, side="right") - 1
        above = values >= uppers[-1]
    else:
        idx = np.searchsorted(uppers, values, side="left")
        above = values > uppers[-1]
    idx = np.where(values == lowers[0], 0, idx)
    missing = np.isnan(values)
    reported = missing if missing_input is None else missing & missing_input
    problems.add(applies & reported, variable, f"is required for this sector (table {path})")
    out_of_range = applies & ~missing & ((values < lowers[0]) | above)
    problems.add(out_of_range, variable,
                 f"is outside the bands of table {path} ({lowers[0]:g} to {uppers[-1]:g})")
    idx = np.clip(idx, 0, len(bands) - 1)
    factors = np.array([b.factor for b in bands])
    factor = np.where(applies & ~missing, factors[idx], 1.0)
    return Step(key, label, path, factor, np.where(applies, values, np.nan), applies)
