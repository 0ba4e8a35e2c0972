"""Limited expected values and the increased-limits curve behind the rate book's limit factors.

For a loss ``X ≥ 0`` (yuan) and a limit ``u`` the insurer pays ``min(X, u)``; its expectation,
the limited expected value, is::

    LEV(u) = E[min(X, u)] = ∫_0^u S(x) dx,        S(x) = P(X > x).

The increased-limit factor against a base limit is ``ILF(u) = LEV(u) / LEV(base)``
(Klugman, Panjer & Willmot, *Loss Models*, 4th ed., §8.6 (limits) and Appendix A (the
closed forms used here); Miccolis, "On the theory of increased limits and excess of loss
pricing", PCAS 64, 1977). Applied to the per-person death/disability limit, and with the
number of victims not depending on the limit chosen, the expected loss of a policy scales with
``LEV(u)``, so ``ILF`` is the pure-premium relativity of limit ``u`` — before any risk load for
the more volatile higher layers, which this module does not add. An allocated
loss-adjustment expense per claim (ALAE), the same at every limit, is added to both LEVs:
``ILF(u) = (LEV(u) + ALAE) / (LEV(base) + ALAE)`` (:func:`increased_limits`).

Distributions are frozen ``scipy.stats`` continuous distributions. Lognormal, gamma,
exponential, Weibull, Pareto II (``lomax``) and single-parameter Pareto (``pareto``) use closed
forms; any other distribution with non-negative support is integrated numerically.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import integrate, special, stats

__all__ = ["increased_limits", "limit_factor_bands", "limited_expected_value"]


def frozen_params(rv: Any) -> tuple[str, dict[str, float]]:
    """The family name and parameters of a frozen ``scipy.stats`` distribution.

    Parameters
    ----------
    rv : frozen scipy.stats distribution
        Continuous or discrete.

    Returns
    -------
    name, params
        ``params`` maps each shape name (``dist.shapes``) and ``loc`` (and ``scale`` for a
        continuous distribution) to its value, defaults filled in.
    """
    dist = getattr(rv, "dist", None)
    if not isinstance(dist, (stats.rv_continuous, stats.rv_discrete)):
        raise TypeError(f"expected a frozen scipy.stats distribution, got {type(rv).__name__}")
    names = [s.strip() for s in (dist.shapes or "").split(",") if s.strip()]
    continuous = isinstance(dist, stats.rv_continuous)
    names += ["loc", "scale"] if continuous else ["loc"]
    params: dict[str, float] = {"loc": 0.0, "scale": 1.0} if continuous else {"loc": 0.0}
    params.update(zip(names, rv.args))
    params.update(rv.kwds)
    return dist.name, {k: float(v) for k, v in params.items()}


def _check_non_negative(dist: Any) -> None:
    if not dist.support()[0] >= 0:
        raise ValueError("the loss distribution must have non-negative support (a loss in "
                         f"yuan); this one starts at {dist.support()[0]:g}")


# Closed forms of E[min(Z, d)] for Z = (X - loc) ≥ 0 and d ≥ 0, by scipy family name. Each
# takes the parameter dict and a float array d; Loss Models, 4th ed., Appendix A.

def _lev_expon(p, d):
    theta = p["scale"]
    return -theta * np.expm1(-d / theta)  # θ(1 − e^{−d/θ}) without cancellation at small d


def _lev_lognorm(p, d):
    sigma, mu = p["s"], math.log(p["scale"])
    with np.errstate(divide="ignore"):  # log(0) = −inf gives Φ(−inf) = 0: LEV(0) = 0
        z = (np.log(d) - mu) / sigma
    return (math.exp(mu + sigma**2 / 2) * special.ndtr(z - sigma)
            + d * special.ndtr(-z))


def _lev_gamma(p, d):
    alpha, theta = p["a"], p["scale"]
    return alpha * theta * special.gammainc(alpha + 1, d / theta) \
        + d * special.gammaincc(alpha, d / theta)


def _lev_weibull_min(p, d):
    tau, theta = p["c"], p["scale"]
    y = (d / theta) ** tau
    return theta * special.gamma(1 + 1 / tau) * special.gammainc(1 + 1 / tau, y) \
        + d * np.exp(-y)


def _lev_lomax(p, d):
    alpha, theta = p["c"], p["scale"]
    if alpha == 1:
        return theta * np.log1p(d / theta)
    # θ/(α−1)·(1 − (θ/(d+θ))^{α−1}), with expm1 so small d keeps its precision
    return -theta / (alpha - 1) * np.expm1(-(alpha - 1) * np.log1p(d / theta))


def _lev_pareto(p, d):
    # scipy's pareto is the single-parameter Pareto: Z ≥ θ, S(z) = (θ/z)^α
    alpha, theta = p["b"], p["scale"]
    r = np.maximum(d, theta) / theta
    if alpha == 1:
        above = theta * (1 + np.log(r))
    else:
        above = theta + theta / (1 - alpha) * np.expm1((1 - alpha) * np.log(r))
    return np.where(d <= theta, d, above)


_CLOSED = {"expon": _lev_expon, "lognorm": _lev_lognorm, "gamma": _lev_gamma,
           "weibull_min": _lev_weibull_min, "lomax": _lev_lomax, "pareto": _lev_pareto}


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(16)
_MANY = 64


def _lev_numeric(dist: Any, u: np.ndarray) -> np.ndarray:
    # Integrate S between consecutive distinct limits and accumulate: each stretch of the
    # survival function is integrated once. A few limits (a rate book's list) get adaptive
    # quadrature, in a Python loop, for accuracy on wide, skewed stretches; many limits (a
    # discretisation lattice: narrow, equal stretches) get a 16-point Gauss–Legendre rule on
    # every stretch in one vectorised call of the survival function.
    lower = max(dist.support()[0], 0.0)
    points = np.unique(u)
    inside = points[points > lower]
    edges = np.concatenate(([lower], inside))
    if inside.size > _MANY:
        mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
        pieces = (dist.sf(mid[:, None] + half[:, None] * _GL_NODES) @ _GL_WEIGHTS) * half
        # the first stretch may hold a singular density (gamma shape < 1): adaptive there
        pieces[0] = integrate.quad(dist.sf, edges[0], edges[1], epsabs=0.0, epsrel=1e-11,
                                   limit=200)[0]
    else:
        pieces = np.array([integrate.quad(dist.sf, a, b, epsabs=0.0, epsrel=1e-11,
                                          limit=200)[0] for a, b in itertools.pairwise(edges)])
    # below the support the loss always exceeds the limit: E[min(X, u)] = u
    levs = np.concatenate((points[points <= lower], lower + np.cumsum(pieces)))
    return levs[np.searchsorted(points, u)]


def limited_expected_value(dist: Any, u: float | Iterable[float], *,
                           method: Literal["auto", "closed", "numeric"] = "auto"
                           ) -> float | np.ndarray:
    """Limited expected value ``E[min(X, u)]`` of a non-negative loss, yuan.

    Parameters
    ----------
    dist : frozen scipy.stats continuous distribution
        The loss ``X`` in yuan (e.g. ``scipy.stats.lognorm(s=1.2, scale=80_000)``); its
        support must start at 0 or above.
    u : float or array_like
        Limits in yuan, ``u ≥ 0``; ``inf`` gives ``E[X]`` (``inf`` when the mean is infinite).
    method : {"auto", "closed", "numeric"}
        ``closed``: the closed form (lognormal, gamma, exponential, Weibull, Pareto II
        ``lomax``, single-parameter ``pareto``; ``ValueError`` for another family);
        ``numeric``: adaptive quadrature of the survival function, ``∫_0^u S(x) dx``;
        ``auto``: closed when available, else numeric.

    Returns
    -------
    float or ndarray
        Yuan, the shape of ``u``.

    Notes
    -----
    A location shift ``X = loc + Z`` is handled by ``E[min(X, u)] = loc + E[min(Z, u − loc)]``
    for ``u ≥ loc`` and ``u`` below it.
    """
    _check_non_negative(dist)
    arr = np.asarray(u, dtype=float)
    if np.any(np.isnan(arr)) or np.any(arr < 0):
        raise ValueError("limits must be numbers >= 0 (yuan)")
    name, params = frozen_params(dist)
    if method not in ("auto", "closed", "numeric"):
        raise ValueError(f"unknown method {method!r}; use 'auto', 'closed' or 'numeric'")
    if method == "closed" and name not in _CLOSED:
        raise ValueError(f"no closed form for {name!r}; use one of: " + ", ".join(_CLOSED)
                         + ", or method='numeric'")
    flat = arr.ravel()
    fin = np.isfinite(flat)
    out = np.empty(flat.shape)
    out[~fin] = dist.mean()
    if method != "numeric" and name in _CLOSED:
        loc = params["loc"]
        d = np.maximum(flat[fin] - loc, 0.0)
        out[fin] = np.where(flat[fin] <= loc, flat[fin], loc + _CLOSED[name](params, d))
    else:
        out[fin] = _lev_numeric(dist, flat[fin])
    shaped = out.reshape(arr.shape)
    return float(shaped) if shaped.ndim == 0 else shaped


def increased_limits(dist: Any, limits: Iterable[float], base: float, *, alae: float = 0.0,
                     method: Literal["auto", "closed", "numeric"] = "auto") -> pd.DataFrame:
    """The increased-limits curve: each limit's expected cost per claim against the base's.

    With an allocated loss-adjustment expense treated as a flat amount per claim, the same at
    every limit (Werner & Modlin, *Basic Ratemaking*, 5th ed., CAS 2016, ch. 11; Palmer,
    *Increased Limits Ratemaking for Liability Insurance*, CAS study note, 2006)::

        ILF(u) = (LEV(u) + ALAE) / (LEV(base) + ALAE),     LEV(u) = E[min(X, u)]

    so ``alae = 0`` gives the indemnity-only ratio ``LEV(u) / LEV(base)``, and a positive
    ALAE pulls every factor towards 1 (the expense does not grow with the limit).

    Parameters
    ----------
    dist : frozen scipy.stats continuous distribution
        Loss per person (for per-person limits) or per accident, yuan.
    limits : iterable of float
        Limits in yuan, > 0; sorted and de-duplicated in the result.
    base : float
        The base limit (factor 1), yuan, > 0; need not be one of ``limits``.
    alae : float
        Allocated loss-adjustment expense per claim, yuan, >= 0 (default 0): the claim's
        investigation, legal and expert costs, added to each limit's expected loss per claim.
    method : str
        As in :func:`limited_expected_value`.

    Returns
    -------
    DataFrame
        One row per limit, ascending: ``limit`` (yuan), ``lev`` (``E[min(X, limit)]``, yuan,
        without the ALAE), ``ilf`` (``(lev + alae) / (LEV(base) + alae)``) and ``exceed``
        (``P(X > limit)``, the slope of ``lev``: the share of losses the next yuan of limit
        reaches).

    Raises
    ------
    ValueError
        For no limit, a limit or base that is not a finite amount > 0, or an ``alae`` that is
        not a finite amount >= 0.
    """
    u = np.unique(np.asarray(list(limits), dtype=float))
    if u.size == 0:
        raise ValueError("give at least one limit")
    if not (np.all(np.isfinite(u)) and np.all(u > 0)) or not (math.isfinite(base) and base > 0):
        raise ValueError("limits and base must be finite amounts > 0 (yuan)")
    if not (math.isfinite(alae) and alae >= 0):
        raise ValueError(f"alae must be a finite amount >= 0 (yuan per claim), got {alae!r}")
    lev = np.asarray(limited_expected_value(dist, np.append(u, base), method=method))
    return pd.DataFrame({"limit": u, "lev": lev[:-1],
                         "ilf": (lev[:-1] + alae) / (lev[-1] + alae), "exceed": dist.sf(u)})


def limit_factor_bands(curve: pd.DataFrame, *, start: float | None = 0.0,
                       decimals: int = 4) -> list[dict[str, float]]:
    """Turn an increased-limits curve into the rate book's ``limit_factors.bands``.

    Band ``i`` runs from limit ``i`` up to limit ``i + 1`` (the book's ``closed: left``:
    ``[lower, upper)``) and carries the factor of its lower end, so each listed limit gets its
    own factor and a limit between two listed ones is priced at the one below; the last band
    is open above.

    Parameters
    ----------
    curve : DataFrame
        With columns ``limit`` (yuan) and ``ilf``, e.g. from :func:`increased_limits`.
    start : float or None
        Lower end of the first band, yuan; the default 0 makes the table cover every limit (the
        shipped books start at 0), and limits below the first listed one get its factor.
        ``None`` starts at the first limit.
    decimals : int
        Factors are rounded to this many decimals (4, as the books print them).

    Returns
    -------
    list of dict
        ``{"lower": ..., "upper": ..., "factor": ...}`` (no ``upper`` in the last band);
        amounts are ints when whole, as the books write them. Contiguous, with factors
        non-decreasing and > 0, ready for ``limit_factors.bands``.
    """
    df = curve.sort_values("limit")
    limits = df["limit"].to_numpy(dtype=float)
    ilf = df["ilf"].to_numpy(dtype=float)
    if limits.size == 0 or np.any(np.diff(limits) <= 0):
        raise ValueError("the curve needs distinct limits")
    if not np.all(np.isfinite(ilf)) or np.any(ilf <= 0):
        raise ValueError("increased-limit factors must be finite and > 0")
    if start is not None and start > limits[0]:
        raise ValueError(f"start {start:g} is above the first limit {limits[0]:g}")
    # LEV is non-decreasing in the limit, but quadrature noise could dent it by ~1e-12; the
    # book rejects a decreasing factor, so carry the running maximum (rounding keeps order).
    factors = [round(float(f), decimals) for f in np.maximum.accumulate(ilf)]
    if factors[0] <= 0:
        raise ValueError(f"the smallest factor rounds to 0 at {decimals} decimals")
    lowers = list(limits)
    if start is not None:
        lowers[0] = start
    bands = []
    for i, factor in enumerate(factors):
        band = {"lower": _amount(lowers[i])}
        if i + 1 < len(limits):
            band["upper"] = _amount(limits[i + 1])
        band["factor"] = factor
        bands.append(band)
    return bands


def _amount(x: float) -> int | float:
    x = float(x)
    return int(x) if x.is_integer() else x
