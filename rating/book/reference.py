"""Reference data that is not a rate book: national rules by date, and income statistics.

They live in their own files (``tables/national.yaml``, ``tables/statistics/income.yaml``) so a
new regulation or a new year's income figure is one entry, not a new rate book.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Literal

from .model import Label, Provenance, Source
from .schema import POSITIVE, UNIT_RATIO, Constraint, NonNegative, Positive

if TYPE_CHECKING:
    from .schema import Reader


@dataclass(frozen=True, kw_only=True)
class DatedValue(Provenance):
    """A rule value in force from ``effective_from`` until the next entry's date."""

    effective_from: dt.date
    value: NonNegative


def _check_dated(reader: Reader, path: tuple, entries: tuple[DatedValue, ...]) -> None:
    for i in range(1, len(entries)):
        if entries[i].effective_from <= entries[i - 1].effective_from:
            raise reader.error(path + (i, "effective_from"),
                               "entries must be in strictly increasing date order")


def value_at(entries: tuple[DatedValue, ...], date: dt.date) -> DatedValue | None:
    """The entry in force on ``date``, or None before the first one."""
    found = None
    for entry in entries:
        if entry.effective_from <= date:
            found = entry
    return found


@dataclass(frozen=True, kw_only=True)
class WorkInjury(Provenance):
    """Work-injury insurance (工伤保险条例) benchmarks, for comparison with 安责险 limits."""

    death_multiple: Positive
    disability_months: tuple[Positive, ...]

    def _check(self, reader: Reader, path: tuple) -> None:
        Provenance._check(self, reader, path)
        if len(self.disability_months) != 10:
            raise reader.error(path + ("disability_months",), "needs 10 entries, grades 1 to 10")


@dataclass(frozen=True, kw_only=True)
class GradeThreshold:
    """The least deaths, serious injuries or direct loss (yuan) that make an accident this
    grade; any one measure reaching its threshold is enough."""

    grade: Literal["larger", "major", "especially_major"]
    deaths: Annotated[int, POSITIVE]
    serious_injuries: Annotated[int, POSITIVE]
    direct_loss: Positive


@dataclass(frozen=True, kw_only=True)
class AccidentGrades(Provenance):
    """State Council accident grades; an accident meeting no threshold is ``general``."""

    thresholds: tuple[GradeThreshold, ...]

    def _check(self, reader: Reader, path: tuple) -> None:
        Provenance._check(self, reader, path)
        grades = [t.grade for t in self.thresholds]
        if grades != ["larger", "major", "especially_major"]:
            raise reader.error(path + ("thresholds",), "give the grades larger, major, "
                               "especially_major, in that order")
        for a, b in zip(self.thresholds, self.thresholds[1:]):
            if (b.deaths <= a.deaths or b.serious_injuries <= a.serious_injuries
                    or b.direct_loss <= a.direct_loss):
                raise reader.error(path + ("thresholds",),
                                   "thresholds must rise with the grade")


@dataclass(frozen=True, kw_only=True)
class NationalRules:
    """National rules by date (``tables/national.yaml``)."""

    title: Label
    sources: dict[str, Source]
    per_person_floor: tuple[DatedValue, ...]
    commission_cap: tuple[DatedValue, ...]
    work_injury: WorkInjury
    accident_grades: AccidentGrades
    sha256: str = field(init=False, default="", compare=False)

    def _check(self, reader: Reader, path: tuple) -> None:
        cited: list[tuple[tuple[str | int, ...], Provenance]] = [
            (("work_injury",), self.work_injury),
                 (("accident_grades",), self.accident_grades)]
        for key in ("per_person_floor", "commission_cap"):
            entries = getattr(self, key)
            _check_dated(reader, path + (key,), entries)
            cited += [((key, i), entry) for i, entry in enumerate(entries)]
        for i, entry in enumerate(self.commission_cap):
            if entry.value > 1:
                raise reader.error(path + ("commission_cap", i, "value"),
                                   f"{entry.value:g} is not a share; use a number from 0 to 1")
        for where, obj in cited:
            if obj.source is not None and obj.source not in self.sources:
                raise reader.error(path + where + ("source",), f"unknown source {obj.source!r}; "
                                   "define it under 'sources'")


@dataclass(frozen=True, kw_only=True)
class IncomeValue(Provenance):
    """One year's urban per-capita disposable income (yuan)."""

    year: int
    value: Positive
    confidence: Literal["high", "medium", "low"] = "high"


@dataclass(frozen=True, kw_only=True)
class IncomeSeries:
    label: Label
    values: tuple[IncomeValue, ...]

    def _check(self, reader: Reader, path: tuple) -> None:
        years = [v.year for v in self.values]
        if years != sorted(set(years)):
            raise reader.error(path + ("values",), "years must be unique and increasing")


@dataclass(frozen=True, kw_only=True)
class ProjectionLimit(Provenance):
    """How far a rating date may run ahead of the income statistics: the income year a date
    needs (its year minus one) may be at most ``years`` after the figure used (the latest
    one in or before that year). Beyond it a floor would rest on figures too old to stand
    for the year, and the date is refused rather than flagged provisional."""

    years: Annotated[int, Constraint("a whole number of years >= 0", low=0)]


@dataclass(frozen=True, kw_only=True)
class IncomeStatistics:
    """Urban per-capita disposable income by region and year
    (``tables/statistics/income.yaml``). ``projection_limit``: see :class:`ProjectionLimit`
    (none: no limit)."""

    title: Label
    sources: dict[str, Source]
    series: dict[str, IncomeSeries]
    projection_limit: ProjectionLimit | None = None
    sha256: str = field(init=False, default="", compare=False)

    def _check(self, reader: Reader, path: tuple) -> None:
        limit = self.projection_limit
        if limit is not None and limit.source is not None and limit.source not in self.sources:
            raise reader.error(path + ("projection_limit", "source"),
                               f"unknown source {limit.source!r}")
        for region, series in self.series.items():
            for i, v in enumerate(series.values):
                if v.source is not None and v.source not in self.sources:
                    raise reader.error(path + ("series", region, "values", i, "source"),
                                       f"unknown source {v.source!r}")

    def lookup(self, region: str, year: int) -> IncomeValue | None:
        """The figure for ``year``, or else the latest earlier one; None if there is none."""
        series = self.series.get(region)
        if series is None:
            return None
        found = None
        for v in series.values:
            if v.year <= year:
                found = v
        return found


@dataclass(frozen=True, kw_only=True)
class InjuryScale(Provenance):
    """Payout ratios of the per-person limit for injury grades 1 (most severe) to 10
    (``tables/scales/*.yaml``)."""

    id: str
    title: Label
    sources: dict[str, Source]
    ratios: tuple[Annotated[float, UNIT_RATIO], ...]
    sha256: str = field(init=False, default="", compare=False)

    def _check(self, reader: Reader, path: tuple) -> None:
        Provenance._check(self, reader, path)
        if len(self.ratios) != 10:
            raise reader.error(path + ("ratios",), f"needs 10 ratios, grades 1 to 10; got "
                               f"{len(self.ratios)}")
        for g in range(1, 10):
            if self.ratios[g] > self.ratios[g - 1]:
                raise reader.error(path + ("ratios", g), f"grade {g + 1} pays more than grade "
                                   f"{g}; ratios must not increase with the grade")
        if self.source is not None and self.source not in self.sources:
            raise reader.error(path + ("source",), f"unknown source {self.source!r}")
