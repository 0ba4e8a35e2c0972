"""Experience data and frequency/severity models for calibration (issue 5, sections 1, 2, 4).

Calibration on synthetic data must recover the generator's true relativities within sampling
error; the fits on cells must equal direct row-by-row statsmodels fits.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import rating
from rating.calibrate.experience import (
    ExperienceError,
    claims_with,
    incurred,
    validate_experience,
    with_claims,
)
from rating.calibrate.glm import FrequencyGLM, SeverityGLM, compare_severity, fit_severity
from rating.synthetic import synthetic_experience, true_relativities

TRUTH = true_relativities()
# Three times the default frequencies, so that even the rarest rating unit (0.2% of the
# portfolio) has claims, and the two rarest records pooled with one true relativity (3.0).
RICH = {"rating_unit": (3 * TRUTH["rating_unit"]).to_dict(),
        "worst_accident_grade": {"major": 3.0, "especially_major": 3.0}}
FACTORS = ["rating_unit", "scale", "enterprise_type", "standardisation_grade", "record"]


def _pool_record(frame):
    """``record``: last year's worst accident grade, major and especially major pooled."""
    out = frame.copy()
    out["record"] = out["worst_accident_grade"].astype(str).replace(
        {"especially_major": "major"})
    return out


@pytest.fixture(scope="module")
def rich():
    """~76,000 policy-years, ~16,000 claims."""
    policy_years, claims = synthetic_experience(30_000, 3, seed=0, relativities=RICH)
    return policy_years, claims, _pool_record(with_claims(policy_years, claims))


@pytest.fixture(scope="module")
def small(rich):
    """The first 5,000 policies' years (~13,000), for the row-by-row statsmodels fits."""
    policy_years, claims, data = rich
    first = policy_years["policy_id"] <= "P0005000"
    claims = claims[claims["policy_id"] <= "P0005000"]
    return policy_years[first], claims, data[first]


@pytest.fixture(scope="module")
def tiny():
    return synthetic_experience(200, 2, seed=2)


# --- the generator -----------------------------------------------------------------------


def test_same_seed_same_data_other_seed_other_data(tiny):
    again = synthetic_experience(200, 2, seed=2)
    pd.testing.assert_frame_equal(again[0], tiny[0])
    pd.testing.assert_frame_equal(again[1], tiny[1])
    other = synthetic_experience(200, 2, seed=3)
    assert not other[1].equals(tiny[1])


def test_synthetic_experience_is_valid_and_follows_the_schema(rich):
    policy_years, claims, _ = rich
    book = rating.find_book("CN-FJ-XM", pd.Timestamp("2024-01-01").date())
    assert validate_experience(policy_years, claims, book=book) is None
    assert not policy_years.duplicated(["policy_id", "year"]).any()
    assert set(policy_years["year"]) == {2023, 2024, 2025}
    assert (policy_years["exposure"] > 0).all() and (policy_years["earned_premium"] > 0).all()
    assert (policy_years["rating_unit"].astype(str)
            == policy_years["sector"].astype(str) + "." + policy_years["subsector"].astype(str)
            ).all()
    for column in ("claim_id", "accident_date", "accident_grade", "paid_death",
                   "paid_disability", "paid_medical", "paid_other", "reserved", "deaths",
                   "disabled", "injured"):
        assert column in claims.columns
    assert claims["claim_id"].is_unique
    victims = claims[["deaths", "disabled", "injured"]].sum(axis=1)
    assert (victims >= 1).all()
    # open claims are concentrated in the latest year
    open_share = (claims["reserved"] > 0).groupby(claims["year"]).mean()
    assert open_share[2025] > open_share[2024] > open_share[2023]


def test_synthetic_claims_respect_the_limits(rich):
    policy_years, claims, _ = rich
    limit = claims_with(policy_years, claims, ["per_person_limit"])["per_person_limit"]
    cent = 0.02
    # each death and disability is capped at the per-person limit
    assert (claims["paid_death"] <= claims["deaths"] * limit + cent).all()
    assert (claims["paid_disability"] <= claims["disabled"] * limit + cent).all()
    # the accident's total at the per-accident limit (10 x the per-person limit in Xiamen)
    total = incurred(claims)
    assert (total <= 10 * limit + 5 * cent).all()
    assert (total > 0).all()
    # heavy tail: the largest claims dwarf the median
    assert total.quantile(0.999) > 20 * total.median()


def test_true_relativities_overrides_and_errors():
    rel = true_relativities({"scale": {"micro": 2.0}, "product": {"toxic": 1.5}})
    assert rel["scale"]["micro"] == 2.0 and rel["scale"]["small"] == TRUTH["scale"]["small"]
    assert rel["product"]["toxic"] == 1.5 and rel["product"]["other"] == 1.0
    assert set(TRUTH) >= {"rating_unit", "scale", "standardisation_grade",
                          "worst_accident_grade"}
    with pytest.raises(ValueError, match="not a level of scale"):
        true_relativities({"scale": {"huge": 2.0}})
    with pytest.raises(ValueError, match="not a level column"):
        true_relativities({"colour": {"red": 2.0}})
    with pytest.raises(ValueError, match="positive"):
        true_relativities({"scale": {"micro": -1.0}})


# --- frequency ---------------------------------------------------------------------------


def _truth_for(model):
    """True relativities against the model's base levels, aligned with relativities_."""
    truth = true_relativities(RICH)
    truth["record"] = truth.pop("worst_accident_grade").drop("especially_major")
    rel = model.relativities_
    return np.array([truth[f][lvl] / truth[f][model.base_levels_[f]]
                     for f, lvl in zip(rel["factor"], rel["level"])])


def test_frequency_glm_recovers_the_true_relativities(rich):
    _, _, data = rich
    # base levels where the truth is 1: rows a factor does not apply to (blank) have true
    # multiplier 1 and share the base level's coefficient, so the two must coincide
    base = {"scale": "medium", "enterprise_type": "general",
            "standardisation_grade": "none", "record": "none"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every level has claims: no estimability warning
        model = FrequencyGLM(FACTORS, base_levels=base).fit(data)
    rel = model.relativities_
    true = _truth_for(model)
    free = ~rel["base"].to_numpy()
    z = (np.log(rel["relativity"]) - np.log(true))[free] / rel["std_error"][free]
    assert np.abs(z).max() < 3, rel.assign(true=true, z=z)[free].to_string()
    # jointly: the Wald statistic of (fitted - true) is a plausible chi-square
    diff = model.coef_.to_numpy() - np.log(true[free])
    cov = np.asarray(model.result_.cov_params())[1:, 1:]
    assert stats.chi2.sf(diff @ np.linalg.solve(cov, diff), diff.size) > 0.001
    # the base frequency per unit is the base rating unit's true frequency
    unit = model.base_levels_["rating_unit"]
    assert abs(model.intercept_ - np.log(RICH["rating_unit"][unit])) < \
        3 * float(model.result_.bse[0])
    assert 0.1 <= rel["lower"][free].div(rel["relativity"][free]).max() < 1
    assert model.n_obs_ == len(data) and model.n_cells_ < len(data) / 20


def test_default_base_level_is_the_level_with_most_exposure(rich):
    _, _, data = rich
    model = FrequencyGLM(FACTORS).fit(data)
    for factor in FACTORS:
        exposure = data.groupby(data[factor].astype(object), observed=True)["exposure"].sum()
        assert model.base_levels_[factor] == exposure.idxmax()
    rel = model.relativities_
    assert rel.groupby("factor")["base"].sum().eq(1).all()
    base_rows = rel[rel["base"]]
    assert (base_rows["relativity"] == 1).all() and (base_rows["std_error"] == 0).all()
    # relativities against another base are ratios of these
    other = FrequencyGLM(FACTORS, base_levels={"scale": "micro"}).fit(data)
    scale = rel[rel["factor"] == "scale"].set_index("level")["relativity"]
    scale_other = other.relativities_.query("factor == 'scale'").set_index("level")
    np.testing.assert_allclose(scale_other["relativity"], scale / scale["micro"], rtol=1e-8)
    with pytest.raises(ValueError, match="not a level of scale"):
        FrequencyGLM(["scale"], base_levels={"scale": "huge"}).fit(data)


def _direct_model(data, factors, base_levels, response, family, offset=None):
    """statsmodels on the rows, with pandas' own dummies (blanks take the base level, as in
    the cell models). Returns ``fit(**kwargs) -> (params, bse)`` named ``factor[level]``."""
    dummies = [pd.Series(1.0, index=data.index, name="intercept")]
    for factor in factors:
        base = base_levels[factor]
        levels = data[factor].astype(object).where(data[factor].notna(), base).astype(str)
        one_hot = pd.get_dummies(levels, dtype=float).drop(columns=base)
        dummies.append(one_hot.add_prefix(f"{factor}[").add_suffix("]"))
    model = sm.GLM(data[response], pd.concat(dummies, axis=1), family=family, offset=offset)

    def fit(**kwargs):
        result = model.fit(**kwargs)
        return result.params, result.bse

    return fit


def test_frequency_on_cells_equals_the_uncompressed_fit(small):
    _, _, data = small
    factors = ["sector", "scale", "standardisation_grade", "enterprise_type"]
    direct = None
    for scale in (None, "X2"):  # Poisson; quasi-Poisson with the rows' Pearson dispersion
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # every level has claims: estimable
            model = FrequencyGLM(factors, scale=scale).fit(data)
        direct = direct or _direct_model(data, factors, model.base_levels_, "claim_count",
                                         sm.families.Poisson(), np.log(data["exposure"]))
        params, bse = direct(scale=scale, tol=1e-12)
        ours = pd.concat([pd.Series({"intercept": model.intercept_}), model.coef_])
        assert set(ours.index) == set(params.index)
        np.testing.assert_allclose(ours[params.index], params, rtol=0, atol=1e-8)
        np.testing.assert_allclose(np.asarray(model.result_.bse), bse[ours.index], rtol=1e-6)
    assert model.n_cells_ < len(data) / 10 and model.scale_ > 1


def test_severity_on_cells_equals_the_uncompressed_fit(small):
    policy_years, claims, _ = small
    factors = ["sector", "scale", "standardisation_grade"]
    data = claims_with(policy_years, claims, factors)
    model = SeverityGLM(factors).fit(data)
    # a Gamma fit with a log link converges linearly: the reference is run to the end
    params, bse = _direct_model(data, factors, model.base_levels_, "incurred",
                                sm.families.Gamma(sm.families.links.Log()))(tol=1e-14)
    ours = pd.concat([pd.Series({"intercept": model.intercept_}), model.coef_])
    np.testing.assert_allclose(ours[params.index], params, rtol=0, atol=1e-8)
    np.testing.assert_allclose(np.asarray(model.result_.bse), bse[ours.index], rtol=1e-6)
    assert model.n_obs_ == len(data)
    # the Gamma score equations with a log link balance amount / expected amount
    np.testing.assert_allclose((data["incurred"] / model.predict(data)).mean(), 1, rtol=1e-8)
    most = data.groupby(data["sector"].astype(object), observed=True).size().idxmax()
    assert model.base_levels_["sector"] == most


def test_predict_expected_counts_and_levels(rich):
    _, _, data = rich
    model = FrequencyGLM(FACTORS).fit(data)
    expected = model.predict(data)
    # a Poisson GLM with an intercept reproduces the total (and every level's total)
    np.testing.assert_allclose(expected.sum(), data["claim_count"].sum(), rtol=1e-8)
    by_scale = pd.Series(expected).groupby(data["scale"].to_numpy()).sum()
    observed = data.groupby("scale", observed=True)["claim_count"].sum()
    np.testing.assert_allclose(by_scale[observed.index], observed, rtol=1e-6)
    # blank: the base level; text levels read like categoricals
    one = data.iloc[[0, 0, 0]].copy()
    one[FACTORS] = one[FACTORS].astype(object)
    one["scale"] = [np.nan, model.base_levels_["scale"], "micro"]
    one["exposure"] = [1.0, 1.0, 2.0]
    p = model.predict(one)
    micro = model.relativities_.query("factor == 'scale' and level == 'micro'")["relativity"]
    assert p[0] == pytest.approx(p[1]) and p[2] == pytest.approx(2 * p[1] * micro.item())
    bad = data.iloc[:3].copy()
    bad["scale"] = bad["scale"].astype(object)
    bad.loc[bad.index[2], "scale"] = "huge"
    with pytest.raises(rating.ProfileError) as err:
        model.predict(bad)
    assert err.value.field == "scale" and err.value.row == bad.index[2]
    with pytest.raises(RuntimeError, match="not fitted"):
        FrequencyGLM(["scale"]).predict(data)


def test_summary_and_warnings(rich):
    _, _, data = rich
    model = FrequencyGLM(["scale", "standardisation_grade"]).fit(data)
    table = model.summary()
    assert table.iloc[0]["factor"] == "intercept"
    assert table.iloc[0]["relativity"] == pytest.approx(model.base_value_)
    assert len(table) == 1 + len(model.relativities_)
    free = ~table["base"] & (table["factor"] != "intercept")
    np.testing.assert_allclose(table.loc[free, "z"],
                               table.loc[free, "coef"] / table.loc[free, "std_error"])
    # a level without claims is not estimable: say so
    sparse = data.copy()
    sparse["flag"] = np.where(np.arange(len(data)) < 5, "rare", "common")
    sparse.loc[sparse["flag"] == "rare", "claim_count"] = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        FrequencyGLM(["flag"]).fit(sparse)
    assert any("flag='rare' has no claims" in str(w.message) for w in caught)
    # nested factors are aliased: a clear error, not a silent pseudo-inverse
    with pytest.raises(ValueError, match="aliased"):
        FrequencyGLM(["sector", "rating_unit"]).fit(data)
    with pytest.raises(rating.ProfileError, match="required by the model"):
        FrequencyGLM(["colour"]).fit(data)


def test_many_policy_years_fit_on_cells():
    """200,000 policy-years over 5 factors compress to their 4,000 cells and the fit
    recovers the true relativities (speed is measured by benchmarks/calibration.py, not
    here: a timed unit test fails on a busy machine)."""
    rng = np.random.default_rng(0)
    n = 200_000
    sizes = (25, 4, 2, 4, 5)
    frame = pd.DataFrame({f"f{j}": pd.Categorical.from_codes(rng.integers(0, k, n),
                                                           [f"l{i}" for i in range(k)])
                          for j, k in enumerate(sizes)})
    log_rel = [rng.normal(0, 0.3, k) for k in sizes]
    eta = sum(r[frame[f"f{j}"].cat.codes.to_numpy()] for j, r in enumerate(log_rel))
    frame["exposure"] = rng.lognormal(0, 1, n)
    frame["claim_count"] = rng.poisson(0.05 * frame["exposure"] * np.exp(eta))
    model = FrequencyGLM(list(frame.columns[:5])).fit(frame)
    assert model.n_cells_ == np.prod(sizes)
    rel = model.relativities_
    true = np.concatenate([np.exp(r - r[lv.index(model.base_levels_[f"f{j}"])])
                           for j, (r, lv) in enumerate(zip(log_rel, model.levels_.values()))])
    free = ~rel["base"].to_numpy()
    z = np.log(rel["relativity"] / true)[free] / rel["std_error"][free]
    assert np.abs(z).max() < 4  # 35 levels


# --- validation ------------------------------------------------------------------------------


def _broken(tiny):
    policy_years, claims = (f.copy() for f in tiny)
    claims["accident_grade"] = claims["accident_grade"].astype(object)
    return policy_years, claims


def test_validation_claim_without_policy_year(tiny):
    policy_years, claims = _broken(tiny)
    claims.loc[2, "policy_id"] = "P9999999"
    with pytest.raises(ExperienceError) as err:
        validate_experience(policy_years, claims)
    assert (err.value.table, err.value.row, err.value.field) == ("claims", 2, "policy_id")
    assert "no policy-year" in str(err.value) and str(err.value).startswith("claims: row 2:")


def test_validation_negative_exposure(tiny):
    policy_years, claims = _broken(tiny)
    policy_years.loc[5, "exposure"] = -1.0
    with pytest.raises(ExperienceError, match=r"policy_years: row 5: exposure: must not be "
                                              "negative"):
        validate_experience(policy_years, claims)


def test_validation_accident_outside_the_policy_year(tiny):
    policy_years, claims = _broken(tiny)
    claims.loc[0, "accident_date"] = pd.Timestamp("2030-01-01")
    with pytest.raises(ExperienceError) as err:
        validate_experience(policy_years, claims)
    assert (err.value.row, err.value.field) == (0, "accident_date")
    assert "outside its policy-year's period" in err.value.reason
    # without period columns, the period is the calendar year
    no_period = policy_years.drop(columns=["inception_date", "expiry_date"])
    claims = tiny[1].copy()
    claims["accident_date"] = pd.to_datetime(claims["year"].astype(str) + "-06-30")
    assert validate_experience(no_period, claims) is None
    claims.loc[1, "accident_date"] = pd.Timestamp(f"{claims.loc[1, 'year'] + 1}-01-01")
    with pytest.raises(ExperienceError, match="row 1: accident_date: is outside"):
        validate_experience(no_period, claims)


def test_validation_duplicate_policy_years(tiny):
    policy_years, claims = _broken(tiny)
    doubled = pd.concat([policy_years, policy_years.iloc[[3]]], ignore_index=True)
    with pytest.raises(ExperienceError) as err:
        validate_experience(doubled, claims)
    assert (err.value.table, err.value.row, err.value.field) == \
        ("policy_years", len(policy_years), "policy_id")
    assert "repeats an earlier row's policy-year" in err.value.reason


def test_validation_unknown_and_inconsistent_grades(tiny):
    policy_years, claims = _broken(tiny)
    claims.loc[1, "accident_grade"] = "catastrophic"
    with pytest.raises(ExperienceError, match=r"claims: row 1: accident_grade: 'catastrophic' "
                                              r"is not valid; use one of: general, larger"):
        validate_experience(policy_years, claims)
    policy_years, claims = _broken(tiny)
    claims.loc[1, ["accident_grade", "deaths"]] = ["general", 4]
    with pytest.raises(ExperienceError, match="at least 'larger'"):
        validate_experience(policy_years, claims)
    policy_years["standardisation_grade"] = policy_years["standardisation_grade"].astype(object)
    policy_years.loc[0, "standardisation_grade"] = "grade_9"
    with pytest.raises(ExperienceError, match="policy_years: row 0: standardisation_grade"):
        validate_experience(policy_years, claims)


def test_validation_collects_every_problem(tiny):
    policy_years, claims = _broken(tiny)
    policy_years.loc[5, "exposure"] = -1.0
    policy_years.loc[6, "year"] = 1800
    claims.loc[2, "policy_id"] = "P9999999"
    claims.loc[3, "paid_medical"] = -5.0
    claims.loc[4, "accident_grade"] = "catastrophic"
    problems = validate_experience(policy_years, claims, errors="collect")
    found = set(zip(problems["table"], problems["row"], problems["field"]))
    assert found >= {("policy_years", 5, "exposure"), ("policy_years", 6, "year"),
                     ("claims", 2, "policy_id"), ("claims", 3, "paid_medical"),
                     ("claims", 4, "accident_grade")}
    with pytest.raises(ExperienceError, match="policy_years: exposure: column is required"):
        validate_experience(policy_years.drop(columns="exposure"), claims)
    book = rating.find_book("CN-FJ-XM", pd.Timestamp("2024-01-01").date())
    wrong = tiny[0].copy()
    wrong["basis"] = wrong["basis"].astype(object)
    row = int(np.flatnonzero(wrong["basis"] == "persons")[0])
    wrong.loc[row, "basis"] = "vehicles"
    with pytest.raises(ExperienceError, match=f"row {row}: basis: .* is rated on persons"):
        validate_experience(wrong, tiny[1], book=book)


# --- severity distributions --------------------------------------------------------------


def test_fit_severity_recovers_lognormal_parameters():
    mu, sigma, n = 12.0, 1.3, 4000
    amounts = np.random.default_rng(7).lognormal(mu, sigma, n)
    fit = fit_severity(amounts, "lognorm")
    # maximum likelihood standard errors: sigma / sqrt(n) and sigma / sqrt(2n)
    assert abs(fit.params["mu"] - mu) < 3 * sigma / np.sqrt(n)
    assert abs(fit.params["sigma"] - sigma) < 3 * sigma / np.sqrt(2 * n)
    assert fit.n == n and fit.ks_pvalue > 0.01
    assert fit.aic == pytest.approx(4 - 2 * stats.lognorm(sigma, scale=np.exp(mu)).logpdf(
        amounts).sum(), rel=1e-3)
    assert fit.mean == pytest.approx(np.exp(fit.params["mu"] + fit.params["sigma"] ** 2 / 2))
    table = compare_severity(amounts)
    assert table["dist"].iloc[0] == "lognorm" and list(table["aic"]) == sorted(table["aic"])


def test_fit_severity_gamma_and_pareto():
    rng = np.random.default_rng(8)
    gamma = fit_severity(rng.gamma(2.0, 50_000, 4000), "gamma")
    assert gamma.params["shape"] == pytest.approx(2.0, rel=0.08)
    assert gamma.params["scale"] == pytest.approx(50_000, rel=0.08)
    lomax = stats.lomax(2.5, scale=100_000).rvs(4000, random_state=rng)
    pareto = fit_severity(lomax, "pareto")
    assert pareto.params["alpha"] == pytest.approx(2.5, rel=0.15)
    assert pareto.params["theta"] == pytest.approx(100_000, rel=0.2)
    assert compare_severity(lomax)["dist"].iloc[0] == "pareto"
    with pytest.raises(ValueError, match="positive"):
        fit_severity([1.0, -2.0, 3.0])
    with pytest.raises(ValueError, match="dist must be one of"):
        fit_severity([1.0, 2.0], "weibull")


def test_aliased_drop_reports_the_nested_levels_and_keeps_the_others():
    """b = y only where a = z (b nested in a): the dummies a[z] and b[y] are equal, so neither
    coefficient is estimable (NaN), while a[w] is: its relativity is the frequency ratio of
    the a = w rows to the a = x rows (both b = n), 4/100 over 2/100 = 2, by hand."""
    data = pd.DataFrame({"a": ["x", "w", "z", "x", "w"], "b": ["n", "n", "y", "n", "n"],
                         "claim_count": [1, 2, 3, 1, 2], "exposure": [50.0, 50, 100, 50, 50]})
    with pytest.raises(ValueError, match="aliased"):
        FrequencyGLM(["a", "b"], base_levels={"a": "x", "b": "n"}).fit(data)
    model = FrequencyGLM(["a", "b"], base_levels={"a": "x", "b": "n"}, aliased="drop").fit(data)
    assert sorted(model.aliased_) == ["a[z]", "b[y]"]
    rel = model.relativities_.set_index(["factor", "level"])["relativity"]
    assert np.isnan(rel[("a", "z")]) and np.isnan(rel[("b", "y")])
    assert rel[("a", "w")] == pytest.approx(2.0, rel=1e-9)
    # the fitted counts are the observed cell totals (the model is saturated on the cells)
    assert model.predict(data).sum() == pytest.approx(9.0, rel=1e-9)


def test_separated_drop_leaves_out_the_cells_sent_to_zero():
    """Unit u has its only claims at scale s; its rows at scale m have none, nor has any
    other unit at s: the MLE sends u's coefficient to -inf and s's to +inf. With
    separated='drop' the claim-free (u, m) rows are left out (2 rows), the fit converges,
    s is then nested in u (aliased), and m vs the base level b is the ratio of frequencies
    of unit v: (6/100) / (3/100) = 2, by hand."""
    data = pd.DataFrame({"unit": ["u", "u", "u", "v", "v"], "scale": ["s", "m", "m", "b", "m"],
                         "claim_count": [2, 0, 0, 3, 6], "exposure": [10.0, 30, 30, 100, 100]})
    model = FrequencyGLM(["unit", "scale"], base_levels={"unit": "v", "scale": "b"},
                         aliased="drop", separated="drop").fit(data)
    assert model.n_separated_ == 2 and model.result_.converged
    assert sorted(model.aliased_) == ["scale[s]", "unit[u]"]
    rel = model.relativities_.set_index(["factor", "level"])["relativity"]
    assert rel[("scale", "m")] == pytest.approx(2.0, rel=1e-9)
