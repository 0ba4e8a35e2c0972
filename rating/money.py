"""Money: exact half-up rounding to the fen, and splits that add up.

Premiums are products of decimal factors. Float arithmetic gets them right to about 1e-15
relative, which decides the rounding of every premium except those whose exact value lies on
(or within float error of) a half fen; there float and exact decimal arithmetic can disagree.
We round in float, find the rows that are too close to a half fen to trust, and settle only
those with :mod:`decimal`, so the result equals exact decimal arithmetic while staying
vectorised.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np

_TRUST = 256 * np.finfo(np.float64).eps
"""Relative error bound of a chain of a few dozen float operations."""


def exact(values: np.ndarray) -> np.ndarray:
    """Decimal twins of float inputs (object array), read back from their shortest repr.

    Inputs to the rating are decimal literals (rate-book factors, exposures); the shortest
    repr of their float is that literal, so this recovers the number a person wrote down.
    """
    return np.array([Decimal(repr(float(v))) for v in values], dtype=object)


def to_fen(yuan: np.ndarray, exact_yuan: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Round amounts in yuan half-up to whole fen (int64).

    Parameters
    ----------
    yuan : ndarray of float
        Amounts (>= 0) computed in float.
    exact_yuan : callable
        Given row positions, returns the same amounts computed exactly (Decimal objects);
        called only for rows within float error of a half fen.

    Returns
    -------
    ndarray of int64
        Amounts in fen.
    """
    fen = yuan * 100.0
    frac = fen - np.floor(fen)
    doubtful = np.abs(frac - 0.5) <= _TRUST * np.maximum(fen, 1.0) + 1e-9
    out = np.floor(fen + 0.5).astype(np.int64)
    rows = np.flatnonzero(doubtful)
    if rows.size:
        with localcontext() as ctx:
            ctx.prec = 60
            out[rows] = [int((v * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
                         for v in exact_yuan(rows)]
    return out


def share_of(total_fen: np.ndarray, share: np.ndarray) -> np.ndarray:
    """``total × share`` rounded half-up to the fen, exactly (int64 fen)."""
    amount = total_fen.astype(np.float64) * share / 100.0

    def exact_rows(rows: np.ndarray) -> np.ndarray:
        return np.array([Decimal(int(t)) * Decimal(repr(float(s))) / 100
                         for t, s in zip(total_fen[rows], share[rows])], dtype=object)

    return to_fen(amount, exact_rows)


def split_by_shares(total_fen: np.ndarray, shares: list[float]) -> np.ndarray:
    """Split amounts (fen) among parties by shares adding up to 1: every party but the first
    gets its share rounded half-up, the first (the lead) the remainder, so each row adds up
    exactly. Where rounding up would leave the lead below zero (tiny amounts, tiny lead
    share), that row is split by largest remainders instead.

    Returns
    -------
    ndarray of int64, shape (rows, parties)
    """
    total_fen = np.asarray(total_fen, dtype=np.int64)
    out = np.zeros((len(total_fen), len(shares)), dtype=np.int64)
    for j, share in enumerate(shares[1:], start=1):
        out[:, j] = share_of(total_fen, np.full(len(total_fen), share))
    out[:, 0] = total_fen - out[:, 1:].sum(axis=1)
    for row in np.flatnonzero(out[:, 0] < 0):
        out[row] = _largest_remainders(int(total_fen[row]), shares)
    return out


def _largest_remainders(total: int, shares: list[float]) -> list[int]:
    exact_parts = [Decimal(total) * Decimal(repr(float(s))) for s in shares]
    parts = [int(p) for p in exact_parts]  # floor: amounts are >= 0
    order = sorted(range(len(shares)), key=lambda i: (-(exact_parts[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts
