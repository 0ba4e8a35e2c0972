"""Rating a portfolio under scenarios: one row per policy and scenario, baseline first.

Every scenario is rated by :func:`rating.rate_portfolio`, the engine quotes use, so a
scenario result is exactly what a quote on the scenario's book would give. The baseline is
the portfolio as it is, on the edition in force for each row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from ..book import IncomeStatistics, RateBook, income_statistics, load_book
from ..book.dates import as_date
from ..book.fields import FIELDS, WORST_GRADE_LEVELS
from ..book.library import Books, check_status
from ..compliance import within_rules
from ..engine.calendar import add_months, term_months
from ..engine.columns import Problems, dates
from ..engine.lookups import Inputs
from ..errors import Collected, ErrorMode, ProfileError, RatingError
from ..portfolio import editions_in_force, rate_portfolio
from .apply import apply_book, apply_portfolio, apply_statistics
from .spec import BASELINE, Scenario, check_names
from .spec import scenario as read_scenario

POLICY_COLUMNS = ["scenario", "row", "sector", "subsector", "basis", "exposure", "premium",
                  "baseline_premium", "premium_change", "premium_change_pct",
                  "prevention_fund", "commission", "per_person_limit", "limit_raised",
                  "commission_capped", "prevention_raised", "minimum_binds"]
"""Columns of :func:`rate_scenarios`; further segment columns follow ``subsector``, and
``expected_loss`` and ``loss_ratio`` end the frame when a loss model is given."""

_RATED = ("premium", "prevention_fund", "commission", "per_person_limit", "exposure",
          "minimum_premium")
"""Result columns of :func:`rating.rate_portfolio` a scenario run keeps."""

_ADJUSTED = {"per_person_limit": "limit_raised", "commission_rate": "commission_capped",
             "prevention_share": "prevention_raised"}
"""Profile field a renewal brings within the rules -> the per-policy flag that says so."""


@overload
def rate_scenarios(frame: pd.DataFrame,
                   scenarios: Iterable[Scenario | Mapping[str, Any]] | Scenario | Mapping,
                   *, book: RateBook | str | Path | None = ...,
                   date: dt.date | str | None = ..., income: IncomeStatistics | None = ...,
                   loss_model: Any = ..., segments: Sequence[str] = ...,
                   errors: Literal["raise"] = ..., books: Books = ...,
                   final_only: bool | None = ..., any_date: bool = ...) -> pd.DataFrame: ...
@overload
def rate_scenarios(frame: pd.DataFrame,
                   scenarios: Iterable[Scenario | Mapping[str, Any]] | Scenario | Mapping,
                   *, book: RateBook | str | Path | None = ...,
                   date: dt.date | str | None = ..., income: IncomeStatistics | None = ...,
                   loss_model: Any = ..., segments: Sequence[str] = ...,
                   errors: Literal["collect"], books: Books = ...,
                   final_only: bool | None = ..., any_date: bool = ...) -> Collected: ...
def rate_scenarios(frame: pd.DataFrame,
                   scenarios: Iterable[Scenario | Mapping[str, Any]] | Scenario | Mapping,
                   *, book: RateBook | str | Path | None = None,
                   date: dt.date | str | None = None, income: IncomeStatistics | None = None,
                   loss_model: Any = None, segments: Sequence[str] = (),
                   errors: ErrorMode = "raise", books: Books = None,
                   final_only: bool | None = None,
                   any_date: bool = False) -> pd.DataFrame | Collected:
    """Rate a portfolio under the baseline and each scenario: one row per policy and scenario.

    Parameters
    ----------
    frame : DataFrame
        Enterprise profiles, as for :func:`rating.rate_portfolio`, plus any ``segments``
        columns of the analyst's own.
    scenarios : Scenario or mapping, or an iterable of them
        Each applied to the baseline (they do not compound). Names must be unique.
    book : RateBook or path, optional
        One book for every row; default each row's edition in force on its rating date (a
        scenario's ``years_forward`` can move a row to a later edition).
    date : date or 'YYYY-MM-DD', optional
        Rating date for every row (moved on by a scenario's ``years_forward``); default
        each row's inception date.
    income : IncomeStatistics, optional
        The baseline's income statistics; default the shipped ones. A scenario's growth path
        extends them (by default for the income regions of the editions rated).
    loss_model : object with ``predict(data)``, optional
        Expected loss per policy (yuan; see :mod:`rating.scenarios.loss`); adds
        ``expected_loss`` and ``loss_ratio`` (expected loss / premium).
    segments : sequence of str
        Further columns of ``frame`` to carry for summaries (``scale``, a branch...);
        ``sector`` and ``subsector`` are always there, as the rating read them.
    errors : {"raise", "collect"}
        ``raise``: the first scenario (or the baseline) with bad rows raises one error naming
        them. ``collect``: rows bad in any run are left out of every run, so all scenarios
        compare the same policies, and a :class:`rating.Collected` pair ``(rated,
        problems)`` is returned, ``problems``
        having ``scenario``, ``row``, ``field`` and ``reason``.
    books : BookLibrary or path, optional
        An insurer's library of editions, preferred to the shipped ones (see
        :class:`rating.BookLibrary`); default the folder ``RATING_BOOKS`` names.
    final_only : bool, optional
        Refuse an edition (the baseline's, before a scenario changes it) that is not
        ``final``. A scenario's book is always a ``draft`` of its edition.
    any_date : bool
        Rate every row on an explicit ``book`` whatever its effective dates.

    Returns
    -------
    DataFrame, or Collected with ``errors="collect"``
        ``POLICY_COLUMNS``: money in yuan; ``premium_change_pct`` is premium / baseline
        premium - 1. A renewal must meet the rules of its rating date and book, so a stated
        per-person limit below the floor is raised to it (``limit_raised``), a commission
        rate above the cap in force lowered to it (``commission_capped``), a prevention
        share below the book's minimum raised to it (``prevention_raised``);
        ``minimum_binds``: the premium is the sub-sector's minimum. Scenarios in the order
        given after ``baseline``; policies in input order. ``attrs["rate_books"]`` maps the
        id of each edition rated (before scenarios) to its status.

    Raises
    ------
    RatingError
        Invalid scenarios (naming the scenario key, with file and line when read from YAML)
        or, with ``errors="raise"``, invalid profiles (naming the scenario, row and field).
    """
    if errors not in ("raise", "collect"):
        raise ValueError("errors must be 'raise' or 'collect'")
    if isinstance(scenarios, (Scenario, Mapping)):
        scenarios = [scenarios]
    scs = [read_scenario(s if isinstance(s, (Scenario, dict)) else dict(s)) for s in scenarios]
    check_names(scs)
    extra = [c for c in dict.fromkeys(segments) if c not in ("sector", "subsector")]
    missing = [c for c in extra if c not in frame.columns]
    if missing:
        raise RatingError(f"segments: the portfolio has no column {missing[0]!r}")
    # the analyst's own segment columns are carried, not rated; any other unknown column is
    # still refused by the rating, as a misspelt field must be
    profiles = frame.drop(columns=[c for c in extra if c not in FIELDS])
    profiles = profiles.set_axis(pd.RangeIndex(len(frame)))  # rows by position from here on
    if isinstance(book, (str, Path)):
        book = load_book(book)
    setting = _Setting(book, as_date(date, "date"), income or income_statistics(),
                       frame.index, errors, books, final_only, any_date or book is None)
    base = _rate_run(None, profiles, np.ones(len(frame), dtype=bool), setting)
    runs = [base] + [_rate_run(sc, profiles, base.good, setting) for sc in scs]
    keep = np.logical_and.reduce([run.good for run in runs])
    parts = [_policies(run, base, keep, frame, extra, loss_model) for run in runs]
    policies = pd.concat(parts, ignore_index=True)
    names = [BASELINE, *(s.name for s in scs)]
    policies["scenario"] = pd.Categorical.from_codes(
        np.repeat(np.arange(len(runs)), [len(p) for p in parts]), names)
    if errors == "raise":
        policies.attrs["rate_books"] = dict(setting.statuses)
        return policies
    tables = [run.problems.table().assign(scenario=run.name) for run in runs]
    problems = pd.concat(tables, ignore_index=True)[["scenario", "row", "field", "reason"]]
    problems["scenario"] = pd.Categorical(problems["scenario"], names)
    policies.attrs["rate_books"] = dict(setting.statuses)
    return Collected(policies, problems)


@dataclass(frozen=True)
class _Setting:
    """What every run of one call shares."""

    book: RateBook | None
    date: dt.date | None
    income: IncomeStatistics
    labels: pd.Index
    errors: str
    books: Books = None
    final_only: bool | None = None
    any_date: bool = False  # an explicit book's dates are not checked (True without one)
    statuses: dict[str, str] = field(default_factory=dict)  # edition id -> status


@dataclass
class _Run:
    """One rating of the portfolio (the baseline or a scenario), aligned with the input rows;
    values are NaN (flags False) where a row was not rated."""

    name: str
    profiles: pd.DataFrame              # the rated rows as changed, indexed by position
    good: np.ndarray
    problems: Problems
    rated: dict[str, np.ndarray]        # _RATED columns
    subsector: np.ndarray               # object: keys as the book has them
    flags: dict[str, np.ndarray] = field(default_factory=dict)   # _ADJUSTED values
    books: list[RateBook] = field(default_factory=list)


def _rate_run(sc: Scenario | None, profiles: pd.DataFrame, rows_in: np.ndarray,
              setting: _Setting) -> _Run:
    """Rate the rows ``rows_in`` of ``profiles`` under a scenario (None: the baseline)."""
    n = len(profiles)
    name = BASELINE if sc is None else sc.name
    problems = Problems(setting.labels)
    part = profiles if rows_in.all() else profiles.iloc[np.flatnonzero(rows_in)]
    day = setting.date
    if sc is not None:
        part = apply_portfolio(part, sc)
        years = sc.portfolio.years_forward if sc.portfolio else 0
        if day is not None and years:
            day = add_months(np.array([day], dtype="datetime64[D]"), 12 * years)[0].item()
    local = Problems(part.index)
    pairs = editions_in_force(part, setting.book, day, local, setting.books,
                              any_date=setting.any_date)
    for _, edition in pairs:
        check_status(edition, setting.final_only)
        setting.statuses[edition.id] = edition.status
    _absorb(problems, local.table(), n)
    if sc is not None:
        _check_sectors(sc, [b for _, b in pairs])
    income = setting.income
    if sc is not None:
        regions = sorted({r for _, b in pairs if (r := b.limits.income_region) is not None})
        income = apply_statistics(setting.income, sc, regions=regions)
    run = _Run(name, part, np.zeros(n, dtype=bool), problems,
               {c: np.full(n, np.nan) for c in _RATED}, np.full(n, None, dtype=object),
               {flag: np.zeros(n, dtype=bool) for flag in _ADJUSTED.values()})
    bad_before = problems.bad_rows()
    for local_rows, edition in pairs:
        sub = part.iloc[local_rows]
        sub = sub[~bad_before[sub.index.to_numpy()]]
        book = edition if sc is None else apply_book(edition, sc)
        run.books.append(book)
        if sc is not None:
            brought = within_rules(sub, book, day, income)
            sub = brought.frame
            for column, rows in brought.moved.items():
                run.flags[_ADJUSTED[column]][sub.index.to_numpy()] = rows
        # the edition's dates and status are checked above (a scenario's book is a draft)
        result, bad = rate_portfolio(sub, book=book, date=day, income=income,
                                     errors="collect", final_only=False, any_date=True)
        at = result.index.to_numpy()  # positions in the input
        for column in _RATED:
            run.rated[column][at] = result[column].to_numpy()
        run.subsector[at] = result["subsector"].to_numpy(dtype=object)
        run.good[at] = True
        _absorb(problems, bad, n)
    if sc is not None:
        run.profiles = part.loc[part.index[run.good[part.index.to_numpy()]]]
        for flag in run.flags.values():
            flag &= run.good
    if setting.errors == "raise":
        try:
            problems.raise_if_any()
        except ProfileError as exc:
            if sc is None:
                raise
            raise RatingError(f"scenario {sc.name!r}: {exc}") from None
    return run


def _absorb(problems: Problems, table: pd.DataFrame, n: int) -> None:
    """Add a problems table whose ``row`` holds input positions to ``problems``."""
    if not len(table):
        return
    for (field_name, reason), group in table.groupby(["field", "reason"], sort=False):
        mask = np.zeros(n, dtype=bool)
        mask[group["row"].to_numpy(dtype=np.int64)] = True
        problems.add(mask, field_name, reason)


def _check_sectors(sc: Scenario, editions: list[RateBook]) -> None:
    if sc.portfolio is None or sc.portfolio.sectors is None:
        return
    known = {s for b in editions for s in b.sectors}
    for i, sector in enumerate(sc.portfolio.sectors):
        if editions and sector not in known:
            raise sc.error(("portfolio", "sectors", i), f"unknown sector {sector!r}; use one "
                           "of: " + ", ".join(sorted(known)))


def _policies(run: _Run, base: _Run, keep: np.ndarray, frame: pd.DataFrame,
              extra: Sequence[str], loss_model: Any) -> pd.DataFrame:
    rows = np.flatnonzero(keep)
    profiles = run.profiles.loc[rows] if len(run.profiles) != len(rows) else run.profiles
    premium = run.rated["premium"][rows]
    baseline = base.rated["premium"][rows]
    sector, subsector, units = _units(profiles, run.subsector[rows])
    subs = {f"{s}.{ss}": sub for b in run.books for s, sector_ in b.sectors.items()
            for ss, sub in sector_.subsectors.items()}
    basis = units.map({u: subs[u].basis for u in units.categories})
    out = pd.DataFrame({"row": frame.index[rows], "sector": sector, "subsector": subsector})
    for column in extra:
        out[column] = frame[column].iloc[rows].to_numpy()
    out["basis"] = basis.to_numpy()
    out["exposure"] = run.rated["exposure"][rows]
    out["premium"] = premium
    out["baseline_premium"] = baseline
    out["premium_change"] = np.round((premium - baseline) * 100) / 100
    with np.errstate(divide="ignore", invalid="ignore"):
        out["premium_change_pct"] = premium / baseline - 1
    out["prevention_fund"] = run.rated["prevention_fund"][rows]
    out["commission"] = run.rated["commission"][rows]
    out["per_person_limit"] = run.rated["per_person_limit"][rows]
    for flag, values in run.flags.items():
        out[flag] = values[rows]
    out["minimum_binds"] = premium <= run.rated["minimum_premium"][rows]
    if loss_model is not None:
        project = units.map({u: subs[u].term == "project" for u in units.categories})
        data = profiles.reset_index(drop=True)
        data["rating_unit"] = units.astype(str)
        data["basis"] = out["basis"]
        data["exposure"] = _earned(data, out["exposure"].to_numpy(),
                                   project.to_numpy(dtype=bool))
        if "worst_accident_grade" not in data.columns:  # derived, as the rating derives it
            codes, level_of = Inputs(data, Problems(data.index)).level_codes(
                "worst_accident_grade", list(WORST_GRADE_LEVELS))
            data["worst_accident_grade"] = np.asarray(WORST_GRADE_LEVELS)[level_of[codes]]
        expected = np.asarray(loss_model.predict(data), dtype=float)
        if expected.shape != (len(rows),) or not np.isfinite(expected).all() \
                or (expected < 0).any():
            raise RatingError(f"loss_model.predict gave {expected.shape} values for "
                              f"{len(rows)} policies, or values that are not finite and >= 0")
        out["expected_loss"] = np.round(expected * 100) / 100
        with np.errstate(divide="ignore", invalid="ignore"):
            out["loss_ratio"] = out["expected_loss"] / premium
    out.insert(0, "scenario", run.name)
    return out


def _units(profiles: pd.DataFrame, subsector: np.ndarray):
    """Sector (as the rating reads it: stripped text), sub-sector and ``sector.subsector``
    rating unit per row, as categoricals built from codes (no per-row string work)."""
    sec_codes, sec_names = pd.factorize(profiles["sector"].astype("string").str.strip())
    sub_codes, sub_names = pd.factorize(subsector)
    pair = sec_codes.astype(np.int64) * len(sub_names) + sub_codes
    pairs, codes = np.unique(pair, return_inverse=True)
    names = [f"{sec_names[p // len(sub_names)]}.{sub_names[p % len(sub_names)]}"
             for p in pairs]
    return (pd.Categorical.from_codes(sec_codes, list(sec_names)),
            pd.Categorical.from_codes(sub_codes, list(sub_names)),
            pd.Categorical.from_codes(codes.reshape(-1), names))


def _earned(profiles: pd.DataFrame, exposure: np.ndarray, project: np.ndarray) -> np.ndarray:
    """Earned exposure as the experience schema counts it: measure x months / 12, the
    contract value for a project-term policy."""
    n = len(profiles)
    # the dates were checked when the rows were rated
    start = dates(profiles.get("inception_date"), "inception_date", Problems(profiles.index),
                  n=n)
    end = dates(profiles.get("expiry_date"), "expiry_date", Problems(profiles.index), n=n)
    months = np.where(np.isnat(end), 12, term_months(start, end))
    return np.where(project, exposure, exposure * months / 12)
