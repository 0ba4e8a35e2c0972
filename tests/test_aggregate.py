"""Aggregate loss, risk measures, limited expected values and limit factors (rating.risk).

Every expected number comes from a published example or is derived by hand in the test's
docstring. Sources:
- Bowers, Gerber, Hickman, Jones & Nesbitt, *Actuarial Mathematics*, 2nd ed. (1997), ch. 12
  (compound Poisson; S = 1·N1 + 2·N2 + 3·N3); the exercise with λ = 20 and its answers as set
  in a course homework based on it (coursehero.com/file/6246702, "Homework Assignment 14").
- Klugman, Panjer & Willmot, *Loss Models*, 4th ed.: (a, b, 0) class (§6.5, Appendix B),
  recursion (Theorem 9.8), compound moments (§9.3), discretisation (§9.6.5), limited expected
  values (Appendix A), TVaR (§3.5).
- Acerbi & Tasche, "On the coherence of expected shortfall", J. Banking & Finance 26 (2002).
"""

import copy
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import integrate, stats

import rating
from rating.risk.aggregate import (
    AggregateDistribution,
    Binomial,
    DiscreteSeverity,
    NegativeBinomial,
    Poisson,
    accident_severity,
    as_frequency,
    compound_moments,
    discretise,
    fft_aggregate,
    panjer,
    simulate_aggregate,
)
from rating.risk.increased_limits import (
    increased_limits,
    limit_factor_bands,
    limited_expected_value,
)

BOOK = Path(__file__).resolve().parents[1] / "tables" / "books" / "cn-fj-xm-2022.yaml"
F123 = np.array([0.0, 0.5, 0.3, 0.2])  # severity pmf on {1, 2, 3}


def brute_force(pn, f, n):
    """Σ_k P(N=k)·f^{*k} on 0..n−1, by repeated np.convolve (the definition of a compound)."""
    out = np.zeros(n)
    conv = np.zeros(n)
    conv[0] = 1.0  # f^{*0}: all mass at 0
    for p in pn:
        out += p * conv
        conv = np.convolve(conv, f)[:n]
    return out


# --- Panjer, FFT and convolution --------------------------------------------------------------


def test_panjer_fft_and_convolution_agree_poisson():
    """Poisson(λ=2), f1 = .5, f2 = .3, f3 = .2. By hand (condition on N):
    P(S=0) = e^{−2}; P(S=1) = λ f1 e^{−λ} = e^{−2};
    P(S=2) = e^{−λ}(λ f2 + λ² f1²/2) = e^{−2}(0.6 + 0.5) = 1.1 e^{−2};
    P(S=3) = e^{−λ}(λ f3 + λ²·2 f1 f2/2 + λ³ f1³/6) = e^{−2}(0.4 + 0.6 + 1/6).
    The brute force sums P(N=k) f^{*k} for k ≤ 60 (P(N > 60) < 1e−60)."""
    n = 30
    pan = panjer(Poisson(2.0), F123, n)
    fft = fft_aggregate(Poisson(2.0), F123, n)
    ref = brute_force(stats.poisson(2.0).pmf(np.arange(61)), F123, n)
    np.testing.assert_allclose(pan.pmf, ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(fft.pmf, ref, rtol=0, atol=1e-10)
    e = math.exp(-2)
    np.testing.assert_allclose(pan.pmf[:4], [e, e, 1.1 * e, (1 + 1 / 6) * e], rtol=1e-13)
    assert np.array_equal(pan.x, np.arange(n, dtype=float))


def test_panjer_bowers_compound_poisson_lambda_20():
    """Bowers et al., Actuarial Mathematics 2nd ed. ch. 12: λ = 20, p(1) = .7, p(2) = .2,
    p(3) = .1; published answers f_S(0..3) = e^{−20}·(1, 14, 102, 515.33).
    By the recursion g_k = (λ/k) Σ j f_j g_{k−j}: g1 = 20·.7 = 14; g2 = 10(.7·14 + 2·.2) = 102;
    g3 = (20/3)(.7·102 + 2·.2·14 + 3·.1) = (20/3)·77.3 = 1546/3 = 515.333…"""
    g = panjer(Poisson(20.0), [0, 0.7, 0.2, 0.1], 4).pmf / math.exp(-20)
    np.testing.assert_allclose(g, [1, 14, 102, 1546 / 3], rtol=1e-12)
    assert round(g[3], 2) == 515.33


@pytest.mark.parametrize("freq, pn", [
    (NegativeBinomial(r=2.5, beta=0.8), stats.nbinom(2.5, 1 / 1.8).pmf(np.arange(200))),
    (Binomial(m=12, q=0.3), stats.binom(12, 0.3).pmf(np.arange(13))),
])
def test_panjer_fft_and_convolution_agree_nb_binomial(freq, pn):
    """Negative binomial (a = β/(1+β) > 0) and binomial (a < 0) against the definition; the
    convolution uses scipy's pmf of N (nbinom(r, 1/(1+β)) is Loss Models' NB(r, β))."""
    n = 40
    ref = brute_force(pn, F123, n)
    np.testing.assert_allclose(panjer(freq, F123, n).pmf, ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(fft_aggregate(freq, F123, n).pmf, ref, rtol=0, atol=1e-10)


@pytest.mark.parametrize("rv", [stats.poisson(2.0), stats.nbinom(3, 0.4), stats.binom(10, 0.2)])
def test_frequency_parameters_match_scipy(rv):
    """(a, b, 0) class: p_k / p_{k−1} = a + b/k (Loss Models Table 6.1); mean and variance
    and the PGF Σ p_k z^k at z = 0.7, all against scipy's own distribution."""
    freq = as_frequency(rv)
    k = np.arange(1, 8)
    pk = rv.pmf(np.arange(0, 8))
    np.testing.assert_allclose(pk[1:] / pk[:-1], freq.a + freq.b / k, rtol=1e-12)
    assert freq.mean == pytest.approx(rv.mean(), rel=1e-12)
    assert freq.var == pytest.approx(rv.var(), rel=1e-12)
    z = 0.7
    assert freq.pgf(z) == pytest.approx(np.sum(rv.pmf(np.arange(400)) * z ** np.arange(400)),
                                        rel=1e-12)
    # the frozen scipy distribution and the dataclass give the same recursion
    np.testing.assert_array_equal(panjer(rv, F123, 20).pmf, panjer(freq, F123, 20).pmf)


def test_panjer_survives_underflow_of_p0():
    """λ = 1000: P(S=0) = e^{−1000} underflows a double, so a naive recursion yields zeros.
    The scaled recursion must match the FFT (which has no such start value) everywhere."""
    freq = Poisson(1000.0)
    pan = panjer(freq, F123)
    fft = fft_aggregate(freq, F123, pan.x.size)
    assert pan.pmf[0] == 0.0 and pan.pmf.sum() == pytest.approx(1, abs=1e-12)
    np.testing.assert_allclose(pan.pmf, fft.pmf, rtol=0, atol=1e-12)
    assert pan.mean() == pytest.approx(1000 * 1.7, rel=1e-10)  # tail ≤ 1e-12 left off


def test_fft_padding_is_independent_of_the_points_returned():
    """Asking for few points must not shrink the FFT (wrap-around would fold the mass above
    onto them): the first 5 probabilities equal Panjer's."""
    np.testing.assert_allclose(fft_aggregate(Poisson(2.0), F123, 5).pmf,
                               panjer(Poisson(2.0), F123, 5).pmf, rtol=0, atol=1e-14)


# --- moments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("freq", [Poisson(4.0), NegativeBinomial(r=3.0, beta=1.5),
                                  Binomial(m=20, q=0.2)])
def test_aggregate_mean_and_variance(freq):
    """E[S] = E[N]·E[X], Var(S) = E[N]·Var(X) + Var(N)·E[X]² (Loss Models §9.3), with X the
    capped lognormal on a lattice of span 10,000 yuan up to the 500,000 per-person limit;
    E[X] and Var(X) are computed here from the lattice pmf directly."""
    sev = discretise(stats.lognorm(s=1.2, scale=60_000), 10_000, limit=500_000)
    x = sev.h * np.arange(sev.pmf.size)
    ex = x @ sev.pmf
    vx = (x**2) @ sev.pmf - ex**2
    mean, var = freq.mean * ex, freq.mean * vx + freq.var * ex**2
    assert compound_moments(freq, sev) == pytest.approx((mean, var), rel=1e-12)
    for agg in (panjer(freq, sev), fft_aggregate(freq, sev)):
        assert agg.tail < 1e-12
        assert agg.mean() == pytest.approx(mean, rel=1e-10)
        assert agg.variance() == pytest.approx(var, rel=1e-8)


def test_simulation_within_sampling_error():
    """Poisson(3) accidents, lognormal(σ=1.5, median 50,000) losses capped at 400,000.
    Exact E[S] = λ·LEV(400,000) (closed form, Loss Models App. A). Rule: the simulated mean
    is within 4 standard errors (sd/√size) of it, and the simulated VaR_0.95 within 4 standard
    errors of the quantile estimate, √(p(1−p)/size)/density, taking the density from a fine
    Panjer lattice. Fixed seed: the draw is the same every run."""
    lam, cap, size = 3.0, 400_000.0, 20_000
    sev = stats.lognorm(s=1.5, scale=50_000)
    sim = simulate_aggregate(Poisson(lam), sev, size, seed=20240501, limit=cap)
    exact = lam * limited_expected_value(sev, cap)
    assert sim.n_sims == size
    assert abs(sim.mean() - exact) < 4 * sim.standard_error()
    # reproducible
    again = simulate_aggregate(Poisson(lam), sev, size, seed=20240501, limit=cap)
    assert np.array_equal(again.x, sim.x) and np.array_equal(again.pmf, sim.pmf)
    # the lattice agrees on the mean to discretisation accuracy (moment matching: exact)
    lattice = panjer(Poisson(lam), discretise(sev, 2_000, limit=cap, method="moment"))
    assert lattice.mean() == pytest.approx(exact, rel=1e-9)
    p, h = 0.95, lattice.h
    q = lattice.value_at_risk(p)
    density = lattice.pmf[int(q / h) - 10:int(q / h) + 11].sum() / (21 * h)
    se_q = math.sqrt(p * (1 - p) / size) / density
    assert abs(sim.value_at_risk(p) - q) < 4 * se_q


def test_per_person_and_per_accident_limits():
    """Accident severity with victims: person pmf f(1) = .6, f(2) = .4 (already capped), one
    victim plus M ~ Binomial(1, .5) more. By hand: one victim (prob .5): {1: .6, 2: .4}; two
    (prob .5): {2: .36, 3: .48, 4: .16}; mixed: {1: .3, 2: .38, 3: .24, 4: .08}; capped at 3
    per accident: {1: .3, 2: .38, 3: .32}."""
    person = DiscreteSeverity(1.0, [0, 0.6, 0.4])
    acc = accident_severity(person, Binomial(1, 0.5), limit=3)
    np.testing.assert_allclose(acc.pmf, [0, 0.3, 0.38, 0.32], atol=1e-14)
    assert acc.limit == 3.0
    # Simulating the same lattice model loss by loss (per-person cap 2, per-accident cap 3)
    # agrees with Panjer on the accident severity within 4 standard errors.
    freq = Poisson(2.0)
    agg = panjer(freq, acc)
    sim = simulate_aggregate(freq, person, 20_000, seed=7, limit=2.0,
                             victims=Binomial(1, 0.5), accident_limit=3.0)
    assert agg.mean() == pytest.approx(2.0 * (0.3 + 2 * 0.38 + 3 * 0.32), rel=1e-10)
    assert abs(sim.mean() - agg.mean()) < 4 * sim.standard_error()


# --- VaR and TVaR -----------------------------------------------------------------------------


def test_var_tvar_by_hand():
    """S = 0, 10, 20, 50 with probabilities .5, .3, .15, .05; F = .5, .8, .95, 1.
    VaR_p = min{x: F(x) ≥ p}: VaR_.5 = 0, VaR_.9 = 20 (F(10) = .8 < .9), VaR_.95 = 20
    (F(20) = .95 reaches .95), VaR_.99 = 50.
    TVaR_p = VaR_p + E[(S − VaR_p)+]/(1 − p) (Acerbi–Tasche; = (1/(1−p))∫_p^1 VaR_u du):
    TVaR_.9 = 20 + 30·.05/.1 = 35 (check: (.05·20 + .05·50)/.1 = 35);
    TVaR_.95 = 20 + 1.5/.05 = 50; TVaR_.5 = 0 + (10·.3 + 20·.15 + 50·.05)/.5 = 17.
    Not E[S | S ≥ VaR_.9] = (20·.15 + 50·.05)/.2 = 27.5: the atom at 20 counts only for
    F(20) − .9 = .05 of it."""
    d = AggregateDistribution([0, 10, 20, 50], [0.5, 0.3, 0.15, 0.05], "hand")
    assert d.mean() == pytest.approx(8.5)
    np.testing.assert_allclose(d.value_at_risk([0.5, 0.9, 0.95, 0.99]), [0, 20, 20, 50])
    assert d.tvar(0.9) == pytest.approx(35)
    assert d.tvar(0.95) == pytest.approx(50)
    assert d.tvar(0.5) == pytest.approx(17)
    assert d.tvar(0.99) == pytest.approx(50)
    table = d.summary([0.9, 0.95])
    assert list(table["var"]) == [20, 20] and table["tvar"].tolist() == pytest.approx([35, 50])
    with pytest.raises(ValueError):
        d.value_at_risk(1.0)


def test_tvar_refuses_a_lattice_that_misses_the_tail():
    """With 8 points of Poisson(2)·F123, P(S > 7) ≈ 0.05 lies off the lattice; VaR_0.999
    and TVaR_0.9 cannot be computed from it."""
    short = panjer(Poisson(2.0), F123, 8)
    assert short.tail > 0.01
    with pytest.raises(ValueError, match="beyond"):
        short.value_at_risk(0.999)
    with pytest.raises(ValueError, match="beyond the lattice"):
        short.tvar(0.9)


# --- discretisation ---------------------------------------------------------------------------


def test_discretise_rounding_with_limit_exponential():
    """Exponential θ = 100,000, span h = 50,000, limit u = 200,000 (m = 4), by rounding:
    f0 = F(h/2) = 1 − e^{−0.25}; f_j = e^{−(j−.5)h/θ} − e^{−(j+.5)h/θ} for j = 1..3;
    f4 = S(u − h/2) = e^{−1.75}, the mass of every loss above 175,000 (those above the limit
    are paid at the limit)."""
    theta, h, u = 100_000.0, 50_000.0, 200_000.0
    d = discretise(stats.expon(scale=theta), h, limit=u)

    def s(x):
        return math.exp(-x / theta)

    expected = [1 - s(25_000)] + [s((j - .5) * h) - s((j + .5) * h) for j in (1, 2, 3)] \
        + [s(175_000)]
    np.testing.assert_allclose(d.pmf, expected, rtol=1e-12)
    np.testing.assert_allclose(d.x, [0, 50_000, 100_000, 150_000, 200_000])
    assert d.limit == u


def test_discretise_moment_matching_keeps_the_limited_mean():
    """Local moment matching of order 1 preserves E[min(X, u)]: for the exponential
    θ(1 − e^{−u/θ}) = 100,000(1 − e^{−2}) at u = 200,000. Lower/upper rounding bracket it."""
    theta, u = 100_000.0, 200_000.0
    dist = stats.expon(scale=theta)
    lev = theta * (1 - math.exp(-u / theta))
    mom = discretise(dist, 10_000, limit=u, method="moment")
    assert mom.pmf.sum() == pytest.approx(1, abs=1e-14) and np.all(mom.pmf >= 0)
    assert mom.mean() == pytest.approx(lev, rel=1e-12)
    lo = discretise(dist, 10_000, limit=u, method="lower").mean()
    hi = discretise(dist, 10_000, limit=u, method="upper").mean()
    assert lo < lev < hi
    with pytest.raises(ValueError, match="multiple"):
        discretise(dist, 30_000, limit=u)
    with pytest.raises(ValueError, match="either"):
        discretise(dist, 10_000)


# --- limited expected values and increased limits ---------------------------------------------


def test_lev_exponential_closed_form():
    """E[min(X, u)] = ∫_0^u e^{−x/θ} dx = θ(1 − e^{−u/θ}); u = ∞ gives the mean θ."""
    theta = 1_000.0
    u = np.array([0.0, 500.0, 1_000.0, 5_000.0])
    expected = theta * (1 - np.exp(-u / theta))
    dist = stats.expon(scale=theta)
    np.testing.assert_allclose(limited_expected_value(dist, u), expected, rtol=1e-14)
    np.testing.assert_allclose(limited_expected_value(dist, u, method="numeric"), expected,
                               rtol=1e-10)
    assert limited_expected_value(dist, 1_000.0) == pytest.approx(632.120558828558, rel=1e-12)
    assert limited_expected_value(dist, np.inf) == pytest.approx(theta)


def test_lev_lognormal_formula_vs_integration():
    """Lognormal (Loss Models App. A.4.1.1): E[X∧u] = e^{μ+σ²/2} Φ((ln u − μ − σ²)/σ)
    + u[1 − Φ((ln u − μ)/σ)], here μ = ln 80,000, σ = 1.3, against ∫_0^u S(x) dx by quad."""
    mu, sigma = math.log(80_000), 1.3
    dist = stats.lognorm(s=sigma, scale=math.exp(mu))
    u = np.array([10_000.0, 200_000.0, 500_000.0, 1_500_000.0])
    formula = (np.exp(mu + sigma**2 / 2) * stats.norm.cdf((np.log(u) - mu - sigma**2) / sigma)
               + u * stats.norm.sf((np.log(u) - mu) / sigma))
    quad = [integrate.quad(dist.sf, 0, x, epsabs=0, epsrel=1e-12, limit=200)[0] for x in u]
    np.testing.assert_allclose(formula, quad, rtol=1e-9)
    np.testing.assert_allclose(limited_expected_value(dist, u), formula, rtol=1e-12)
    np.testing.assert_allclose(limited_expected_value(dist, u, method="numeric"), formula,
                               rtol=1e-9)


def test_lev_pareto_closed_forms():
    """Pareto II / Lomax (Loss Models App. A.2.3.1), S(x) = (θ/(x+θ))^α:
    E[X∧u] = θ/(α−1)·[1 − (θ/(u+θ))^{α−1}]; α = 3, θ = 2,000, u = 1,000:
    1,000·(1 − (2/3)²) = 5,000/9. For α = 1: θ ln(1 + u/θ) = 2,000 ln 1.5.
    Single-parameter Pareto (App. A.5.1.4), θ = 100, α = 2: u ≤ θ pays u; for u = 400,
    αθ/(α−1) − θ^α/((α−1)u^{α−1}) = 200 − 10,000/400 = 175."""
    assert limited_expected_value(stats.lomax(3, scale=2_000), 1_000) == \
        pytest.approx(5_000 / 9, rel=1e-13)
    assert limited_expected_value(stats.lomax(1, scale=2_000), 1_000) == \
        pytest.approx(2_000 * math.log(1.5), rel=1e-13)
    single = stats.pareto(2, scale=100)
    np.testing.assert_allclose(limited_expected_value(single, [50, 400]), [50, 175], rtol=1e-13)
    for dist in (stats.lomax(3, scale=2_000), stats.lomax(1, scale=2_000), single,
                 stats.gamma(0.7, scale=30_000), stats.weibull_min(0.8, scale=40_000)):
        u = [60.0, 1_000.0, 50_000.0, 1_000_000.0]
        np.testing.assert_allclose(limited_expected_value(dist, u),
                                   limited_expected_value(dist, u, method="numeric"),
                                   rtol=1e-9)


def test_lev_numeric_on_a_lattice():
    """Many limits (a discretisation lattice) take the vectorised Gauss–Legendre path; it
    must match the closed form for a gamma of shape 0.5 (density infinite at 0) shifted by
    30,000 yuan, and moment matching on it must keep E[min(X, u)] for a distribution with no
    closed form (inverse Gaussian) as computed by adaptive quadrature at u alone."""
    dist = stats.gamma(0.5, loc=30_000, scale=100_000)
    u = np.arange(0, 1_000_001, 2_000.0)
    np.testing.assert_allclose(limited_expected_value(dist, u, method="numeric"),
                               limited_expected_value(dist, u), rtol=1e-10, atol=1e-6)
    ig = stats.invgauss(0.5, scale=100_000)
    sev = discretise(ig, 5_000, limit=1_000_000, method="moment")
    assert sev.mean() == pytest.approx(limited_expected_value(ig, 1_000_000), rel=1e-10)


def test_increased_limits_and_book_bands():
    """ILF(u) = LEV(u)/LEV(500,000) for a lognormal per-person loss (σ = 1.5, median 50,000):
    1 at the base, ≥ 1 above it, non-decreasing. Its bands replace the Xiamen book's
    limit_factors and the edited book validates (rating.load_book)."""
    dist = stats.lognorm(s=1.5, scale=50_000)
    limits = [400_000, 500_000, 600_000, 800_000, 1_000_000, 1_500_000, 2_000_000]
    curve = increased_limits(dist, limits, base=500_000)
    assert curve.loc[curve["limit"] == 500_000, "ilf"].item() == pytest.approx(1.0)
    assert np.all(np.diff(curve["ilf"]) >= 0)
    assert np.all(curve.loc[curve["limit"] >= 500_000, "ilf"] >= 1)
    np.testing.assert_allclose(curve["lev"], limited_expected_value(dist, limits))
    bands = limit_factor_bands(curve)
    assert bands[0]["lower"] == 0 and "upper" not in bands[-1]
    for prev, band in itertools.pairwise(bands):
        assert band["lower"] == prev["upper"]
        assert band["factor"] >= prev["factor"]
    assert all(round(b["factor"], 4) == b["factor"] for b in bands)
    assert bands[1] == {"lower": 500_000, "upper": 600_000, "factor": 1.0}

    data = yaml.safe_load(BOOK.read_text(encoding="utf-8"))
    edited = copy.deepcopy(data)
    edited["limit_factors"]["bands"] = bands
    book = rating.load_book(edited)
    assert [b.factor for b in book.limit_factors.bands] == [b["factor"] for b in bands]
    assert book.limit_factors.bands[-1].upper is None
