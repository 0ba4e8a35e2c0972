"""Risk measures of an aggregate distribution (rating.risk.aggregate): value at risk, TVaR
(Acerbi–Tasche) and CTE (E[S | S > VaR], as R's actuar computes it), against values worked by
hand in each test's docstring; the tail tolerance that lets a Panjer run at tol = 1e-6 serve
the usual levels; the deprecated ``var`` alias. Increased-limit factors with a flat ALAE per
claim (rating.risk.increased_limits), worked by hand too."""

import numpy as np
import pytest
from scipy import stats

from rating.risk.aggregate import AggregateDistribution, Binomial, Poisson, panjer
from rating.risk.increased_limits import increased_limits

# S = 0, 10, 20, 50 with probabilities .5, .3, .15, .05: F = .5, .8, .95, 1.
HAND = AggregateDistribution([0, 10, 20, 50], [0.5, 0.3, 0.15, 0.05], "hand")


def test_cte_and_tvar_by_hand():
    """VaR_p = min{x : F(x) ≥ p}.
    p = .9: VaR = 20 (F(10) = .8 < .9 ≤ F(20) = .95), an atom reaching past the level.
        CTE = E[S | S > 20] = 50·.05 / .05 = 50.
        TVaR = 20 + E[(S − 20)+]/(1 − .9) = 20 + 30·.05/.1 = 35
             = (1/.1)·∫_.9^1 VaR_u du = (.05·20 + .05·50)/.1 = 35.
    p = .6: VaR = 10 (F(0) = .5 < .6 ≤ F(10) = .8).
        CTE = (20·.15 + 50·.05)/(.15 + .05) = (3 + 2.5)/.2 = 27.5.
        TVaR = 10 + (10·.15 + 40·.05)/.4 = 10 + 3.5/.4 = 18.75
             = (.2·10 + .15·20 + .05·50)/.4 = 7.5/.4 = 18.75.
    p = .5: VaR = 0 and F(0) = .5 = p exactly, so the two agree:
        CTE = (10·.3 + 20·.15 + 50·.05)/.5 = 8.5/.5 = 17 = TVaR = 0 + 8.5/.5.
    p = .95: VaR = 20, F(20) = .95 = p: CTE = 50 = TVaR = 20 + 1.5/.05.
    p = .99: VaR = 50, the last point: nothing lies above it, CTE is undefined (NaN, as
        actuar's 0/0); TVaR = 50."""
    levels = [0.5, 0.6, 0.9, 0.95, 0.99]
    np.testing.assert_allclose(HAND.value_at_risk(levels), [0, 10, 20, 20, 50])
    np.testing.assert_allclose(HAND.tvar(levels), [17, 18.75, 35, 50, 50], rtol=1e-12)
    cte = HAND.cte(levels)
    np.testing.assert_allclose(cte[:4], [17, 27.5, 50, 50], rtol=1e-12)
    assert np.isnan(cte[4])
    assert HAND.cte(0.9) == pytest.approx(50) and isinstance(HAND.cte(0.9), float)
    assert HAND.cte(np.array([[0.6], [0.9]])).shape == (2, 1)
    table = HAND.summary([0.6, 0.9])
    assert table["cte"].tolist() == pytest.approx([27.5, 50])
    assert table["tvar"].tolist() == pytest.approx([18.75, 35])


def test_cte_and_tvar_of_a_panjer_lattice_by_hand():
    """N ~ Binomial(1, .2) accidents, X = 1 or 2 with probability .5 each, on the unit lattice:
    P(S = 0) = .8, P(S = 1) = .2·.5 = .1, P(S = 2) = .1; F = .8, .9, 1.
    p = .85: VaR = 1 (F(0) = .8 < .85 ≤ F(1) = .9), an atom with F(VaR) − p = .05.
        CTE = E[S | S > 1] = 2.
        TVaR = 1 + E[(S − 1)+]/.15 = 1 + .1/.15 = 5/3
             = (.05·1 + .1·2)/.15 = .25/.15 = 5/3 (the atom at 1 counts for .05 only).
    p = .8: VaR = 0, F(0) = .8 = p: CTE = (1·.1 + 2·.1)/.2 = 1.5 = TVaR = 0 + .3/.2."""
    agg = panjer(Binomial(1, 0.2), [0.0, 0.5, 0.5], 3)
    np.testing.assert_allclose(agg.pmf, [0.8, 0.1, 0.1], rtol=1e-14)
    assert agg.value_at_risk(0.85) == 1
    assert agg.cte(0.85) == pytest.approx(2, rel=1e-12)
    assert agg.tvar(0.85) == pytest.approx(5 / 3, rel=1e-12)
    assert agg.cte(0.8) == pytest.approx(1.5, rel=1e-12)
    assert agg.tvar(0.8) == pytest.approx(1.5, rel=1e-12)


def test_measures_are_ordered():
    """VaR ≤ TVaR ≤ CTE wherever CTE is defined: TVaR averages VaR_u over u in [p, 1), and
    CTE leaves out the atom at VaR that TVaR counts in part."""
    agg = panjer(Poisson(2.0), [0.0, 0.5, 0.3, 0.2])
    levels = np.linspace(0.05, 0.995, 60)
    var, tvar, cte = agg.value_at_risk(levels), agg.tvar(levels), agg.cte(levels)
    assert np.all(var <= tvar + 1e-12) and np.all(tvar <= cte + 1e-12)


def test_a_panjer_run_at_tol_1e6_serves_the_usual_levels():
    """panjer(..., tol=1e-6) stops when at most 1e-6 of the probability is left beyond the
    lattice. TVaR and CTE accept it up to p = 0.999 (1e-6 ≤ TAIL_TOL·(1 − p) = 1e-3·1e-3) and
    agree with a run at tol = 1e-12 to 1e-3; at p = 0.9999 the missing mass would be ~1% of
    the tail, and they refuse."""
    sev = [0.0, 0.5, 0.3, 0.2]
    coarse = panjer(Poisson(2.0), sev, tol=1e-6)
    fine = panjer(Poisson(2.0), sev, tol=1e-12)
    assert 1e-7 < coarse.tail <= 1e-6
    levels = [0.9, 0.95, 0.99, 0.995, 0.999]
    np.testing.assert_allclose(coarse.tvar(levels), fine.tvar(levels), rtol=1e-3)
    np.testing.assert_allclose(coarse.cte(levels), fine.cte(levels), rtol=1e-3)
    assert coarse.summary()["tvar"].notna().all()
    with pytest.raises(ValueError, match="beyond the lattice"):
        coarse.tvar(0.9999)
    with pytest.raises(ValueError, match="beyond the lattice"):
        coarse.cte(0.9999)
    assert fine.tvar(0.9999) > fine.value_at_risk(0.9999)


def test_var_is_a_deprecated_alias_of_value_at_risk():
    with pytest.warns(DeprecationWarning, match="renamed value_at_risk"):
        assert HAND.var(0.9) == HAND.value_at_risk(0.9) == 20
    with pytest.warns(DeprecationWarning):
        np.testing.assert_array_equal(HAND.var([0.6, 0.95]), [10, 20])


# --- increased limits with ALAE ---------------------------------------------------------------


def test_increased_limits_with_a_flat_alae_per_claim_by_hand():
    """X uniform on [0, 1000] yuan: S(x) = 1 − x/1000, LEV(u) = ∫_0^u S = u − u²/2000 for
    u ≤ 1000. LEV(200) = 200 − 20 = 180, LEV(500) = 500 − 125 = 375, LEV(1000) = 500.
    Base 500, ALAE 50 yuan per claim, ILF(u) = (LEV(u) + 50)/(LEV(500) + 50):
    ILF(200) = 230/425 = 46/85, ILF(500) = 1, ILF(1000) = 550/425 = 22/17.
    Without ALAE: 180/375 = 0.48, 1, 500/375 = 4/3 — the expense pulls both towards 1."""
    dist = stats.uniform(0, 1000)
    curve = increased_limits(dist, [1000, 200, 500], base=500, alae=50)
    assert curve["limit"].tolist() == [200, 500, 1000]
    np.testing.assert_allclose(curve["lev"], [180, 375, 500], rtol=1e-10)
    np.testing.assert_allclose(curve["ilf"], [46 / 85, 1, 22 / 17], rtol=1e-10)
    bare = increased_limits(dist, [200, 500, 1000], base=500)
    np.testing.assert_allclose(bare["ilf"], [0.48, 1, 4 / 3], rtol=1e-10)
    np.testing.assert_allclose(bare["lev"], curve["lev"], rtol=0)
    np.testing.assert_allclose(increased_limits(dist, [200, 500, 1000], base=500,
                                                alae=0)["ilf"], bare["ilf"], rtol=0)


@pytest.mark.parametrize("alae", [-1.0, float("nan"), float("inf")])
def test_increased_limits_refuses_a_bad_alae(alae):
    with pytest.raises(ValueError, match="alae must be a finite amount >= 0"):
        increased_limits(stats.uniform(0, 1000), [200], base=500, alae=alae)
