"""The rate-book schema as frozen dataclasses.

Field names are the YAML keys (``tables/README.md`` documents each one); type hints carry the
constraints that :mod:`rating.book.schema` enforces while reading. ``_check`` methods hold the
rules that span several fields of one object; cross-references are checked in
:func:`check_references` once the whole book is read.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Literal, Protocol

from .fields import (
    ADVERSE,
    CLEAN_RECORD,
    FAVOURABLE,
    WORST_GRADE_LEVELS,
    grid_variable_kind,
    variable_kind,
)
from .schema import (
    MONEY,
    POSITIVE,
    UNIT_RATIO,
    Constraint,
    Factor,
    Money,
    NonNegative,
    Positive,
    Rate,
    Share,
)

if TYPE_CHECKING:
    from .schema import Reader

Basis = Literal["persons", "contract_value", "vehicles", "vessels", "capacity_tonnes",
                "payroll", "revenue"]
MONEY_BASES = frozenset({"contract_value", "payroll", "revenue"})
"""Bases whose base rate is in ‰ (per mille) of a money amount; the others are yuan per unit."""

JURISDICTION = re.compile(r"^CN(-[A-Z]{2}(-[A-Z]{2,3})?)?$")


@dataclass(frozen=True, kw_only=True)
class Label:
    """A bilingual label."""

    zh: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True, kw_only=True)
class Source:
    """A document a number comes from."""

    title: str
    issuer: str | None = None
    date: dt.date | None = None
    url: str | None = None
    confidence: Literal["high", "medium", "low"] | None = None
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class Provenance:
    """Where the numbers of an object come from: a ``source`` (with ``article``) or
    ``illustrative: true``; exactly one of the two."""

    source: str | None = None
    article: str | None = None
    illustrative: bool = False
    note: str | None = None

    def _check(self, reader: Reader, path: tuple) -> None:
        if (self.source is None) == (not self.illustrative):
            raise reader.error(path, "give either 'source' (a key of the book's 'sources') or "
                                     "'illustrative: true', not both and not neither")
        if self.article is not None and self.source is None:
            raise reader.error(path + ("article",), "'article' needs a 'source'")


@dataclass(frozen=True, kw_only=True)
class Level:
    """One level of a categorical factor table."""

    label: Label
    factor: Factor


@dataclass(frozen=True, kw_only=True)
class Band:
    """One band of a banded factor table: ``lower`` to ``upper`` (None = no upper end)."""

    lower: NonNegative
    upper: NonNegative | None = None
    factor: Factor
    label: Label | None = None


@dataclass(frozen=True, kw_only=True)
class FactorTable(Provenance):
    """A lookup from one profile variable to a factor.

    Exactly one of ``levels`` (categorical) and ``bands`` (numeric) is given. Bands must be
    contiguous and increasing; ``closed`` says which end of a band belongs to it: ``left`` is
    [lower, upper), ``right`` is (lower, upper]. ``sectors`` scopes the table to sectors,
    ``subsectors`` (``sector.subsector`` keys) to sub-sectors; both may be given.
    """

    label: Label
    variable: str
    sectors: tuple[str, ...] | None = None
    subsectors: tuple[str, ...] | None = None
    levels: dict[str, Level] | None = None
    default: str | None = None
    bands: tuple[Band, ...] | None = None
    closed: Literal["left", "right"] | None = None

    def _check(self, reader: Reader, path: tuple) -> None:
        Provenance._check(self, reader, path)
        kind = variable_kind(self.variable)
        if kind is None:
            raise reader.error(path + ("variable",), f"a table cannot key on {self.variable!r}; "
                               "see tables/README.md for the fields a table may key on")
        if self.sectors is not None and not self.sectors:
            raise reader.error(path + ("sectors",), "list at least one sector, or leave "
                               "'sectors' out to apply the table to every sector")
        if (self.levels is None) == (self.bands is None):
            raise reader.error(path, "give either 'levels' (categorical) or 'bands' (numeric)")
        if self.levels is not None:
            if kind not in ("category", "flag"):
                raise reader.error(path + ("levels",), f"{self.variable!r} is numeric; use 'bands'")
            if not self.levels:
                raise reader.error(path + ("levels",), "at least one level is required")
            if self.closed is not None:
                raise reader.error(path + ("closed",), "'closed' applies to 'bands' only")
            check_keys(reader, path + ("levels",), self.levels)
            if kind == "flag" and set(self.levels) != {"true", "false"}:
                raise reader.error(path + ("levels",), f"{self.variable!r} is true/false; "
                                                       "give levels 'true' and 'false'")
            if self.default is not None and self.default not in self.levels:
                raise reader.error(path + ("default",), f"{self.default!r} is not a level; "
                                   "use one of: " + ", ".join(self.levels))
            if self.variable == "worst_accident_grade":
                missing = [g for g in WORST_GRADE_LEVELS if g not in self.levels]
                if missing or len(self.levels) != len(WORST_GRADE_LEVELS):
                    raise reader.error(path + ("levels",), "worst_accident_grade needs exactly the "
                                       "levels " + ", ".join(WORST_GRADE_LEVELS))
        else:
            if kind not in ("number", "count"):
                raise reader.error(path + ("bands",),
                                   f"{self.variable!r} is categorical; use 'levels'")
            if self.default is not None:
                raise reader.error(path + ("default",), "'default' applies to 'levels' only")
            bands = self.bands
            assert bands is not None  # exactly one of levels and bands, checked above
            check_bands(reader, path + ("bands",), bands)
            if self.variable in CLEAN_RECORD and bands[0].lower != 0:
                raise reader.error(path + ("bands", 0, "lower"), f"a profile without "
                                   f"{self.variable!r} counts as 0, so the bands must start at 0")
        if self.variable in ADVERSE:
            factors = self.ordered_factors()
            for i in range(1, len(factors)):
                if factors[i] < factors[i - 1]:
                    raise reader.error(path, f"factors for {self.variable!r} must not decrease as "
                                       "the record worsens (a worse record never lowers a premium)")
        if self.variable in FAVOURABLE:
            factors = self.ordered_factors()
            for i in range(1, len(factors)):
                if factors[i] > factors[i - 1]:
                    raise reader.error(path, f"factors for {self.variable!r} must not increase as "
                                       "the record improves (a better record never raises a "
                                       "premium)")

    def ordered_factors(self) -> list[float]:
        """Factors in the variable's natural order (bands; grades from none to worst)."""
        if self.bands is not None:
            return [b.factor for b in self.bands]
        levels = self.levels
        assert levels is not None  # a table has levels where it has no bands
        if self.variable == "worst_accident_grade":
            return [levels[g].factor for g in WORST_GRADE_LEVELS]
        return [lvl.factor for lvl in levels.values()]


KEY = re.compile(r"^[^\s;,]+$")


def check_keys(reader: Reader, path: tuple, mapping: dict) -> None:
    """Keys that profiles must match exactly: no blanks, ';' or ','."""
    for key in mapping:
        if not KEY.match(key):
            raise reader.error(path + (key,), f"key {key!r} cannot be matched by a profile; "
                               "use no spaces, ';' or ','")


class Bounded(Protocol):
    """Anything with a band's ends: ``lower`` and ``upper`` (None = open)."""

    @property
    def lower(self) -> float: ...
    @property
    def upper(self) -> float | None: ...


def check_bands(reader: Reader, path: tuple, bands: Sequence[Bounded]) -> None:
    """Bands must start somewhere, be contiguous, strictly increasing and end open or closed."""
    if not bands:
        raise reader.error(path, "at least one band is required")
    for i, band in enumerate(bands):
        if band.upper is not None and band.upper <= band.lower:
            raise reader.error(path + (i, "upper"),
                               f"upper {band.upper:g} must be greater than lower {band.lower:g}")
        if i:
            prev = bands[i - 1]
            if prev.upper is None:
                raise reader.error(path + (i - 1, "upper"),
                                   "only the last band may leave 'upper' open")
            if band.lower < prev.upper:
                raise reader.error(path + (i, "lower"), f"overlaps the band before it: lower "
                                   f"{band.lower:g} < previous upper {prev.upper:g}")
            if band.lower > prev.upper:
                raise reader.error(path + (i, "lower"), f"gap after the band before it: lower "
                                   f"{band.lower:g} > previous upper {prev.upper:g}; "
                                   "bands must be contiguous")


@dataclass(frozen=True, kw_only=True)
class GridBand:
    """A band of a rate grid's numeric key: ``lower`` to ``upper`` (None = no upper end)."""

    lower: NonNegative
    upper: NonNegative | None = None
    label: Label | None = None


@dataclass(frozen=True, kw_only=True)
class GridKey:
    """One key of a rate grid: a profile variable looked up in ``bands`` (numbers; ``closed``
    as for factor tables) or matched exactly against ``values`` (amounts such as limit options,
    or level keys). ``same_as`` rates a level at another level's cells (a level the table
    names but gives no column of its own)."""

    variable: str
    bands: tuple[GridBand, ...] | None = None
    closed: Literal["left", "right"] = "left"
    values: tuple[float | str, ...] | None = None
    same_as: dict[str, str] = field(default_factory=dict)
    default: float | str | None = None

    def _check(self, reader: Reader, path: tuple) -> None:
        if grid_variable_kind(self.variable) is None:
            raise reader.error(path + ("variable",), f"a grid cannot key on {self.variable!r}; "
                               "see tables/README.md for the fields a table may key on")
        if (self.bands is None) == (self.values is None):
            raise reader.error(path, "give either 'bands' (numeric ranges) or 'values' (exact "
                               "values), not both and not neither")
        if self.bands is not None:
            check_bands(reader, path + ("bands",), self.bands)
        if self.values is not None:
            if len(set(self.values)) != len(self.values):
                raise reader.error(path + ("values",), "each value at most once")
            for level, target in self.same_as.items():
                if target not in self.values:
                    raise reader.error(path + ("same_as", level), f"{target!r} is not one of "
                                       "the key's values")
        elif self.same_as:
            raise reader.error(path + ("same_as",), "'same_as' applies to 'values' only")
        if self.default is not None and (self.values is None or self.default not in self.values):
            raise reader.error(path + ("default",), "the default must be one of the 'values'")

    def positions(self) -> list[float | str]:
        """The key's positions in cell coordinates: band lower ends, or the values."""
        if self.bands is not None:
            return [b.lower for b in self.bands]
        assert self.values is not None  # one of bands and values, checked on reading
        return list(self.values)


@dataclass(frozen=True, kw_only=True)
class GridCell:
    """One rate of a grid: ``at`` gives one position per key, in the keys' order (a band by
    its lower end, or a value)."""

    at: tuple[float | str, ...]
    rate: Rate


@dataclass(frozen=True, kw_only=True)
class RateGrid(Provenance):
    """A base rate looked up on several keys at once (e.g. project cost band × per-person
    limit × aggregate limit × class of works); every combination of the keys' positions has
    exactly one cell."""

    label: Label
    keys: tuple[GridKey, ...]
    cells: tuple[GridCell, ...]

    def _check(self, reader: Reader, path: tuple) -> None:
        Provenance._check(self, reader, path)
        if not self.keys:
            raise reader.error(path + ("keys",), "at least one key is required")
        axes = [k.positions() for k in self.keys]
        seen: set[tuple] = set()
        for i, cell in enumerate(self.cells):
            where = path + ("cells", i, "at")
            if len(cell.at) != len(axes):
                raise reader.error(where, f"needs {len(axes)} positions, one per key "
                                   f"({', '.join(k.variable for k in self.keys)})")
            for j, (position, axis) in enumerate(zip(cell.at, axes)):
                if position not in axis:
                    raise reader.error(where + (j,), f"{position!r} is not a position of key "
                                       f"{self.keys[j].variable}; use one of: "
                                       + ", ".join(map(str, axis)))
            if tuple(cell.at) in seen:
                raise reader.error(where, "this combination has a cell already")
            seen.add(tuple(cell.at))
        expected = math.prod(len(a) for a in axes)
        if len(seen) != expected:
            raise reader.error(path + ("cells",), f"{len(seen)} cells for {expected} "
                               "combinations of the keys; give every combination once")


@dataclass(frozen=True, kw_only=True)
class DiscountInput(Provenance):
    """A discount the profile states (``risk_discount``, a share of the premium), applied as
    ``× (1 − discount)``, at most ``max``: for a table the source names but whose values
    were not retrieved (Shandong 2018's risk-management adjustment)."""

    label: Label
    max: Share


@dataclass(frozen=True, kw_only=True)
class Subsector(Provenance):
    """A sub-sector: its exposure basis and base rate.

    ``base_rate`` is yuan per unit of exposure per year (persons, vehicles, vessels, tonnes),
    or ‰ of the amount for money bases (contract value, payroll, revenue). A ``rate_grid``
    gives the base rate instead, looked up per profile.
    """

    label: Label
    basis: Basis
    base_rate: Rate | None = None
    rate_grid: RateGrid | None = None
    discount: DiscountInput | None = None
    minimum_premium: Money = 0.0
    term: Literal["annual", "project"] = "annual"

    def _check(self, reader: Reader, path: tuple) -> None:
        Provenance._check(self, reader, path)
        if (self.base_rate is None) == (self.rate_grid is None):
            raise reader.error(path, "give either 'base_rate' or 'rate_grid', not both and "
                               "not neither")
        if self.term == "project" and self.basis not in MONEY_BASES:
            raise reader.error(path + ("term",), "a project term needs a money basis "
                               "(contract_value), since the premium covers the whole project")

    @property
    def per_unit(self) -> float:
        """Divisor that turns ``base_rate`` into yuan per unit of exposure."""
        return 1000.0 if self.basis in MONEY_BASES else 1.0


@dataclass(frozen=True, kw_only=True)
class Sector:
    """A statutory or voluntary sector."""

    label: Label
    mandatory: bool
    supervisor: Label | None = None
    subsectors: dict[str, Subsector]

    def _check(self, reader: Reader, path: tuple) -> None:
        if not self.subsectors:
            raise reader.error(path + ("subsectors",), "at least one sub-sector is required")
        check_keys(reader, path + ("subsectors",), self.subsectors)


@dataclass(frozen=True, kw_only=True)
class FloatGroup:
    """Floating factors combined by one rule: ``product``; ``additive`` (1 + sum of
    (factor - 1)); ``highest`` (the greatest factor only); ``lowest`` (the smallest factor only,
    e.g. "discounts are not cumulative, take the largest")."""

    label: Label
    rule: Literal["product", "additive", "highest", "lowest"]
    factors: dict[str, FactorTable]

    def _check(self, reader: Reader, path: tuple) -> None:
        if not self.factors:
            raise reader.error(path + ("factors",), "at least one factor is required")


@dataclass(frozen=True, kw_only=True)
class Floating(Provenance):
    """Floating rates (浮动费率): groups multiplied (or added) together, then bounded."""

    floor: Factor
    cap: Factor
    combine: Literal["product", "additive"] = "product"
    groups: dict[str, FloatGroup]

    def _check(self, reader: Reader, path: tuple) -> None:
        Provenance._check(self, reader, path)
        if self.floor > self.cap:
            raise reader.error(path + ("floor",),
                               f"floor {self.floor:g} is above cap {self.cap:g}")
        if not self.floor <= 1.0 <= self.cap:
            raise reader.error(path, "the bounds must include 1 (a clean record is not floated)")
        if not self.groups:
            raise reader.error(path + ("groups",), "at least one group is required")


NO_FLOATING = Floating(floor=1.0, cap=1.0, groups={}, illustrative=True,
                       note="no floating rates: the floating factor is 1")
"""The floating rules of a book without any."""


@dataclass(frozen=True, kw_only=True)
class LimitFactors(Provenance):
    """Premium relativity for the chosen per-person limit, banded on the limit (yuan).

    Factors must not decrease with the limit."""

    label: Label
    bands: tuple[Band, ...]
    closed: Literal["left", "right"] = "left"

    def _check(self, reader: Reader, path: tuple) -> None:
        Provenance._check(self, reader, path)
        check_bands(reader, path + ("bands",), self.bands)
        for i in range(1, len(self.bands)):
            if self.bands[i].factor < self.bands[i - 1].factor:
                raise reader.error(path + ("bands", i, "factor"),
                                   "limit factors must not decrease as the limit rises")


@dataclass(frozen=True, kw_only=True)
class Loading(Provenance):
    """A coverage extension or surcharge chosen in the profile's ``extensions``."""

    label: Label
    factor: Factor
    sectors: tuple[str, ...] | None = None

    def _check(self, reader: Reader, path: tuple) -> None:
        Provenance._check(self, reader, path)
        if self.sectors is not None and not self.sectors:
            raise reader.error(path + ("sectors",), "list at least one sector, or leave "
                               "'sectors' out to offer the loading in every sector")


@dataclass(frozen=True, kw_only=True)
class Term(Provenance):
    """Term rules. Annual sub-sectors run at most ``max_months``; shorter (seasonal) policies
    pay ``short_term_scale[m - 1]`` of the annual premium for m months (a started month counts
    whole); a book without a scale (its source gives none) rates full terms only. Project
    sub-sectors pay one premium for the whole project, whatever its length, and
    ``free_extension_days`` is how long the cover runs on past the planned end at no extra
    premium (Shandong 2018: 180 days)."""

    max_months: Annotated[int, POSITIVE] = 12
    short_term_scale: tuple[Factor, ...] | None = None
    free_extension_days: Annotated[int, Constraint("a whole number of days >= 0", low=0)] = 0

    def _check(self, reader: Reader, path: tuple) -> None:
        Provenance._check(self, reader, path)
        scale = self.short_term_scale
        if scale is None:
            return
        if len(scale) != self.max_months:
            raise reader.error(path + ("short_term_scale",),
                               f"needs {self.max_months} entries (one per month), got {len(scale)}")
        if any(b < a for a, b in zip(scale, scale[1:])) or scale[-1] != 1.0:
            raise reader.error(path + ("short_term_scale",),
                               "must not decrease and must end at 1 (a full term pays in full)")


@dataclass(frozen=True, kw_only=True)
class AmountBand:
    """A band of a banded sub-limit: ``lower`` to ``upper`` of the variable, and the limit."""

    lower: NonNegative
    upper: NonNegative | None = None
    amount: Money


@dataclass(frozen=True, kw_only=True)
class SubLimit:
    """A default limit: a fixed ``amount`` (yuan), a ``ratio`` of the per-person
    death/disability limit, or an amount by ``bands`` of a profile ``variable`` (Shandong
    2018: the aggregate limit goes with the project-cost band); exactly one of the three."""

    amount: Annotated[float, MONEY] | None = None
    ratio: Factor | None = None
    variable: str | None = None
    bands: tuple[AmountBand, ...] | None = None
    closed: Literal["left", "right"] = "left"

    def _check(self, reader: Reader, path: tuple) -> None:
        given = [k for k in ("amount", "ratio", "bands") if getattr(self, k) is not None]
        if len(given) != 1:
            raise reader.error(path, "give one of 'amount' (yuan), 'ratio' (of the per-person "
                                     "limit) or 'bands' (amounts by a variable)")
        if (self.bands is None) != (self.variable is None):
            raise reader.error(path, "'variable' and 'bands' go together")
        if self.bands is not None:
            if variable_kind(self.variable or "") not in ("number", "count"):
                raise reader.error(path + ("variable",), f"{self.variable!r} is not a numeric "
                                   "profile field")
            check_bands(reader, path + ("bands",), self.bands)


SCHEDULE_KEYS = ("medical_per_person", "third_party_per_person", "third_party_property",
                 "rescue", "medical_aid", "appraisal", "legal", "per_accident", "aggregate")

SCHEDULE_BOUNDS = (
    ("medical_per_person", "per_person"),
    ("per_person", "per_accident"),
    ("third_party_per_person", "per_accident"),
    ("third_party_property", "per_accident"),
    ("rescue", "per_accident"),
    ("medical_aid", "per_accident"),
    ("appraisal", "per_accident"),
    ("legal", "per_accident"),
    ("per_accident", "aggregate"),
)
"""(smaller, larger): each limit may not exceed the one it is part of."""


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """Default limit schedule of a policy, beside the per-person death/disability limit.

    Per person: ``medical_per_person`` (employees' and third parties' medical costs),
    ``third_party_per_person`` (third-party death/disability). Per accident:
    ``third_party_property``, ``rescue`` (抢险救援), ``medical_aid`` (医疗救护), ``appraisal``
    (事故鉴定), ``legal`` (法律诉讼), and ``per_accident`` for everything together. Per policy
    year: ``aggregate``.

    A key left out is no separate limit: it is bounded only by the limit it is part of
    (``SCHEDULE_BOUNDS``). A book without an ``aggregate`` needs one in each profile
    (``limit_aggregate``)."""

    medical_per_person: SubLimit | None = None
    third_party_per_person: SubLimit | None = None
    third_party_property: SubLimit | None = None
    rescue: SubLimit | None = None
    medical_aid: SubLimit | None = None
    appraisal: SubLimit | None = None
    legal: SubLimit | None = None
    per_accident: SubLimit | None = None
    aggregate: SubLimit | None = None

    def _check(self, reader: Reader, path: tuple) -> None:
        per_person = SubLimit(ratio=1.0)
        for small, large in SCHEDULE_BOUNDS:
            a = per_person if small == "per_person" else getattr(self, small)
            b = getattr(self, large) if large != "per_person" else per_person
            if a is None or b is None:
                continue
            for kind in ("ratio", "amount"):
                x, y = getattr(a, kind), getattr(b, kind)
                if x is not None and y is not None and x > y:
                    raise reader.error(path + (small, kind) if small != "per_person"
                                       else path + (large, kind),
                                       f"{small} ({x:g}) would exceed {large} ({y:g}), the "
                                       "limit it is part of")


@dataclass(frozen=True, kw_only=True)
class LimitOption:
    """A per-person death/disability limit the book offers, with the sub-limits that come
    with it (Hunan: 400,000 with 40,000 accident medical)."""

    per_person: Money
    label: Label | None = None
    schedule: dict[str, SubLimit] = field(default_factory=dict)

    def _check(self, reader: Reader, path: tuple) -> None:
        for key in self.schedule:
            if key not in SCHEDULE_KEYS:
                raise reader.error(path + ("schedule", key), f"{key!r} is not a sub-limit; "
                                   "use one of: " + ", ".join(SCHEDULE_KEYS))


@dataclass(frozen=True, kw_only=True)
class LimitRules(Provenance):
    """Limits: the local per-person death/disability floor
    ``max(national floor, income_multiple × prior-year urban income of income_region,
    fixed_floor)`` rounded up to a multiple of ``round_up_to`` yuan; the injury-grade scale
    (a file in ``tables/scales``) and the default schedule of sub-limits."""

    income_region: str | None = None
    income_multiple: Annotated[float, POSITIVE] | None = None
    fixed_floor: Annotated[float, MONEY] | None = None
    round_up_to: Positive = 1.0
    injury_scale: str | None = None
    schedule: Schedule = field(default_factory=Schedule)
    options: tuple[LimitOption, ...] | None = None

    def _check(self, reader: Reader, path: tuple) -> None:
        Provenance._check(self, reader, path)
        if (self.income_region is None) != (self.income_multiple is None):
            raise reader.error(path, "'income_region' and 'income_multiple' go together")
        if self.options is not None:
            amounts = [o.per_person for o in self.options]
            if not amounts:
                raise reader.error(path + ("options",), "list at least one option, or leave "
                                   "'options' out to allow any per-person limit")
            if amounts != sorted(set(amounts)):
                raise reader.error(path + ("options",), "options must rise, each per-person "
                                   "limit once")

    def option(self, per_person: float) -> LimitOption | None:
        """The option of a per-person limit (yuan), if the book lists options."""
        for o in self.options or ():
            if o.per_person == per_person:
                return o
        return None


@dataclass(frozen=True, kw_only=True)
class ClaimsRules(Provenance):
    """Claim payment tracks (厦应急规〔2022〕2号 二(四)).

    ``quick_payment_max``: an accident of grade ``general`` whose payout is at most this
    (yuan) and whose liability is clear is paid at once (小额快付). ``advance_share``: for
    accidents of the ``advance_grades``, this share of the losses already determined is paid
    in advance (大额预付). Rescue and medical costs are advanced at once on every other
    accident (紧急费用垫付)."""

    quick_payment_max: Money
    advance_share: Annotated[float, UNIT_RATIO]
    advance_grades: tuple[Literal["general", "larger", "major", "especially_major"], ...]

    def _check(self, reader: Reader, path: tuple) -> None:
        Provenance._check(self, reader, path)
        if len(set(self.advance_grades)) != len(self.advance_grades):
            raise reader.error(path + ("advance_grades",), "each grade at most once")


@dataclass(frozen=True, kw_only=True)
class Expenses(Provenance):
    """The premium's expense structure."""

    prevention_share_min: Share
    commission_cap: Share | None = None
    profit_load: Share | None = None


@dataclass(frozen=True, kw_only=True)
class RateBook:
    """One jurisdiction's rate book for one edition. See ``tables/README.md``."""

    id: str
    title: Label
    jurisdiction: str
    effective_from: dt.date
    effective_to: dt.date | None = None
    status: Literal["final", "draft", "illustrative"]
    currency: Literal["CNY"] = "CNY"
    notes: str | None = None
    sources: dict[str, Source]
    sectors: dict[str, Sector]
    tiers: dict[str, FactorTable] = field(default_factory=dict)
    floating: Floating | None = None
    limit_factors: LimitFactors
    loadings: dict[str, Loading] = field(default_factory=dict)
    term: Term
    limits: LimitRules
    claims: ClaimsRules | None = None
    expenses: Expenses
    sha256: str = field(init=False, default="", compare=False)
    origin: str | None = field(init=False, default=None, compare=False)

    @property
    def floating_rules(self) -> Floating:
        """The floating rates; a book whose source publishes none floats nothing (factor 1)."""
        return self.floating if self.floating is not None else NO_FLOATING

    def _check(self, reader: Reader, path: tuple) -> None:
        if not JURISDICTION.match(self.jurisdiction):
            raise reader.error(path + ("jurisdiction",), f"{self.jurisdiction!r} is not a "
                               "jurisdiction code; use CN, CN-XX or CN-XX-YY (e.g. CN-FJ-XM)")
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise reader.error(path + ("effective_to",), f"{self.effective_to} is before "
                               f"effective_from {self.effective_from}")
        if not self.sectors:
            raise reader.error(path + ("sectors",), "at least one sector is required")
        check_keys(reader, path + ("sectors",), self.sectors)
        check_keys(reader, path + ("loadings",), self.loadings)
        check_references(self, reader, path)


def _provenanced(book: RateBook):
    """Every object carrying provenance, with its key path."""
    for s, sector in book.sectors.items():
        for ss, sub in sector.subsectors.items():
            yield ("sectors", s, "subsectors", ss), sub
    for name, table in book.tiers.items():
        yield ("tiers", name), table
    if book.floating is not None:
        yield ("floating",), book.floating
    for g, group in book.floating_rules.groups.items():
        for name, table in group.factors.items():
            yield ("floating", "groups", g, "factors", name), table
    yield ("limit_factors",), book.limit_factors
    for name, loading in book.loadings.items():
        yield ("loadings", name), loading
    yield ("term",), book.term
    yield ("limits",), book.limits
    if book.claims is not None:
        yield ("claims",), book.claims
    yield ("expenses",), book.expenses


def check_references(book: RateBook, reader: Reader, path: tuple) -> None:
    """Sources and sectors named anywhere must exist; a variable has one table per sector."""
    for where, obj in _provenanced(book):
        if obj.source is not None and obj.source not in book.sources:
            raise reader.error(path + where + ("source",), f"unknown source {obj.source!r}; "
                               "define it under 'sources' (defined: "
                               + ", ".join(book.sources) + ")")
    tables: list[tuple[tuple[str, ...], FactorTable]] = [
        (("tiers", n), t) for n, t in book.tiers.items()]
    tables += [(("floating", "groups", g, "factors", n), t)
               for g, grp in book.floating_rules.groups.items() for n, t in grp.factors.items()]
    scoped = tables + [(("loadings", n), loading) for n, loading in book.loadings.items()]
    for where, obj in scoped:
        for i, sector in enumerate(obj.sectors or ()):
            if sector not in book.sectors:
                raise reader.error(path + where + ("sectors", i), f"unknown sector {sector!r}; "
                                   "use one of: " + ", ".join(book.sectors))
    for where, table in tables:
        for i, unit in enumerate(table.subsectors or ()):
            sector, _, sub = unit.partition(".")
            if sector not in book.sectors or sub not in book.sectors[sector].subsectors:
                raise reader.error(path + where + ("subsectors", i), f"unknown sub-sector "
                                   f"{unit!r}; write sector.subsector, e.g. "
                                   + next(f"{s}.{ss}" for s in book.sectors
                                          for ss in book.sectors[s].subsectors))
    seen: dict[tuple[str, str, str], tuple] = {}
    for where, table in tables:
        for sector, sub in _units_of(book, table):
            key = (table.variable, sector, sub)
            if key in seen:
                raise reader.error(path + where, f"variable {table.variable!r} already has a "
                                   f"table for sector {sector!r} (sub-sector {sub!r}) at "
                                   f"{'.'.join(seen[key])}; one table per variable and sector "
                                   "(or sub-sector)")
            seen[key] = where


def _units_of(book: RateBook, table: FactorTable) -> list[tuple[str, str]]:
    """The (sector, sub-sector) pairs a table applies to."""
    return [(s, ss) for s in (table.sectors or book.sectors) if s in book.sectors
            for ss in book.sectors[s].subsectors
            if table.subsectors is None or f"{s}.{ss}" in table.subsectors]
