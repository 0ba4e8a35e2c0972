"""Money: exact half-up rounding to the fen, and splits that add up.

Premiums are products of decimal factors. Float arithmetic gets them right to about 1e-15
relative, which decides the rounding of every premium except those whose exact value lies on
(or within float error of) a half fen; there float and exact decimal arithmetic can disagree.
We round in float, find the rows that are too close to a half fen to trust, and settle only
those with :mod:`decimal`, so the result equals exact decimal arithmetic while staying
vectorised.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import cast

import numpy as np
import pandas as pd

from .columns import encode

_TRUST = 256 * np.finfo(np.float64).eps
"""Relative error bound of a chain of a few dozen float operations."""


def exact(values: np.ndarray) -> np.ndarray:
    """Decimal twins of float inputs (object array), read back from their shortest repr.

    Inputs to the rating are decimal literals (rate-book factors, exposures); the shortest
    repr of their float is that literal, so this recovers the number a person wrote down.
    Each distinct value is converted once (factor columns hold few).
    """
    return _per_distinct(values, lambda v: Decimal(repr(v)), Decimal("NaN"), object)


NO_PLACES = 99
"""The places of a value that is no decimal literal (NaN, infinite): more than any test of
:func:`_half_up_units` accepts."""


def places(values: np.ndarray) -> np.ndarray:
    """Decimal places of the literals :func:`exact` reads (int64; NO_PLACES for NaN, inf)."""
    return _per_distinct(values, _places, NO_PLACES, np.int64)


def _places(value: float) -> int:
    if not math.isfinite(value):
        return NO_PLACES
    # finite, so the exponent is an int (not 'n', 'N' or 'F')
    exponent = cast(int, Decimal(repr(value)).normalize().as_tuple().exponent)
    return max(-exponent, 0)  # 120.0: none


def _per_distinct(values: np.ndarray, convert: Callable[[float], object], missing,
                  dtype) -> np.ndarray:
    """``convert`` of each value, called once per distinct value (``missing`` for NaN)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=np.float64))
    return np.array([convert(float(v)) for v in uniques] + [missing], dtype=dtype)[codes]


def to_fen(yuan: np.ndarray, exact_yuan: Callable[[np.ndarray], np.ndarray],
           yuan_places: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Round amounts in yuan half-up to whole fen (int64).

    Parameters
    ----------
    yuan : ndarray of float
        Amounts (>= 0) computed in float.
    exact_yuan : callable
        Given row positions, returns the same amounts computed exactly (Decimal objects);
        called only for rows within float error of a half fen that ``yuan_places`` does not
        settle.
    yuan_places : callable, optional
        Given row positions, an upper bound on the decimal places of the exact amounts
        (int64), which settles most rows on a half fen without computing them exactly.

    Returns
    -------
    ndarray of int64
        Amounts in fen.
    """
    return _half_up_units(yuan, exact_yuan, 2, yuan_places)


def round_half_up(values: np.ndarray, exact_values: Callable[[np.ndarray], np.ndarray],
                  digits: int) -> np.ndarray:
    """Round amounts (>= 0) half-up to ``digits`` decimals, exactly: as :func:`to_fen`, for
    any number of decimals (0: whole persons or vehicles). Returns floats."""
    return _half_up_units(values, exact_values, digits) / 10.0 ** digits


def _half_up_units(values: np.ndarray, exact_values: Callable[[np.ndarray], np.ndarray],
                   digits: int,
                   value_places: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Whole units of 10**-digits, half-up; rows within float error of a half unit are
    settled by their decimal places where these suffice, else with the exact values.

    An exact value with at most ``p`` decimal places that is not on a half unit is at least
    ``0.5 * 10**(digits - p)`` units away from one, while a doubtful row's float value is
    within ``bound`` of a half unit and ``bound`` of the exact value (the float error the
    test below allows for). Where ``2 * bound`` is less than that distance, the exact value
    is on the half unit, which rounds up: no decimal arithmetic is needed.
    """
    scaled = values * 10.0 ** digits
    # |frac(scaled) - 0.5| <= _float_error(scaled), computed in place: a
    # million-row portfolio allocates two arrays here rather than eight
    gap = np.floor(scaled)
    np.subtract(scaled, gap, out=gap)
    gap -= 0.5
    np.abs(gap, out=gap)
    bound = _float_error(scaled)
    doubtful = gap <= bound
    del gap, bound
    scaled += 0.5
    out = np.floor(scaled, out=scaled).astype(np.int64)
    if np.count_nonzero(doubtful):
        rows = np.flatnonzero(doubtful)
        if value_places is not None:
            scaled = values[rows] * 10.0 ** digits  # as above, for these rows
            bound = _float_error(scaled)
            p = np.minimum(value_places(rows), NO_PLACES)  # 10.0 ** p stays finite
            on_half = 2 * bound * 10.0 ** (p - digits) < 0.5
            out[rows[on_half]] = np.floor(scaled[on_half]).astype(np.int64) + 1
            rows = rows[~on_half]
        unit, one = Decimal(10) ** digits, Decimal(1)
        with localcontext() as ctx:
            ctx.prec = 60
            if rows.size:
                out[rows] = [int((v * unit).quantize(one, rounding=ROUND_HALF_UP))
                             for v in exact_values(rows)]
    return out


def _float_error(scaled: np.ndarray) -> np.ndarray:
    """How far float arithmetic may be from the exact amounts ``scaled`` (in units)."""
    bound = np.maximum(scaled, 1.0)
    bound *= _TRUST
    bound += 1e-9
    return bound


def share_of(total_fen: np.ndarray, share: np.ndarray) -> np.ndarray:
    """``total × share`` rounded half-up to the fen, exactly (int64 fen).

    A share is a decimal literal, i.e. a fraction num / den with den a power of ten; for each
    distinct share the rounding is done in integers, ``(2 × total × num + den) // (2 × den)``,
    in int64 where that cannot overflow and with Python integers where it could.
    """
    total_fen = np.asarray(total_fen, dtype=np.int64)
    uniques: list[float] | np.ndarray
    if np.ndim(share) == 0:  # one share for every row
        codes, uniques = np.zeros(len(total_fen), dtype=np.int64), [float(share)]
    else:
        enc = encode(np.asarray(share, dtype=np.float64))
        codes, uniques = enc.codes, enc.uniques
    ratios = [_ratio(float(v)) for v in uniques]
    # over a common denominator the rounding is unchanged, and every row divides by one number
    common = math.lcm(*(den for _, den in ratios))
    ratios = [(num * (common // den), common) for num, den in ratios]
    biggest = int(np.abs(total_fen).max()) if len(total_fen) else 0
    if all(biggest * max(abs(num), 1) < 2**60 and den < 2**60 for num, den in ratios):
        # doubled once per share rather than once per row
        twice_num = np.array([2 * r[0] for r in ratios], dtype=np.int64)[codes]
        return (total_fen * twice_num + common) // (2 * common)
    return np.array([(2 * int(t) * ratios[c][0] + ratios[c][1]) // (2 * ratios[c][1])
                     for t, c in zip(total_fen, codes)], dtype=np.int64)


@functools.lru_cache(maxsize=1024)
def _ratio(share: float) -> tuple[int, int]:
    """A share as the fraction its decimal literal (shortest repr) stands for."""
    return Decimal(repr(share)).as_integer_ratio()


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
