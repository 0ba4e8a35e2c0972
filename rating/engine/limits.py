"""Per-person death/disability limits: the statutory floor and the work-injury benchmark.

The floor on a date is::

    max(national floor in force,
        income_multiple × urban per-capita disposable income of income_region, prior year,
        fixed local floor)

rounded up to a multiple of ``round_up_to`` yuan, with every number read from the rate book,
``tables/national.yaml`` and ``tables/statistics/income.yaml``, never from code.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..book import (
    IncomeStatistics,
    NationalRules,
    RateBook,
    income_statistics,
    national_rules,
)
from ..book.model import SCHEDULE_BOUNDS, SCHEDULE_KEYS, AmountBand, SubLimit
from ..book.reference import value_at
from ..errors import ReferenceDataError
from .columns import encode
from .memo import by_identity
from .money import share_of


@dataclass(frozen=True)
class FloorComponent:
    """One candidate for the floor.

    Attributes
    ----------
    name : str
        ``national``, ``income`` or ``fixed``.
    amount : float
        Yuan, before rounding up.
    basis : str
        How it was obtained, with its source.
    """

    name: str
    amount: float
    basis: str


@dataclass(frozen=True)
class LimitFloor:
    """The statutory minimum per-person death/disability limit on a date.

    Attributes
    ----------
    amount : float
        The floor in yuan, after rounding up.
    components : tuple of FloorComponent
        Every candidate considered.
    binding : str
        The name of the component that set the floor.
    income_year : int or None
        The data year of the income figure used (the policy year minus one when available).
    provisional : bool
        True when the prior year's income was not yet in the statistics and an earlier year
        was used instead.
    """

    date: dt.date
    amount: float
    components: tuple[FloorComponent, ...]
    binding: str
    income_year: int | None
    provisional: bool


def per_person_floor(book: RateBook, date: dt.date, *,
                     national: NationalRules | None = None,
                     income: IncomeStatistics | None = None) -> LimitFloor:
    """The statutory per-person death/disability floor for a policy incepting on ``date``.

    Parameters
    ----------
    book : RateBook
        Supplies the local rule (income region and multiple, fixed floor, rounding).
    date : datetime.date
        Inception date; income of the year before is used.
    national, income : optional
        Override the shipped national rules and income statistics (for scenarios).

    Returns
    -------
    LimitFloor

    Raises
    ------
    ReferenceDataError
        No floor applies, no income figure is in or before the prior year, or the latest one
        is more than the statistics' ``projection_limit`` years older than the prior year
        (e.g. with 3 and Xiamen's latest figure for 2023, dates after 2027-12-31).
    """
    national = national or national_rules()
    income = income or income_statistics()
    rules = book.limits
    components: list[FloorComponent] = []
    entry = value_at(national.per_person_floor, date)
    if entry is not None:
        components.append(FloorComponent(
            "national", entry.value, f"national floor from {entry.effective_from} "
            f"({_cite(national.sources, entry)})"))
    income_year, provisional = None, False
    if rules.income_region is not None:
        wanted = date.year - 1
        figure = _income_figure(income, rules.income_region, date)
        income_year, provisional = figure.year, figure.year != wanted
        components.append(FloorComponent(
            "income", rules.income_multiple * figure.value,
            f"{rules.income_multiple:g} × {rules.income_region} urban income {figure.year} "
            f"({figure.value:,.0f} yuan)"
            + (f", provisional: {wanted} is not in the statistics yet" if provisional else "")
            # a projected figure (a scenario's) is not a published one: say so
            + (f", illustrative: {figure.note or 'not a published figure'}"
               if figure.illustrative else "")))
    if rules.fixed_floor is not None:
        components.append(FloorComponent("fixed", rules.fixed_floor, "local fixed floor"))
    if not components:
        raise ReferenceDataError(f"no per-person floor applies on {date}: no national rule in "
                                 f"force and rate book {book.id} sets no local floor")
    best = max(components, key=lambda c: c.amount)
    step = rules.round_up_to
    amount = math.ceil(best.amount / step - 1e-9) * step
    return LimitFloor(date, float(amount), tuple(components), best.name, income_year,
                      provisional)


def _income_figure(income: IncomeStatistics, region: str, date: dt.date):
    """The income figure a date uses: its prior year's, or the latest earlier one, at most
    ``income.projection_limit.years`` years older (tables/statistics/income.yaml).

    Raises
    ------
    ReferenceDataError
        No figure in or before the prior year, or the latest one too old for the date.
    """
    wanted = date.year - 1
    figure = income.lookup(region, wanted)
    if figure is None:
        raise ReferenceDataError(f"no urban income figure for {region} in or before {wanted}; "
                                 "add it to tables/statistics/income.yaml")
    limit = income.projection_limit
    if limit is not None and wanted - figure.year > limit.years:
        raise ReferenceDataError(
            f"the date {date} is too far ahead of the income statistics: it needs {region} "
            f"urban income for {wanted}, and the latest figure is for {figure.year}; a date "
            f"may use a figure at most {limit.years} years older than its prior year (dates "
            f"up to {figure.year + limit.years + 1}-12-31; projection_limit in "
            "tables/statistics/income.yaml)")
    return figure


def _cite(sources, entry) -> str:
    src = sources.get(entry.source)
    title = src.title if src else entry.source
    return f"{title} {entry.article}" if entry.article else str(title)


@dataclass(frozen=True)
class LimitSchedule:
    """A policy's limits, in yuan.

    Attributes
    ----------
    per_person : float
        Death/disability per person, one amount for every employee (dispatched and temporary
        workers included).
    medical_per_person, third_party_per_person : float
        Per person.
    third_party_property, rescue, medical_aid, appraisal, legal, per_accident : float
        Per accident.
    aggregate : float
        Per policy year.
    """

    per_person: float
    medical_per_person: float
    third_party_per_person: float
    third_party_property: float
    rescue: float
    medical_aid: float
    appraisal: float
    legal: float
    per_accident: float
    aggregate: float

    def as_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in ("per_person",) + SCHEDULE_KEYS}


CONTAINER = {small: large for small, large in SCHEDULE_BOUNDS if small != "per_person"}
"""The limit each sub-limit is part of: a sub-limit the book leaves out takes its value."""
INHERIT = -2
"""Default (fen) of a sub-limit the book leaves out: its container's value, row by row."""
UNSET = -1
"""Default (fen) of an aggregate the book does not set: the profile must give one."""


class ScheduleColumns(Mapping):
    """Limit schedules per row: schedule key -> int64 fen array (``per_person`` first).

    A portfolio has few distinct per-person limits, so the book's defaults are held once per
    distinct limit with each row's code into them, and a key's column is built when asked
    for (a million rows would otherwise carry nine more int64 columns nobody reads). A
    sub-limit the book leaves out (:data:`INHERIT`) is its container's column; an aggregate
    nobody set is :data:`UNSET`.
    """

    def __init__(self, per_person_fen: np.ndarray, codes: np.ndarray,
                 defaults: dict[str, np.ndarray], overrides: dict[str, np.ndarray]):
        self.per_person_fen, self.codes = per_person_fen, codes
        self.defaults, self.overrides = defaults, overrides
        self.inherited = {key for key in SCHEDULE_KEYS
                          if np.count_nonzero(defaults[key] == INHERIT)}

    def __getitem__(self, key: str) -> np.ndarray:
        if key == "per_person":
            return self.per_person_fen
        column = self.defaults[key][self.codes]
        if key in self.inherited:
            column = np.where(column == INHERIT, self[CONTAINER[key]], column)
        given = self.overrides.get(key)
        if given is None:
            return column
        return np.where(np.isnan(given), column,
                        np.round(np.nan_to_num(given) * 100).astype(np.int64))

    def __iter__(self):
        return iter(("per_person",) + SCHEDULE_KEYS)

    def row(self, i: int) -> dict[str, int]:
        """Row ``i``'s schedule, key -> fen, read without building any column (a quote)."""
        return {key: int(self[key][i] if key in self.overrides or key in self.inherited
                         else self.defaults[key][self.codes[i]]) for key in self}

    def __len__(self) -> int:
        return 1 + len(SCHEDULE_KEYS)

    def yuan(self, key: str) -> np.ndarray:
        """A key's column in yuan (``fen / 100``), divided once per distinct default."""
        if key == "per_person" or key in self.overrides or key in self.inherited:
            return self[key] / 100
        return (self.defaults[key] / 100)[self.codes]


def build_schedule(book: RateBook, per_person_fen: np.ndarray,
                   overrides: dict[str, np.ndarray]) -> tuple[ScheduleColumns, list]:
    """Limit schedules for per-person limits in fen.

    Parameters
    ----------
    book : RateBook
        Supplies the default sub-limits (amounts, or ratios of the per-person limit).
    per_person_fen : ndarray of int64
        Per-person death/disability limits, fen.
    overrides : dict
        Schedule key -> float array of yuan amounts, NaN where the default applies.

    Returns
    -------
    schedule, violations
        Key -> int64 fen array (``per_person`` included, see :class:`ScheduleColumns`); and a
        list of (row mask, profile field, reason) for limits that exceed the limit they are
        part of, in some row.
    """
    # the defaults depend on the per-person limit alone, and a portfolio has few distinct
    # limits: compute them once per distinct limit
    enc = encode(np.asarray(per_person_fen, dtype=np.int64))
    codes = enc.codes
    defaults, exceeding = _defaults(book, enc.uniques.astype(np.int64))
    schedule = ScheduleColumns(per_person_fen, codes, defaults, overrides)
    violations = []
    unset = schedule["aggregate"] == UNSET
    if np.count_nonzero(unset):
        violations.append((unset, "limit_aggregate", f"is required: rate book {book.id} sets "
                           "no default aggregate limit for this policy"))
    for small, large in SCHEDULE_BOUNDS:
        field_name = "per_person_limit" if small == "per_person" else f"limit_{small}"
        if small in overrides or large in overrides or {small, large} & schedule.inherited:
            larger = schedule[large]
            exceeds = (schedule[small] > larger) & (larger >= 0)  # an unset aggregate is reported
        elif (small, large) in exceeding:
            exceeds = ((defaults[small] > defaults[large]) & (defaults[large] >= 0))[codes]
        else:
            continue
        if np.count_nonzero(exceeds):
            violations.append((exceeds, field_name,
                               f"exceeds the {large.replace('_', '-')} limit it is part of"))
    return schedule, violations


@by_identity
def _defaults_memo(book: RateBook) -> dict[bytes, tuple]:
    """The book's default schedules by distinct per-person limits, filled as limits come
    (quotes mostly repeat the floor)."""
    return {}


def _defaults(book: RateBook, distinct: np.ndarray):
    """The book's default schedule (key -> int64 fen) for each of ``distinct`` per-person
    limits, and the (smaller, larger) bounds some of them break."""
    memo = _defaults_memo(book)
    key = distinct.tobytes()
    if key not in memo:
        defaults = {"per_person": distinct}
        options = [book.limits.option(d / 100) for d in distinct.tolist()]
        for name in SCHEDULE_KEYS:
            column = np.empty(len(distinct), dtype=np.int64)
            for i, option in enumerate(options):
                rule = getattr(book.limits.schedule, name)
                if option is not None:  # the sub-limits bundled with a limit option
                    rule = option.schedule.get(name, rule)
                column[i] = _default_fen(rule, int(distinct[i]), name)
            defaults[name] = column
        # an unset or inherited default (< 0) exceeds nothing
        exceeding = {(small, large) for small, large in SCHEDULE_BOUNDS
                     if ((defaults[small] > defaults[large]) & (defaults[large] >= 0)).any()}
        if len(memo) >= 1024:
            memo.clear()
        memo[key] = defaults, exceeding
    return memo[key]


def banded_amounts(bands: Sequence[AmountBand], closed: str, values: np.ndarray) -> np.ndarray:
    """The amount (yuan) of the band each value falls in (NaN where the value is missing or
    below the first band, so that the default applies and reports it)."""
    lowers = np.array([b.lower for b in bands])
    at = np.searchsorted(lowers[1:], values, side="right" if closed == "left" else "left")
    amounts = np.array([b.amount for b in bands])[np.minimum(at, len(bands) - 1)]
    top = bands[-1].upper
    outside = np.isnan(values) | (values < lowers[0])
    if top is not None:
        outside |= (values >= top) if closed == "left" else (values > top)
    return np.where(outside, np.nan, amounts)


def _default_fen(rule: SubLimit | None, per_person_fen: int, name: str) -> int:
    """A sub-limit's default in fen for one per-person limit (fen): :data:`INHERIT` where the
    book leaves it out, :data:`UNSET` for an aggregate set by bands or not at all (the rows
    give it)."""
    if rule is None or rule.bands is not None:
        return UNSET if name == "aggregate" or rule is not None else INHERIT
    if rule.amount is not None:
        return round(rule.amount * 100)
    assert rule.ratio is not None  # one of amount, ratio and bands, checked on reading
    return int(share_of(np.array([per_person_fen]), np.array([rule.ratio]))[0])


@dataclass(frozen=True)
class WorkInjuryBenchmark:
    """Work-injury insurance benchmarks (工伤保险条例), to compare 安责险 limits with.

    Attributes
    ----------
    death_subsidy : float
        One-off work-death subsidy: ``death_multiple`` × prior-year national urban per-capita
        disposable income (art. 39), yuan.
    disability_months : tuple of float
        One-off disability subsidy in months of the worker's own wage, grades 1 to 10.
    income_year : int
        Data year of the income used; ``provisional`` when it is not the prior year.
    """

    date: dt.date
    death_subsidy: float
    death_multiple: float
    national_income: float
    income_year: int
    provisional: bool
    disability_months: tuple[float, ...]


def work_injury_benchmark(date: dt.date, *, national: NationalRules | None = None,
                          income: IncomeStatistics | None = None) -> WorkInjuryBenchmark:
    """The work-injury benchmark for an injury on ``date`` (national income of the prior year)."""
    national = national or national_rules()
    income = income or income_statistics()
    figure = _income_figure(income, "CN", date)
    rule = national.work_injury
    return WorkInjuryBenchmark(date, rule.death_multiple * figure.value, rule.death_multiple,
                               figure.value, figure.year, figure.year != date.year - 1,
                               tuple(rule.disability_months))
