"""Loss experience for calibration: the schema and its validation.

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
    Profile fields (:mod:`rating.book.fields`) as rated for the year: exposure measures
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
:func:`claims_with` adds policy-year columns (rating factors) to the claims.
:func:`rating.synthetic.synthetic_experience` draws a data set in this schema whose true
frequency relativities are known.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .._moved import moved_name
from ..book import RateBook, national_rules
from ..book.fields import ACCIDENT_GRADES, EXPOSURE_FIELDS, WORST_GRADE_LEVELS
from ..engine.columns import MISSING, Problems, absent, categories, dates, numbers
from ..errors import ProfileError
from ..renewal import HONOUR_LEVELS, STANDARDISATION_GRADES

__all__ = ["ExperienceError", "claims_with", "incurred", "validate_experience", "with_claims"]

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
    series = [pd.Series(c).reset_index(drop=True) for c in columns]
    if not all(pd.api.types.is_string_dtype(c.dtype) for c in series):
        series = [c.astype(str) for c in series]
    codes = pd.factorize(pd.concat(series, ignore_index=True))[0]
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


def __getattr__(name: str):
    return moved_name(__name__, name)  # the synthetic generator left for rating.synthetic
