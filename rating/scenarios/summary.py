"""Tidy summaries of scenario runs: one row per scenario and segment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Collected, RatingError
from .run import rate_scenarios
from .spec import Scenario

SUMMARY_COLUMNS = ["scenario", "policies", "basis", "exposure", "premium", "baseline_premium",
                   "premium_change", "premium_change_pct", "prevention_fund", "commission",
                   "avg_per_person_limit", "limits_raised", "commissions_capped",
                   "prevention_shares_raised", "minimum_binds"]
"""Columns of :func:`summarise` (segment columns follow ``scenario``; ``expected_loss`` and
``loss_ratio`` end the frame when the policies carry them)."""

_COUNTS = {"limit_raised": "limits_raised", "commission_capped": "commissions_capped",
           "prevention_raised": "prevention_shares_raised", "minimum_binds": "minimum_binds"}


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
        to a floor, commissions lowered to the cap, prevention shares raised to the minimum
        and premiums at their minimum; ``expected_loss`` and ``loss_ratio`` when the
        policies carry expected losses.
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
    for flag, count in _COUNTS.items():
        work[count] = policies[flag].astype(np.int64)
    for name in ("per_person_limit", "exposure", "basis"):
        work[name] = policies[name]
    grouped = work.groupby(keys, observed=True, dropna=False, sort=True)
    counts = list(_COUNTS.values())
    sums = grouped[[*money, *counts, "exposure"]].sum()
    out = pd.DataFrame({"policies": grouped.size()})
    bases = grouped["basis"].agg(["nunique", "first"])
    single = bases["nunique"].to_numpy() == 1
    out["basis"] = np.where(single, bases["first"].astype(object).to_numpy(), "mixed")
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
        with np.errstate(divide="ignore", invalid="ignore"):
            out["loss_ratio"] = sums["expected_loss"] / sums["premium"]
    return out.reset_index()


def run_scenarios(frame: pd.DataFrame,
                  scenarios: Iterable[Scenario | Mapping[str, Any]] | Scenario | Mapping, *,
                  by: Sequence[str] = ("sector",), **options) -> pd.DataFrame | Collected:
    """Rate a portfolio under each scenario and summarise: :func:`summarise` of
    :func:`rate_scenarios` (``options`` go to :func:`rate_scenarios`; the ``by`` columns
    are carried as segments).

    Returns
    -------
    DataFrame
        One row per scenario (``baseline`` first) and segment; see :func:`summarise`. With
        ``errors="collect"``: a :class:`rating.Collected` pair ``(summary, problems)``.
    """
    options["segments"] = [*options.get("segments", ()), *by]
    result = rate_scenarios(frame, scenarios, **options)
    if isinstance(result, Collected):
        return Collected(summarise(result.rated, by), result.problems)
    return summarise(result, by)
