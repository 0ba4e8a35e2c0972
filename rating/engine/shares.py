"""A co-insurance pool as a profile writes it: ``insurer:share;insurer:share``, lead first.

The engine reads the ``coinsurance`` column to check it while rating, and
:mod:`rating.coinsurance` reads it again to split each amount among the insurers; both parse
it here, once per distinct value.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import numpy as np

from .columns import MISSING, Encoded, Problems, encode

__all__ = ["Shares", "coinsurance_codes", "parse_shares"]

Shares = tuple[tuple[str, float], ...]


def parse_shares(text: str) -> Shares:
    """``'A:0.6;B:0.4'`` -> ``(('A', 0.6), ('B', 0.4))``.

    Raises
    ------
    ValueError
        With a message saying what is wrong and what would be valid.
    """
    parts = [p.strip() for p in str(text).split(";") if p.strip()]
    if not parts:
        raise ValueError("is empty; write insurer:share;insurer:share, lead first")
    shares: list[tuple[str, float]] = []
    total = Decimal(0)
    for part in parts:
        name, sep, value = part.rpartition(":")
        name = name.strip()
        try:
            share = Decimal(value.strip())
        except InvalidOperation:
            share = None
        if ":" in name:  # 'A:0.6,B:0.4': two insurers run together
            wrong = ", not ','" if "," in name else ""
            raise ValueError(f"{part!r} holds more than one insurer:share; separate the "
                             f"insurers with ';' (insurer:share;insurer:share){wrong}")
        if not sep or not name or share is None or not share.is_finite() or share <= 0:
            raise ValueError(f"{part!r} is not insurer:share with a share > 0")
        if name in (n for n, _ in shares):
            raise ValueError(f"insurer {name!r} appears twice")
        shares.append((name, float(share)))
        total += share
    if total != 1:
        raise ValueError(f"shares add up to {total}, not 1")
    return tuple(shares)


def coinsurance_codes(column, problems: Problems, n: int) -> tuple[np.ndarray, list[Shares]]:
    """Parse a ``coinsurance`` column once per distinct value.

    Returns
    -------
    codes, pools
        Per row an index into ``pools`` (MISSING where the field is empty).
    """
    if column is None:
        return np.full(n, MISSING, dtype=np.int64), []
    enc = column if isinstance(column, Encoded) else encode(column)
    pools: list[Shares] = []
    mapped = np.full(len(enc.uniques) + 1, MISSING, dtype=np.int64)
    for i, value in enumerate(enc.uniques):
        if isinstance(value, str) and not value.strip():
            continue
        try:
            pools.append(parse_shares(value))
            mapped[i] = len(pools) - 1
        except ValueError as exc:
            problems.add(enc.codes == i, "coinsurance", str(exc))
    return mapped[enc.codes], pools
