"""Credibility: blend each risk's own loss experience with the pool's (Bühlmann, Bühlmann–Straub).

A sector's (or an enterprise's) own experience is relevant but noisy; the pool's is stable but
less relevant. The credibility premium of risk ``i`` is::

    P_i = Z_i · X̄_i + (1 − Z_i) · μ̂,     Z_i = m_i / (m_i + k),     k = v / a

so the weight on the risk's own mean ``X̄_i`` grows with its exposure ``m_i``; at ``m_i = k``
it is one half.

Model (Bühlmann–Straub). Risk ``i`` has a hidden risk level Θ_i. In period ``j`` it has
exposure ``m_ij`` and an observed average ``X_ij`` (loss per unit of exposure, or a loss ratio
when the exposure is earned premium) with ``E[X_ij | Θ_i] = μ(Θ_i)`` and
``Var[X_ij | Θ_i] = σ²(Θ_i) / m_ij``. The structural parameters are the collective mean
``μ = E[μ(Θ)]``, the expected process variance ``v = E[σ²(Θ)]`` and the variance of the
hypothetical means ``a = Var[μ(Θ)]``. The Bühlmann model is the case ``m_ij = 1`` with every
risk observed in every period.

Estimators (nonparametric empirical Bayes: Klugman, Panjer & Willmot, *Loss Models: From Data to
Decisions*, 4th ed., Wiley 2012, ch. 19 "Empirical Bayes parameter estimation", section 19.2;
Bühlmann & Gisler, *A Course in Credibility Theory and its Applications*, Springer 2005, the
Bühlmann–Straub chapter)::

    m_i = Σ_j m_ij      X̄_i = Σ_j m_ij X_ij / m_i      m = Σ_i m_i      X̄ = Σ_i m_i X̄_i / m
    v̂ = Σ_i Σ_j m_ij (X_ij − X̄_i)² / Σ_i (n_i − 1)
    â = [Σ_i m_i (X̄_i − X̄)² − v̂ (r − 1)] / [m − Σ_i m_i² / m]     (μ estimated, r ≥ 2 risks)
    â = [Σ_i m_i (X̄_i − μ)² − r v̂] / m                               (μ known)
    μ̂ = Σ_i Ẑ_i X̄_i / Σ_i Ẑ_i                                        (credibility-weighted)

With equal weights and ``n`` periods each these reduce to Bühlmann's: ``v̂`` the mean of the
risks' sample variances, ``â = s²(X̄_i) − v̂ / n``, ``Z = n / (n + k)``, ``μ̂`` the plain mean.

Choices made here (they are what R's actuar ``cm()`` does, so results agree with it):

- μ̂ is the *credibility-weighted* mean, not the exposure-weighted ``X̄`` that Loss Models uses
  first. It has the smaller variance, and it balances: since ``m_i (1 − Z_i) = k Z_i``, the
  credibility premiums charged on the past exposures reproduce the observed total,
  ``Σ_i m_i P_i = Σ_i m_i X̄_i``. A rate book calibrated with it neither gains nor loses in
  aggregate by the credibility step.
- With a known collective mean (``mu=``, e.g. the rate of the wider pool or of the model
  clause) ``â`` uses the known-μ estimator, unbiased because
  ``E[m_i (X̄_i − μ)²] = m_i a + v``; it needs only one risk. Premiums then lie between each
  risk's own mean and ``mu``; they need not balance.
- ``â ≤ 0`` (the risks differ no more than noise explains) is truncated to 0 and flagged in
  ``a_truncated_``: every ``Z_i = 0`` and every risk is charged μ̂, which is then ``X̄`` (the
  limit of the credibility-weighted mean as ``a → 0``, where ``Z_i ≈ m_i a / v``), so the
  balance still holds. No warning is issued: read the flag.
- A risk observed in one period only is accepted: it adds nothing to ``v̂`` (``n_i − 1 = 0``)
  but gets credibility from its exposure. At least one risk needs two periods.

Units. ``X`` in the input's unit (yuan per unit of exposure, or a ratio); exposure in its own
unit (employee-years, 万元 of payroll, yuan of earned premium...). ``mean_``, ``premium_`` and
``risk_mean_`` are in ``X``'s unit; ``vhm_`` in that unit squared; ``epv_`` in that unit squared
times exposure (the process variance of one unit of exposure); ``k_`` in exposure units.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..engine.columns import Problems, absent, numbers, show_value
from ..errors import ProfileError
from .base import Estimator, NotFittedError

__all__ = ["BuhlmannCredibility", "BuhlmannStraub", "NotFittedError"]


def _structure(m_i: np.ndarray, xbar_i: np.ndarray, within_ss: float, dof: int,
               mu: float | None) -> dict[str, Any]:
    """Structural parameters, credibility factors and premiums from per-risk sufficient
    statistics: exposures ``m_i``, weighted means ``xbar_i``, the pooled within-risk sum of
    squares ``Σ_i Σ_j m_ij (X_ij − X̄_i)²`` and its degrees of freedom ``Σ_i (n_i − 1)``."""
    r = len(m_i)
    m = float(m_i.sum())
    v = within_ss / dof
    xbar = float(m_i @ xbar_i) / m
    if mu is None:
        a_raw = (float(m_i @ (xbar_i - xbar) ** 2) - v * (r - 1)) / (m - float(m_i @ m_i) / m)
    else:
        a_raw = (float(m_i @ (xbar_i - mu) ** 2) - r * v) / m
    truncated = not a_raw > 0
    a = 0.0 if truncated else a_raw
    if truncated:
        z = np.zeros(r)
        k = np.inf
    else:
        k = v / a
        z = m_i / (m_i + k)
    if mu is not None:
        mean = float(mu)
    elif truncated:
        mean = xbar  # the limit of Σ Z X̄ / Σ Z as a -> 0, where Z_i is proportional to m_i
    else:
        mean = float(z @ xbar_i) / float(z.sum())
    premium = z * xbar_i + (1.0 - z) * mean
    return {"mean_": mean, "epv_": v, "vhm_": a, "a_truncated_": truncated, "k_": k,
            "z": z, "premium": premium}


class _Credibility(Estimator):
    """Shared behaviour: the ``mu`` parameter and the learned values' bookkeeping."""

    _fitted = "premium_"

    def __init__(self, mu: float | None = None):
        self.mu = mu

    def _check_mu(self) -> float | None:
        if self.mu is None:
            return None
        mu = float(self.mu)
        if not np.isfinite(mu) or mu < 0:
            raise ProfileError("mu", f"must be a finite number >= 0, got {self.mu!r}")
        return mu

    def _set(self, fitted: dict[str, Any], index: pd.Index) -> None:
        for key in ("mean_", "epv_", "vhm_", "a_truncated_", "k_"):
            setattr(self, key, fitted[key])
        self.z_ = pd.Series(fitted["z"], index=index, name="z")
        self.premium_ = pd.Series(fitted["premium"], index=index, name="premium")


class BuhlmannCredibility(_Credibility):
    """Bühlmann credibility: equal weights, every risk observed in every year.

    Parameters
    ----------
    mu : float, optional
        Known collective mean (>= 0), in the unit of the losses. By default it is estimated:
        the plain mean of the risks' means, which is the credibility-weighted mean here since
        all risks get the same Z.

    Attributes
    ----------
    mean_ : float
        Collective mean μ̂ (or ``mu``), in the unit of the losses.
    epv_ : float
        Expected process variance v̂: the mean of the risks' sample variances (unit squared).
    vhm_ : float
        Variance of the hypothetical means â, truncated at 0 (unit squared).
    a_truncated_ : bool
        True when the unbiased estimate of ``a`` was <= 0 and was set to 0 (then Z = 0).
    k_ : float
        Bühlmann's k = v̂ / â, in years; ``inf`` when ``a_truncated_``.
    n_periods_ : int
        Years per risk, n.
    risk_mean_ : Series
        Each risk's mean X̄_i over the years, indexed like the rows of ``losses``.
    z_ : Series
        Credibility factor Z = n / (n + k) per risk (the same for all), in [0, 1].
    premium_ : Series
        Credibility premium Z·X̄_i + (1 − Z)·μ̂ per risk, in the unit of the losses.

    Examples
    --------
    >>> import numpy as np
    >>> fit = BuhlmannCredibility().fit(np.array([[3, 5, 7], [6, 12, 9], [1, 2, 6]]))
    >>> round(fit.k_, 4), fit.premium_.round(4).tolist()
    (0.9375, [5.1587, 8.2063, 3.6349])
    """

    def fit(self, losses: pd.DataFrame | np.ndarray) -> BuhlmannCredibility:
        """Estimate the structural parameters and each risk's credibility premium.

        Parameters
        ----------
        losses : DataFrame or 2-D array
            One row per risk (sector, enterprise), one column per year; each cell the year's
            loss (or loss rate, or loss ratio) of that risk, >= 0. For a DataFrame the index
            names the risks. Every cell must be present: for unequal exposures or missing
            years use :class:`BuhlmannStraub`.

        Returns
        -------
        self

        Raises
        ------
        ProfileError
            For a bad table (``field`` is the year column, or ``losses``) or too little data:
            fewer than two years, or fewer than two risks without ``mu``.
        """
        mu = self._check_mu()
        values, index = _wide_values(losses)
        r, n = values.shape
        if n < 2:
            raise ProfileError("losses", f"needs at least two years (columns) to estimate the "
                               f"within-risk variance; got {n}")
        if r < (1 if mu is not None else 2):
            raise ProfileError("losses", f"needs at least two risks (rows) to estimate the "
                               f"between-risk variance; got {r} (give mu= to credibility-"
                               "weight a single risk against a known mean)")
        xbar_i = values.mean(axis=1)
        within_ss = float(((values - xbar_i[:, None]) ** 2).sum())
        # unit weights: the Bühlmann–Straub estimators reduce exactly to Bühlmann's
        fitted = _structure(np.full(r, float(n)), xbar_i, within_ss, r * (n - 1), mu)
        self.n_periods_ = n
        self.risk_mean_ = pd.Series(xbar_i, index=index, name="mean")
        self._set(fitted, index)
        return self

    def summary(self) -> pd.DataFrame:
        """One row per risk: ``n_periods``, ``mean`` (X̄_i), ``z`` and ``premium``.

        Returns
        -------
        DataFrame
            Indexed like the rows of the fitted table.
        """
        self._check_fitted()
        return pd.DataFrame({"n_periods": self.n_periods_, "mean": self.risk_mean_,
                             "z": self.z_, "premium": self.premium_})


class BuhlmannStraub(_Credibility):
    """Bühlmann–Straub credibility: exposure weights, any number of periods per risk.

    Parameters
    ----------
    mu : float, optional
        Known collective mean (>= 0), in the unit of ``X`` (loss per unit of exposure, or loss
        ratio). By default the credibility-weighted mean μ̂ = Σ Z_i X̄_i / Σ Z_i is estimated.
    group : str
        Column naming the risk (sector, enterprise).
    period : str
        Column naming the period (year); each (group, period) pair must occur once.
    exposure : str
        Column of exposure weights m_ij > 0 (e.g. employee-years, or earned premium when ``X``
        is a loss ratio).
    loss_ratio : str, optional
        Column of the observed averages X_ij >= 0 per unit of exposure. Give this or ``loss``,
        not both.
    loss : str, optional
        Column of total losses >= 0 (yuan); then X_ij = loss / exposure.

    Attributes
    ----------
    mean_ : float
        Collective mean μ̂ (or ``mu``), in the unit of ``X``.
    epv_ : float
        Expected process variance v̂, in ``X``'s unit squared × exposure: the variance of ``X``
        over one unit of exposure.
    vhm_ : float
        Variance of the hypothetical means â, truncated at 0, in ``X``'s unit squared.
    a_truncated_ : bool
        True when the unbiased estimate of ``a`` was <= 0 and was set to 0: then every Z is 0
        and every risk is charged ``mean_`` (the exposure-weighted mean when μ is estimated).
    k_ : float
        k = v̂ / â, in exposure units: the exposure that earns Z = ½; ``inf`` when truncated.
    exposure_ : Series
        Total exposure m_i per risk, indexed by the ``group`` values (sorted).
    n_periods_ : Series
        Periods observed per risk, n_i.
    risk_mean_ : Series
        Exposure-weighted mean X̄_i per risk, in the unit of ``X``.
    z_ : Series
        Credibility factor Z_i = m_i / (m_i + k) per risk, in [0, 1].
    premium_ : Series
        Credibility premium Z_i·X̄_i + (1 − Z_i)·μ̂ per risk, per unit of exposure.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"sector": ["A", "A", "B", "B", "B", "C", "C", "C"],
    ...                      "year": [1, 2, 1, 2, 3, 1, 2, 3],
    ...                      "exposure": [1, 4, 3, 3, 3, 3, 1, 3],
    ...                      "loss_ratio": [5, 0, 3, 1, 11, 10, 6, 9]})
    >>> fit = BuhlmannStraub(group="sector", period="year", exposure="exposure",
    ...                      loss_ratio="loss_ratio").fit(data)
    >>> round(fit.epv_, 9), round(fit.vhm_, 9), round(fit.k_, 9), fit.z_.round(4).tolist()
    (40.0, 8.0, 5.0, [0.5, 0.6429, 0.5833])
    """

    def __init__(self, mu: float | None = None, *, group: str | None = None,
                 period: str | None = None, exposure: str | None = None,
                 loss_ratio: str | None = None, loss: str | None = None):
        super().__init__(mu)
        self.group = group
        self.period = period
        self.exposure = exposure
        self.loss_ratio = loss_ratio
        self.loss = loss

    def fit(self, data: pd.DataFrame, y: None = None, *, group: str | None = None,
            period: str | None = None, exposure: str | None = None,
            loss_ratio: str | None = None, loss: str | None = None) -> BuhlmannStraub:
        """Estimate the structural parameters and each risk's credibility premium.

        Parameters
        ----------
        data : DataFrame
            Long table, one row per risk and period, with the constructor's columns.
        y : None
            Ignored; for scikit-learn's interface.
        group, period, exposure, loss_ratio, loss : str, optional
            Deprecated: give the column names to the constructor. For one release they are
            still accepted here, each replacing the constructor's value for this fit, with a
            ``DeprecationWarning``.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Unless ``group``, ``period``, ``exposure`` and exactly one of ``loss_ratio`` and
            ``loss`` are set. (With the deprecated fit keywords, a ``TypeError``, as before.)
        ProfileError
            Naming the column (and the first bad row) for a missing column or value, a value
            that is not a number >= 0, exposure that is not positive, a repeated
            (group, period); for too little data: no risk with two periods (``period``), or a
            single risk without ``mu`` (``group``); ``mu`` not a finite number >= 0.
        """
        given = {"group": group, "period": period, "exposure": exposure,
                 "loss_ratio": loss_ratio, "loss": loss}
        deprecated = any(v is not None for v in given.values())
        if deprecated:
            warnings.warn("BuhlmannStraub.fit(group=..., period=..., exposure=..., "
                          "loss_ratio=... or loss=...) is deprecated and will be removed in "
                          "the next release; give the column names to the constructor: "
                          "BuhlmannStraub(group=..., period=..., exposure=..., "
                          "loss_ratio=...).fit(data)", DeprecationWarning, stacklevel=2)
        col = {name: getattr(self, name) if value is None else value
               for name, value in given.items()}
        if (col["loss_ratio"] is None) == (col["loss"] is None):
            error = TypeError if deprecated else ValueError
            raise error("give exactly one of loss_ratio= (a column of losses per unit of "
                        "exposure) and loss= (a column of total losses)")
        missing = [name for name in ("group", "period", "exposure") if col[name] is None]
        if missing:
            raise ValueError("BuhlmannStraub needs the column names " + ", ".join(
                f"{name}=" for name in missing) + " (constructor parameters)")
        mu = self._check_mu()
        is_total = col["loss"] is not None
        codes, groups, m_ij, x_ij = _long_values(
            data, col["group"], col["period"], col["exposure"],
            col["loss"] if is_total else col["loss_ratio"], is_total=is_total)
        r = len(groups)
        m_i = np.bincount(codes, weights=m_ij, minlength=r)
        n_i = np.bincount(codes, minlength=r)
        xbar_i = np.bincount(codes, weights=m_ij * x_ij, minlength=r) / m_i
        dof = int((n_i - 1).sum())
        if dof == 0:
            raise ProfileError(col["period"], "every risk has a single period; the within-"
                               "risk variance needs at least one risk observed in two or more "
                               "periods")
        if r < 2 and mu is None:
            raise ProfileError(col["group"], f"only one risk ({show_value(groups[0])}); the "
                               "between-risk variance needs at least two (give mu= to "
                               "credibility-weight a single risk against a known mean)")
        within_ss = float(m_ij @ (x_ij - xbar_i[codes]) ** 2)
        fitted = _structure(m_i, xbar_i, within_ss, dof, mu)
        index = pd.Index(groups, name=col["group"])
        self.exposure_ = pd.Series(m_i, index=index, name="exposure")
        self.n_periods_ = pd.Series(n_i, index=index, name="n_periods")
        self.risk_mean_ = pd.Series(xbar_i, index=index, name="mean")
        self._set(fitted, index)
        return self

    def summary(self) -> pd.DataFrame:
        """One row per risk: ``n_periods``, ``exposure`` (m_i), ``mean`` (X̄_i), ``z`` and
        ``premium`` (per unit of exposure).

        Returns
        -------
        DataFrame
            Indexed by the ``group`` values.
        """
        self._check_fitted()
        return pd.DataFrame({"n_periods": self.n_periods_, "exposure": self.exposure_,
                             "mean": self.risk_mean_, "z": self.z_,
                             "premium": self.premium_})


# --- reading the inputs --------------------------------------------------------------------


def _wide_values(losses: pd.DataFrame | np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """A risks × years table as a float array (every cell a number >= 0) and its row index."""
    if isinstance(losses, pd.DataFrame):
        frame = losses
    else:
        array = np.asarray(losses)
        if array.ndim != 2:
            raise ProfileError("losses", f"expected a 2-D table, one row per risk and one "
                               f"column per year; got {array.ndim} dimension(s)")
        frame = pd.DataFrame(array, columns=[f"column {j}" for j in range(array.shape[1])])
    if not frame.index.is_unique:
        raise ProfileError("losses", "risk labels (the index) must be unique")
    n = len(frame)
    problems = Problems(frame.index)
    # one pass per year column (a handful), each vectorised over the risks
    columns = [numbers(frame.iloc[:, j], str(name), problems, n=n)
               for j, name in enumerate(frame.columns)]
    for j, name in enumerate(frame.columns):
        problems.add(absent(frame.iloc[:, j], n), str(name),
                     "is missing; Bühlmann needs every risk in every year (use BuhlmannStraub "
                     "for unbalanced data)")
    problems.raise_if_any()
    values = np.column_stack(columns) if columns else np.empty((n, 0))
    return values, frame.index


def _long_values(data: pd.DataFrame, group: str, period: str, exposure: str, value_col: str,
                 *, is_total: bool) -> tuple[np.ndarray, pd.Index, np.ndarray, np.ndarray]:
    """Validated long data: group codes, group labels (sorted), exposures m_ij and averages
    X_ij."""
    if not isinstance(data, pd.DataFrame):
        raise ProfileError("data", f"expected a DataFrame, got {type(data).__name__}")
    for name in (group, period, exposure, value_col):
        if name not in data.columns:
            raise ProfileError(name, "no such column; the data has: "
                               + ", ".join(map(str, data.columns)))
    n = len(data)
    if n == 0:
        raise ProfileError("data", "has no rows")
    problems = Problems(data.index)
    for name in (group, period, exposure, value_col):
        problems.add(absent(data[name], n), name, "is required")
    m_ij = numbers(data[exposure], exposure, problems, n=n)
    problems.add(m_ij == 0, exposure, "must be positive (drop risk-periods without exposure)")
    values = numbers(data[value_col], value_col, problems, n=n)
    keys = data[[group, period]]
    repeated = keys.duplicated(keep=False).to_numpy() & ~absent(data[period], n)
    problems.add(repeated, period, f"repeats a ({group}, {period}) pair: give one row per risk "
                 "and period (aggregate first)")
    problems.raise_if_any()
    try:
        codes, groups = pd.factorize(data[group], sort=True)
    except TypeError:  # labels of mixed types do not sort: keep the order of appearance
        codes, groups = pd.factorize(data[group])
    x_ij = values / m_ij if is_total else values
    return codes, pd.Index(groups), m_ij, x_ij
