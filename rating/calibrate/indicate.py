"""From expected losses to indicated rates: pure risk loss rates and the loads on top.

The 2025 national measures have provinces publish each sector's pure risk loss rate
(纯风险损失率): expected loss per unit of exposure before any load. An insurer's gross rate
adds the prevention fund, commission, expenses and a small profit (保本微利)::

    gross rate = (pure rate + fixed expense per unit)
                 / (1 - prevention share - commission - variable expense - profit load)

with the prevention share never below the rate book's floor (20% in Xiamen, 厦应急规〔2022〕2号
二(七)) and the commission never above the cap in force (5% from 2025-03-29, 应急〔2025〕27号
第十四条).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..book import RateBook, commission_cap
from ..errors import RatingError

__all__ = ["Loads", "check_loads", "gross_rates", "pure_risk_loss_rates"]


@dataclass(frozen=True)
class Loads:
    """The loads of a calibration, as shares of the gross premium (and one fixed amount).

    Attributes
    ----------
    prevention_share : float
        Accident-prevention fund (事故预防费用), at least the book's floor.
    commission : float
        Commission (佣金), at most the cap in force.
    variable_expense : float
        Other expenses proportional to premium.
    profit_load : float
        Profit margin (保本微利: small).
    fixed_expense : float
        Yuan per unit of exposure, added to the pure rate before the proportional loads.
    """

    prevention_share: float
    commission: float
    variable_expense: float = 0.0
    profit_load: float = 0.0
    fixed_expense: float = 0.0

    @property
    def proportional(self) -> float:
        return self.prevention_share + self.commission + self.variable_expense + \
            self.profit_load


def check_loads(loads: Loads, book: RateBook, date: dt.date) -> Loads:
    """Validate loads against the book and the national rules in force on ``date``.

    Raises
    ------
    RatingError
        Naming the load and the bound it breaks.
    """
    for name in ("prevention_share", "commission", "variable_expense", "profit_load",
                 "fixed_expense"):
        value = getattr(loads, name)
        if not np.isfinite(value) or value < 0:
            raise RatingError(f"loads.{name}: {value!r} must be a finite number >= 0")
    floor = book.expenses.prevention_share_min
    if loads.prevention_share < floor:
        raise RatingError(f"loads.prevention_share: {loads.prevention_share:g} is below the "
                          f"book's floor {floor:g} ({book.id})")
    cap = commission_cap(book, date)
    if loads.commission > cap:
        raise RatingError(f"loads.commission: {loads.commission:g} is above the cap "
                          f"{cap:g} in force on {date}")
    if loads.proportional >= 1:
        raise RatingError(f"loads: the proportional loads add up to {loads.proportional:g}; "
                          "they must stay below 1")
    return loads


def pure_risk_loss_rates(exposure: pd.Series, losses: pd.DataFrame, *,
                         level: float = 0.95) -> pd.DataFrame:
    """Pure risk loss rate per group, with a normal-approximation confidence interval.

    Parameters
    ----------
    exposure : Series
        Exposure per group (index: group), in the group's unit (persons, yuan ...).
    losses : DataFrame
        One row per claim: ``group`` and ``amount`` (yuan, after limits).
    level : float
        Confidence level of the interval.

    Returns
    -------
    DataFrame
        Per group: ``exposure``, ``claims``, ``losses`` (yuan), ``pure_rate`` (yuan per unit),
        ``std_error``, ``lower``, ``upper``. The standard error treats the losses as compound
        Poisson, whose variance is estimated by the sum of squared claim amounts:
        se = sqrt(Σ x²) / exposure.
    """
    if (exposure <= 0).any() or exposure.isna().any():
        bad = exposure[(exposure <= 0) | exposure.isna()].index[0]
        raise RatingError(f"exposure of group {bad!r} must be > 0")
    unknown = set(losses["group"]) - set(exposure.index)
    if unknown:
        raise RatingError(f"claims for group {sorted(map(str, unknown))[0]!r} which has no "
                          "exposure")
    amounts = losses["amount"].to_numpy(dtype=float)
    if (amounts < 0).any() or not np.isfinite(amounts).all():
        raise RatingError("claim amounts must be finite and >= 0")
    grouped = pd.DataFrame({"group": losses["group"], "amount": amounts,
                            "square": amounts ** 2}).groupby("group")
    out = pd.DataFrame({"exposure": exposure.astype(float)})
    out["claims"] = grouped.size().reindex(out.index, fill_value=0).astype(int)
    out["losses"] = grouped["amount"].sum().reindex(out.index, fill_value=0.0)
    squares = grouped["square"].sum().reindex(out.index, fill_value=0.0)
    out["pure_rate"] = out["losses"] / out["exposure"]
    out["std_error"] = np.sqrt(squares) / out["exposure"]
    z = stats.norm.ppf(0.5 + level / 2)
    out["lower"] = (out["pure_rate"] - z * out["std_error"]).clip(lower=0.0)
    out["upper"] = out["pure_rate"] + z * out["std_error"]
    return out


def gross_rates(pure: pd.DataFrame | pd.Series, loads: Loads) -> pd.Series:
    """Indicated gross rate per group: (pure rate + fixed expense) / (1 - proportional loads),
    in the pure rate's unit (yuan per unit of exposure)."""
    rate = pure["pure_rate"] if isinstance(pure, pd.DataFrame) else pure
    return (rate + loads.fixed_expense) / (1.0 - loads.proportional)
