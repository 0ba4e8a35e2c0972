"""A scenario as data: what changes in the rate book, the statistics and the portfolio.

A scenario is a small mapping (a dict, or YAML) read strictly by the same type-hint-driven
reader as rate books, so an unknown key, a wrong type or a value out of range is an error
naming the file, line and key path. Everything that needs a book to check (does the sector
exist, is there such a level, is the float floor below the cap) is checked when the scenario
is applied, against the book it is applied to.

Example (YAML)::

    name: construction_up
    description: construction base rates +10%, float cap 1.4
    book:
      base_rate: {construction: 1.10}           # scale: all, a sector or sector.subsector
      minimum_premium: {construction: 2500}     # set, yuan
      factors:
        - {table: tiers.scale, level: large, factor: 0.9}
        - {table: floating.accidents.deaths, band: 1, factor: 1.15}  # a band by its lower bound
      float_floor: 0.7
      float_cap: 1.4
      prevention_share: 0.25
    statistics:
      income_growth: {first_year: 2024, rates: [0.05, 0.045, 0.04]}
    portfolio:
      years_forward: 1
      exposure_growth: {headcount: 0.05}
      record_shift:
        - {field: accidents_general, add: 1, share: 0.1, seed: 7}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from ..book.fields import EXPOSURE_FIELDS
from ..book.schema import FACTOR, MONEY, POSITIVE, SHARE, Constraint, Reader, as_data
from ..book.yamlsafe import Lines, load_yaml_file
from ..errors import BookError

GROWTH = Constraint("a growth rate above -1 and at most 10 (0.05 is +5%)", low=-1.0,
                    low_open=True, high=10.0)
Growth = Annotated[float, GROWTH]
BASELINE = "baseline"
"""The name of the unchanged book in results; no scenario may take it."""

RecordField = Literal["accidents_general", "accidents_larger", "accidents_major",
                      "accidents_especially_major", "deaths", "major_hazards_unrectified",
                      "claim_free_years"]


@dataclass(frozen=True, kw_only=True)
class FactorChange:
    """Set one factor of a table: a level (categorical tables) or a band (banded tables,
    named by its ``lower`` bound) of ``tiers.<name>``, ``floating.<group>.<name>`` or
    ``limit_factors``; or the factor of ``loadings.<name>`` (no level or band)."""

    table: str
    level: str | None = None
    band: Annotated[float, Constraint("a band's lower bound (>= 0)", low=0.0)] | None = None
    factor: Annotated[float, FACTOR]

    def _check(self, reader: Reader, path: tuple) -> None:
        if self.level is not None and self.band is not None:
            raise reader.error(path, "give 'level' or 'band', not both")


@dataclass(frozen=True, kw_only=True)
class BookChanges:
    """Changes to a rate book. Keys of ``base_rate`` and ``minimum_premium`` are ``all``, a
    sector, or ``sector.subsector``; each sub-sector may be addressed once per mapping.

    ``base_rate``: multiply the base rate by a scale (1.1 = +10%). ``minimum_premium``: set
    the minimum premium (yuan). ``factors``: set single factors. ``float_floor`` /
    ``float_cap``: the bounds of the combined floating factor. ``prevention_share``: the
    minimum prevention-fund share of premium; policies that state a lower share are raised
    to it."""

    base_rate: dict[str, Annotated[float, POSITIVE]] = field(default_factory=dict)
    minimum_premium: dict[str, Annotated[float, MONEY]] = field(default_factory=dict)
    factors: tuple[FactorChange, ...] = ()
    float_floor: Annotated[float, FACTOR] | None = None
    float_cap: Annotated[float, FACTOR] | None = None
    prevention_share: Annotated[float, SHARE] | None = None

    def _check(self, reader: Reader, path: tuple) -> None:
        if (self.float_floor is not None and self.float_cap is not None
                and self.float_floor > self.float_cap):
            raise reader.error(path + ("float_floor",), f"float floor {self.float_floor:g} is "
                               f"above the float cap {self.float_cap:g}")

    @property
    def empty(self) -> bool:
        return not (self.base_rate or self.minimum_premium or self.factors) and all(
            v is None for v in (self.float_floor, self.float_cap, self.prevention_share))


@dataclass(frozen=True, kw_only=True)
class IncomeGrowth:
    """Year-on-year growth of urban per-capita disposable income from ``first_year`` on:
    ``rates[i]`` is the growth of year ``first_year + i`` over the year before. Applied to
    the years after each region's last published figure, which the path must reach
    (no gap)."""

    first_year: Annotated[int, Constraint("a year from 1950 to 2100", low=1950, high=2100)]
    rates: tuple[Growth, ...]

    def _check(self, reader: Reader, path: tuple) -> None:
        if not self.rates:
            raise reader.error(path + ("rates",), "give at least one rate")


@dataclass(frozen=True, kw_only=True)
class StatisticsChanges:
    """Changes to the statistics that set the per-person floors. ``regions``: the income
    series to project (default: those the rated books' floors use, or every series when the
    statistics are changed without a book)."""

    income_growth: IncomeGrowth
    regions: tuple[str, ...] | None = None

    def _check(self, reader: Reader, path: tuple) -> None:
        if self.regions is not None and not self.regions:
            raise reader.error(path + ("regions",), "list at least one region, or leave "
                               "'regions' out for the regions of the books rated")


@dataclass(frozen=True, kw_only=True)
class RecordShift:
    """Add ``add`` (a whole number; negative to remove) to a safety-record count of a
    ``share`` of the policies, drawn with ``seed``; counts stay >= 0. When ``add`` is
    negative only policies with a positive count are drawn."""

    field: RecordField
    add: int
    share: Annotated[float, Constraint("a share in (0, 1]", low=0.0, low_open=True, high=1.0)]
    seed: int = 0

    def _check(self, reader: Reader, path: tuple) -> None:
        if self.add == 0:
            raise reader.error(path + ("add",), "must not be 0 (a shift that changes nothing)")


@dataclass(frozen=True, kw_only=True)
class PortfolioChanges:
    """Changes to the portfolio rated.

    ``years_forward``: move every policy period that many years on (renewing the book as it
    is; 29 February becomes 28 February). ``exposure_growth``: exposure field -> growth rate
    (persons, vehicles and vessels round half-up to whole units, money to the fen).
    ``record_shift``: shifts of the safety record. ``sectors``: limit the changes to these
    sectors (default all)."""

    years_forward: Annotated[int, Constraint("a whole number of years >= 0", low=0)] = 0
    exposure_growth: dict[str, Growth] = field(default_factory=dict)
    record_shift: tuple[RecordShift, ...] = ()
    sectors: tuple[str, ...] | None = None

    def _check(self, reader: Reader, path: tuple) -> None:
        for name in self.exposure_growth:
            if name not in EXPOSURE_FIELDS.values():
                raise reader.error(path + ("exposure_growth", name), f"{name!r} is not an "
                                   "exposure field; use one of: "
                                   + ", ".join(EXPOSURE_FIELDS.values()))
        if self.sectors is not None and not self.sectors:
            raise reader.error(path + ("sectors",), "list at least one sector, or leave "
                               "'sectors' out to change every policy")


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One named scenario. See the module docstring for the format.

    Attributes
    ----------
    name : str
        Identifies the scenario in results (``baseline`` is reserved).
    description : str, optional
    book, statistics, portfolio : optional
        The changes; an absent part changes nothing.
    """

    name: str
    description: str | None = None
    book: BookChanges = field(default_factory=BookChanges)
    statistics: StatisticsChanges | None = None
    portfolio: PortfolioChanges | None = None
    origin: Origin | None = field(init=False, default=None, compare=False, repr=False)

    def _check(self, reader: Reader, path: tuple) -> None:
        if self.name == BASELINE:
            raise reader.error(path + ("name",), f"{BASELINE!r} names the unchanged book in "
                               "results; choose another name")

    def error(self, path: tuple, reason: str) -> BookError:
        """An error about this scenario's ``path`` (keys inside the scenario), with the file
        and line it came from when it was read from YAML."""
        origin = self.origin or Origin(f"scenario {self.name!r}", {}, ())
        return origin.reader.error(origin.prefix + path, reason)


@dataclass(frozen=True)
class Origin:
    """Where a scenario was read from, so errors found later can name the line."""

    file: str | None
    lines: Lines
    prefix: tuple

    @property
    def reader(self) -> Reader:
        return Reader(self.lines, self.file)


def scenario(data: Scenario | dict[str, Any]) -> Scenario:
    """Read one scenario from a mapping (see the module docstring).

    Raises
    ------
    BookError
        Naming the key path and what would be valid.
    """
    if isinstance(data, Scenario):
        if data.origin is not None:  # read and checked already
            return data
        data = as_data(data)  # built in code: check it like any other
    return _read(data, {}, None, ())


def load_scenarios(source: str | Path | list | dict) -> list[Scenario]:
    """Read scenarios from a YAML file, or from a list of mappings.

    A file holds either one scenario (a mapping with ``name``) or ``scenarios:`` followed by
    a list of them. Names must be unique.

    Raises
    ------
    BookError
        Naming the file, line and key path of the first problem.
    """
    if isinstance(source, (str, Path)):
        data, lines = load_yaml_file(source)
        file = str(source)
    else:
        data, lines, file = source, {}, None
    reader = Reader(lines, file)
    prefix: tuple[str, ...] | None
    if isinstance(data, dict) and set(data) == {"scenarios"}:
        items, prefix = data["scenarios"], ("scenarios",)
    elif isinstance(data, dict):
        items, prefix = [data], None
    else:
        items, prefix = data, ()
    if not isinstance(items, list) or not items:
        raise reader.error(prefix or (), "expected one scenario or a non-empty list of them")
    out = []
    for i, item in enumerate(items):
        out.append(_read(item, lines, file, () if prefix is None else prefix + (i,)))
    check_names(out, reader, prefix)
    return out


def check_names(scenarios: list[Scenario], reader: Reader | None = None,
                prefix: tuple | None = ()) -> None:
    """Scenario names must be unique."""
    seen: set[str] = set()
    for i, s in enumerate(scenarios):
        where = () if prefix is None else prefix + (i, "name")
        if s.name in seen:
            raise (reader or Reader({}, None)).error(where, f"scenario name {s.name!r} is used "
                                                     "twice; give each scenario its own name")
        seen.add(s.name)


def _read(data: Any, lines: Lines, file: str | None, prefix: tuple) -> Scenario:
    reader = Reader(lines, file)
    if not isinstance(data, dict):
        raise reader.error(prefix, f"expected a scenario mapping with a 'name', got "
                           f"{type(data).__name__}")
    name = data.get("name")
    label = file or (f"scenario {name!r}" if isinstance(name, str) else "scenario")
    reader = Reader(lines, label)
    out = reader.read(Scenario, data, prefix)
    object.__setattr__(out, "origin", Origin(label, lines, prefix))
    return out

