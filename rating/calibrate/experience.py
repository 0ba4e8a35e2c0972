"""Loss experience for calibration: the schema, its validation and a seeded synthetic generator.

Experience is two frames, one row per policy-year and one row per claim. Dates may be
``datetime64`` columns or ``YYYY-MM-DD`` text (as a CSV holds them); level columns may be text
or categoricals; extra columns are allowed and ignored.

**policy_years** -- one row per policy and underwriting year, ``(policy_id, year)`` unique:

``policy_id`` (required)
    The policy (an enterprise's annual cover, or a construction project), text.
``year`` (required)
    Underwriting year: the calendar year of ``inception_date``.
``sector`` (required), ``subsector``
    Rate-book keys.
``rating_unit``
    ``sector.subsector``, the rate book's rating unit (one base rate, one basis). Sub-sector
    keys repeat across sectors (``passenger``), so base-frequency models use this column.
``basis`` (required)
    Exposure basis: ``persons``, ``contract_value``, ``vehicles``, ``vessels``,
    ``capacity_tonnes``, ``payroll`` or ``revenue``.
``exposure`` (required)
    Earned exposure in the basis unit, >= 0: person-, vehicle- or vessel-years, tonne-years,
    yuan-years of payroll or revenue (the measure x months covered / 12); for project-term
    construction the contract value in yuan (the base rate is per whole project).
``earned_premium``
    Yuan, >= 0.
``inception_date``, ``expiry_date``
    The policy period, both days included (a construction project's may run past the
    year); when absent, the calendar year ``year``.
rating factors
    Profile fields (:mod:`rating.profile_fields`) as rated for the year: exposure measures
    (``headcount``, ``contract_value``...), tier levels (``scale``, ``enterprise_type``,
    ``production_mode``, ``product``, ``project_type``), the record of the policy year
    before (``accidents_<grade>``, ``deaths``, ``claim_free_years``,
    ``major_hazards_unrectified``), ``standardisation_grade``, ``honour``, ``blacklisted``,
    ``per_person_limit`` (yuan)... A level column is blank only where its factor does not
    apply to the row's sector (the generator writes a table's default level elsewhere).
``worst_accident_grade``
    ``none`` or the worst grade with a non-zero ``accidents_<grade>`` count.

**claims** -- one row per accident that gave rise to a claim:

``claim_id``
    Unique when given.
``policy_id``, ``year`` (required)
    The policy-year the accident falls in; it must exist in ``policy_years``.
``accident_date`` (required)
    Inside the policy-year's period.
``accident_grade`` (required)
    ``general``, ``larger``, ``major`` or ``especially_major`` (国务院令第493号 第三条), not
    below the grade the claim's ``deaths`` imply.
``paid_death``, ``paid_disability``, ``paid_medical``, ``paid_other``
    Yuan paid to date, >= 0, by coverage: death benefits, disability benefits, victims'
    medical costs, everything else (third-party property, rescue, medical aid, appraisal
    and legal costs). Any column named ``paid_*`` counts as a paid amount.
``reserved``
    Yuan, the case reserve outstanding, >= 0. Incurred = paid + reserved.
``deaths``, ``disabled``, ``injured``
    Victims by outcome (persons, whole numbers >= 0): killed, left with a disability grade,
    injured without disability.

:func:`validate_experience` checks both frames and names the table, row and field of every
problem; :func:`with_claims` adds each policy-year's claim count and incurred amount;
:func:`claims_with` adds policy-year columns (rating factors) to the claims;
:func:`synthetic_experience` draws a data set whose true frequency relativities are known
(:func:`true_relativities`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..book import RateBook, find_book, national_rules
from ..columns import MISSING, Problems, absent, categories, dates, numbers
from ..errors import ProfileError
from ..experience import HONOUR_LEVELS, STANDARDISATION_GRADES
from ..limits import per_person_floor
from ..portfolio import rate_portfolio
from ..profile_fields import ACCIDENT_GRADES, EXPOSURE_FIELDS, WORST_GRADE_LEVELS
# the portfolio generator's date and identifier helpers are reused, not copied
from ..calendar import add_months, term_months
from ..synthetic import DATE_FROM, _commission_caps, _ids, synthetic_portfolio

__all__ = ["ExperienceError", "claims_with", "incurred", "synthetic_experience",
           "true_relativities", "validate_experience", "with_claims"]

ACCIDENT_FIELDS = tuple(f"accidents_{g}" for g in ACCIDENT_GRADES)
PAID_COLUMNS = ("paid_death", "paid_disability", "paid_medical", "paid_other")
VICTIM_COLUMNS = ("deaths", "disabled", "injured")
POLICY_YEAR_REQUIRED = ("policy_id", "year", "sector", "basis", "exposure")
CLAIM_REQUIRED = ("policy_id", "year", "accident_date", "accident_grade")
COUNT_FIELDS = (*ACCIDENT_FIELDS, "deaths", "claim_free_years", "major_hazards_unrectified")
LEVEL_FIELDS: dict[str, tuple[str, ...]] = {
    # level columns whose levels do not depend on the book
    "standardisation_grade": STANDARDISATION_GRADES,
    "honour": HONOUR_LEVELS,
    "worst_accident_grade": WORST_GRADE_LEVELS,
}
TIER_FIELDS = ("scale", "enterprise_type", "production_mode", "product", "project_type")
YEAR_RANGE = (1949, 2100)


class ExperienceError(ProfileError):
    """A policy-year or claim row is invalid.

    Attributes are those of :class:`rating.ProfileError`, plus ``table`` (``policy_years`` or
    ``claims``).
    """

    def __init__(self, table: str, field: str, reason: str, *, row: object | None = None):
        super().__init__(field, reason, row=row)
        self.table = table
        where = f"row {row!r}: " if row is not None else ""
        self.args = (f"{table}: {where}{field}: {reason}",)


# --- validation ----------------------------------------------------------------------------


def validate_experience(policy_years: pd.DataFrame, claims: pd.DataFrame, *,
                        book: RateBook | None = None, errors: str = "raise"):
    """Check experience frames against the schema of this module.

    Parameters
    ----------
    policy_years, claims : DataFrame
        See the module docstring.
    book : RateBook, optional
        When given, sectors, sub-sectors, bases and tier levels are checked against it too.
    errors : {"raise", "collect"}
        ``raise`` (default): an :class:`ExperienceError` naming the table, row and field of
        the first problem (policy-years first) and listing a few more. ``collect``: return
        every problem.

    Returns
    -------
    None, or DataFrame with ``errors="collect"``
        ``table``, ``row`` (index label), ``field``, ``reason``; empty when all is well.

    Notes
    -----
    Checked: required columns; ``policy_id`` present and ``(policy_id, year)`` unique;
    ``year`` a whole calendar year matching ``inception_date``; ``exposure`` present and not
    negative (claims on zero exposure are a problem too); amounts and counts non-negative,
    counts whole; ``basis`` and level columns known (``standardisation_grade``, ``honour``,
    ``worst_accident_grade`` always, tier levels with a book); ``inception_date`` not after
    ``expiry_date``; every claim on an existing policy-year with its accident date inside
    that policy-year's period; ``accident_grade`` a State Council grade, not below the grade
    its ``deaths`` imply; ``claim_id`` unique.
    """
    if errors not in ("raise", "collect"):
        raise ValueError("errors must be 'raise' or 'collect'")
    for table, frame, required in (("policy_years", policy_years, POLICY_YEAR_REQUIRED),
                                   ("claims", claims, CLAIM_REQUIRED)):
        if not isinstance(frame, pd.DataFrame):
            raise ExperienceError(table, table, f"expected a DataFrame, got "
                                  f"{type(frame).__name__}")
        for name in required:
            if name not in frame.columns:
                raise ExperienceError(table, name, "column is required")
    py_problems = Problems(policy_years.index)
    py = _check_policy_years(policy_years, py_problems, book)
    cl_problems = Problems(claims.index)
    _check_claims(claims, py, cl_problems)
    if errors == "collect":
        tables = [p.table().assign(table=name) for name, p in
                  (("policy_years", py_problems), ("claims", cl_problems))]
        out = pd.concat(tables, ignore_index=True)
        return out[["table", "row", "field", "reason"]]
    for name, problems in (("policy_years", py_problems), ("claims", cl_problems)):
        try:
            problems.raise_if_any()
        except ProfileError as exc:
            raise ExperienceError(name, exc.field, exc.reason, row=exc.row) from None
    return None


def _check_policy_years(frame: pd.DataFrame, problems: Problems,
                        book: RateBook | None) -> dict[str, np.ndarray]:
    """Row checks of the policy-years; returns the parsed key and period columns."""
    n = len(frame)
    col = frame.get
    ids = frame["policy_id"]
    problems.add(_blank_ids(ids), "policy_id", "is required")
    year = _years(col("year"), problems, n)
    exposure = numbers(col("exposure"), "exposure", problems, n=n)
    problems.add(absent(col("exposure"), n), "exposure", "is required")
    basis = categories(col("basis"), "basis", list(EXPOSURE_FIELDS), problems, n=n)
    problems.add(basis == MISSING, "basis", "is required; use one of: "
                 + ", ".join(EXPOSURE_FIELDS))
    problems.add(absent(col("sector"), n), "sector", "is required")
    if "earned_premium" in frame.columns:
        numbers(col("earned_premium"), "earned_premium", problems, n=n)
    for name in COUNT_FIELDS:
        if name in frame.columns:
            numbers(col(name), name, problems, n=n, integer=True)
    for name, levels in LEVEL_FIELDS.items():
        if name in frame.columns:
            categories(col(name), name, levels, problems, n=n)
    if book is not None:
        _check_against_book(frame, basis, problems, book)

    start = dates(col("inception_date"), "inception_date", problems, n=n)
    end = dates(col("expiry_date"), "expiry_date", problems, n=n)
    problems.add(start > end, "expiry_date", "is before inception_date")
    start_year = start.astype("datetime64[Y]").astype(np.int64) + 1970
    problems.add(~np.isnat(start) & ~np.isnan(year) & (start_year != year), "year",
                 "is not the calendar year of inception_date (the underwriting year)")
    # the period defaults to the calendar year
    jan1 = _jan1(year)
    start = np.where(np.isnat(start), jan1, start)
    end = np.where(np.isnat(end), _jan1(year + 1) - np.timedelta64(1, "D"), end)

    key = _keys(_id_codes(ids)[0], ids, year)
    first = pd.Series(key).duplicated(keep="first").to_numpy() & (key >= 0)
    problems.add(first, "policy_id", "(policy_id, year) repeats an earlier row's policy-year; "
                 "give each policy-year once")
    return {"ids": ids, "year": year, "start": start, "end": end, "exposure": exposure,
            "ok": ~problems.bad_rows()}


def _check_against_book(frame: pd.DataFrame, basis: np.ndarray, problems: Problems,
                        book: RateBook) -> None:
    n = len(frame)
    sectors = list(book.sectors)
    sector = categories(frame["sector"], "sector", sectors, problems, n=n)
    if "subsector" in frame.columns:
        names = sorted({ss for s in book.sectors.values() for ss in s.subsectors})
        sub = categories(frame["subsector"], "subsector", names, problems, n=n)
        for k, s in enumerate(sectors):  # one pass per sector, not per row
            subs = book.sectors[s].subsectors
            rows = sector == k
            known = np.isin(sub, [names.index(ss) for ss in subs])
            problems.add(rows & (sub >= 0) & ~known, "subsector",
                         f"is not a sub-sector of {s}; use one of: " + ", ".join(subs))
            for ss, spec in subs.items():
                wrong = rows & (sub == names.index(ss)) & (basis >= 0) & \
                    (basis != list(EXPOSURE_FIELDS).index(spec.basis))
                problems.add(wrong, "basis", f"{s}.{ss} is rated on {spec.basis}")
    for name in TIER_FIELDS:
        if name in frame.columns:
            levels = [lvl for t in book.tiers.values() if t.variable == name and t.levels
                      for lvl in t.levels]
            categories(frame[name], name, list(dict.fromkeys(levels)), problems, n=n)


def _check_claims(frame: pd.DataFrame, py: dict[str, np.ndarray], problems: Problems) -> None:
    n = len(frame)
    col = frame.get
    problems.add(_blank_ids(frame["policy_id"]), "policy_id", "is required")
    year = _years(col("year"), problems, n)
    when = dates(col("accident_date"), "accident_date", problems, n=n)
    problems.add(np.isnat(when) & absent(col("accident_date"), n), "accident_date",
                 "is required (YYYY-MM-DD)")
    grade = categories(col("accident_grade"), "accident_grade", list(ACCIDENT_GRADES),
                       problems, n=n)
    problems.add((grade == MISSING) & absent(col("accident_grade"), n), "accident_grade",
                 "is required; use one of: " + ", ".join(ACCIDENT_GRADES))
    for name in [c for c in frame.columns if str(c).startswith("paid_")] + ["reserved"]:
        if name in frame.columns:
            numbers(frame[name], name, problems, n=n)
    victims = {name: numbers(col(name), name, problems, n=n, integer=True)
               for name in VICTIM_COLUMNS}
    if "deaths" in frame.columns:
        # the grade may be raised by serious injuries or direct loss, never lowered
        implied = np.zeros(n, dtype=np.int64)
        for t in national_rules().accident_grades.thresholds:
            implied = np.where(victims["deaths"] >= t.deaths, ACCIDENT_GRADES.index(t.grade),
                               implied)
        for g in range(len(ACCIDENT_GRADES)):
            for h in range(g + 1, len(ACCIDENT_GRADES)):
                problems.add((grade == g) & (implied == h), "accident_grade",
                             f"is {ACCIDENT_GRADES[g]!r} but its deaths make the accident at "
                             f"least {ACCIDENT_GRADES[h]!r} (国务院令第493号 第三条)")
    if "claim_id" in frame.columns:
        repeated = frame["claim_id"].duplicated(keep="first").to_numpy() & \
            ~absent(frame["claim_id"], n)
        problems.add(repeated, "claim_id", "repeats an earlier claim's id")

    # the claim's policy-year, among the valid policy-years (first of any duplicates)
    py_codes, cl_codes = _id_codes(py["ids"], frame["policy_id"])
    py_key = _keys(py_codes, py["ids"], py["year"])
    cl_key = _keys(cl_codes, frame["policy_id"], year)
    usable = py["ok"] & (py_key >= 0)
    lookup = pd.Index(py_key[usable])
    rows = np.flatnonzero(usable)
    found = lookup.get_indexer(cl_key)
    known_key = cl_key >= 0
    # a key of a policy-year that exists but is itself invalid is reported there, not here
    exists = pd.Series(cl_key).isin(py_key[py_key >= 0]).to_numpy()
    problems.add(known_key & ~exists, "policy_id",
                 "has no policy-year with this policy_id and year in policy_years")
    match = np.where(found >= 0, rows[np.maximum(found, 0)], -1)
    hit = match >= 0
    start = np.where(hit, py["start"][np.maximum(match, 0)], np.datetime64("NaT", "D"))
    end = np.where(hit, py["end"][np.maximum(match, 0)], np.datetime64("NaT", "D"))
    outside = hit & ~np.isnat(when) & ((when < start) | (when > end))
    if outside.any():
        periods = pd.DataFrame({"s": start[outside], "e": end[outside]}).drop_duplicates()
        for s, e in periods.head(20).itertuples(index=False):
            problems.add(outside & (start == s) & (end == e), "accident_date",
                         f"is outside its policy-year's period {_day(s)} to {_day(e)}")
        problems.add(outside & ~_in_pairs(start, end, periods.head(20)), "accident_date",
                     "is outside its policy-year's period")
    zero = hit & (py["exposure"][np.maximum(match, 0)] == 0)
    problems.add(zero, "policy_id", "its policy-year has zero exposure; a claim needs some")


def _in_pairs(start, end, pairs: pd.DataFrame) -> np.ndarray:
    out = np.zeros(len(start), dtype=bool)
    for s, e in pairs.itertuples(index=False):
        out |= (start == s) & (end == e)
    return out


def _day(value) -> str:
    return str(np.datetime64(value, "D"))


def _years(values, problems: Problems, n: int) -> np.ndarray:
    year = numbers(values, "year", problems, n=n, integer=True)
    problems.add(absent(values, n), "year", "is required")
    lo, hi = YEAR_RANGE
    bad = ~np.isnan(year) & ((year < lo) | (year > hi))
    problems.add(bad, "year", f"must be a calendar year from {lo} to {hi}")
    return np.where(bad, np.nan, year)


def _jan1(year: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(year)
    out = np.full(len(year), np.datetime64("NaT"), dtype="datetime64[D]")
    out[ok] = (year[ok].astype(np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    return out


def _id_codes(*columns: pd.Series) -> list[np.ndarray]:
    """Codes of policy ids shared across frames (ids compared as text, so 17 and "17" are
    the same policy)."""
    columns = [pd.Series(c).reset_index(drop=True) for c in columns]
    if not all(pd.api.types.is_string_dtype(c.dtype) for c in columns):
        columns = [c.astype(str) for c in columns]
    codes = pd.factorize(pd.concat(columns, ignore_index=True))[0]
    return np.split(codes, np.cumsum([len(c) for c in columns])[:-1])


def _blank_ids(ids: pd.Series) -> np.ndarray:
    """Missing or blank ids, without a per-value loop (ids are mostly distinct)."""
    blank = ids.isna().to_numpy(copy=True)
    if pd.api.types.is_string_dtype(ids.dtype):
        blank |= (ids.astype(str).str.strip() == "").to_numpy(dtype=bool, na_value=True)
    return blank


def _keys(codes: np.ndarray, ids: pd.Series, year: np.ndarray) -> np.ndarray:
    """One int64 key per (policy_id, year), -1 where either is missing."""
    ok = ~_blank_ids(ids) & ~np.isnan(year)
    span = YEAR_RANGE[1] - YEAR_RANGE[0] + 1
    offset = np.where(ok, year, YEAR_RANGE[0]).astype(np.int64) - YEAR_RANGE[0]
    return np.where(ok, codes.astype(np.int64) * span + offset, -1)


# --- joining claims to policy-years -------------------------------------------------------


def incurred(claims: pd.DataFrame) -> pd.Series:
    """Incurred amount of each claim (yuan): every ``paid_*`` column plus ``reserved``."""
    names = [c for c in claims.columns if str(c).startswith("paid_")]
    if "reserved" in claims.columns:
        names.append("reserved")
    if not names:
        raise ExperienceError("claims", "paid_death", "no paid_* or reserved column")
    return claims[names].sum(axis=1).rename("incurred")


def with_claims(policy_years: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """The policy-years with ``claim_count`` and ``incurred`` (yuan) from their claims.

    A copy; policy-years without claims get 0. Claims without a policy-year are ignored
    (:func:`validate_experience` reports them).
    """
    keys = ["policy_id", "year"]
    per = (claims[keys].assign(incurred=incurred(claims).to_numpy(), claim_count=1)
           .groupby(keys, sort=False, observed=True)[["claim_count", "incurred"]].sum())
    # the join on the pair: positions of each policy-year in the per-policy-year sums
    where = per.index.get_indexer(pd.MultiIndex.from_frame(policy_years[keys]))
    out = policy_years.copy()
    # a trailing 0 for the policy-years without a claim (get_indexer's -1)
    counts = np.append(per["claim_count"].to_numpy(dtype=np.int64), 0)
    amounts = np.append(per["incurred"].to_numpy(dtype=float), 0.0)
    out["claim_count"] = counts[where]
    out["incurred"] = amounts[where]
    return out


def claims_with(policy_years: pd.DataFrame, claims: pd.DataFrame,
                columns: Iterable[str]) -> pd.DataFrame:
    """The claims with ``incurred`` (yuan) and ``columns`` of their policy-year (rating
    factors, for severity models). A copy; claims without a policy-year get blanks."""
    keys = ["policy_id", "year"]
    columns = [c for c in columns if c not in keys]
    index = pd.MultiIndex.from_frame(policy_years[keys])
    if not index.is_unique:
        raise ExperienceError("policy_years", "policy_id", "(policy_id, year) repeats; "
                              "validate_experience names the rows")
    where = index.get_indexer(pd.MultiIndex.from_frame(claims[keys]))
    out = claims.copy()
    out["incurred"] = incurred(claims).to_numpy()
    for name in columns:
        if not len(policy_years):
            out[name] = np.nan
            continue
        taken = policy_years[name].take(np.maximum(where, 0))
        taken.index = claims.index
        out[name] = taken.where(where >= 0)
    return out


# --- synthetic experience: assumptions (illustrative) ---------------------------------------

LOSS_RATIO_BY_SECTOR: dict[str, float] = {
    # expected loss ratio on the book's base rates at every factor's relativity-1 level: the
    # true frequencies follow from it, so the book over-prices some sectors (metro, other)
    # and under-prices others (mines, fishery, road transport), as a calibration would find
    "non_coal_mines": 0.8, "hazardous_chemicals": 0.5, "fireworks": 0.4, "road_transport": 0.65,
    "urban_rail": 0.3, "water_transport": 0.5, "construction": 0.55, "civil_explosives": 0.45,
    "metal_smelting": 0.5, "fishery": 0.7, "other": 0.3,
}
LOSS_RATIO_DEFAULT = 0.5
"""Loss ratio of a sector not named above."""
ASSUMED_SEVERITY = 350_000
"""Yuan: the average claim used to turn loss costs into frequencies (frequency per unit =
loss ratio x base premium per unit / this). Roughly the mean incurred claim below."""

RELATIVITIES: dict[str, dict[str, float]] = {
    # factor -> level -> true frequency multiplier; levels not named are 1. Steeper than the
    # Xiamen book's illustrative tiers, so a calibration has something to correct.
    "scale": {"micro": 1.4, "small": 1.15, "medium": 1.0, "large": 0.8},
    "enterprise_type": {"general": 1.0, "major_hazard_installation": 1.35},
    "standardisation_grade": {"none": 1.0, "grade_3": 0.9, "grade_2": 0.75, "grade_1": 0.6},
    # last year's worst accident: accident-prone enterprises stay so (contagion, not frailty:
    # the multiplier is causal, so a GLM on the record recovers it)
    "worst_accident_grade": {"none": 1.0, "general": 1.6, "larger": 2.2, "major": 2.8,
                             "especially_major": 3.5},
}

GRADE_SHARES = {"general": 0.975, "larger": 0.02, "major": 0.004, "especially_major": 0.001}
"""Share of claims by accident grade: almost all claims are general accidents."""
DEATHS_BY_GRADE = {"general": (0, 3), "larger": (3, 10), "major": (10, 30),
                   "especially_major": (30, 61)}
"""Deaths per accident, uniform on [low, high): the grade thresholds of 国务院令第493号."""
DEATH_SHARE_GENERAL = 0.1
"""Share of general accidents that kill someone (1 death, 2 in a fifth of them); most claims
are injuries."""
DISABLED_MEAN = {"general": 0.3, "larger": 3.0, "major": 10.0, "especially_major": 30.0}
INJURED_MEAN = {"general": 1.0, "larger": 5.0, "major": 20.0, "especially_major": 50.0}
"""Poisson means of the disabled and the injured per accident (at least one victim)."""

SEVERITY: dict[str, tuple[float, float]] = {
    # amount owed (yuan) -> (median, sigma of log), lognormal, before the sector multiplier
    "death": (1_200_000, 0.35),      # ~ 20 x urban income (work-injury death subsidy) + damages
    "disability": (120_000, 1.0),    # per disabled victim, across grades 1-10
    "medical": (20_000, 1.1),        # per disabled or injured victim
    "other": (15_000, 1.5),          # per accident: property, rescue, aid, appraisal, legal
}
OTHER_BY_GRADE = {"general": 1.0, "larger": 5.0, "major": 20.0, "especially_major": 50.0}
"""Multiplier of the per-accident ``other`` costs by grade."""
SEVERITY_BY_SECTOR: dict[str, float] = {
    "non_coal_mines": 1.3, "hazardous_chemicals": 1.3, "fireworks": 1.2, "road_transport": 1.0,
    "urban_rail": 1.2, "water_transport": 1.1, "construction": 1.1, "civil_explosives": 1.3,
    "metal_smelting": 1.2, "fishery": 0.9, "other": 0.8,
}
OPEN_SHARE = (0.6, 0.25, 0.08)
"""Share of claims still open in the last experience year, the one before, and the one before
that; 2% of older claims."""
OPEN_PAID = (0.1, 0.7)
"""An open claim has paid a uniform share in this range of its final amount; the case reserve
is the rest (reserves are exact: no development)."""
ENTERED_AT_START = 0.7
"""Share of enterprises insured from the first experience year; the others enter in a later
year (uniformly) and none leave."""
SYNTHETIC_FACTORS = ("rating_unit", *TIER_FIELDS, "standardisation_grade", "honour",
                     "worst_accident_grade")
"""Level columns a true relativity may be given for."""
LAST_YEAR = 2025
"""``years=k`` means the k underwriting years ending with this one."""


def true_relativities(relativities: Mapping[str, Mapping[str, float]] | None = None,
                      book: RateBook | None = None) -> dict[str, pd.Series]:
    """The true frequency model of :func:`synthetic_experience`.

    Parameters
    ----------
    relativities : mapping, optional
        Overrides, factor -> level -> multiplier (see :func:`synthetic_experience`).
    book : RateBook, optional
        Default: the shipped Xiamen book.

    Returns
    -------
    dict of Series
        ``rating_unit``: claims per basis unit of exposure (per person-year, vehicle-year...,
        per yuan of a project's contract value) at every other factor's relativity-1 level;
        its ratios are the rating units' relativities. Every other key: a factor column of
        the policy-years, the multiplier of each of its levels (levels not listed, and
        blanks, multiply by 1). Compare a fitted relativity with ``s[level] /
        s[base_level]``, with the model's base levels where the truth is 1 for factors that
        are blank on some rows (blanks share the base level's coefficient).
    """
    book = book or _default_book()
    units = _units(book)
    base = pd.Series(
        [LOSS_RATIO_BY_SECTOR.get(s, LOSS_RATIO_DEFAULT) * _base_premium(book, s, ss)
         / ASSUMED_SEVERITY for s, ss, _ in units],
        index=[f"{s}.{ss}" for s, ss, _ in units], name="rating_unit")
    out = {"rating_unit": base}
    for factor, levels in RELATIVITIES.items():
        known = _factor_levels(book, factor)
        out[factor] = pd.Series({lvl: float(levels.get(lvl, 1.0)) for lvl in known},
                                name=factor)
    for factor, levels in (relativities or {}).items():
        known = list(out[factor].index) if factor in out else _factor_levels(book, factor)
        if factor not in SYNTHETIC_FACTORS or not known:
            raise ValueError(f"relativities: {factor!r} is not a level column of the "
                             "experience (rating_unit, a tier or floating level variable)")
        for level, value in levels.items():
            if level not in known:
                raise ValueError(f"relativities: {level!r} is not a level of {factor}; use "
                                 "one of: " + ", ".join(known))
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"relativities: {factor}[{level}] must be a positive number")
        series = out.get(factor, pd.Series(1.0, index=known, name=factor)).copy()
        series.loc[list(levels)] = [float(v) for v in levels.values()]
        out[factor] = series
    return out


def synthetic_experience(n_policies: int, years: int | Sequence[int] = 3, seed: int = 0,
                         relativities: Mapping[str, Mapping[str, float]] | None = None, *,
                         book: RateBook | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded synthetic experience: policy-years and claims with known true frequencies.

    Parameters
    ----------
    n_policies : int
        Enterprises (construction: contractors, one project a year), drawn by
        :func:`rating.synthetic.synthetic_portfolio` with the same seed.
    years : int or sequence of int
        Underwriting years: a count (the years ending with ``LAST_YEAR``, 2025) or the
        calendar years themselves (consecutive, ascending).
    seed : int
        Same ``(n_policies, years, seed, relativities, book)``, same frames (same numpy).
    relativities : mapping, optional
        Overrides of the true frequency multipliers, factor -> level -> multiplier. Factors:
        ``rating_unit`` (claims per basis unit per year, replacing the default), the defaults
        in ``RELATIVITIES`` (scale, enterprise_type, standardisation_grade,
        worst_accident_grade) or any other level column (product, project_type,
        production_mode, honour). :func:`true_relativities` gives the result.
    book : RateBook, optional
        Default: the shipped Xiamen book; premiums are rated on it whatever the year.

    Returns
    -------
    policy_years, claims : DataFrame
        As in the module docstring: one row per policy-year (sorted by policy and year; level
        columns categorical in the book's level order, dates ``datetime64``), one per claim
        (sorted by policy, year and accident date).

    Notes
    -----
    Everything is **illustrative** (constants at the top of the module's synthetic section):

    - **Portfolio**: the enterprises, exposure measures, tiers, standardisation grade, honour,
      blacklist, limit choice, extensions and commission of ``synthetic_portfolio``; level
      blanks within a table's sectors are filled with its default. Exposure measures stay
      the same every year; 70% of enterprises are insured from the first year, the rest
      enter in a later year; none leave.
    - **Periods**: each year's policy incepts on the portfolio's day of the year and runs its
      term (12 months; seasonal short terms; construction projects 6-36 months, possibly past
      the last year: the data are complete, every accident of every period is in).
    - **Frequency**: claim counts are Poisson with mean = earned exposure x the rating unit's
      frequency per unit x the multipliers of ``true_relativities`` (``RELATIVITIES``: scale
      micro 1.4 ... large 0.8, a major hazard installation 1.35, standardisation grade 1 0.6
      ... none 1, last year's worst accident none 1 ... especially major 3.5). A unit's
      frequency per unit is ``LOSS_RATIO_BY_SECTOR`` (0.3 metro and other sectors ... 0.8
      mines) x the book's base premium per unit / ``ASSUMED_SEVERITY`` (350,000 yuan), so the
      book misprices some sectors; overall about 5% of policy-years have a claim and the
      loss ratio is about 0.6. Last year's accidents (the record fields of the next
      policy-year) come from the claims, so ``worst_accident_grade`` acts causally. No
      other heterogeneity (a Poisson GLM on these factors is correctly specified), no trend,
      no IBNR.
    - **Claims**: one claim per accident; grade general 97.5%, larger 2%, major 0.4%,
      especially major 0.1%; deaths uniform within the grade's range (general: 10% fatal);
      disabled and injured Poisson by grade; at least one victim.
    - **Severity**: lognormal amounts owed (``SEVERITY``: death median 1.2m yuan, sigma 0.35;
      disability 120k, 1.0; medical per victim 20k, 1.1; other costs per accident 15k, 1.5,
      x5/x20/x50 for larger/major/especially major) times a sector multiplier (0.8 other
      sectors ... 1.3 mines and chemicals). **Limits**: each death and disability is capped at
      the policy's per-person limit (as rated: the chosen limit, else the statutory floor in
      force), medical costs at the medical sub-limit per person, other costs at the sum of
      their sub-limits, and the accident's total at the per-accident limit (pro rata). The
      annual aggregate is not applied.
    - **Development**: 60% / 25% / 8% of the last three years' claims are open (2% older),
      having paid 10-70% of their final amount; the case reserve is exactly the rest.
    - **Premium**: ``earned_premium`` is the premium the package's engine charges for the
      policy-year's profile on ``book`` (commission clipped to the cap in force, a chosen
      limit below that year's floor replaced by the floor).
    """
    if n_policies < 0:
        raise ValueError("n_policies must not be negative")
    book = book or _default_book()
    year_list = _year_list(years)
    truth = true_relativities(relativities, book)
    rng = np.random.default_rng([seed, 5])  # a stream apart from the portfolio's
    port = synthetic_portfolio(n_policies, seed=seed, book=book)
    n, n_years = len(port), len(year_list)

    units = _units(book)
    unit_names = [f"{s}.{ss}" for s, ss, _ in units]
    unit = _unit_codes(port, book, units)
    sector_of_unit = np.array([list(book.sectors).index(s) for s, _, _ in units])
    basis_of_unit = np.array([list(EXPOSURE_FIELDS).index(b) for _, _, b in units])
    project_unit = np.array([book.sectors[s].subsectors[ss].term == "project"
                             for s, ss, _ in units])
    levels = _level_columns(port, book, sector_of_unit[unit])

    # the term in months and the earned exposure (constant over the years)
    start0 = pd.to_datetime(port["inception_date"]).to_numpy().astype("datetime64[D]")
    end0 = pd.to_datetime(port["expiry_date"]).to_numpy().astype("datetime64[D]")
    months = np.where(np.isnat(end0), 12, term_months(start0, end0))
    basis_code = basis_of_unit[unit]
    measure = np.full(n, np.nan)
    for b, field_name in enumerate(EXPOSURE_FIELDS.values()):
        measure = np.where(basis_code == b, port[field_name].to_numpy(dtype=float), measure)
    project = project_unit[unit]
    exposure = np.where(project, measure, measure * months / 12)

    # true frequency per policy, without the record (which changes year by year)
    per_unit = truth["rating_unit"].reindex(unit_names).to_numpy()
    static = per_unit[unit] * exposure
    for factor, series in truth.items():
        if factor in ("rating_unit", "worst_accident_grade"):
            continue
        codes, names = levels[factor]
        mult = np.append(series.reindex(names).fillna(1.0).to_numpy(), 1.0)  # blank: 1
        static = static * mult[codes]
    record_mult = truth["worst_accident_grade"].reindex(WORST_GRADE_LEVELS).fillna(1.0) \
        .to_numpy()

    # entry year, then the years one by one: each year's record is last year's claims
    later = rng.integers(1, n_years, size=n) if n_years > 1 else np.zeros(n, dtype=np.int64)
    entry = np.where(rng.random(n) < ENTERED_AT_START, 0, later)
    accidents = np.stack([port[f].to_numpy(dtype=np.int64) for f in ACCIDENT_FIELDS], axis=1)
    deaths = port["deaths"].to_numpy(dtype=np.int64, copy=True)
    claim_free = port["claim_free_years"].to_numpy(dtype=np.int64, copy=True)
    py_parts, claim_parts = [], []
    for k in range(n_years):
        idx = np.flatnonzero(entry <= k)
        worst = _worst_grade(accidents[idx])
        count = rng.poisson(static[idx] * record_mult[worst])
        py_parts.append((idx, np.full(len(idx), k), accidents[idx].copy(), deaths[idx].copy(),
                         claim_free[idx].copy(), worst, count))
        owner = np.repeat(np.arange(len(idx)), count)  # position in idx of each claim
        grade = rng.choice(len(ACCIDENT_GRADES), size=len(owner),
                           p=list(GRADE_SHARES.values()))
        killed = _draw_deaths(rng, grade)
        claim_parts.append((idx[owner], np.full(len(owner), k), grade, killed))
        new = np.zeros((len(idx), len(ACCIDENT_GRADES)), dtype=np.int64)
        for g in range(len(ACCIDENT_GRADES)):
            new[:, g] = np.bincount(owner[grade == g], minlength=len(idx))
        accidents[idx] = new
        deaths[idx] = np.bincount(owner, weights=killed, minlength=len(idx)).astype(np.int64)
        claim_free[idx] = np.where(count > 0, 0, claim_free[idx] + 1)

    pol, yk, acc, dead, free, worst, count = (np.concatenate(a) for a in zip(*py_parts))
    order = np.lexsort((yk, pol))  # by policy, then year
    pol, yk, acc, dead, free, worst, count = (a[order] for a in
                                              (pol, yk, acc, dead, free, worst, count))
    year = np.asarray(year_list, dtype=np.int64)[yk]
    start, end = _periods(start0[pol], months[pol], year)
    policy_years = _policy_year_frame(port, book, pol, year, start, end, unit, unit_names,
                                      levels, exposure, acc, dead, free, worst)
    rated = _rate(policy_years, port, book, pol)
    policy_years["earned_premium"] = rated["premium"].to_numpy()
    policy_years["per_person_limit"] = rated["per_person_limit"].to_numpy()
    policy_years = policy_years[_policy_year_order(policy_years)]

    # claims: back to the policy-year rows, then victims and amounts
    c_pol, c_yk, c_grade, c_deaths = (np.concatenate(a) for a in zip(*claim_parts))
    row_of = pd.Index(pol * n_years + yk).get_indexer(c_pol * n_years + c_yk)
    claims = _claim_frame(rng, policy_years, rated, row_of, c_grade, c_deaths,
                          book, sector_of_unit[unit][c_pol], n_years - 1 - c_yk)
    return policy_years, claims


def _default_book() -> RateBook:
    return find_book("CN-FJ-XM", DATE_FROM)


def _year_list(years: int | Sequence[int]) -> list[int]:
    if isinstance(years, (int, np.integer)):
        if years < 1:
            raise ValueError("years must be at least 1")
        return list(range(LAST_YEAR - int(years) + 1, LAST_YEAR + 1))
    out = [int(y) for y in years]
    if not out or out != list(range(out[0], out[0] + len(out))):
        raise ValueError("years must be consecutive ascending calendar years")
    if not YEAR_RANGE[0] <= out[0] <= out[-1] <= YEAR_RANGE[1]:
        raise ValueError(f"years must be from {YEAR_RANGE[0]} to {YEAR_RANGE[1]}")
    return out


def _units(book: RateBook) -> list[tuple[str, str, str]]:
    """(sector, sub-sector, basis) of every rating unit, in book order."""
    return [(s, ss, sub.basis) for s, sec in book.sectors.items()
            for ss, sub in sec.subsectors.items()]


def _base_premium(book: RateBook, sector: str, subsector: str) -> float:
    """Yuan of base premium per basis unit (per person, per yuan of contract value...)."""
    sub = book.sectors[sector].subsectors[subsector]
    return float(sub.base_rate) / sub.per_unit


def _factor_levels(book: RateBook, factor: str) -> list[str]:
    """Levels of a level column, in book order (empty if the book has no such column)."""
    if factor == "rating_unit":
        return [f"{s}.{ss}" for s, ss, _ in _units(book)]
    if factor == "worst_accident_grade":
        return list(WORST_GRADE_LEVELS)
    tables = list(book.tiers.values()) + [t for g in book.floating.groups.values()
                                          for t in g.factors.values()]
    levels = [lvl for t in tables if t.variable == factor and t.levels for lvl in t.levels]
    return list(dict.fromkeys(levels))


def _unit_codes(port: pd.DataFrame, book: RateBook, units) -> np.ndarray:
    """The rating unit of each portfolio row (a blank sub-sector: the sector's only one)."""
    sectors = list(book.sectors)
    names = sorted({ss for _, ss, _ in units})
    s = categories(port["sector"], "sector", sectors, None, n=len(port))
    ss = categories(port["subsector"], "subsector", names, None, n=len(port))
    table = np.full((len(sectors), len(names) + 1), -1, dtype=np.int64)
    for u, (sec, sub, _) in enumerate(units):
        table[sectors.index(sec), names.index(sub)] = u
        if len(book.sectors[sec].subsectors) == 1:
            table[sectors.index(sec), -1] = u  # ss == MISSING indexes the last column
    return table[s, ss]


def _level_columns(port: pd.DataFrame, book: RateBook,
                   sector: np.ndarray) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Codes (-1 blank) and levels of each level column, defaults filled where a table with a
    default applies (a blank there means the default, not 'does not apply')."""
    sectors = list(book.sectors)
    tables = list(book.tiers.values()) + [t for g in book.floating.groups.values()
                                          for t in g.factors.values()]
    out: dict[str, tuple[np.ndarray, list[str]]] = {}
    for name in dict.fromkeys(t.variable for t in tables if t.levels):
        if name not in port.columns or port[name].dtype == bool:
            continue
        names = _factor_levels(book, name)
        codes = categories(port[name], name, names, None, n=len(port))
        for t in tables:
            if t.variable == name and t.levels and t.default is not None:
                applies = np.ones(len(port), dtype=bool) if t.sectors is None else \
                    np.isin(sector, [sectors.index(s) for s in t.sectors])
                codes = np.where(applies & (codes == MISSING), names.index(t.default), codes)
        out[name] = (codes, names)
    return out




def _periods(start0: np.ndarray, months: np.ndarray, year: np.ndarray):
    """Each policy-year's period: the portfolio's day of the year, in ``year``, for the same
    number of months."""
    jan1_0 = start0.astype("datetime64[Y]").astype("datetime64[D]")
    day = np.minimum((start0 - jan1_0).astype(np.int64), 364)  # 31 Dec of a leap year: 30 Dec
    jan1 = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    pol_start = jan1 + day
    return pol_start, add_months(pol_start, months) - np.timedelta64(1, "D")


def _worst_grade(accidents: np.ndarray) -> np.ndarray:
    """Code in WORST_GRADE_LEVELS of the worst grade with a non-zero count (0: none)."""
    any_ = accidents > 0
    last = len(ACCIDENT_GRADES) - np.argmax(any_[:, ::-1], axis=1)
    return np.where(any_.any(axis=1), last, 0)


def _draw_deaths(rng: np.random.Generator, grade: np.ndarray) -> np.ndarray:
    low = np.array([DEATHS_BY_GRADE[g][0] for g in ACCIDENT_GRADES])[grade]
    high = np.array([DEATHS_BY_GRADE[g][1] for g in ACCIDENT_GRADES])[grade]
    killed = low + np.floor(rng.random(len(grade)) * (high - low)).astype(np.int64)
    general = grade == 0
    fatal = rng.random(len(grade)) < DEATH_SHARE_GENERAL
    two = rng.random(len(grade)) < 0.2
    return np.where(general, np.where(fatal, 1 + two, 0), killed)


def _categorical(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(np.where(codes < 0, -1, codes), categories=names)


def _policy_year_frame(port, book, pol, year, start, end, unit, unit_names, levels, exposure,
                       acc, dead, free, worst) -> pd.DataFrame:
    sectors = list(book.sectors)
    units = _units(book)
    u = unit[pol]
    sector_of_unit = np.array([sectors.index(s) for s, _, _ in units])
    subs = sorted({ss for _, ss, _ in units})
    sub_of_unit = np.array([subs.index(ss) for _, ss, _ in units])
    cols: dict[str, object] = {
        "policy_id": port["id"].to_numpy()[pol],
        "year": year,
        "jurisdiction": port["jurisdiction"].to_numpy()[pol],
        "sector": _categorical(sector_of_unit[u], sectors),
        "subsector": _categorical(sub_of_unit[u], subs),
        "rating_unit": _categorical(u, unit_names),
        "basis": _categorical(np.array([list(EXPOSURE_FIELDS).index(b)
                                        for _, _, b in units])[u], list(EXPOSURE_FIELDS)),
        "exposure": exposure[pol],
        "inception_date": start.astype("datetime64[s]"),
        "expiry_date": end.astype("datetime64[s]"),
    }
    for name in EXPOSURE_FIELDS.values():
        cols[name] = port[name].to_numpy(dtype=float)[pol]
    for name, (codes, names) in levels.items():
        cols[name] = _categorical(codes[pol], names)
    for g, name in enumerate(ACCIDENT_FIELDS):
        cols[name] = acc[:, g]
    cols["deaths"] = dead
    cols["major_hazards_unrectified"] = port["major_hazards_unrectified"].to_numpy()[pol]
    cols["claim_free_years"] = free
    cols["worst_accident_grade"] = _categorical(worst, list(WORST_GRADE_LEVELS))
    cols["blacklisted"] = port["blacklisted"].to_numpy()[pol]
    for name in ("per_person_limit", "extensions", "commission_rate", "prevention_share"):
        cols[name] = port[name].to_numpy()[pol]
    return pd.DataFrame(cols)


def _policy_year_order(frame: pd.DataFrame) -> list[str]:
    head = ["policy_id", "year", "jurisdiction", "sector", "subsector", "rating_unit", "basis",
            "exposure", "earned_premium", "inception_date", "expiry_date"]
    return head + [c for c in frame.columns if c not in head]


def _rate(policy_years: pd.DataFrame, port: pd.DataFrame, book: RateBook,
          pol: np.ndarray) -> pd.DataFrame:
    """The engine's premium and limits for each policy-year's profile."""
    start = policy_years["inception_date"].to_numpy().astype("datetime64[D]")
    profile = policy_years.drop(columns=["policy_id", "year", "rating_unit", "basis",
                                         "exposure", "worst_accident_grade"])
    # the portfolio's choices were valid at its own inception date; keep them valid in the
    # experience years: a chosen limit under that year's floor takes the floor, commission
    # at most the cap in force
    uniq, inverse = np.unique(start, return_inverse=True)
    floors = np.array([per_person_floor(book, d.astype(dt.date)).amount for d in uniq])[inverse]
    limit = profile["per_person_limit"].to_numpy(dtype=float)
    profile["per_person_limit"] = np.where(limit >= floors, limit, np.nan)
    cap = np.minimum(_commission_caps(start), book.expenses.commission_cap or np.inf)
    commission = profile["commission_rate"].to_numpy(dtype=float)
    profile["commission_rate"] = np.where(np.isfinite(cap), np.minimum(commission, cap),
                                          commission)
    profile["subsector"] = port["subsector"].to_numpy()[pol]  # blank where the sector has one
    profile["inception_date"] = start
    profile["expiry_date"] = policy_years["expiry_date"].to_numpy().astype("datetime64[D]")
    return rate_portfolio(profile, book=book)


def _claim_frame(rng, policy_years: pd.DataFrame, rated: pd.DataFrame, row: np.ndarray,
                 grade: np.ndarray, killed: np.ndarray, book: RateBook, sector: np.ndarray,
                 age: np.ndarray) -> pd.DataFrame:
    """Claims of the policy-year rows ``row``: date, victims, amounts after limits."""
    m = len(row)
    start = policy_years["inception_date"].to_numpy().astype("datetime64[D]")[row]
    end = policy_years["expiry_date"].to_numpy().astype("datetime64[D]")[row]
    days = (end - start).astype(np.int64) + 1
    when = start + np.floor(rng.random(m) * days).astype(np.int64)
    disabled = rng.poisson(np.array(list(DISABLED_MEAN.values()))[grade])
    injured = rng.poisson(np.array(list(INJURED_MEAN.values()))[grade])
    injured = np.where(killed + disabled + injured == 0, 1, injured)

    sectors = list(book.sectors)
    sev = np.array([SEVERITY_BY_SECTOR.get(s, 1.0) for s in sectors])[sector]
    per_person = rated["per_person_limit"].to_numpy(dtype=float)[row]
    medical_cap = rated["limit_medical_per_person"].to_numpy(dtype=float)[row]
    other_cap = sum(rated[f"limit_{k}"].to_numpy(dtype=float)
                    for k in ("third_party_property", "rescue", "medical_aid", "appraisal",
                              "legal"))[row]
    per_accident = rated["limit_per_accident"].to_numpy(dtype=float)[row]

    def victims(kind: str, counts: np.ndarray, cap: np.ndarray) -> np.ndarray:
        # one lognormal draw per victim, capped per person, summed back to the claim
        owner = np.repeat(np.arange(m), counts)
        median, sigma = SEVERITY[kind]
        owed = sev[owner] * median * np.exp(sigma * rng.standard_normal(len(owner)))
        return np.bincount(owner, weights=np.minimum(owed, cap[owner]), minlength=m)

    paid = {
        "paid_death": victims("death", killed, per_person),
        "paid_disability": victims("disability", disabled, per_person),
        "paid_medical": victims("medical", disabled + injured, medical_cap),
    }
    median, sigma = SEVERITY["other"]
    other = sev * np.array(list(OTHER_BY_GRADE.values()))[grade] * median * \
        np.exp(sigma * rng.standard_normal(m))
    paid["paid_other"] = np.minimum(other, other_cap)
    total = sum(paid.values())
    # the per-accident limit: every line reduced in proportion (as rating.claims settles)
    ratio = np.where(total > per_accident, per_accident / np.maximum(total, 1e-9), 1.0)
    share_open = np.array(OPEN_SHARE + (0.02,))[np.minimum(age, len(OPEN_SHARE))]
    is_open = rng.random(m) < share_open
    paid_share = np.where(is_open, rng.uniform(*OPEN_PAID, size=m), 1.0)
    final = {k: np.round(v * ratio * 100) / 100 for k, v in paid.items()}
    out_paid = {k: np.round(v * paid_share * 100) / 100 for k, v in final.items()}
    reserved = np.round((sum(final.values()) - sum(out_paid.values())) * 100) / 100

    py = policy_years
    frame = pd.DataFrame({
        "policy_id": py["policy_id"].to_numpy()[row],
        "year": py["year"].to_numpy()[row],
        "accident_date": when.astype("datetime64[s]"),
        "accident_grade": _categorical(grade, list(ACCIDENT_GRADES)),
        "deaths": killed,
        "disabled": disabled,
        "injured": injured,
        **out_paid,
        "reserved": np.maximum(reserved, 0.0),
    })
    order = np.lexsort((when, row))
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "claim_id", _ids("C", m))
    return frame
