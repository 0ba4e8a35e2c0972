"""Credibility (rating.calibrate.credibility): a published example, hand-worked examples,
invariants and validation.

Published example: Hachemeister (1975), the classic credibility data set (average bodily-injury
claim amounts of five U.S. states over 12 quarters, weighted by claim numbers), as shipped in
the R package actuar (``data(hachemeister)``), whose vignette "Credibility theory features of
actuar" (Dutang, Goulet, Milhaud, Pigeon) fits both the Bühlmann and the Bühlmann–Straub model
with ``cm()`` and prints the results to 4 significant digits. Full-precision figures are those
of actuar 3.3-2 ``cm()`` (its default "unbiased" estimator, credibility-weighted collective
premium: the estimators this module implements), run when these tests were written.

Every other expected value is derived by hand, in exact fractions, in the test's docstring.
"""

from fractions import Fraction as F

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rating.calibrate.credibility import BuhlmannCredibility, BuhlmannStraub, NotFittedError
from rating.errors import ProfileError

# Hachemeister (1975) as in actuar's ``hachemeister`` matrix: rows are states 1-5, columns
# quarters 1-12 (July 1970 - June 1973). Ratios: average claim amount (USD); weights: claims.
HACHEMEISTER_RATIO = np.array([
    [1738, 1642, 1794, 2051, 2079, 2234, 2032, 2035, 2115, 2262, 2267, 2517],
    [1364, 1408, 1597, 1444, 1342, 1675, 1470, 1448, 1464, 1831, 1612, 1471],
    [1759, 1685, 1479, 1763, 1674, 2103, 1502, 1622, 1828, 2155, 2233, 2059],
    [1223, 1146, 1010, 1257, 1426, 1532, 1953, 1123, 1343, 1243, 1762, 1306],
    [1456, 1499, 1609, 1741, 1482, 1572, 1606, 1735, 1607, 1573, 1613, 1690],
], dtype=float)
HACHEMEISTER_WEIGHT = np.array([
    [7861, 9251, 8706, 8575, 7917, 8263, 9456, 8003, 7365, 7832, 7849, 9077],
    [1622, 1742, 1523, 1515, 1622, 1602, 1964, 1515, 1527, 1748, 1654, 1861],
    [1147, 1357, 1329, 1204, 998, 1077, 1277, 1218, 896, 1003, 1108, 1121],
    [407, 396, 348, 341, 315, 328, 352, 331, 287, 384, 321, 342],
    [2902, 3172, 3046, 3068, 2693, 2910, 3275, 2697, 2663, 3017, 3242, 3425],
], dtype=float)

# The hand-worked Bühlmann–Straub example: sector, year, exposure m_ij, loss ratio X_ij.
HAND = pd.DataFrame({
    "sector": ["A", "A", "B", "B", "B", "C", "C", "C"],
    "year": [2021, 2022, 2021, 2022, 2023, 2021, 2022, 2023],
    "exposure": [1.0, 4.0, 3.0, 3.0, 3.0, 3.0, 1.0, 3.0],
    "loss_ratio": [5.0, 0.0, 3.0, 1.0, 11.0, 10.0, 6.0, 9.0],
})
HAND_ARGS = {"group": "sector", "period": "year", "exposure": "exposure",
             "loss_ratio": "loss_ratio"}

BUHLMANN_ATTRIBUTES = ["a_truncated_", "epv_", "k_", "mean_", "n_periods_", "premium_",
                       "risk_mean_", "vhm_", "z_"]
STRAUB_ATTRIBUTES = sorted(BUHLMANN_ATTRIBUTES + ["exposure_"])


def long_frame(ratio: np.ndarray, weight: np.ndarray) -> pd.DataFrame:
    """Wide risks x periods arrays as the long table BuhlmannStraub reads."""
    r, n = ratio.shape
    return pd.DataFrame({"state": np.repeat(np.arange(1, r + 1), n),
                         "quarter": np.tile(np.arange(1, n + 1), r),
                         "claims": weight.ravel(), "average": ratio.ravel()})


LONG_ARGS = {"group": "state", "period": "quarter", "exposure": "claims",
             "loss_ratio": "average"}


def approx(values, rel=1e-12):
    return pytest.approx([float(v) for v in values], rel=rel)


def public_attributes(estimator) -> list[str]:
    return sorted(k for k in vars(estimator) if k.endswith("_") and not k.startswith("_"))


# --- published example ---------------------------------------------------------------------


def test_hachemeister_buhlmann_straub_matches_actuar():
    """Hachemeister (1975) data, Bühlmann–Straub with claim numbers as weights.

    Source: actuar vignette "Credibility theory features of actuar" (Dutang, Goulet, Milhaud,
    Pigeon), Bühlmann–Straub fit ``cm(~state, hachemeister, ratios = ratio.1:ratio.12,
    weights = weight.1:weight.12)``, printed to 4 digits: collective premium 1684, between
    state variance 89639, within state variance 139120026, credibility premiums
    2055 1524 1793 1443 1603. Full precision (actuar 3.3-2): collective premium
    1683.71343705, a = 89638.7262328, v = 139120025.9252855, weights m_i = 100155, 19895,
    13735, 4152, 36110, Z = 0.984740401933, 0.927635217975, 0.898475355207, 0.727909209401,
    0.958791149399.

    The balance property follows from the credibility-weighted collective premium:
    Σ m_i P_i = Σ m_i X̄_i = Σ_ij m_ij X_ij (total claim cost).
    """
    fit = BuhlmannStraub(**LONG_ARGS).fit(long_frame(HACHEMEISTER_RATIO,
                                                     HACHEMEISTER_WEIGHT))
    # as printed in the vignette
    assert round(fit.mean_) == 1684
    assert round(fit.vhm_) == 89639
    assert round(fit.epv_) == 139120026
    assert fit.premium_.round().tolist() == [2055, 1524, 1793, 1443, 1603]
    # to full precision
    assert fit.mean_ == pytest.approx(1683.71343705, rel=1e-10)
    assert fit.vhm_ == pytest.approx(89638.7262328, rel=1e-10)
    assert fit.epv_ == pytest.approx(139120025.9252855, rel=1e-12)
    assert fit.exposure_.tolist() == [100155, 19895, 13735, 4152, 36110]
    assert fit.risk_mean_.tolist() == approx([2060.92139184264, 1511.22412666499,
                                              1805.84273753185, 1352.97591522158,
                                              1599.82860703406], rel=1e-13)
    assert fit.z_.tolist() == approx([0.984740401933, 0.927635217975, 0.898475355207,
                                      0.727909209401, 0.958791149399], rel=1e-11)
    assert fit.premium_.tolist() == approx([2055.16535006, 1523.70627801, 1793.44360368,
                                            1442.96654902, 1603.28540446], rel=1e-11)
    assert not fit.a_truncated_
    assert fit.k_ == pytest.approx(fit.epv_ / fit.vhm_)
    # balance: the credibility premiums on the past claim numbers reproduce the total cost
    total = (HACHEMEISTER_RATIO * HACHEMEISTER_WEIGHT).sum()
    assert float(fit.exposure_ @ fit.premium_) == pytest.approx(total, rel=1e-13)
    # more claims, more credibility
    order = np.argsort(fit.exposure_.to_numpy())
    assert np.all(np.diff(fit.z_.to_numpy()[order]) > 0)


def test_hachemeister_buhlmann_matches_actuar():
    """Hachemeister (1975) data, Bühlmann model (claim numbers ignored, equal weights).

    Source: actuar vignette "Credibility theory features of actuar", Bühlmann fit
    ``cm(~state, hachemeister, ratios = ratio.1:ratio.12)``, printed to 4 digits: collective
    premium 1671, between state variance 72310, within state variance 46040. Full precision
    (actuar 3.3-2): μ = 1671.01666666667, a = 72310.0246212122, v = 46040.4712121212,
    Z = 0.949614305087673 for every state, premiums 2044.04099261019, 1518.58774379501,
    1814.23433077897, 1375.98732898101, 1602.23293716815.

    Check of Z: k = v/a = 0.636707..., Z = 12 / (12 + k) = 0.949614...
    """
    fit = BuhlmannCredibility().fit(HACHEMEISTER_RATIO)
    assert round(fit.mean_) == 1671
    assert round(fit.vhm_) == 72310
    assert round(fit.epv_) == 46040
    assert fit.mean_ == pytest.approx(1671.01666666667, rel=1e-13)
    assert fit.vhm_ == pytest.approx(72310.0246212122, rel=1e-12)
    assert fit.epv_ == pytest.approx(46040.4712121212, rel=1e-12)
    assert fit.n_periods_ == 12
    assert fit.z_.tolist() == approx([0.949614305087673] * 5, rel=1e-12)
    assert fit.premium_.tolist() == approx([2044.04099261019, 1518.58774379501,
                                            1814.23433077897, 1375.98732898101,
                                            1602.23293716815], rel=1e-12)


# --- hand-worked examples ------------------------------------------------------------------


def test_buhlmann_three_risks_three_years_by_hand():
    """Three risks, three years, worked to fractions.

    Data and risk means:   A: 3, 5, 7  -> X̄_A = 5
                           B: 6, 12, 9 -> X̄_B = 9
                           C: 1, 2, 6  -> X̄_C = 3
    Sample variances: A (4+0+4)/2 = 4, B (9+9+0)/2 = 9, C (4+1+9)/2 = 7.
    v̂ = (4 + 9 + 7)/3 = 20/3.
    μ̂ = (5 + 9 + 3)/3 = 17/3.
    Variance of the means: deviations -2/3, 10/3, -8/3; squares 4/9 + 100/9 + 64/9 = 56/3;
    divided by r - 1 = 2: 28/3.
    â = 28/3 - v̂/n = 28/3 - 20/9 = 64/9.
    k = v̂/â = (20/3)/(64/9) = 15/16.
    Z = 3/(3 + 15/16) = 48/63 = 16/21.
    P_i = 16/21 X̄_i + 5/21 · 17/3 = 16/21 X̄_i + 85/63:
        P_A = 240/63 + 85/63 = 325/63,  P_B = 432/63 + 85/63 = 517/63,
        P_C = 144/63 + 85/63 = 229/63.
    Balance: (325 + 517 + 229)/63 = 1071/63 = 17 = 3 · 17/3.
    """
    losses = pd.DataFrame({2021: [3, 6, 1], 2022: [5, 12, 2], 2023: [7, 9, 6]},
                          index=pd.Index(["A", "B", "C"], name="sector"))
    fit = BuhlmannCredibility().fit(losses)
    assert fit.mean_ == pytest.approx(float(F(17, 3)), rel=1e-15)
    assert fit.epv_ == pytest.approx(float(F(20, 3)), rel=1e-15)
    assert fit.vhm_ == pytest.approx(float(F(64, 9)), rel=1e-14)
    assert fit.k_ == pytest.approx(float(F(15, 16)), rel=1e-14)
    assert not fit.a_truncated_
    assert fit.z_.tolist() == approx([F(16, 21)] * 3)
    assert fit.premium_.tolist() == approx([F(325, 63), F(517, 63), F(229, 63)])
    assert fit.premium_.sum() == pytest.approx(17.0, rel=1e-15)
    table = fit.summary()
    assert list(table.columns) == ["n_periods", "mean", "z", "premium"]
    assert list(table.index) == ["A", "B", "C"] and table.index.name == "sector"
    assert table["n_periods"].tolist() == [3, 3, 3]
    assert table["mean"].tolist() == [5.0, 9.0, 3.0]


def test_buhlmann_straub_unequal_exposures_by_hand():
    """Three sectors with unequal exposures and periods (the table HAND), worked to fractions.

    Sector A: m = 1, 4;    X = 5, 0      -> m_A = 5, X̄_A = (5 + 0)/5 = 1
              Σ m (X - X̄_A)² = 1·16 + 4·1 = 20
    Sector B: m = 3, 3, 3; X = 3, 1, 11  -> m_B = 9, X̄_B = (9 + 3 + 33)/9 = 5
              Σ m (X - X̄_B)² = 3·4 + 3·16 + 3·36 = 168
    Sector C: m = 3, 1, 3; X = 10, 6, 9  -> m_C = 7, X̄_C = (30 + 6 + 27)/7 = 9
              Σ m (X - X̄_C)² = 3·1 + 1·9 + 3·0 = 12
    v̂ = (20 + 168 + 12) / ((2-1) + (3-1) + (3-1)) = 200/5 = 40.
    m = 21, X̄ = (5 + 45 + 63)/21 = 113/21.
    Σ m_i (X̄_i - X̄)² = Σ m_i X̄_i² - m X̄² = (5 + 225 + 567) - 113²/21 = 3968/21.
    â = (3968/21 - 40·(3-1)) / (21 - (25 + 81 + 49)/21) = (2288/21) / (286/21) = 8.
    k = 40/8 = 5;  Z_A = 5/10 = 1/2,  Z_B = 9/14,  Z_C = 7/12.
    μ̂ = Σ Z X̄ / Σ Z = (1/2 + 45/14 + 21/4) / (1/2 + 9/14 + 7/12) = (251/28)/(145/84)
       = 753/145.
    P_A = 1/2 · 1 + 1/2 · 753/145 = 449/145
    P_B = 9/14 · 5 + 5/14 · 753/145 = 147/29
    P_C = 7/12 · 9 + 5/12 · 753/145 = 215/29
    Balance: 5·449/145 + 9·147/29 + 7·215/29 = (449 + 1323 + 1505)/29 = 3277/29 = 113
    = the total loss Σ m_ij X_ij = 5 + 45 + 63.
    """
    fit = BuhlmannStraub(**HAND_ARGS).fit(HAND)
    assert fit.epv_ == pytest.approx(40.0, rel=1e-14)
    assert fit.vhm_ == pytest.approx(8.0, rel=1e-14)
    assert fit.k_ == pytest.approx(5.0, rel=1e-14)
    assert fit.exposure_.tolist() == [5.0, 9.0, 7.0]
    assert fit.n_periods_.tolist() == [2, 3, 3]
    assert fit.risk_mean_.tolist() == approx([1, 5, 9])
    assert fit.z_.tolist() == approx([F(1, 2), F(9, 14), F(7, 12)])
    assert fit.mean_ == pytest.approx(float(F(753, 145)), rel=1e-14)
    assert fit.premium_.tolist() == approx([F(449, 145), F(147, 29), F(215, 29)])
    assert float(fit.exposure_ @ fit.premium_) == pytest.approx(113.0, rel=1e-14)
    table = fit.summary()
    assert list(table.columns) == ["n_periods", "exposure", "mean", "z", "premium"]
    assert list(table.index) == ["A", "B", "C"] and table.index.name == "sector"


def test_buhlmann_straub_known_mu_by_hand():
    """The table HAND with a known collective mean μ = 6.

    v̂ = 40 as before (it does not involve μ).
    â = [Σ m_i (X̄_i - μ)² - r v̂] / m = [5·25 + 9·1 + 7·9 - 3·40] / 21 = 77/21 = 11/3
    (unbiased: E[m_i (X̄_i - μ)²] = m_i a + v).
    k = 40/(11/3) = 120/11;  Z_A = 5/(5 + 120/11) = 55/175 = 11/35,
    Z_B = 99/219 = 33/73,  Z_C = 77/197.
    P_A = 11/35 · 1 + 24/35 · 6 = 155/35 = 31/7
    P_B = 33/73 · 5 + 40/73 · 6 = 405/73
    P_C = 77/197 · 9 + 120/197 · 6 = 1413/197
    Each premium lies between the sector's own mean and μ = 6.
    """
    fit = BuhlmannStraub(mu=6, **HAND_ARGS).fit(HAND)
    assert fit.mean_ == 6.0
    assert fit.epv_ == pytest.approx(40.0, rel=1e-14)
    assert fit.vhm_ == pytest.approx(float(F(11, 3)), rel=1e-14)
    assert fit.k_ == pytest.approx(float(F(120, 11)), rel=1e-14)
    assert fit.z_.tolist() == approx([F(11, 35), F(33, 73), F(77, 197)])
    assert fit.premium_.tolist() == approx([F(31, 7), F(405, 73), F(1413, 197)])
    own = fit.risk_mean_.to_numpy()
    assert np.all(np.abs(fit.premium_.to_numpy() - 6) <= np.abs(own - 6))


def test_single_risk_with_known_mu_by_hand():
    """One risk, two periods of exposure 2 each, losses per unit 4 and 8; known μ = 2.

    X̄ = (2·4 + 2·8)/4 = 6;  v̂ = (2·(4-6)² + 2·(8-6)²)/(2-1) = 16.
    â = (m (X̄ - μ)² - r v̂)/m = (4·16 - 16)/4 = 12;  k = 16/12 = 4/3.
    Z = 4/(4 + 4/3) = 3/4;  P = 3/4 · 6 + 1/4 · 2 = 5.

    The Bühlmann model (equal weights) on the one row [4, 8] gives the same: v̂ = 8 (the
    sample variance), â = (2·16 - 8)/2 = 12, k = 2/3, Z = 2/(2 + 2/3) = 3/4, P = 5.
    """
    one = pd.DataFrame({"sector": ["A", "A"], "year": [1, 2], "exposure": [2.0, 2.0],
                        "loss_ratio": [4.0, 8.0]})
    fit = BuhlmannStraub(mu=2, **HAND_ARGS).fit(one)
    assert (fit.epv_, fit.vhm_) == (16.0, 12.0)
    assert fit.z_.tolist() == [0.75] and fit.premium_.tolist() == [5.0]
    row = BuhlmannCredibility(mu=2).fit(np.array([[4.0, 8.0]]))
    assert (row.epv_, row.vhm_) == (8.0, 12.0)
    assert row.z_.tolist() == [0.75] and row.premium_.tolist() == [5.0]


def test_negative_vhm_is_truncated_buhlmann():
    """Two risks whose means differ less than the noise explains.

    A: 0, 10 (mean 5, sample variance 50);  B: 4, 8 (mean 6, sample variance 8).
    v̂ = (50 + 8)/2 = 29;  μ̂ = 5.5;  variance of the means ((-1/2)² + (1/2)²)/1 = 1/2.
    Unbiased â = 1/2 - 29/2 = -14 < 0: truncated to 0, so Z = 0, k = ∞, every premium 5.5.
    """
    fit = BuhlmannCredibility().fit(np.array([[0.0, 10.0], [4.0, 8.0]]))
    assert fit.a_truncated_ and fit.vhm_ == 0.0 and fit.k_ == np.inf
    assert fit.epv_ == 29.0
    assert fit.z_.tolist() == [0.0, 0.0]
    assert fit.premium_.tolist() == [5.5, 5.5] and fit.mean_ == 5.5


def test_negative_vhm_is_truncated_buhlmann_straub():
    """Unequal exposures, â < 0: every risk is charged the exposure-weighted mean.

    A: m = 1, 1; X = 0, 10  -> m_A = 2, X̄_A = 5, Σ m (X - X̄_A)² = 25 + 25 = 50
    B: m = 2, 2; X = 4, 8   -> m_B = 4, X̄_B = 6, Σ m (X - X̄_B)² = 8 + 8 = 16
    v̂ = 66/2 = 33;  X̄ = (10 + 24)/6 = 17/3.
    Σ m_i (X̄_i - X̄)² = 2·(2/3)² + 4·(1/3)² = 4/3;  4/3 - 33·1 < 0: â = 0, Z = 0.
    μ̂ = X̄ = 17/3 (the limit of Σ Z X̄ / Σ Z as â -> 0), every premium 17/3, and the balance
    still holds: 6 · 17/3 = 34 = 10 + 24.
    """
    data = pd.DataFrame({"sector": ["A", "A", "B", "B"], "year": [1, 2, 1, 2],
                         "exposure": [1.0, 1.0, 2.0, 2.0], "loss_ratio": [0.0, 10.0, 4.0, 8.0]})
    fit = BuhlmannStraub(**HAND_ARGS).fit(data)
    assert fit.a_truncated_ and fit.vhm_ == 0.0 and fit.k_ == np.inf
    assert fit.epv_ == 33.0
    assert fit.z_.tolist() == [0.0, 0.0]
    assert fit.mean_ == pytest.approx(17 / 3, rel=1e-15)
    assert fit.premium_.tolist() == approx([F(17, 3)] * 2)
    assert float(fit.exposure_ @ fit.premium_) == pytest.approx(34.0, rel=1e-15)


# --- invariants ------------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [1.0, 7.0])
def test_equal_exposures_reduce_to_buhlmann(weight):
    """With every m_ij = w the Bühlmann–Straub estimators are Bühlmann's: v̂ scales by w, â is
    unchanged, so k scales by w and Z_i = n w / (n w + k w) = n/(n + k); μ̂ is the plain mean
    (all Z equal). Checked on the Hachemeister ratios."""
    bs = BuhlmannStraub(**LONG_ARGS).fit(
        long_frame(HACHEMEISTER_RATIO, np.full(HACHEMEISTER_RATIO.shape, weight)))
    b = BuhlmannCredibility().fit(HACHEMEISTER_RATIO)
    assert bs.epv_ == pytest.approx(weight * b.epv_, rel=1e-12)
    assert bs.vhm_ == pytest.approx(b.vhm_, rel=1e-12)
    assert bs.mean_ == pytest.approx(b.mean_, rel=1e-13)
    assert bs.z_.tolist() == approx(b.z_.tolist())
    assert bs.premium_.tolist() == approx(b.premium_.tolist())


def test_loss_or_loss_ratio_give_the_same_fit():
    """``loss=`` (total yuan) divided by exposure is the loss ratio."""
    data = HAND.assign(loss=HAND["loss_ratio"] * HAND["exposure"])
    by_ratio = BuhlmannStraub(**HAND_ARGS).fit(HAND)
    by_loss = BuhlmannStraub(group="sector", period="year", exposure="exposure",
                             loss="loss").fit(data)
    pd.testing.assert_frame_equal(by_loss.summary(), by_ratio.summary())
    assert (by_loss.epv_, by_loss.vhm_, by_loss.mean_) == pytest.approx(
        (by_ratio.epv_, by_ratio.vhm_, by_ratio.mean_), rel=1e-14)


def test_row_order_does_not_matter():
    """Shuffling the long table's rows changes nothing: risks come out sorted by label."""
    data = long_frame(HACHEMEISTER_RATIO, HACHEMEISTER_WEIGHT)
    shuffled = data.sample(frac=1.0, random_state=3)
    a = BuhlmannStraub(**LONG_ARGS).fit(data).summary()
    b = BuhlmannStraub(**LONG_ARGS).fit(shuffled).summary()
    pd.testing.assert_frame_equal(a, b, rtol=1e-13)


def test_single_period_risk_gets_credibility_but_adds_no_process_variance():
    """A sector seen in one year only (D: exposure 2, loss ratio 4) adds nothing to v̂
    (its n_i - 1 = 0 and its squared deviations are 0) but does enter â and gets
    Z_D = m_D / (m_D + k)."""
    extra = pd.DataFrame({"sector": ["D"], "year": [2023], "exposure": [2.0],
                          "loss_ratio": [4.0]})
    fit = BuhlmannStraub(**HAND_ARGS).fit(pd.concat([HAND, extra], ignore_index=True))
    assert fit.epv_ == pytest.approx(40.0, rel=1e-14)
    assert fit.n_periods_["D"] == 1
    assert fit.z_["D"] == pytest.approx(2 / (2 + fit.k_), rel=1e-14)
    assert 0 < fit.z_["D"] < fit.z_["A"]  # the least exposure, the least credibility


@st.composite
def portfolios(draw):
    """Long tables of 2-6 risks with 1-5 periods each (at least one risk with two)."""
    r = draw(st.integers(2, 6))
    periods = draw(st.lists(st.integers(1, 5), min_size=r, max_size=r))
    if max(periods) < 2:
        periods[0] = 2
    n = sum(periods)
    exposure = draw(st.lists(st.floats(0.5, 1000.0), min_size=n, max_size=n))
    ratio = draw(st.lists(st.floats(0.0, 5.0), min_size=n, max_size=n))
    return pd.DataFrame({
        "sector": np.repeat([f"S{i}" for i in range(r)], periods),
        "year": np.concatenate([np.arange(p) for p in periods]),
        "exposure": exposure, "loss_ratio": ratio})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=portfolios(), mu=st.one_of(st.none(), st.floats(0.0, 5.0)))
def test_properties(data, mu):
    """Z in [0, 1] and increasing with exposure; each premium between the risk's own mean and
    the collective mean (P - μ = Z (X̄ - μ)); with μ estimated the premiums balance:
    Σ m_i P_i = Σ m_ij X_ij (m_i (1 - Z_i) = k Z_i makes Σ m_i (1 - Z_i) μ̂ = k Σ Z_i X̄_i)."""
    fit = BuhlmannStraub(mu=mu, **HAND_ARGS).fit(data)
    z, m = fit.z_.to_numpy(), fit.exposure_.to_numpy()
    assert np.all((z >= 0) & (z <= 1))
    assert np.all(np.diff(z[np.argsort(m, kind="stable")]) >= -1e-12)
    own, premium, mean = fit.risk_mean_.to_numpy(), fit.premium_.to_numpy(), fit.mean_
    tol = 1e-9 * (1 + np.abs(own) + abs(mean))
    assert np.all(premium >= np.minimum(own, mean) - tol)
    assert np.all(premium <= np.maximum(own, mean) + tol)
    assert fit.vhm_ >= 0 and fit.epv_ >= 0
    assert fit.a_truncated_ == (fit.vhm_ == 0)
    if mu is None:
        total = float((data["exposure"] * data["loss_ratio"]).sum())
        assert float(m @ premium) == pytest.approx(total, rel=1e-9, abs=1e-9)
    else:
        assert mean == mu


# --- the estimator protocol ----------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the fit keywords of old
def test_fit_returns_self_and_public_attributes_are_pinned():
    b = BuhlmannCredibility()
    assert public_attributes(b) == []
    assert b.fit(np.array([[3, 5, 7], [6, 12, 9], [1, 2, 6]])) is b
    assert public_attributes(b) == BUHLMANN_ATTRIBUTES
    s = BuhlmannStraub(mu=None)
    assert public_attributes(s) == []
    assert s.fit(HAND, **HAND_ARGS) is s
    assert public_attributes(s) == STRAUB_ATTRIBUTES
    assert repr(s) == "BuhlmannStraub(mu=None)" and repr(BuhlmannCredibility(mu=2.5)) == \
        "BuhlmannCredibility(mu=2.5)"


def test_summary_before_fit_is_an_error():
    with pytest.raises(NotFittedError, match="not fitted"):
        BuhlmannStraub().summary()
    with pytest.raises(AttributeError):  # a NotFittedError is an AttributeError too
        BuhlmannCredibility().summary()


# --- validation ------------------------------------------------------------------------------


def field_of(excinfo) -> str:
    return excinfo.value.field


@pytest.mark.parametrize("change, field, message", [
    (lambda d: d.drop(columns="exposure"), "exposure", "no such column"),
    (lambda d: d.assign(exposure=[1.0, 0.0, 3, 3, 3, 3, 1, 3]), "exposure", "must be positive"),
    (lambda d: d.assign(exposure=[1.0, np.nan, 3, 3, 3, 3, 1, 3]), "exposure", "is required"),
    (lambda d: d.assign(loss_ratio=[5.0, -1, 3, 1, 11, 10, 6, 9]), "loss_ratio",
     "must not be negative"),
    (lambda d: d.assign(loss_ratio=[5.0, 0, 3, 1, 11, 10, 6, "x"]), "loss_ratio",
     "is not a number"),
    (lambda d: d.assign(sector=["A", None, "B", "B", "B", "C", "C", "C"]), "sector",
     "is required"),
    (lambda d: d.assign(year=[2021, 2021, 2021, 2022, 2023, 2021, 2022, 2023]), "year",
     "repeats a"),
    (lambda d: d.drop_duplicates("sector"), "year", "single period"),
    (lambda d: d[d["sector"] == "B"], "sector", "only one risk"),
    (lambda d: d.iloc[:0], "data", "no rows"),
])
def test_bad_long_data_names_the_column(change, field, message):
    with pytest.raises(ProfileError, match=message) as excinfo:
        BuhlmannStraub(**HAND_ARGS).fit(change(HAND))
    assert field_of(excinfo) == field
    assert isinstance(excinfo.value, ValueError)


def test_bad_value_names_the_row():
    data = HAND.assign(exposure=[1.0, 4, 3, 3, 3, -3, 1, 3])
    with pytest.raises(ProfileError) as excinfo:
        BuhlmannStraub(**HAND_ARGS).fit(data)
    assert (excinfo.value.field, excinfo.value.row) == ("exposure", 5)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the fit keywords of old
def test_loss_and_loss_ratio_are_exclusive():
    with pytest.raises(TypeError, match="exactly one"):
        BuhlmannStraub().fit(HAND, group="sector", period="year", exposure="exposure")
    with pytest.raises(TypeError, match="exactly one"):
        BuhlmannStraub().fit(HAND, group="sector", period="year", exposure="exposure",
                             loss_ratio="loss_ratio", loss="loss_ratio")
    with pytest.raises(ProfileError, match="expected a DataFrame"):
        BuhlmannStraub().fit(HAND.to_numpy(), **HAND_ARGS)


@pytest.mark.parametrize("losses, field, message", [
    (pd.DataFrame({2021: [3.0, 6.0], 2022: [5.0, np.nan]}), "2022", "is missing"),
    (pd.DataFrame({2021: [3.0, 6.0], 2022: [5.0, -1.0]}), "2022", "must not be negative"),
    (np.array([[3.0], [6.0]]), "losses", "at least two years"),
    (np.array([[3.0, 5.0]]), "losses", "at least two risks"),
    (np.array([3.0, 5.0]), "losses", "2-D"),
    (pd.DataFrame({1: [3.0, 6.0], 2: [5.0, 7.0]}, index=["A", "A"]), "losses", "unique"),
])
def test_bad_wide_data_names_the_column(losses, field, message):
    with pytest.raises(ProfileError, match=message) as excinfo:
        BuhlmannCredibility().fit(losses)
    assert field_of(excinfo) == field


def test_bad_mu():
    with pytest.raises(ProfileError, match="finite") as excinfo:
        BuhlmannStraub(mu=float("nan"), **HAND_ARGS).fit(HAND)
    assert field_of(excinfo) == "mu"
