"""Sweeps: one scenario parameter over a grid, summarised point by point."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import RatingError
from .summary import run_scenarios

_MAPPING_KEYS = {"base_rate", "minimum_premium", "exposure_growth"}
"""Scenario mappings whose keys may contain dots (``construction.building``)."""


def sweep(frame: pd.DataFrame, parameter: str | Sequence[str], values: Iterable[Any], *,
          base: Mapping[str, Any] | None = None, by: Sequence[str] = (),
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
        The grid, e.g. ``numpy.linspace(1.1, 1.5, 5)``.
    base : mapping, optional
        Other changes every point shares (a scenario mapping without ``name``).
    by : sequence of str
        Segment columns; default whole-book totals.
    options
        For :func:`rate_scenarios` (``book``, ``date``, ``loss_model``...).

    Returns
    -------
    DataFrame
        :func:`summarise` with ``parameter`` and ``value`` after ``scenario``; the baseline's
        ``value`` is missing. Points are named ``<parameter>=<value>``.

    Raises
    ------
    RatingError
        An empty grid, two values that print alike, a parameter path through a non-mapping,
        or an invalid scenario at some point (naming it).
    """
    keys = _parameter_keys(parameter)
    name = ".".join(keys)
    if base is not None and not isinstance(base, Mapping):
        raise RatingError("sweep: give 'base' as a scenario mapping, so each point can change it")
    grid = [v.item() if isinstance(v, np.generic) else v for v in values]
    if not grid:
        raise RatingError("sweep: values is empty; give at least one point")
    points: dict[str, Any] = {}
    specs = []
    for value in grid:
        label = f"{name}={_show(value)}"
        if label in points:
            raise RatingError(f"sweep: values {points[label]!r} and {value!r} both print as "
                              f"{_show(value)!r}; give distinct values")
        points[label] = value
        spec = copy.deepcopy(dict(base or {}))
        spec["name"] = label
        node = spec
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise RatingError(f"sweep: {name}: {key!r} is not a mapping in the base scenario")
        node[keys[-1]] = value
        specs.append(spec)
    out = run_scenarios(frame, specs, by=by, **options)
    summary = out[0] if isinstance(out, tuple) else out
    value = summary["scenario"].astype(object).map(points)
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in grid)
    summary.insert(1, "parameter", name)
    summary.insert(2, "value", value.astype(float) if numeric else value)
    return out


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
    """A grid value as point names show it: 12 significant digits, so 1.2000000000000002
    from ``numpy.arange`` reads 1.2."""
    return f"{value:.12g}" if isinstance(value, float) else str(value)
