"""Base rates from rate grids: each row's cell, looked up on several keys at once.

A grid (:class:`rating.book.model.RateGrid`) has one axis per key: the bands of a number
(``closed`` as for factor tables), or exact values (limit amounts, level keys). A row's cell is
the combination of its positions on every axis; a level named in ``same_as`` takes another
level's position. Problems (a value off the axes, a required key missing) are reported per
field, and the row is not rated.
"""

from __future__ import annotations

import numpy as np

from ..book.fields import grid_variable_kind
from ..book.model import GridKey, RateGrid
from .columns import MISSING
from .lookups import Inputs
from .memo import by_identity


@by_identity
def _cells(grid: RateGrid) -> np.ndarray:
    """The grid's rates as an array with one axis per key (positions in the keys' order)."""
    axes = [k.positions() for k in grid.keys]
    rates = np.empty([len(a) for a in axes])
    for cell in grid.cells:
        rates[tuple(a.index(p) for a, p in zip(axes, cell.at))] = cell.rate
    return rates


def grid_rates(grid: RateGrid, path: str, rows: np.ndarray, inputs: Inputs,
               per_person_limit: np.ndarray) -> np.ndarray:
    """The base rate of each of ``rows`` (positions) from ``grid``, NaN where a key cannot be
    placed (reported to ``inputs.problems``).

    Parameters
    ----------
    grid : RateGrid
    path : str
        The grid's key path in the book, for messages.
    rows : ndarray of int
        Positions of the rows rated on the grid's sub-sector.
    inputs : Inputs
    per_person_limit : ndarray
        The per-person limit of every row as the engine settled it (a default option filled
        in), yuan: a grid keyed on ``per_person_limit`` reads this, not the raw input.
    """
    at = [_positions(key, path, rows, inputs, per_person_limit) for key in grid.keys]
    placed = np.logical_and.reduce([p >= 0 for p in at])
    out = np.full(len(rows), np.nan)
    if np.count_nonzero(placed):
        index = tuple(p[placed] for p in at)
        out[placed] = _cells(grid)[index]
    return out


def _positions(key: GridKey, path: str, rows: np.ndarray, inputs: Inputs,
               per_person_limit: np.ndarray) -> np.ndarray:
    """Each row's position on ``key``'s axis, -1 where it has none (reported)."""
    name = key.variable
    problems, n = inputs.problems, inputs.n

    def report(bad: np.ndarray, reason: str) -> None:
        if np.count_nonzero(bad):
            mask = np.zeros(n, dtype=bool)
            mask[rows[bad]] = True
            problems.add(mask, name, reason)

    if key.bands is not None:
        values = (per_person_limit if name == "per_person_limit" else inputs.numeric(name))[rows]
        lowers = np.array([b.lower for b in key.bands])
        top = key.bands[-1].upper
        left = key.closed == "left"
        pos = np.searchsorted(lowers[1:], values, side="right" if left else "left")
        missing = np.isnan(values)
        outside = ~missing & (values < lowers[0])  # the first band's lower end always counts
        if top is not None:
            outside |= ~missing & ((values >= top) if left else (values > top))
        report(missing & inputs.absent(name)[rows], f"is required by the rate grid ({path})")
        report(outside, f"is outside the bands of the rate grid ({path}: {lowers[0]:g} to "
                        f"{'no limit' if top is None else f'{top:g}'})")
        return np.where(missing | outside, -1, pos)
    assert key.values is not None  # one of bands and values, checked on reading
    values = list(key.values)
    shown = ", ".join(f"{v:,.0f}" if isinstance(v, float) else str(v) for v in values)
    if grid_variable_kind(name) in ("number", "count"):
        given = (per_person_limit if name == "per_person_limit" else inputs.numeric(name))[rows]
        pos = np.full(len(rows), -1)
        for i, v in enumerate(values):
            pos[given == v] = i
        missing = np.isnan(given)
        if key.default is not None:
            pos[missing] = values.index(key.default)
        else:
            report(missing & inputs.absent(name)[rows],
                   f"is required by the rate grid ({path}); use one of: {shown}")
        report(~missing & (pos < 0), f"is not one of the rate grid's values ({path}); use one "
                                     f"of: {shown}")
        return pos
    levels = [str(v) for v in values] + list(key.same_as)
    codes, level_of = inputs.level_codes(name, levels)
    # a same_as level takes its target's position; MISSING/INVALID stay negative
    to_position = np.array([values.index(key.same_as[lv]) if lv in key.same_as else i
                            for i, lv in enumerate(levels)] + [-1])
    level = level_of[codes[rows]]
    if key.default is not None:
        level = np.where(level == MISSING, levels.index(str(key.default)), level)
    else:
        report(level == MISSING, f"is required by the rate grid ({path}); use one of: "
                                 + ", ".join(levels))
    report(level < MISSING, f"is not a level of the rate grid ({path}); use one of: "
                            + ", ".join(levels))
    return np.where(level >= 0, to_position[np.maximum(level, 0)], -1)
