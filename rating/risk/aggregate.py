"""Aggregate (compound) loss of a sector or portfolio: ``S = X_1 + … + X_N``, yuan.

``N`` is the number of accidents (or claims) in a year and the ``X_i`` are independent,
identically distributed losses, independent of ``N``. Three ways to its distribution:

* :func:`panjer` — Panjer's recursion for ``N`` in the (a, b, 0) class (Poisson, negative
  binomial, binomial) and a severity on the lattice ``0, h, 2h, …`` (Panjer, "Recursive
  evaluation of a family of compound distributions", ASTIN Bulletin 12, 1981; Klugman, Panjer &
  Willmot, *Loss Models*, 4th ed., §9.6). Exact on the lattice; ``O(n·m)`` for ``n`` result
  points and ``m`` severity points.
* :func:`fft_aggregate` — the probability generating function applied to the discrete Fourier
  transform of the severity (Loss Models §9.8; Embrechts & Frei, "Panjer recursion versus FFT
  for compound distributions", Math. Meth. Oper. Res. 69, 2009). ``O(L log L)``; any
  frequency with a PGF.
* :func:`simulate_aggregate` — seeded Monte Carlo, vectorised, with the per-person and
  per-accident limits applied loss by loss.

Limits. A per-person (or per-accident) limit ``u`` pays ``min(X, u)``: :func:`discretise`
with ``limit=u`` puts all the mass above ``u`` on the lattice point ``u``. When an accident
has several victims, each capped at the per-person limit and the accident's total capped at
the per-accident limit, :func:`accident_severity` builds the accident's severity on the lattice
from the per-person one; it then feeds :func:`panjer` or :func:`fft_aggregate` like any other.

Results are :class:`AggregateDistribution` objects with the mean, variance, value at risk,
tail value at risk and conditional tail expectation.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import fft as sfft
from scipy import stats

from .increased_limits import _check_non_negative, frozen_params, limited_expected_value

__all__ = [
    "AggregateDistribution",
    "Binomial",
    "DiscreteSeverity",
    "Frequency",
    "NegativeBinomial",
    "Poisson",
    "accident_severity",
    "as_frequency",
    "compound_moments",
    "discretise",
    "fft_aggregate",
    "panjer",
    "simulate_aggregate",
]


# --- claim counts: the (a, b, 0) class --------------------------------------------------------


@dataclass(frozen=True)
class Poisson:
    """Poisson number of accidents per year: ``P(N=k) = e^{−λ} λ^k / k!``.

    Attributes
    ----------
    lam : float
        Expected number, ``λ ≥ 0``.
    """

    lam: float

    def __post_init__(self):
        if not (math.isfinite(self.lam) and self.lam >= 0):
            raise ValueError(f"Poisson lam must be finite and >= 0, got {self.lam!r}")

    a = property(lambda self: 0.0, doc="Panjer ``a``: ``p_k = (a + b/k) p_{k−1}``.")
    b = property(lambda self: float(self.lam), doc="Panjer ``b``.")
    mean = property(lambda self: float(self.lam))
    var = property(lambda self: float(self.lam))

    def log_pgf(self, z):
        """``log E[z^N] = λ(z − 1)``, real or complex ``z``."""
        return self.lam * (np.asarray(z) - 1)

    def pgf(self, z):
        """``E[z^N]``."""
        return np.exp(self.log_pgf(z))

    def rv(self):
        """The equivalent frozen ``scipy.stats`` distribution."""
        return stats.poisson(self.lam)


@dataclass(frozen=True)
class NegativeBinomial:
    """Negative binomial number, in the parametrisation of *Loss Models* (Appendix B):
    ``P(N=k) = C(k+r−1, k) (1+β)^{−r} (β/(1+β))^k``; mean ``rβ``, variance ``rβ(1+β)``.

    The Poisson–gamma mixture: a Poisson count whose rate varies between enterprises (or
    years) with a gamma distribution of shape ``r`` and scale ``β``.

    Attributes
    ----------
    r, beta : float
        ``r > 0``, ``β > 0``.
    """

    r: float
    beta: float

    def __post_init__(self):
        if not (self.r > 0 and self.beta > 0 and math.isfinite(self.r * self.beta)):
            raise ValueError(f"NegativeBinomial needs r > 0 and beta > 0, got {self.r!r}, "
                             f"{self.beta!r}")

    a = property(lambda self: self.beta / (1 + self.beta))
    b = property(lambda self: (self.r - 1) * self.beta / (1 + self.beta))
    mean = property(lambda self: self.r * self.beta)
    var = property(lambda self: self.r * self.beta * (1 + self.beta))

    def log_pgf(self, z):
        """``log E[z^N] = −r log(1 − β(z − 1))``. For ``|z| ≤ 1`` the argument of the log
        has real part ≥ 1, so the principal branch is right for the FFT's complex ``z``."""
        return -self.r * np.log(1 - self.beta * (np.asarray(z) - 1))

    def pgf(self, z):
        return np.exp(self.log_pgf(z))

    def rv(self):
        return stats.nbinom(self.r, 1 / (1 + self.beta))


@dataclass(frozen=True)
class Binomial:
    """Binomial number: ``m`` independent exposures (e.g. workers), each hit with probability
    ``q``; mean ``mq``, variance ``mq(1 − q)``.

    Attributes
    ----------
    m : int
        ``m ≥ 0``.
    q : float
        ``0 ≤ q < 1`` (``q = 1`` is a fixed count, outside Panjer's class).
    """

    m: int
    q: float

    def __post_init__(self):
        if int(self.m) != self.m or self.m < 0 or not 0 <= self.q < 1:
            raise ValueError(f"Binomial needs an integer m >= 0 and 0 <= q < 1, got "
                             f"{self.m!r}, {self.q!r}")

    a = property(lambda self: -self.q / (1 - self.q))
    b = property(lambda self: (self.m + 1) * self.q / (1 - self.q))
    mean = property(lambda self: self.m * self.q)
    var = property(lambda self: self.m * self.q * (1 - self.q))

    def log_pgf(self, z):
        """``log E[z^N] = m log(1 + q(z − 1))`` (real ``z ≥ 0`` only; see :meth:`pgf`)."""
        return self.m * np.log(1 + self.q * (np.asarray(z) - 1))

    def pgf(self, z):
        # an integer power: no branch to choose, and exact where 1 + q(z − 1) is 0
        return np.power(1 + self.q * (np.asarray(z) - 1), int(self.m))

    def rv(self):
        return stats.binom(int(self.m), self.q)


Frequency = Poisson | NegativeBinomial | Binomial
"""A claim-count distribution of the (a, b, 0) class."""


def as_frequency(freq: Any) -> Frequency:
    """A :data:`Frequency` from itself or from a frozen ``scipy.stats`` ``poisson``, ``nbinom``
    or ``binom`` (with ``loc = 0``).

    ``nbinom(n, p)`` becomes ``NegativeBinomial(r=n, beta=(1 − p)/p)``.
    """
    if isinstance(freq, (Poisson, NegativeBinomial, Binomial)):
        return freq
    name, p = frozen_params(freq)
    if p.get("loc", 0) != 0:
        raise ValueError("a claim count cannot be shifted: loc must be 0")
    if name == "poisson":
        return Poisson(p["mu"])
    if name == "nbinom":
        return NegativeBinomial(p["n"], (1 - p["p"]) / p["p"])
    if name == "binom":
        return Binomial(int(p["n"]), p["p"])
    raise ValueError(f"{name!r} is not in the (a, b, 0) class; use poisson, nbinom or binom")


# --- severity on a lattice --------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DiscreteSeverity:
    """A loss distribution on the lattice ``0, h, 2h, …, (len(pmf) − 1)·h`` (yuan).

    Attributes
    ----------
    h : float
        Span of the lattice, yuan.
    pmf : ndarray
        ``pmf[j] = P(X = j·h)``; sums to 1. Read-only.
    limit : float or None
        The cap the last point stands for (per-person or per-accident limit), yuan; None when
        the last point is only the end of the lattice (it then holds the mass above it too).
    method : str
        How it was obtained.
    """

    h: float
    pmf: np.ndarray
    limit: float | None = None
    method: str = "given"

    def __post_init__(self):
        pmf = np.array(self.pmf, dtype=float)  # a private, read-only copy: the object is frozen
        if pmf.ndim != 1 or pmf.size == 0 or np.any(pmf < 0) or not np.all(np.isfinite(pmf)):
            raise ValueError("pmf must be a non-empty 1-D array of probabilities >= 0")
        if abs(pmf.sum() - 1) > 1e-9:
            raise ValueError(f"pmf must sum to 1, sums to {pmf.sum():.12g}")
        if not (math.isfinite(self.h) and self.h > 0):
            raise ValueError(f"span h must be > 0 (yuan), got {self.h!r}")
        pmf.setflags(write=False)
        object.__setattr__(self, "pmf", pmf)

    @property
    def x(self) -> np.ndarray:
        """Lattice points, yuan."""
        return self.h * np.arange(self.pmf.size)

    def mean(self) -> float:
        """``E[X]`` on the lattice, yuan."""
        return float(self.x @ self.pmf)

    def variance(self) -> float:
        """``Var(X)`` on the lattice, yuan²."""
        mu = self.mean()
        return float(((self.x - mu) ** 2) @ self.pmf)


def _lattice_points(h: float, limit: float | None, n: int | None) -> tuple[int, float | None]:
    """The index ``m`` of the last lattice point (the cap)."""
    if not (math.isfinite(h) and h > 0):
        raise ValueError(f"span h must be > 0 (yuan), got {h!r}")
    if (limit is None) == (n is None):
        raise ValueError("give either a limit (the cap, a multiple of h) or n (the number of "
                         "lattice points when there is no limit)")
    if limit is not None:
        m = round(limit / h)
        # the mass above the limit must sit exactly at the limit, so the limit must be on the
        # lattice; a rounding of the limit would silently change the cover priced
        if m < 1 or abs(m * h - limit) > 1e-9 * max(limit, h):
            raise ValueError(f"limit {limit:g} must be a positive multiple of the span h={h:g}")
        return m, float(limit)
    assert n is not None  # one of limit and n, checked above
    if int(n) != n or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    return int(n) - 1, None


def discretise(dist: Any, h: float, *, limit: float | None = None, n: int | None = None,
               method: Literal["rounding", "moment", "lower", "upper"] = "rounding"
               ) -> DiscreteSeverity:
    """Put a continuous loss distribution on the lattice ``0, h, 2h, …``, capped.

    Parameters
    ----------
    dist : frozen scipy.stats continuous distribution
        The loss in yuan, non-negative support (e.g. ``stats.lognorm(s=1.5, scale=50_000)``).
    h : float
        Span, yuan. Smaller is more accurate; the cost of :func:`panjer` grows as ``1/h²``.
    limit : float, optional
        The cap: a loss above it is paid at the limit, so its mass goes to the last point
        ``limit``, which must be a multiple of ``h``.
    n : int, optional
        Without a limit, the number of lattice points; the last one, ``(n − 1)·h``, then acts
        as a cap and collects the mass above it — choose ``n`` so that is negligible.
        Give exactly one of ``limit`` and ``n``.
    method : {"rounding", "moment", "lower", "upper"}
        With ``u`` the cap, ``m = u/h``, ``F`` the cdf, ``S = 1 − F``, ``L(d) = E[min(X, d)]``:

        * ``rounding`` (mass dispersal, Loss Models 4th ed. §9.6.5): each point takes the mass
          within ``h/2`` of it: ``f_0 = F(h/2)``, ``f_j = F(jh + h/2) − F(jh − h/2)``,
          ``f_m = S(u − h/2)``.
        * ``moment``: local moment matching of order 1 (Gerber, "On the numerical evaluation
          of the distribution of aggregate claims and its stop-loss premiums", Insurance:
          Math. Econ. 1, 1982; Loss Models §9.6.5): the mass of each span ``[jh, (j+1)h)`` is
          split between its ends so as to keep its mean, which gives
          ``f_0 = 1 − L(h)/h``, ``f_j = (2L(jh) − L((j−1)h) − L((j+1)h))/h``,
          ``f_m = (L(u) − L(u − h))/h``. The lattice mean equals ``E[min(X, u)]`` exactly.
        * ``lower`` / ``upper``: every loss rounded down / up to the lattice — stochastically
          below / above ``min(X, u)``, so they bracket the aggregate's distribution.

    Returns
    -------
    DiscreteSeverity
    """
    _check_non_negative(dist)
    m, cap = _lattice_points(h, limit, n)
    u = m * h if cap is None else cap
    j = np.arange(m + 1)
    if method == "rounding":
        # survival differences: accurate in the far tail, where cdf differences cancel
        s = dist.sf((j[1:] - 0.5) * h)
        pmf = -np.diff(np.concatenate(([1.0], s, [0.0])))
        pmf[0] = dist.cdf(0.5 * h)
    elif method == "lower":
        s = dist.sf(j[1:] * h)
        pmf = -np.diff(np.concatenate(([1.0], s, [0.0])))
        pmf[0] = dist.cdf(h)
    elif method == "upper":
        # X in ((j−1)h, jh] goes to jh; X = 0 (an atom, if any) stays at 0
        s = dist.sf(j[:-1] * h)
        pmf = -np.diff(np.concatenate(([1.0], s, [0.0])))
        pmf[0] = dist.cdf(0.0)
    elif method == "moment":
        lev = np.asarray(limited_expected_value(dist, np.minimum(np.arange(m + 2) * h, u)))
        lev[-1] = lev[-2]  # L((m+1)h) of the capped loss is L(u): nothing is paid above u
        pmf = np.empty(m + 1)
        pmf[0] = 1 - lev[1] / h
        pmf[1:] = (2 * lev[1:-1] - lev[:-2] - lev[2:]) / h
        # LEV is concave, so the masses are >= 0 in exact arithmetic; drop rounding dust
        pmf[(pmf < 0) & (pmf > -1e-12)] = 0.0
    else:
        raise ValueError(f"unknown method {method!r}; use 'rounding', 'moment', 'lower' or "
                         "'upper'")
    return DiscreteSeverity(float(h), pmf, cap, method)


def accident_severity(person: DiscreteSeverity, victims: Any, *, limit: float | None = None,
                      n: int | None = None, pad: int = 2, tol: float = 1e-12,
                      max_size: int = 1 << 24) -> DiscreteSeverity:
    """Severity of one accident: ``min(Y_1 + … + Y_V, limit)``, with ``V = 1 + M`` victims.

    Parameters
    ----------
    person : DiscreteSeverity
        Loss per victim, already capped at the per-person limit (``discretise(...,
        limit=per_person)``).
    victims : Frequency or frozen scipy.stats poisson/nbinom/binom
        ``M``, the number of victims beyond the first (an accident has at least one).
    limit : float, optional
        The per-accident limit, a multiple of ``person.h``; the mass above it goes to it.
    n : int, optional
        Without a per-accident limit, the number of lattice points (the last collects the
        mass above, as in :func:`discretise`). Give exactly one of ``limit`` and ``n``.
    pad, tol, max_size
        FFT length and wrap-around control, as in :func:`fft_aggregate`.

    Returns
    -------
    DiscreteSeverity
        On the lattice of ``person``.

    Notes
    -----
    The PGF of ``V`` is ``z·P_M(z)``; it is applied to the transform of ``person`` and
    inverted, and the mass from the cap upwards, ``1 − P(sum < cap)``, is put at the cap.
    The FFT length covers the uncapped sum far into its tail (upper half of the transform
    below ``tol``), so that the probability wrapping around onto the points below the cap is
    negligible.
    """
    victims = as_frequency(victims)
    f, h = person.pmf, person.h
    m, cap = _lattice_points(h, limit, n)
    mean_v, var_v = 1 + victims.mean, victims.var
    mu, var = person.mean(), person.variance()
    reach = (mean_v * mu + 12 * math.sqrt(mean_v * var + var_v * mu**2)) / h + f.size
    size = _fft_size(max(m + 1, f.size, math.ceil(reach)), pad)
    g = _fft_compound(f, lambda z: z * victims.pgf(z), size, tol, max_size)[:m]
    pmf = np.append(g, max(0.0, 1.0 - g.sum()))
    return DiscreteSeverity(h, pmf, cap, f"accident({person.method})")


def _severity(sev: Any, h: float | None) -> tuple[np.ndarray, float]:
    if isinstance(sev, DiscreteSeverity):
        if h is not None and h != sev.h:
            raise ValueError(f"h={h:g} contradicts the severity's span {sev.h:g}")
        return sev.pmf, sev.h
    sev = DiscreteSeverity(1.0 if h is None else float(h), sev)
    return sev.pmf, sev.h


def compound_moments(freq: Any, sev: Any, *, h: float | None = None) -> tuple[float, float]:
    """Mean and variance of the aggregate from those of its parts, yuan and yuan².

    ``E[S] = E[N]·E[X]``, ``Var(S) = E[N]·Var(X) + Var(N)·E[X]²`` (Loss Models 4th ed.,
    §9.3), with the moments of ``X`` taken on its lattice.

    Parameters
    ----------
    freq : Frequency or frozen scipy.stats poisson/nbinom/binom
    sev : DiscreteSeverity or array_like
        A pmf on ``0, h, 2h, …`` (``h`` defaults to 1 for a bare array).
    """
    freq = as_frequency(freq)
    f, h = _severity(sev, h)
    x = h * np.arange(f.size)
    mu = float(x @ f)
    var = float(((x - mu) ** 2) @ f)
    return freq.mean * mu, freq.mean * var + freq.var * mu**2


def _default_points(freq: Frequency, f: np.ndarray, h: float) -> int:
    # A first guess at the lattice needed, refined by the tail checks of the callers: mean +
    # 12 standard deviations, plus one full severity range so that a tiny, lumpy portfolio
    # keeps at least every single-claim outcome on the lattice.
    mean, var = compound_moments(freq, f, h=h)
    return math.ceil((mean + 12 * math.sqrt(var)) / h) + f.size


def _fft_compound(f: np.ndarray, pgf, size: int, tol: float, max_size: int) -> np.ndarray:
    """``IDFT(pgf(DFT(f)))`` of length ``size``, doubled until the upper half holds <= tol."""
    while True:
        # real input: the half spectrum suffices; the PGF has real coefficients, so
        # pgf(conj φ) = conj pgf(φ) and irfft restores the other half
        phi = sfft.rfft(f, size)
        g = sfft.irfft(pgf(phi), size)
        g = np.maximum(g, 0.0)  # round-off leaves ±1e−17 where the true mass is 0
        upper = g[size // 2:].sum()
        if upper <= tol:
            return g
        if size >= max_size:
            raise ValueError(f"{upper:.3g} of the probability lies in the upper half of a "
                             f"{size}-point transform; use a larger span h")
        size *= 2


def _fft_size(points: int, pad: int) -> int:
    if int(pad) != pad or pad < 1:
        raise ValueError(f"pad must be an integer >= 1, got {pad!r}")
    return 1 << math.ceil(math.log2(max(2, pad * points)))


# --- the aggregate distribution ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AggregateDistribution:
    """The distribution of aggregate loss ``S`` on increasing support points, yuan.

    Attributes
    ----------
    x : ndarray
        Support points, yuan, increasing: the lattice ``0, h, …, (n−1)h`` for :func:`panjer`
        and :func:`fft_aggregate`, the distinct simulated values for :func:`simulate_aggregate`.
    pmf : ndarray
        ``P(S = x[i])``. On a lattice it sums to ``1 − tail``.
    method : str
        ``panjer``, ``fft`` or ``simulation``.
    h : float or None
        Lattice span, yuan (None for a simulation).
    n_sims : int or None
        Number of simulated years (None for a lattice method).
    """

    x: np.ndarray
    pmf: np.ndarray
    method: str
    h: float | None = None
    n_sims: int | None = None
    cdf: np.ndarray = field(init=False, repr=False)

    P_TOL = 1e-12
    """``F(x) ≥ p`` is tested as ``F(x) ≥ p − P_TOL``, so that a level written in decimals
    (0.95) is reached by a cdf that sums to it up to floating-point round-off."""

    TAIL_TOL = 1e-3
    """:meth:`tvar` and :meth:`cte` refuse when the probability beyond the last support point
    (:attr:`tail`) exceeds ``TAIL_TOL·(1 − p)``: the lattice must hold all but 0.1% of the
    probability above the level. A :func:`panjer` or :func:`fft_aggregate` run at
    ``tol=1e-6`` leaves at most 1e-6 off the lattice, so it qualifies at every
    ``p ≤ 0.999``; the default ``tol=1e-12`` up to ``p = 1 − 1e-9``."""

    def __post_init__(self):
        x = np.array(self.x, dtype=float)
        pmf = np.array(self.pmf, dtype=float)
        if x.shape != pmf.shape or x.ndim != 1 or x.size == 0:
            raise ValueError("x and pmf must be 1-D arrays of the same, non-zero length")
        if np.any(np.diff(x) <= 0):
            raise ValueError("support points must be increasing")
        cdf = np.cumsum(pmf)
        for arr in (x, pmf, cdf):
            arr.setflags(write=False)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "pmf", pmf)
        object.__setattr__(self, "cdf", cdf)

    @classmethod
    def from_sample(cls, values: Any, method: str = "simulation") -> AggregateDistribution:
        """The empirical distribution of simulated (or observed) aggregate losses, yuan."""
        values = np.asarray(values, dtype=float).ravel()
        if values.size == 0 or not np.all(np.isfinite(values)):
            raise ValueError("need at least one finite value")
        x, counts = np.unique(values, return_counts=True)
        return cls(x, counts / values.size, method, None, int(values.size))

    @property
    def tail(self) -> float:
        """Probability beyond the last support point (mass a lattice did not reach)."""
        return max(0.0, 1.0 - float(self.cdf[-1]))

    def mean(self) -> float:
        """``E[S]``, yuan (of the mass on the support: short by whatever :attr:`tail` holds)."""
        return float(self.x @ self.pmf)

    def variance(self) -> float:
        """``Var(S)``, yuan²; a simulation's is the plug-in (divide by ``n_sims``)."""
        mu = self.mean()
        return float(((self.x - mu) ** 2) @ self.pmf)

    def std(self) -> float:
        """Standard deviation, yuan."""
        return math.sqrt(self.variance())

    def standard_error(self) -> float:
        """Standard error of :meth:`mean` for a simulation, ``sd/√n_sims``; 0 on a lattice."""
        return 0.0 if self.n_sims is None else self.std() / math.sqrt(self.n_sims)

    def _index(self, p: np.ndarray) -> np.ndarray:
        if np.any(~(p > 0) | ~(p < 1)):
            raise ValueError("levels p must lie strictly between 0 and 1")
        i = np.searchsorted(self.cdf, p - self.P_TOL, side="left")
        if np.any(i >= self.x.size):
            raise ValueError(f"level {p.max():g} lies beyond the last support point (cdf "
                             f"{self.cdf[-1]:.12g}); use more lattice points")
        return i

    def value_at_risk(self, p: float | Iterable[float]) -> float | np.ndarray:
        """Value at risk ``VaR_p = min{x : F(x) ≥ p}``, the smallest support point whose cdf
        reaches the level, yuan (actuar's ``VaR``; Loss Models 4th ed., §3.5.3).

        Parameters
        ----------
        p : float or array_like
            Levels in (0, 1), e.g. 0.995.

        Returns
        -------
        float or ndarray
            Yuan, the shape of ``p``.

        Raises
        ------
        ValueError
            For a level outside (0, 1), or beyond the last support point (a lattice too
            short for it).
        """
        pa = np.asarray(p, dtype=float)
        out = self.x[self._index(pa.ravel())].reshape(pa.shape)
        return float(out) if out.ndim == 0 else out

    def var(self, p: float | Iterable[float]) -> float | np.ndarray:
        """Deprecated alias of :meth:`value_at_risk` (numpy and pandas use ``var`` for the
        variance, which is :meth:`variance` here); removed in the next release."""
        warnings.warn("AggregateDistribution.var(p) is the value at risk, not the variance; "
                      "it is renamed value_at_risk(p) and the alias will be removed in the "
                      "next release", DeprecationWarning, stacklevel=2)
        return self.value_at_risk(p)

    def tvar(self, p: float | Iterable[float]) -> float | np.ndarray:
        """Tail value at risk at level ``p``, yuan, in the Acerbi–Tasche form::

            TVaR_p = (1/(1−p)) ∫_p^1 VaR_u du
                   = VaR_p + E[(S − VaR_p)_+] / (1 − p)
                   = (E[S·1{S > VaR_p}] + VaR_p·(F(VaR_p) − p)) / (1 − p)

        (Acerbi & Tasche, "On the coherence of expected shortfall", J. Banking & Finance 26,
        2002). For a continuous ``S`` this is ``E[S | S ≥ VaR_p]``; for a discrete ``S`` the
        atom at ``VaR_p`` counts only for the part ``F(VaR_p) − p`` above the level, which
        keeps the measure coherent and continuous in ``p`` (plain ``E[S | S ≥ VaR_p]`` is
        neither). Loss Models 4th ed. §3.5 defines TVaR the same way through the quantile
        integral. It differs from :meth:`cte` when ``VaR_p`` is an atom with
        ``F(VaR_p) > p``, as on a lattice; then ``VaR_p ≤ TVaR_p < CTE_p``.

        Parameters
        ----------
        p : float or array_like
            Levels in (0, 1).

        Returns
        -------
        float or ndarray
            Yuan, the shape of ``p``.

        Raises
        ------
        ValueError
            As :meth:`value_at_risk`, and when the mass beyond the lattice (:attr:`tail`) is
            not negligible against ``1 − p`` (:attr:`TAIL_TOL`): the tail expectation would be
            understated.
        """
        pa, flat, v, above_mass, above_first = self._above(p)
        excess = above_first - v * above_mass
        out = (v + excess / (1 - flat)).reshape(pa.shape)
        return float(out) if out.ndim == 0 else out

    def cte(self, p: float | Iterable[float]) -> float | np.ndarray:
        """Conditional tail expectation ``CTE_p = E[S | S > VaR_p]``, yuan, as R's actuar
        computes it (``CTE.aggregateDist``)::

            CTE_p = Σ_{x > VaR_p} x·P(S = x) / Σ_{x > VaR_p} P(S = x)

        the mean of the losses strictly above the value at risk. Where ``F(VaR_p) = p`` it is
        :meth:`tvar`; where ``VaR_p`` is an atom reaching beyond the level (``F(VaR_p) > p``)
        it leaves the atom out and is larger. Not coherent, and not continuous in ``p`` on a
        lattice (Loss Models 4th ed., §3.5.4).

        Parameters
        ----------
        p : float or array_like
            Levels in (0, 1).

        Returns
        -------
        float or ndarray
            Yuan, the shape of ``p``; ``nan`` at a level whose ``VaR_p`` is the last support
            point (no loss above it: the conditional expectation is undefined, and actuar
            gives NaN too).

        Raises
        ------
        ValueError
            As :meth:`tvar`.
        """
        pa, _, _, above_mass, above_first = self._above(p)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(above_mass > 0, above_first / above_mass, np.nan).reshape(pa.shape)
        return float(out) if out.ndim == 0 else out

    def _above(self, p: float | Iterable[float]):
        """The levels (as given and flat), ``VaR_p`` and the sums over the support points
        strictly above it: ``P(S > VaR_p)`` and ``E[S·1{S > VaR_p}]`` on the support."""
        pa = np.asarray(p, dtype=float)
        flat = pa.ravel()
        i = self._index(flat)
        if np.any(self.tail > self.TAIL_TOL * (1 - flat)):
            raise ValueError(f"{self.tail:.3g} of the probability lies beyond the lattice, "
                             f"more than {self.TAIL_TOL:g} of 1 − p = {1 - flat.max():.3g}; "
                             "use more lattice points (a smaller tol) for this level")
        # sums over the points above VaR, accumulated from the top so the far tail is not
        # lost in the round-off of a cumulative sum that is already close to 1
        above_mass = np.append(np.cumsum(self.pmf[::-1])[::-1], 0.0)[i + 1]
        above_first = np.append(np.cumsum((self.x * self.pmf)[::-1])[::-1], 0.0)[i + 1]
        return pa, flat, self.x[i], above_mass, above_first

    def summary(self, levels: Iterable[float] = (0.9, 0.95, 0.99, 0.995)) -> pd.DataFrame:
        """Mean, standard deviation, value at risk, TVaR and CTE at ``levels``, yuan.

        Returns
        -------
        DataFrame
            One row per level: ``level``, ``mean``, ``std``, ``var`` (the value at risk, not
            the variance), ``tvar`` and ``cte``.
        """
        levels = np.asarray(list(levels), dtype=float)
        return pd.DataFrame({"level": levels, "mean": self.mean(), "std": self.std(),
                             "var": self.value_at_risk(levels), "tvar": self.tvar(levels),
                             "cte": self.cte(levels)})


# --- the three methods ------------------------------------------------------------------------


def panjer(freq: Any, sev_pmf: Any, n: int | None = None, *, h: float | None = None,
           tol: float = 1e-12, max_points: int = 1 << 22) -> AggregateDistribution:
    """Aggregate loss by Panjer's recursion.

    With ``N`` in the (a, b, 0) class (``p_k = (a + b/k) p_{k−1}``) and severity ``f`` on the
    lattice, ``g_k = P(S = kh)`` satisfies (Panjer 1981; Loss Models 4th ed., Theorem 9.8)::

        g_0 = P_N(f_0),
        g_k = 1/(1 − a f_0) · Σ_{j=1}^{min(k, m)} (a + b j/k) f_j g_{k−j}.

    Parameters
    ----------
    freq : Frequency or frozen scipy.stats poisson/nbinom/binom
        Number of accidents (claims) in the period.
    sev_pmf : DiscreteSeverity or array_like
        Severity on ``0, h, 2h, …, m·h``; a bare array is on the lattice of span ``h``.
    n : int, optional
        Number of result points ``0 … (n−1)h``. Default: as many as it takes for the
        probability beyond the last point to fall to ``tol`` (the recursion runs on until
        then, doubling its array).
    h : float, optional
        Span for a bare array (default 1).
    tol : float
        Tail probability left off the lattice when ``n`` is not given; the result's
        :meth:`~AggregateDistribution.tvar` and :meth:`~AggregateDistribution.cte` accept
        levels with ``tol ≤ TAIL_TOL·(1 − p)`` (``p ≤ 0.999`` at ``tol = 1e-6``).
    max_points : int
        Refuse to run beyond this many points (choose a larger span ``h``).

    Returns
    -------
    AggregateDistribution

    Notes
    -----
    When ``g_0`` underflows (a large portfolio: ``P(N = 0) < 1e−300`` at ``λ > 690``) the
    recursion, which is linear in ``g``, runs on a scaled copy and keeps the scale as a
    logarithm, rescaling whenever the values grow large; probabilities below ~1e−308 come out
    as 0. The cost is ``O(n·m)``: a Python loop over the ``n`` points, each an ``m``-long dot
    product — the recursion is sequential by nature.
    """
    freq = as_frequency(freq)
    f, h = _severity(sev_pmf, h)
    size = _default_points(freq, f, h) if n is None else int(n)
    if size < 1:
        raise ValueError("n must be >= 1")
    a, b = freq.a, freq.b
    m = f.size - 1
    j = np.arange(1, m + 1)
    fa = a * f[1:]       # a·f_j
    fb = b * j * f[1:]   # b·j·f_j, divided by k in the loop
    denom = 1 - a * f[0]
    log_g0 = float(freq.log_pgf(f[0]))
    g = np.zeros(size)
    if log_g0 > -700:
        g[0], log_scale = math.exp(log_g0), 0.0
    else:
        g[0], log_scale = 1.0, log_g0
    big = 1e250
    start = 1
    while True:
        for k in range(start, size):
            top = min(k, m)
            prev = g[k - 1::-1][:top]  # g_{k−1}, …, g_{k−top}
            g[k] = (fa[:top] @ prev + (fb[:top] @ prev) / k) / denom
            if g[k] > big:
                # keep the scaled values in range: divide everything so far by g_k
                scale = g[k]
                g[:k + 1] /= scale
                log_scale += math.log(scale)
        if n is not None:
            break
        total = g.sum()
        total = math.exp(math.log(total) + log_scale) if total > 0 else 0.0
        if 1 - total <= tol:
            break
        if size >= max_points:
            raise ValueError(f"{1 - total:.3g} of the probability is still beyond "
                             f"{size} points; use a larger span h")
        g = np.concatenate([g, np.zeros(size)])
        start, size = size, 2 * size
    if log_scale != 0.0:
        with np.errstate(divide="ignore"):
            g = np.exp(np.log(g) + log_scale)
    if n is None:
        g = g[:_points_to(g, tol)]
    return AggregateDistribution(h * np.arange(g.size), g, "panjer", h)


def _points_to(g: np.ndarray, tol: float) -> int:
    """The number of leading points that hold all but ``tol`` of the probability."""
    return min(g.size, int(np.searchsorted(np.cumsum(g), 1 - tol, side="left")) + 1)


def fft_aggregate(freq: Any, sev_pmf: Any, n: int | None = None, *, h: float | None = None,
                  pad: int = 2, tol: float = 1e-12, max_size: int = 1 << 24
                  ) -> AggregateDistribution:
    """Aggregate loss by the fast Fourier transform.

    With ``φ = DFT(f)`` the severity's transform of length ``L``, the aggregate's transform
    is ``P_N(φ)`` (``P_N`` the probability generating function of ``N``), and its inverse DFT
    is the aggregate pmf — *modulo* ``L·h``: the DFT convolves circularly, so the probability
    of ``S ≥ L·h`` wraps around onto the low points.

    Zero padding: ``L`` starts at the smallest power of two that is at least ``pad`` times the
    larger of ``n``, the severity's length and a moment-based reach (``E[S] + 12·sd(S)`` plus
    one severity range), and doubles until the upper half of the result, ``[L/2, L)·h``,
    holds at most ``tol`` of the probability. As the tail decreases, the mass beyond ``L·h``
    that wraps around is then smaller still. Only the first ``n`` points are returned.

    Parameters
    ----------
    freq : Frequency or frozen scipy.stats poisson/nbinom/binom
    sev_pmf : DiscreteSeverity or array_like
    n : int, optional
        Number of result points; default: enough to leave at most ``tol`` beyond.
    h : float, optional
        Span for a bare array (default 1).
    pad : int
        Padding factor (>= 1).
    tol : float
        Probability allowed in the upper half of the transform, and beyond the default ``n``
        (see :attr:`AggregateDistribution.TAIL_TOL` for the levels it serves).
    max_size : int
        Largest transform tried (choose a larger span ``h`` beyond it).

    Returns
    -------
    AggregateDistribution
    """
    freq = as_frequency(freq)
    f, h = _severity(sev_pmf, h)
    if n is not None and int(n) < 1:
        raise ValueError("n must be >= 1")
    reach = _default_points(freq, f, h)
    g = _fft_compound(f, freq.pgf, _fft_size(max(n or 0, f.size, reach), pad), tol, max_size)
    g = g[:int(n)] if n is not None else g[:_points_to(g, tol)]
    return AggregateDistribution(h * np.arange(g.size), g, "fft", h)


def _draw_counts(dist: Any, size: int, rng: np.random.Generator) -> np.ndarray:
    rv = dist.rv() if isinstance(dist, (Poisson, NegativeBinomial, Binomial)) else dist
    counts = np.asarray(rv.rvs(size=size, random_state=rng)).astype(np.int64)
    if np.any(counts < 0):
        raise ValueError("a count distribution drew a negative number")
    return counts


def _draw_losses(sev: Any, size: int, rng: np.random.Generator) -> np.ndarray:
    if isinstance(sev, DiscreteSeverity):
        return sev.h * rng.choice(sev.pmf.size, size=size, p=sev.pmf)
    return np.asarray(sev.rvs(size=size, random_state=rng), dtype=float).reshape(size)


def simulate_aggregate(freq: Any, severity: Any, size: int, seed: Any = None,
                       limit: float | None = None, *, victims: Any = None,
                       accident_limit: float | None = None) -> AggregateDistribution:
    """Aggregate loss by simulation, seeded and vectorised.

    Draws ``size`` years' counts, then every loss of every year in one call, caps them, and
    sums each year's losses with ``np.bincount`` (the year index repeated by its count), so
    there is no Python loop over years or losses.

    Parameters
    ----------
    freq : Frequency or frozen scipy.stats discrete distribution
        Number of accidents per year (any count distribution here, not only (a, b, 0)).
    severity : frozen scipy.stats distribution or DiscreteSeverity
        Loss per accident — or per victim when ``victims`` is given — yuan.
    size : int
        Number of simulated years.
    seed : int, numpy Generator or None
        For ``numpy.random.default_rng``; a fixed seed gives the same result every run.
    limit : float, optional
        Cap on each loss drawn from ``severity``: the per-person limit when ``victims`` is
        given, else the per-accident one.
    victims : Frequency or frozen scipy.stats discrete distribution, optional
        ``M``, the victims beyond the first in an accident (``V = 1 + M``).
    accident_limit : float, optional
        Cap on each accident's total, after the per-person caps.

    Returns
    -------
    AggregateDistribution
        The empirical distribution of the ``size`` aggregate losses (``n_sims = size``).

    Notes
    -----
    Memory is about ``size·E[N]·E[V]`` floats at once; split a very large run into batches
    with different seeds.
    """
    if int(size) != size or size < 1:
        raise ValueError(f"size must be an integer >= 1, got {size!r}")
    size = int(size)
    rng = np.random.default_rng(seed)
    counts = _draw_counts(freq, size, rng)
    accidents = int(counts.sum())
    if victims is None:
        losses = _draw_losses(severity, accidents, rng)
        if limit is not None:
            np.minimum(losses, limit, out=losses)
    else:
        people = 1 + _draw_counts(victims, accidents, rng)
        per_person = _draw_losses(severity, int(people.sum()), rng)
        if limit is not None:
            np.minimum(per_person, limit, out=per_person)
        losses = np.bincount(np.repeat(np.arange(accidents), people), weights=per_person,
                             minlength=accidents)
    if accident_limit is not None:
        np.minimum(losses, accident_limit, out=losses)
    totals = np.bincount(np.repeat(np.arange(size), counts), weights=losses, minlength=size)
    return AggregateDistribution.from_sample(totals)
