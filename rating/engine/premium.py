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
    split: prevention fund, commission, net

:func:`rate_frame` runs the manual's stages in turn (term, exposure, limits, factor steps,
distribution); lookups (:mod:`rating.engine.lookups`) give one float column per step. A
:class:`Chain` holds these columns in the manual's order and evaluates the product from that
one list in three ways: in float for every row, in exact decimal for the rows whose float
result is too close to a half fen, and as a count of decimal places that settles most of
those rows without decimals (see :func:`rating.engine.money.to_fen`). A step added to the chain is
thus in all three.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from typing import NamedTuple, cast

import numpy as np
import pandas as pd

from ..book import IncomeStatistics, RateBook, commission_cap, income_statistics, national_rules
from ..book.fields import EXPOSURE_FIELDS, check_known
from ..book.model import (
    SCHEDULE_KEYS,
    DiscountInput,
    FactorTable,
    Floating,
    Label,
    RateGrid,
)
from .columns import MISSING, Days, Encoded, OneRow, Problems, categories, key_lists
from .consistency import ExposureUse, check_consistency, exposure_use
from .grid import grid_rates
from .limits import LimitFloor, ScheduleColumns, banded_amounts, build_schedule, per_person_floor
from .lookups import Inputs, Step, band_step, in_sectors, table_step
from .memo import by_identity
from .money import exact, places, share_of, to_fen
from .shares import coinsurance_codes

MAX_PREMIUM = 1e13
"""Premiums above this many yuan are refused: far beyond any real policy, and their fen would
approach the limits of exact float and int64 arithmetic."""


@dataclass(frozen=True)
class Member:
    """One floating-factor table's column inside its group."""

    group: str
    step: Step


Columns = Callable[[Iterable[np.ndarray]], list]
"""Reads columns for one evaluation of a chain: a list of them, as the numbers used."""


class _Arithmetic(NamedTuple):
    """How one evaluation of a chain reads its columns: which rows, and as which numbers."""

    columns: Columns                     # float columns, as the numbers multiplied
    masks: Columns                       # boolean columns, for the rows evaluated
    constant: Callable[[float], float | Decimal]  # a rate-book constant (1, floor, cap)


# the builtin list, not a function per column: a quote's arithmetic is a few microseconds
_IN_FLOAT = _Arithmetic(columns=list, masks=list, constant=float)
"""Float arithmetic on every row: the columns as they are."""


def _in_decimal(rows: np.ndarray) -> _Arithmetic:
    """Exact decimal arithmetic on ``rows``: each value the decimal literal it was read from."""
    return _Arithmetic(columns=lambda cols: [exact(c[rows]) for c in cols],
                       masks=lambda masks: [m[rows] for m in masks], constant=exact_scalar)


class FloatingFactor(NamedTuple):
    """The floating factor (浮动费率系数) of each row, and what it is made of."""

    bounded: np.ndarray        # raw, bounded by the book's floor and cap: the factor applied
    groups: list[np.ndarray]   # each group's factor, in the book's order
    raw: np.ndarray            # the groups combined


@dataclass(frozen=True)
class FloatingChain:
    """The floating-factor tables' columns, and the book's rules that combine them.

    Attributes
    ----------
    rules : Floating
        The book's floating section: each group's rule, how groups combine, floor and cap.
    factors : list of list of ndarray
        Per group, in the book's order, each member table's factor column (1 where the table
        does not apply).
    applies : list of list of ndarray
        Per group, the rows each member table applies to.
    """

    rules: Floating
    factors: list[list[np.ndarray]]
    applies: list[list[np.ndarray]]
    ones: np.ndarray  # the factor of a book without floating rates (no groups)

    @classmethod
    def of(cls, rules: Floating, members: list[Member], n: int) -> FloatingChain:
        """The chain of ``members`` (of ``n`` rows), grouped as the book groups them."""
        return cls(rules, [[m.step.factor for m in members if m.group == g] for g in rules.groups],
                   [[m.step.applies for m in members if m.group == g] for g in rules.groups],
                   np.ones(n))

    def in_float(self) -> FloatingFactor:
        """Every row's floating factor in float."""
        return self._evaluate(_IN_FLOAT)

    def exact(self, rows: np.ndarray) -> np.ndarray:
        """The bounded floating factor of ``rows`` in exact decimal (Decimal objects)."""
        return self._evaluate(_in_decimal(rows)).bounded

    def places(self, rows: np.ndarray) -> np.ndarray:
        """An upper bound on the decimal places of :meth:`exact` (int64), from the members'
        places: a product of decimals has at most the sum of their places; a sum (of factors
        less 1), a highest, a lowest and a bound at most the most of theirs."""
        def combined(rule: str, cols: list[np.ndarray]) -> np.ndarray:
            # the places of a product: a sum of arrays, which is an array (not sum's 0)
            return cast(np.ndarray, sum(cols)) if rule == "product" else reduce(np.maximum, cols)
        groups = [combined(grp.rule, [places(c[rows]) for c in cols])
                  for grp, cols in zip(self.rules.groups.values(), self.factors)]
        bounds = places(np.array([self.rules.floor, self.rules.cap])).max()
        return np.maximum(combined(self.rules.combine, groups or [places(self.ones[rows])]),
                          bounds)

    def _evaluate(self, arithmetic: _Arithmetic) -> FloatingFactor:
        """Combine each group by its rule, the groups by ``rules.combine``, then bound."""
        num = arithmetic.constant
        one = num(1.0)
        groups = [_RULES[grp.rule](arithmetic.columns(cols), arithmetic.masks(masks), one)
                  for grp, cols, masks in zip(self.rules.groups.values(), self.factors,
                                              self.applies)]
        raw = _RULES[self.rules.combine](groups or arithmetic.columns([self.ones]), None, one)
        # floor and cap are floats or Decimals; numpy's stubs take no Decimal (an object
        # scalar, which ufuncs on object arrays accept)
        bounded = np.maximum(raw, num(self.rules.floor))  # type: ignore[arg-type]
        np.minimum(bounded, num(self.rules.cap), out=bounded)  # type: ignore[arg-type]
        return FloatingFactor(bounded, groups, raw)


class FloatPremium(NamedTuple):
    """A chain evaluated in float for every row."""

    before_minimum: np.ndarray  # the product, yuan
    final: np.ndarray           # at least the minimum premium, yuan
    floating: FloatingFactor


@dataclass(frozen=True)
class Chain:
    """The premium chain of a frame's rows: its columns, in the order of the rating manual.

    ``premium = max(exposure × base_rate / per_unit × before… × floating × after…, minimum)``

    The one list of columns is evaluated three ways, so that a step added to it is in all
    three: in float for every row (:meth:`in_float`), in exact decimal for some rows
    (:meth:`exact`), and as an upper bound on the decimal places of the exact premium
    (:meth:`places`).

    Attributes
    ----------
    exposure : ndarray of float
        In the sub-sector's unit (persons, vehicles, vessels, tonnes, or yuan).
    base_rate : ndarray of float
        As in the book: yuan per unit of exposure, or ‰ of a money exposure.
    per_unit : ndarray of float
        1, or 1000 where the base rate is in ‰.
    before : tuple of ndarray
        The factors before the floating factor: limit factor, then tier factors.
    floating : FloatingChain
        The floating factor's member columns and rules.
    after : tuple of ndarray
        The factors after it: loadings, then the term factor.
    minimum : ndarray of float
        Minimum premium, yuan.
    """

    exposure: np.ndarray
    base_rate: np.ndarray
    per_unit: np.ndarray
    before: tuple[np.ndarray, ...]
    floating: FloatingChain
    after: tuple[np.ndarray, ...]
    minimum: np.ndarray

    def in_float(self) -> FloatPremium:
        """Every row's premium in float, and the floating factor it was computed with."""
        floating = self.floating.in_float()
        return FloatPremium(*self._multiply(_IN_FLOAT, floating.bounded), floating)

    def exact(self, rows: np.ndarray) -> np.ndarray:
        """The final premium of ``rows`` in exact decimal, yuan (Decimal objects), in the
        current decimal context: :func:`rating.money.to_fen` gives it 60 digits, enough for
        any premium below MAX_PREMIUM to be exact."""
        return self._multiply(_in_decimal(rows), self.floating.exact(rows))[1]

    def places(self, rows: np.ndarray) -> np.ndarray:
        """An upper bound on the decimal places of :meth:`exact` (int64).

        A product of decimals has at most the sum of their places; dividing by ``per_unit``
        (1 or 1000) adds the places of its reciprocal (another divisor's would have too many
        places to settle anything); the minimum premium has its own.
        """
        def at(cols: Iterable[np.ndarray]) -> list[np.ndarray]:
            return [places(c[rows]) for c in cols]
        exposure, base_rate, minimum = at((self.exposure, self.base_rate, self.minimum))
        product = exposure + base_rate + places(1.0 / self.per_unit[rows])
        product += sum(self._factors(at, self.floating.places(rows)))
        return np.maximum(product, minimum)

    def _multiply(self, arithmetic: _Arithmetic,
                  floated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The product, before and after the minimum premium; ``floated`` is the floating
        factor in the same arithmetic. Only operators that float and Decimal arrays share."""
        exposure, base_rate, per_unit, minimum = arithmetic.columns(
            (self.exposure, self.base_rate, self.per_unit, self.minimum))
        premium = exposure * base_rate / per_unit
        for f in self._factors(arithmetic.columns, floated):
            premium *= f  # in place: the same products, without a new array per step
        return premium, np.maximum(premium, minimum)

    def _factors(self, columns: Columns, floated: np.ndarray) -> list:
        """The factors in the manual's order, the columns read by ``columns``."""
        return [*columns(self.before), floated, *columns(self.after)]


@dataclass
class Rated:
    """Everything the engine computed for a frame of profiles (row-aligned arrays)."""

    book: RateBook
    index: pd.Index
    sector_code: np.ndarray       # into book.sectors
    subsector_code: np.ndarray    # into subsector_keys
    subsector_keys: list[tuple[str, str]]
    rate: Days                    # rating dates, as codes into distinct days
    chain: Chain                  # the premium's columns: exposure, base rate, factors, minimum
    limit: np.ndarray             # per-person limit, yuan
    floor: np.ndarray             # statutory floor, yuan
    floors: dict[dt.date, LimitFloor]
    schedule: ScheduleColumns         # limit schedule, int64 fen, by key (see LimitSchedule)
    steps: list[Step]             # limit, tiers, floating, loadings, term: in order
    members: list[Member]
    groups: dict[str, np.ndarray]
    floating_raw: np.ndarray
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
    def exposure(self) -> np.ndarray:
        """Exposure, in the sub-sector's unit."""
        return self.chain.exposure

    @property
    def base_rate(self) -> np.ndarray:
        """Base rate as in the book (yuan per unit, or ‰)."""
        return self.chain.base_rate

    @property
    def per_unit(self) -> np.ndarray:
        """1, or 1000 where the base rate is in ‰."""
        return self.chain.per_unit

    @property
    def minimum(self) -> np.ndarray:
        """Minimum premium, yuan."""
        return self.chain.minimum

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
    problems = Problems(frame.index, single=single)
    inputs = Inputs(frame, problems, encoded)
    # Every stage reads and checks its inputs before any arithmetic, in this order (the
    # order problems are reported in).
    subsectors = _subsector_table(book)
    s_code, sub_code = _subsectors(book, subsectors, inputs)
    ok_sub = np.where(sub_code >= 0, sub_code, 0)
    rate, term_step = _term(book, subsectors.project[ok_sub], inputs, date)
    exposure = _exposure(np.where(sub_code >= 0, subsectors.basis_code[ok_sub], -1), inputs)
    floors, floor = _floors(book, rate, problems, income)
    limit = _per_person_limit(floor, inputs, book)
    base_rate = _base_rates(subsectors, sub_code, inputs, limit)
    schedule = _schedule(book, limit, inputs)
    limit_step = _limit_step(book, limit, problems)
    # rows in a set of sectors, found once per set: several tables cover the same sectors
    rows_in = functools.cache(lambda sectors: in_sectors(sectors, book, s_code))
    in_units = functools.cache(lambda units: np.isin(sub_code, [subsectors.keys.index(
        tuple(u.split(".", 1))) for u in units]))

    def table_rows(table: FactorTable) -> np.ndarray:
        """The rows a table applies to: its sectors, and its sub-sectors if it names some."""
        rows = rows_in(table.sectors)
        return rows if table.subsectors is None else rows & in_units(table.subsectors)

    tier_steps = _tier_steps(book, table_rows, inputs)
    members = _floating_members(book, table_rows, inputs)
    loading_steps = _loading_steps(book, rows_in, inputs)
    check_consistency(inputs, sub_code, subsectors.exposure_use)  # a share > 1 named as such
    prevention, commission, cap = _shares(book, rate, inputs)
    coinsurance_codes(inputs.column("coinsurance"), problems, inputs.n)  # split on output
    inputs.check_the_rest()
    if problems.items and errors == "collect":
        return _rate_good_rows(frame, book, date, problems, ~problems.bad_rows(), income)
    problems.raise_if_any()

    floating = FloatingChain.of(book.floating_rules, members, inputs.n)
    before = [limit_step, *tier_steps, *_discount_steps(subsectors, sub_code, inputs)]
    after = [*loading_steps, term_step]
    chain = Chain(exposure, base_rate, subsectors.per_unit[ok_sub],
                  tuple([s.factor for s in before]), floating, tuple([s.factor for s in after]),
                  subsectors.minimum[ok_sub])
    before_min, final, fl = chain.in_float()
    too_big = ~(final < MAX_PREMIUM)
    if np.count_nonzero(too_big):
        problems.add(too_big, "exposure", f"the premium would exceed {MAX_PREMIUM:g} yuan; "
                     "check the exposure and the rate book's rates")
        if errors == "collect":
            return _rate_good_rows(frame, book, date, problems, ~too_big, income)
        problems.raise_if_any()
    premium_fen = to_fen(final, chain.exact, chain.places)
    prevention_fen, commission_fen = _split(premium_fen, prevention, commission)
    floating_step = Step("floating", Label(zh="浮动费率系数", en="floating factor"), "floating",
                         fl.bounded, np.ones(inputs.n, dtype=bool), fl.raw)
    return Rated(
        book=book, index=frame.index, sector_code=s_code, subsector_code=ok_sub,
        subsector_keys=subsectors.keys, rate=rate, chain=chain, limit=limit, floor=floor,
        floors=floors, schedule=schedule, steps=[*before, floating_step, *after],
        members=members, groups=dict(zip(book.floating_rules.groups, fl.groups)),
        floating_raw=fl.raw, before_minimum=before_min, premium_fen=premium_fen,
        prevention_fen=prevention_fen, commission_fen=commission_fen,
        prevention_share=prevention, commission_rate=commission, commission_cap=cap,
        problems=problems)


def _term(book: RateBook, project: np.ndarray, inputs: Inputs,
          date: dt.date | None) -> tuple[Days, Step]:
    """The rating dates (``date``, default each inception date) and the term factor: the
    book's short-term scale by months insured, 1 for a full year or a project (保险期限)."""
    problems, n = inputs.problems, inputs.n
    start, end = inputs.days("inception_date"), inputs.days("expiry_date")
    problems.add(np.isnat(start.days)[start.codes] & inputs.absent("inception_date"),
                 "inception_date", "is required (YYYY-MM-DD)")
    rate = start if date is None else Days(np.zeros(n, dtype=np.int64),
                                            np.array([date, "NaT"], dtype="datetime64[D]"))
    months, ends_before = _term_months(start, end)
    problems.add(ends_before, "expiry_date", "is before inception_date")
    max_m = book.term.max_months
    problems.add(~project & (months > max_m), "expiry_date",
                 f"an annual policy runs at most {max_m} months; longer terms are not allowed")
    # no expiry date: a full year
    annual_months = np.where(np.isnat(end.days)[end.codes], max_m, months)
    annual_months = np.maximum(np.minimum(annual_months, max_m), 1)  # np.clip costs 3 times more
    if book.term.short_term_scale is None:  # the source gives no short-term scale
        problems.add(~project & (annual_months < max_m), "expiry_date",
                     f"rate book {book.id} has no short-term scale: an annual policy runs "
                     f"the full {max_m} months")
        scale = np.ones(max_m)
    else:
        scale = np.asarray(book.term.short_term_scale)
    return rate, Step("term", Label(zh="保险期限", en="term"), "term",
                      np.where(project, 1.0, scale[annual_months - 1]), ~project,
                      annual_months, None, "months")


def _exposure(basis_code: np.ndarray, inputs: Inputs) -> np.ndarray:
    """Each row's exposure in its sub-sector's unit: the profile field of the sub-sector's
    basis (``basis_code`` into EXPOSURE_FIELDS, -1 for no sub-sector: NaN)."""
    problems = inputs.problems
    exposure = np.full(inputs.n, np.nan)
    for b, (basis, fname) in enumerate(EXPOSURE_FIELDS.items()):
        rows = basis_code == b
        # np.count_nonzero for a truth test: a quarter of the cost of ndarray.any on a
        # quote's one-row masks, and as fast on a million rows
        if not np.count_nonzero(rows) and fname not in inputs.columns:
            continue
        values = inputs.numeric(fname)
        np.copyto(exposure, values, where=rows)
        if np.count_nonzero(rows & ~(values > 0)):  # some exposure missing or 0 (NaN > 0 is false)
            problems.add(rows & np.isnan(values) & inputs.absent(fname), fname,
                         f"is required: the sub-sector is rated on {basis}")
            problems.add(rows & (values == 0), fname, "must be greater than 0")
    return exposure


def _per_person_limit(floor: np.ndarray, inputs: Inputs, book: RateBook) -> np.ndarray:
    """The per-person limit chosen (yuan), which may not be below the statutory floor.

    Default: the floor; where the book offers a closed list of options, the lowest option at
    or above the floor, and a limit given must be one of the options."""
    limit = inputs.numeric("per_person_limit")
    options = book.limits.options
    if options is None:
        limit = np.where(np.isnan(limit), floor, limit)
    else:
        amounts = np.array([o.per_person for o in options])
        shown = ", ".join(f"{a:,.0f}" for a in amounts)
        given = ~np.isnan(limit)
        inputs.problems.add(given & ~np.isin(limit, amounts), "per_person_limit",
                            f"is not one of rate book {book.id}'s limit options: {shown}")
        pick = np.searchsorted(amounts, floor, side="left")  # NaN floors sort last
        inputs.problems.add(~given & ~np.isnan(floor) & (pick == len(amounts)),
                            "per_person_limit", f"no limit option of rate book {book.id} "
                            f"({shown}) reaches the statutory floor in force")
        limit = np.where(given, limit, amounts[np.minimum(pick, len(amounts) - 1)])
    below = limit < floor
    for amount in np.unique(floor[below]) if np.count_nonzero(below) else ():
        inputs.problems.add(below & (floor == amount), "per_person_limit",
                            f"is below the statutory per-person floor of {amount:,.0f} yuan "
                            "in force on the rating date")
    return limit


def _base_rates(table: SubsectorTable, sub_code: np.ndarray, inputs: Inputs,
                limit: np.ndarray) -> np.ndarray:
    """Each row's base rate: its sub-sector's, or its cell of the sub-sector's rate grid."""
    rates = table.base_rate[np.where(sub_code >= 0, sub_code, 0)]
    for k, grid, path in table.grids:
        rows = np.flatnonzero(sub_code == k)
        if rows.size:
            rates[rows] = grid_rates(grid, path, rows, inputs, limit)
    return rates


def _discount_steps(table: SubsectorTable, sub_code: np.ndarray, inputs: Inputs) -> list[Step]:
    """The stated discount (``× (1 − risk_discount)``) of sub-sectors that take one: no step
    where the book has none, so other books' chains are unchanged."""
    if not table.discounts:
        return []
    given = inputs.numeric("risk_discount")
    applies = np.zeros(inputs.n, dtype=bool)
    factor = np.ones(inputs.n)
    for k, rule, path in table.discounts:
        rows = sub_code == k
        applies |= rows
        inputs.problems.add(rows & (given > rule.max), "risk_discount",
                            f"is above the largest discount of {path} ({rule.max:g})")
    stated = applies & (given <= 1)  # NaN (not stated: no discount) compares false
    values, inverse = np.unique(given[stated], return_inverse=True)
    # 1 − d as the decimal it is (1 − 0.07 is 0.93, not float's 0.9299999999999999)
    factor[stated] = np.array([float(1 - Decimal(repr(float(v)))) for v in values])[inverse]
    label = table.discounts[0][1].label
    return [Step("discount", label, table.discounts[0][2], factor, applies,
                 np.where(applies, np.nan_to_num(given), np.nan))]


def _limit_step(book: RateBook, limit: np.ndarray, problems: Problems) -> Step:
    """The limit factor of each row's per-person limit (yuan)."""
    factors = book.limit_factors
    return band_step("limit", factors.label, "limit_factors", factors.bands, factors.closed,
                     limit, np.ones(len(limit), dtype=bool), "per_person_limit", problems)


RowsIn = Callable[[Sequence[str] | None], np.ndarray]
"""Rows whose sector is in a set of sectors (None: every sector)."""
TableRows = Callable[[FactorTable], np.ndarray]
"""Rows a factor table applies to (its sectors and sub-sectors)."""


def _tier_steps(book: RateBook, rows_in: TableRows, inputs: Inputs) -> list[Step]:
    """One step per tier table (分级费率), in the book's order."""
    return [table_step(f"tier.{name}", f"tiers.{name}", table, rows_in(table), inputs)
            for name, table in book.tiers.items()]


def _floating_members(book: RateBook, rows_in: TableRows, inputs: Inputs) -> list[Member]:
    """One step per floating-factor table, group by group in the book's order."""
    return [Member(g, table_step(f"floating.{g}.{name}", f"floating.groups.{g}.factors.{name}",
                                 table, rows_in(table), inputs))
            for g, group in book.floating_rules.groups.items()
            for name, table in group.factors.items()]


def _loading_steps(book: RateBook, rows_in: RowsIn, inputs: Inputs) -> list[Step]:
    """One step per loading of the book: its factor where the extension is chosen (and
    offered for the row's sector), 1 elsewhere."""
    problems = inputs.problems
    chosen = key_lists(inputs.column("extensions"), "extensions", list(book.loadings), problems,
                       n=inputs.n)
    steps = []
    for j, (name, loading) in enumerate(book.loadings.items()):
        allowed = rows_in(loading.sectors)
        problems.add(chosen[:, j] & ~allowed, "extensions",
                     f"{name!r} is not offered for this sector")
        applies = chosen[:, j] & allowed
        steps.append(Step(f"loading.{name}", loading.label, f"loadings.{name}",
                          np.where(applies, loading.factor, 1.0), applies,
                          applies.astype(np.int8), ("", name)))
    return steps


def _shares(book: RateBook, rate: Days,
            inputs: Inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The prevention-fund share (default the book's minimum), the commission rate (default
    0) and the commission cap in force (inf where none) of each row, as fractions of the
    premium."""
    problems = inputs.problems
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
    return prevention, commission, cap


def _split(premium_fen: np.ndarray, prevention: np.ndarray,
           commission: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The prevention fund and the commission (int64 fen) of premiums in fen; the net is the
    rest."""
    prevention_fen = share_of(premium_fen, prevention)
    # each share is rounded on its own; when they add up to 1 both may round up by half a fen
    commission_fen = np.minimum(share_of(premium_fen, commission), premium_fen - prevention_fen)
    return prevention_fen, commission_fen


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
    grids: list[tuple[int, RateGrid, str]]  # (sub-sector code, grid, key path): base rates
    discounts: list[tuple[int, DiscountInput, str]]  # (code, rule, key path): stated discounts
    exposure_use: ExposureUse     # the optional exposure fields each sub-sector reads


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
    grids = [(k, x.rate_grid, f"sectors.{s}.subsectors.{ss}.rate_grid")
             for k, ((s, ss), x) in enumerate(zip(keys, objs)) if x.rate_grid is not None]
    discounts = [(k, x.discount, f"sectors.{s}.subsectors.{ss}.discount")
                 for k, ((s, ss), x) in enumerate(zip(keys, objs)) if x.discount is not None]
    return SubsectorTable(
        keys, names, pairs, np.array([x.per_unit for x in objs]),
        np.array([np.nan if x.base_rate is None else x.base_rate for x in objs]),
        np.array([x.minimum_premium for x in objs]),
        np.array([x.term == "project" for x in objs]),
        np.array([bases.index(x.basis) for x in objs]), grids, discounts,
        exposure_use(book, keys))


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
    """Limit schedule per row (int64 fen): book defaults, overridden by ``limit_*`` fields;
    a default by bands of a profile field is read per row, where no override is given."""
    overrides = {key: inputs.numeric(f"limit_{key}") for key in SCHEDULE_KEYS
                 if f"limit_{key}" in inputs.frame.columns}
    for key in SCHEDULE_KEYS:
        rule = getattr(book.limits.schedule, key)
        if rule is not None and rule.variable is not None and rule.bands is not None:
            banded = banded_amounts(rule.bands, rule.closed, inputs.numeric(rule.variable))
            given = overrides.get(key)
            overrides[key] = banded if given is None else np.where(np.isnan(given), banded,
                                                                    given)
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
    return rated.chain.floating.exact(rows)


def exact_scalar(x: float):
    """The exact decimal twin of a rate-book constant."""
    return exact(np.array([x]))[0]


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
            found: LimitFloor | str = per_person_floor(book, day, national=sources[0],
                                                      income=sources[1])
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


def _commission_caps(book: RateBook, rate: Days) -> np.ndarray:
    """The cap in force per row (:func:`rating.book.commission_cap`), once per distinct day;
    inf on a missing date, which the row is reported for."""
    caps = [np.inf if np.isnat(day) else commission_cap(book, day.astype(dt.date))
            for day in rate.days]
    return np.array(caps, dtype=float)[rate.codes]
