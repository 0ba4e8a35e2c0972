"""Running scenarios over a portfolio: per-policy results, tidy summaries and sweeps.

Every scenario is rated by :func:`rating.rate_portfolio`, the engine quotes use, so a
scenario result is exactly what a quote on the scenario's book would give. The baseline is
the portfolio as it is on the book(s) it rates on today.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..book import (IncomeStatistics, RateBook, books, income_statistics, load_book,
                     national_rules)
from ..book.reference import value_at
from ..calendar import term_months
from ..columns import Problems, as_date, dates
from ..errors import RatingError
from ..limits import per_person_floor
from ..portfolio import rate_portfolio
from .apply import apply_book, apply_portfolio, apply_statistics
from .spec import BASELINE, Scenario, check_names, scenario as read_scenario

POLICY_COLUMNS = ["scenario", "row", "basis", "exposure", "premium", "baseline_premium",
                  "premium_change", "premium_change_pct", "prevention_fund", "commission",
                  "per_person_limit", "limit_raised", "commission_capped", "minimum_binds"]
"""Columns of :func:`rate_scenarios` (segment columns follow ``row``; ``expected_loss`` and
``loss_ratio`` end the frame when a loss model is given)."""

SUMMARY_COLUMNS = ["scenario", "policies", "basis", "exposure", "premium", "baseline_premium",
                   "premium_change", "premium_change_pct", "prevention_fund", "commission",
                   "avg_per_person_limit", "limits_raised", "commissions_capped",
                   "minimum_binds"]
"""Columns of :func:`summarise` (segment columns follow ``scenario``; ``expected_loss`` and
``loss_ratio`` end the frame when the policies carry them)."""

_MAPPING_KEYS = {"base_rate", "minimum_premium", "exposure_growth"}
"""Scenario mappings whose keys may contain dots (``construction.building``)."""


def rate_scenarios(frame: pd.DataFrame, scenarios: Iterable[Scenario | dict[str, Any]], *,
                   book: RateBook | str | Path | None = None, date: dt.date | str | None = None,
                   income: IncomeStatistics | None = None, loss_model: Any = None,
                   segments: Sequence[str] = ("sector", "subsector")) -> pd.DataFrame:
    """Rate a portfolio under the baseline and each scenario: one row per policy and scenario.

    Parameters
    ----------
    frame : DataFrame
        Enterprise profiles, as for :func:`rating.rate_portfolio`.
    scenarios : iterable of Scenario or mapping
        Applied one at a time to the baseline (they do not compound). Names must be unique.
    book : RateBook or path, optional
        One book for every row; default each row's edition in force (a scenario is applied to
        every edition the baseline uses, and each row stays on its baseline edition).
    date : date or 'YYYY-MM-DD', optional
        Rating date for every row; default each row's inception date (after a scenario's
        ``years_forward``).
    income : IncomeStatistics, optional
        The baseline's income statistics; default the shipped ones. Scenario growth paths
        extend them.
    loss_model : object with ``predict(data)``, optional
        Expected loss per policy (yuan; see :mod:`rating.scenarios.loss`); adds
        ``expected_loss`` and ``loss_ratio`` (expected loss / premium).
    segments : sequence of str
        Input columns copied to the result for summaries (default sector and sub-sector).

    Returns
    -------
    DataFrame
        ``POLICY_COLUMNS`` with the segment columns after ``row`` (the input's row label).
        Money in yuan; ``premium_change_pct`` is premium / baseline premium - 1;
        ``limit_raised`` marks policies whose stated per-person limit fell below a
        scenario's floor and was raised to it, ``commission_capped`` those whose stated
        commission rate was above the cap in force and was lowered to it (as a renewal
        on that date must be);
        ``minimum_binds`` that the premium is the sub-sector's minimum. Scenarios in the
        order given, after ``baseline``; policies in input order.

    Raises
    ------
    RatingError
        Invalid scenarios (naming the scenario key), or invalid profiles.
    """
    scs = [read_scenario(s) for s in scenarios]
    check_names(scs)
    missing = [c for c in segments if c not in frame.columns]
    if missing:
        raise RatingError(f"segments: the portfolio has no column {missing[0]!r}")
    if isinstance(book, (str, Path)):
        book = load_book(book)
    date = as_date(date, "date")
    income = income or income_statistics()
    base = rate_portfolio(frame, book=book, date=date, income=income)
    editions = _editions(base, book)
    unchanged = np.zeros(len(frame), dtype=bool)
    parts = [_policies(BASELINE, frame, base, base, editions, segments, loss_model,
                       unchanged, unchanged)]
    for sc in scs:
        _check_sectors(sc, editions)
        stats = apply_statistics(income, sc)
        changed = apply_portfolio(frame, sc)
        rated, raised, capped = _rate(changed, base, editions, sc, date, stats)
        parts.append(_policies(sc.name, changed, rated, base, editions, segments, loss_model,
                               raised, capped))
    out = pd.concat(parts, ignore_index=True)
    out["scenario"] = pd.Categorical(out["scenario"], [BASELINE, *(s.name for s in scs)])
    return out


def summarise(policies: pd.DataFrame, by: Sequence[str] = ("sector",)) -> pd.DataFrame:
    """The tidy summary of :func:`rate_scenarios`: one row per scenario and segment.

    Parameters
    ----------
    policies : DataFrame
        From :func:`rate_scenarios`.
    by : sequence of str
        Segment columns (present in ``policies``); empty for whole-book totals.

    Returns
    -------
    DataFrame
        ``SUMMARY_COLUMNS`` with the segment columns after ``scenario``: policies; the
        exposure basis (``mixed`` when the segment has several, and then ``exposure`` is
        NaN, since persons and yuan do not add up); premium, baseline premium, their change
        (yuan, and as a share of the baseline), prevention fund and commission (yuan, summed
        in fen, so exact); the average per-person limit (yuan); how many limits were raised
        to a floor, commissions lowered to the cap and premiums at their minimum; ``expected_loss`` and
        ``loss_ratio`` when the policies carry expected losses.
    """
    by = list(by)
    missing = [c for c in by if c not in policies.columns]
    if missing:
        raise RatingError(f"by: no column {missing[0]!r}; segment columns are those passed "
                          "to rate_scenarios")
    keys = ["scenario", *by]
    work = policies[keys].copy()
    money = ["premium", "baseline_premium", "prevention_fund", "commission"]
    if "expected_loss" in policies.columns:
        money.append("expected_loss")
    for name in money:  # summed in fen: float sums of many amounts would drift
        work[name] = np.round(policies[name].to_numpy() * 100).astype(np.int64)
    work["per_person_limit"] = policies["per_person_limit"]
    work["limits_raised"] = policies["limit_raised"].astype(np.int64)
    work["commissions_capped"] = policies["commission_capped"].astype(np.int64)
    work["minimum_binds"] = policies["minimum_binds"].astype(np.int64)
    work["exposure"] = policies["exposure"]
    work["basis"] = policies["basis"]
    grouped = work.groupby(keys, observed=True, dropna=False, sort=True)
    counts = ["limits_raised", "commissions_capped", "minimum_binds"]
    sums = grouped[[*money, *counts, "exposure"]].sum()
    out = pd.DataFrame({"policies": grouped.size()})
    bases = grouped["basis"].agg(["nunique", "first"])
    single = bases["nunique"].to_numpy() == 1
    out["basis"] = np.where(single, bases["first"].astype(object), "mixed")
    out["exposure"] = np.where(single, sums["exposure"].to_numpy(), np.nan)
    for name in ("premium", "baseline_premium"):
        out[name] = sums[name] / 100
    out["premium_change"] = (sums["premium"] - sums["baseline_premium"]) / 100
    with np.errstate(divide="ignore", invalid="ignore"):
        out["premium_change_pct"] = sums["premium"] / sums["baseline_premium"] - 1
    out["prevention_fund"] = sums["prevention_fund"] / 100
    out["commission"] = sums["commission"] / 100
    out["avg_per_person_limit"] = grouped["per_person_limit"].mean()
    for name in counts:
        out[name] = sums[name]
    if "expected_loss" in money:
        out["expected_loss"] = sums["expected_loss"] / 100
        out["loss_ratio"] = sums["expected_loss"] / sums["premium"]
    return out.reset_index()


def run_scenarios(frame: pd.DataFrame, scenarios: Iterable[Scenario | dict[str, Any]], *,
                  by: Sequence[str] = ("sector",), **options) -> pd.DataFrame:
    """Rate a portfolio under each scenario and summarise: :func:`summarise` of
    :func:`rate_scenarios` (``options`` go to :func:`rate_scenarios`).

    Returns
    -------
    DataFrame
        One row per scenario (``baseline`` first) and segment; see :func:`summarise`.
    """
    options.setdefault("segments", _segments(by))
    return summarise(rate_scenarios(frame, scenarios, **options), by)


def sweep(frame: pd.DataFrame, parameter: str | Sequence[str], values: Iterable[Any], *,
          base: Scenario | dict[str, Any] | None = None, by: Sequence[str] = (),
          **options) -> pd.DataFrame:
    """Vary one scenario parameter over a grid and summarise each point.

    Parameters
    ----------
    frame : DataFrame
        The portfolio.
    parameter : str or sequence of str
        The scenario key to vary, dotted (``book.float_cap``, ``book.base_rate.construction``,
        ``portfolio.exposure_growth.headcount``) or as a sequence of keys.
    values : iterable
        The grid, e.g. ``numpy.arange(1.1, 1.51, 0.1)``.
    base : Scenario or mapping, optional
        Other changes every point shares (as a mapping); default none.
    by : sequence of str
        Segment columns; default whole-book totals.
    options
        For :func:`rate_scenarios` (``book``, ``date``, ``loss_model``...).

    Returns
    -------
    DataFrame
        :func:`summarise` with ``parameter`` and ``value`` after ``scenario``; the baseline's
        ``value`` is NaN. Points are named ``<parameter>=<value>``.
    """
    keys = _parameter_keys(parameter)
    name = ".".join(keys)
    if isinstance(base, Scenario):
        raise RatingError("sweep: give 'base' as a mapping, so each point can change it")
    grid = list(values)
    if not grid:
        raise RatingError("sweep: values is empty; give at least one point")
    points = []
    for value in grid:
        value = value.item() if isinstance(value, np.generic) else value
        spec = copy.deepcopy(dict(base or {}))
        spec["name"] = f"{name}={_show(value)}"
        node = spec
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise RatingError(f"sweep: {name}: {key!r} is not a mapping in the base scenario")
        node[keys[-1]] = value
        points.append((value, spec))
    options.setdefault("segments", _segments(by))
    out = summarise(rate_scenarios(frame, [spec for _, spec in points], **options), by)
    lookup = {spec["name"]: value for value, spec in points}
    out.insert(1, "parameter", name)
    out.insert(2, "value", out["scenario"].astype(object).map(lookup).astype(float))
    return out


# --- helpers -----------------------------------------------------------------------------------

def _segments(by: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(["sector", "subsector", *by]))


def _parameter_keys(parameter: str | Sequence[str]) -> list[str]:
    if not isinstance(parameter, str):
        keys = [str(k) for k in parameter]
    else:
        keys = parameter.split(".")
        for i, key in enumerate(keys[:-1]):
            if key in _MAPPING_KEYS:  # the rest is one key: sector.subsector
                keys = keys[:i + 1] + [".".join(keys[i + 1:])]
                break
    if len(keys) < 2 or not all(keys):
        raise RatingError(f"sweep: parameter {parameter!r} should name a scenario key such as "
                          "'book.float_cap' or 'book.base_rate.construction'")
    return keys


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _editions(base: pd.DataFrame, book: RateBook | None) -> dict[str, RateBook]:
    """The books the baseline rated on, by id."""
    if book is not None:
        return {book.id: book}
    shipped = {b.id: b for b in books()}
    return {str(i): shipped[str(i)] for i in pd.unique(base["rate_book"].astype(object))}


def _check_sectors(sc: Scenario, editions: dict[str, RateBook]) -> None:
    if sc.portfolio is None or sc.portfolio.sectors is None:
        return
    known = {s for b in editions.values() for s in b.sectors}
    for i, sector in enumerate(sc.portfolio.sectors):
        if sector not in known:
            raise sc.error(("portfolio", "sectors", i), f"unknown sector {sector!r}; use one "
                           "of: " + ", ".join(sorted(known)))


def _rate(changed: pd.DataFrame, base: pd.DataFrame, editions: dict[str, RateBook],
          sc: Scenario, date: dt.date | None, income: IncomeStatistics):
    """Rate the changed portfolio on the scenario's version of each row's baseline edition."""
    which = base["rate_book"].astype(object).to_numpy()
    n = len(changed)
    raised, capped = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    pieces = []
    for book_id, edition in editions.items():
        rows = np.flatnonzero(which == book_id) if len(editions) > 1 else np.arange(n)
        book = apply_book(edition, sc)
        part, raised[rows], capped[rows] = _renewal_terms(changed.iloc[rows], book, date,
                                                          income)
        try:
            pieces.append(rate_portfolio(part, book=book, date=date, income=income))
        except RatingError as exc:
            raise RatingError(f"scenario {sc.name!r}: {exc}") from None
    rated = pieces[0] if len(pieces) == 1 else pd.concat(pieces).loc[changed.index]
    return rated, raised, capped


def _renewal_terms(frame: pd.DataFrame, book: RateBook, date: dt.date | None,
                   income: IncomeStatistics) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The portfolio brought within the rules in force on each rating date, as a renewal
    must be: a stated per-person limit below the floor is raised to it, a stated commission
    above the cap is lowered to it. Returns the frame and which rows had each change."""
    n = len(frame)
    if date is not None:
        codes, days = np.zeros(n, dtype=np.int64), [date]
    else:
        # bad dates are reported when the rows are rated, not here
        when = dates(frame.get("inception_date"), "inception_date", Problems(frame.index), n=n)
        codes, uniq = pd.factorize(when, use_na_sentinel=True)
        days = [d.astype("datetime64[D]").astype(dt.date) for d in np.asarray(uniq)]
    floors = np.array([per_person_floor(book, d, income=income).amount for d in days]
                      + [np.nan])[codes]
    national = [getattr(value_at(national_rules().commission_cap, d), "value", np.inf)
                for d in days]
    caps = np.minimum(np.array(national + [np.inf]), book.expenses.commission_cap or np.inf)
    caps = caps[codes]
    out = frame
    changed = {}
    for column, bound, breaks in (("per_person_limit", floors, np.less),
                                  ("commission_rate", caps, np.greater)):
        stated = (pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
                  if column in frame.columns else np.full(n, np.nan))
        moved = breaks(stated, bound)  # NaN compares False: a blank takes the book's value
        if moved.any():
            out = out.copy() if out is frame else out
            out[column] = np.where(moved, bound, stated)
        changed[column] = moved
    return out, changed["per_person_limit"], changed["commission_rate"]


def _policies(name: str, frame: pd.DataFrame, rated: pd.DataFrame, base: pd.DataFrame,
              editions: dict[str, RateBook], segments: Sequence[str], loss_model: Any,
              raised: np.ndarray, capped: np.ndarray) -> pd.DataFrame:
    n = len(frame)
    units = _units(frame, rated)
    basis_of = {f"{s}.{ss}": sub.basis for b in editions.values()
                for s, sector in b.sectors.items() for ss, sub in sector.subsectors.items()}
    basis = units.map(basis_of).to_numpy(dtype=object)
    premium = rated["premium"].to_numpy()
    baseline = base["premium"].to_numpy()
    out = pd.DataFrame({"scenario": np.full(n, name, dtype=object),
                        "row": frame.index.to_numpy()})
    for column in segments:
        out[column] = frame[column].to_numpy()
    out["basis"] = basis
    out["exposure"] = rated["exposure"].to_numpy()
    out["premium"] = premium
    out["baseline_premium"] = baseline
    out["premium_change"] = np.round((premium - baseline) * 100) / 100
    with np.errstate(divide="ignore", invalid="ignore"):
        out["premium_change_pct"] = premium / baseline - 1
    out["prevention_fund"] = rated["prevention_fund"].to_numpy()
    out["commission"] = rated["commission"].to_numpy()
    out["per_person_limit"] = rated["per_person_limit"].to_numpy()
    out["limit_raised"] = raised
    out["commission_capped"] = capped
    out["minimum_binds"] = premium <= rated["minimum_premium"].to_numpy()
    if loss_model is not None:
        data = frame.copy()
        data["rating_unit"] = units.to_numpy()
        data["basis"] = basis
        data["exposure"] = _earned(frame, rated, basis, editions, units)
        expected = np.asarray(loss_model.predict(data), dtype=float)
        if expected.shape != (n,) or not np.isfinite(expected).all() or (expected < 0).any():
            raise RatingError(f"loss_model.predict gave {expected.shape} values for {n} "
                              "policies, or values that are not finite and >= 0")
        out["expected_loss"] = np.round(expected * 100) / 100
        out["loss_ratio"] = out["expected_loss"] / premium
    return out


def _units(frame: pd.DataFrame, rated: pd.DataFrame) -> pd.Series:
    """``sector.subsector`` per row."""
    sector = frame["sector"].astype("string").str.strip()
    return (sector + "." + rated["subsector"].astype("string")).astype(object)


def _earned(frame: pd.DataFrame, rated: pd.DataFrame, basis: np.ndarray,
            editions: dict[str, RateBook], units: pd.Series) -> np.ndarray:
    """Earned exposure as the experience schema counts it: measure x months / 12, the
    contract value for a project-term policy."""
    project = {f"{s}.{ss}" for b in editions.values() for s, sector in b.sectors.items()
               for ss, sub in sector.subsectors.items() if sub.term == "project"}
    # the dates were checked when the rows were rated
    n = len(frame)
    start = dates(frame.get("inception_date"), "inception_date", Problems(frame.index), n=n)
    end = dates(frame.get("expiry_date"), "expiry_date", Problems(frame.index), n=n)
    months = np.where(np.isnat(end), 12, term_months(start, end))
    exposure = rated["exposure"].to_numpy()
    return np.where(units.isin(project).to_numpy(), exposure, exposure * months / 12)

