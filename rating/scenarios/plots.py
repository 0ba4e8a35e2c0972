"""Plots of scenario results. Each function returns a matplotlib ``Figure`` and never calls
``show()``: a script saves it with ``fig.savefig(path)``; a notebook with the inline backend
on (``%matplotlib inline``) displays it when it ends a cell.

Figures are built without pyplot (no GUI backend is chosen, no global state is left behind).
Labels are in English: matplotlib's default fonts have no CJK glyphs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import RatingError
from .spec import BASELINE


def _figure(size: tuple[float, float]):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise RatingError("plotting needs matplotlib: pip install 'rating[plot]'") from None
    fig = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _needs(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RatingError(f"{what}: the frame has no column {missing[0]!r}")


def plot_change_by_segment(summary: pd.DataFrame, segment: str = "sector"):
    """Premium change versus the baseline (%) by segment, one bar per scenario.

    Parameters
    ----------
    summary : DataFrame
        From :func:`rating.scenarios.summarise` / ``run_scenarios`` with ``segment`` among
        its ``by`` columns; finer segments are added up first, so the bars are the
        segment's premium change, not an average of its parts'.
    segment : str
        The segment column.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _needs(summary, ["scenario", segment, "premium", "baseline_premium"],
           "plot_change_by_segment")
    data = summary[summary["scenario"].astype(object) != BASELINE]
    totals = data.groupby([segment, "scenario"], observed=True)[
        ["premium", "baseline_premium"]].sum()
    table = (totals["premium"] / totals["baseline_premium"] - 1).unstack("scenario") * 100
    if table.empty:
        raise RatingError("plot_change_by_segment: no scenario besides the baseline")
    fig = _figure((min(14.0, max(6.0, 0.55 * len(table) * table.shape[1] ** 0.5 + 2)), 4.5))
    ax = fig.add_subplot()
    width = 0.8 / table.shape[1]
    x = np.arange(len(table))
    for k, name in enumerate(table.columns):
        ax.bar(x + (k - (table.shape[1] - 1) / 2) * width, table[name].to_numpy(), width,
               label=str(name))
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.set_xticks(x, [str(v) for v in table.index], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("premium change vs baseline (%)")
    ax.set_title(f"Premium change by {segment}")
    ax.legend(fontsize=8)
    return fig


def plot_change_distribution(policies: pd.DataFrame,
                             bins: Sequence[float] | int = 30):
    """Distribution of per-policy premium changes (%), one histogram outline per scenario.

    Parameters
    ----------
    policies : DataFrame
        From :func:`rating.scenarios.rate_scenarios`.
    bins : int or sequence of float
        Histogram bins in percent (edges), or their number.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _needs(policies, ["scenario", "premium_change_pct"], "plot_change_distribution")
    data = policies[policies["scenario"].astype(object) != BASELINE]
    if data.empty:
        raise RatingError("plot_change_distribution: no scenario besides the baseline")
    change = data["premium_change_pct"].to_numpy() * 100
    edges = np.histogram_bin_edges(change[np.isfinite(change)], bins=bins)
    fig = _figure((8.0, 4.5))
    ax = fig.add_subplot()
    for name, part in data.groupby("scenario", observed=True, sort=False):
        values = part["premium_change_pct"].to_numpy() * 100
        ax.hist(values[np.isfinite(values)], bins=edges, histtype="step", linewidth=1.5,
                label=f"{name} ({len(part):,})")
    ax.set_xlabel("premium change vs baseline (%)")
    ax.set_ylabel("policies")
    ax.set_title("Distribution of premium changes")
    ax.legend(fontsize=8)
    return fig


def plot_sweep(frame: pd.DataFrame, y: str = "premium", segment: str | None = None):
    """A sweep curve: ``y`` against the swept parameter's value, one line per segment.

    Parameters
    ----------
    frame : DataFrame
        From :func:`rating.scenarios.sweep`.
    y : str
        A summary column (``premium``, ``premium_change_pct``, ``loss_ratio``...).
    segment : str, optional
        Segment column to draw one line each; default one line for the whole frame.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _needs(frame, ["parameter", "value", y, *([segment] if segment else [])], "plot_sweep")
    points = frame[frame["value"].notna()].sort_values("value", kind="stable")
    if points.empty:
        raise RatingError("plot_sweep: the frame has no swept point")
    if segment is None and points["value"].duplicated().any():
        raise RatingError("plot_sweep: the sweep has several rows per value (it was summarised "
                          "by segment); pass segment= to draw one line each")
    fig = _figure((7.0, 4.5))
    ax = fig.add_subplot()
    groups = points.groupby(segment, observed=True, sort=True) if segment else [(None, points)]
    scale = 100 if y.endswith("_pct") or y == "loss_ratio" else 1
    for name, part in groups:
        ax.plot(part["value"], part[y] * scale, marker="o",
                label=None if name is None else str(name))
    baseline = frame[frame["value"].isna()]
    if segment is None and len(baseline) == 1:
        ax.axhline(float(baseline[y].iloc[0]) * scale, color="#777777", linestyle="--",
                   linewidth=1, label="baseline")
    ax.set_xlabel(str(points["parameter"].iloc[0]))
    ax.set_ylabel(y + (" (%)" if scale == 100 else ""))
    ax.set_title(f"{y} over {points['parameter'].iloc[0]}")
    if segment or len(baseline) == 1:
        ax.legend(fontsize=8)
    return fig
