"""Who writes a policy: a sole insurer or a co-insurance pool (共保体), and the split of its
premium, prevention fund and commission among them (厦应急规〔2022〕2号 二(五)).

A pool is written in a profile's ``coinsurance`` field as ``insurer:share;insurer:share``,
the lead insurer first, shares positive and adding up to 1 (as decimals: 0.5;0.3;0.2); the
separator is ``;`` (an insurer's name may not contain ``:``). A profile gives either
``insurer`` (a sole insurer) or ``coinsurance`` (a pool), not both. Each
amount is split in fen: every insurer but the lead gets its share rounded half-up, the lead
the remainder (see :func:`rating.engine.money.split_by_shares`), so the parts add up exactly.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from .engine.columns import MISSING, Encoded, Problems, encode
from .engine.money import split_by_shares
from .errors import ProfileError

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
    shares, total = [], Decimal(0)
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


def split_by_insurer(frame: pd.DataFrame, result: pd.DataFrame) -> pd.DataFrame:
    """Each policy's premium, prevention fund and commission by insurer.

    Parameters
    ----------
    frame : DataFrame
        The profiles (for ``coinsurance`` and ``insurer``).
    result : DataFrame
        :func:`rating.rate_portfolio` of ``frame`` (rows may be fewer, with errors collected).

    Returns
    -------
    DataFrame
        Long format, one row per policy and insurer: ``row`` (the input label), ``insurer``,
        ``lead``, ``share``, ``premium``, ``prevention_fund``, ``commission``, ``net`` (yuan);
        per policy the parts add up exactly. A policy with neither field has insurer "".
    """
    if frame.index.is_unique:
        profiles = frame.loc[result.index]
    elif len(result) == len(frame):  # labels repeat but every row was rated: go by position
        profiles = frame
    else:
        raise ProfileError("index", "row labels repeat and some rows were not rated; give "
                           "the portfolio unique labels")
    n = len(result)
    problems = Problems(result.index)
    codes, pools = coinsurance_codes(profiles.get("coinsurance"), problems, n)
    problems.raise_if_any()
    sole = profiles["insurer"].fillna("").astype(str).str.strip().to_numpy() \
        if "insurer" in profiles else np.full(n, "", dtype=object)
    amounts = {k: np.round(result[k].to_numpy() * 100).astype(np.int64)
               for k in ("premium", "prevention_fund", "commission")}
    pieces = []
    alone = codes == MISSING
    if alone.any():
        pieces.append(pd.DataFrame({
            "row": result.index[alone], "insurer": sole[alone], "lead": True, "share": 1.0,
            **{k: v[alone] / 100 for k, v in amounts.items()}, "_order": np.flatnonzero(alone),
            "_rank": 0}))
    for p, pool in enumerate(pools):
        rows = np.flatnonzero(codes == p)
        if not rows.size:
            continue
        parts = {k: split_by_shares(v[rows], [s for _, s in pool]) for k, v in amounts.items()}
        for j, (name, share) in enumerate(pool):
            pieces.append(pd.DataFrame({
                "row": result.index[rows], "insurer": name, "lead": j == 0, "share": share,
                **{k: parts[k][:, j] / 100 for k in amounts}, "_order": rows, "_rank": j}))
    if not pieces:
        return pd.DataFrame(columns=["row", "insurer", "lead", "share", "premium",
                                     "prevention_fund", "commission", "net"])
    out = pd.concat(pieces, ignore_index=True).sort_values(["_order", "_rank"], kind="stable")
    out["net"] = (np.round(out["premium"] * 100) - np.round(out["prevention_fund"] * 100)
                  - np.round(out["commission"] * 100)) / 100
    return out.drop(columns=["_order", "_rank"]).reset_index(drop=True)


def summary_by_insurer(splits: pd.DataFrame) -> pd.DataFrame:
    """Totals per insurer of :func:`split_by_insurer`: policies, lead policies, premium,
    prevention fund, commission and net (yuan, summed in fen)."""
    fen = splits[["premium", "prevention_fund", "commission", "net"]].mul(100).round()
    fen = fen.astype(np.int64)
    fen["insurer"], fen["lead"] = splits["insurer"], splits["lead"].astype(int)
    grouped = fen.groupby("insurer", sort=True)
    out = grouped[["premium", "prevention_fund", "commission", "net"]].sum() / 100
    out.insert(0, "policies", grouped.size())
    out.insert(1, "lead_policies", grouped["lead"].sum())
    return out
