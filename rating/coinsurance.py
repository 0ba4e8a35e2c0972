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

import numpy as np
import pandas as pd

from .engine.columns import MISSING, Problems
from .engine.money import split_by_shares
from .engine.shares import coinsurance_codes
from .errors import ProfileError


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
