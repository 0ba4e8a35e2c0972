"""The estimator protocol (rating.calibrate.base) on every fitted class: parameters read back
from the constructor, scikit-learn's ``clone``, ``NotFittedError`` before ``fit``,
configuration errors at ``fit``, and the deprecated fit keywords of ``BuhlmannStraub``."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from rating.calibrate.base import NotFittedError
from rating.calibrate.credibility import BuhlmannCredibility, BuhlmannStraub
from rating.calibrate.experience import with_claims
from rating.calibrate.glm import FrequencyGLM, SeverityGLM
from rating.scenarios import GLMLossModel
from rating.synthetic import synthetic_experience

HAND = pd.DataFrame({
    "sector": ["A", "A", "B", "B", "B", "C", "C", "C"],
    "year": [2021, 2022, 2021, 2022, 2023, 2021, 2022, 2023],
    "exposure": [1.0, 4.0, 3.0, 3.0, 3.0, 3.0, 1.0, 3.0],
    "loss_ratio": [5.0, 0.0, 3.0, 1.0, 11.0, 10.0, 6.0, 9.0],
})
COLUMNS = {"group": "sector", "period": "year", "exposure": "exposure",
           "loss_ratio": "loss_ratio"}

# One instance per class with every parameter away from its default where it has one, and
# the constructor's parameters in order with the values given.
ESTIMATORS = [
    (BuhlmannCredibility(mu=2.5), {"mu": 2.5}),
    (BuhlmannStraub(mu=1.0, **COLUMNS),
     {"mu": 1.0, **COLUMNS, "loss": None}),
    (FrequencyGLM(["scale"], {"scale": "small"}, count="n", exposure="e", scale="X2",
                  alpha=0.1, compress=False, tol=1e-9, max_iter=50, aliased="drop",
                  separated="drop"),
     {"factors": ["scale"], "base_levels": {"scale": "small"}, "count": "n", "exposure": "e",
      "scale": "X2", "alpha": 0.1, "compress": False, "tol": 1e-9, "max_iter": 50,
      "aliased": "drop", "separated": "drop"}),
    (SeverityGLM(("sector",), amount="paid", alpha=0.2),
     {"factors": ("sector",), "base_levels": None, "amount": "paid", "scale": None,
      "alpha": 0.2, "compress": True, "tol": 1e-12, "max_iter": 100, "aliased": "raise"}),
    (GLMLossModel(["rating_unit", "scale"], ["sector", "scale"]),
     {"factors": ["rating_unit", "scale"], "severity_factors": ["sector", "scale"]}),
]
IDS = [type(e).__name__ for e, _ in ESTIMATORS]


@pytest.mark.parametrize("estimator, params", ESTIMATORS, ids=IDS)
def test_get_params_returns_the_constructor_arguments_unchanged(estimator, params):
    got = estimator.get_params()
    assert list(got) == list(params) and got == params
    # stored as given: the very objects, not copies (clone relies on it)
    for name, value in got.items():
        assert value is getattr(estimator, name)
    assert estimator.get_params(deep=False) == got


@pytest.mark.parametrize("estimator, params", ESTIMATORS, ids=IDS)
def test_set_params_round_trip(estimator, params):
    other = type(estimator)(**params)
    assert other.get_params() == params
    fresh = clone(estimator).set_params(**params)
    assert fresh.get_params() == params
    assert estimator.set_params(**estimator.get_params()) is estimator
    assert estimator.get_params() == params
    with pytest.raises(ValueError, match="invalid parameter 'colour'"):
        clone(estimator).set_params(colour="red")


@pytest.mark.parametrize("estimator, params", ESTIMATORS, ids=IDS)
def test_clone_copies_the_parameters_not_the_fit(estimator, params):
    copy = clone(estimator)
    assert type(copy) is type(estimator) and copy is not estimator
    assert copy.get_params() == params
    assert repr(copy) == repr(estimator)
    assert not [k for k in vars(copy) if k.endswith("_")]


@pytest.mark.parametrize("estimator, params", ESTIMATORS, ids=IDS)
def test_repr_rebuilds_the_estimator(estimator, params):
    """``repr`` is constructor syntax: evaluated, it gives the same parameters."""
    names = {cls.__name__: cls for cls in (BuhlmannCredibility, BuhlmannStraub, FrequencyGLM,
                                           SeverityGLM, GLMLossModel)}
    rebuilt = eval(repr(estimator), names)
    assert type(rebuilt) is type(estimator) and rebuilt.get_params() == params


def test_repr_shows_changed_keyword_options_only():
    """Parameters that may be given by position are always shown; keyword-only ones when
    changed."""
    assert repr(BuhlmannStraub()) == "BuhlmannStraub(mu=None)"
    assert repr(BuhlmannStraub(group="sector", loss="incurred")) == \
        "BuhlmannStraub(mu=None, group='sector', loss='incurred')"
    assert repr(FrequencyGLM(["scale"], alpha=0.1)) == \
        "FrequencyGLM(factors=['scale'], base_levels=None, alpha=0.1)"
    assert repr(GLMLossModel()) == \
        "GLMLossModel(factors=('rating_unit',), severity_factors=('sector',))"


@pytest.mark.parametrize("estimator, method, args", [
    (BuhlmannCredibility(), "summary", ()),
    (BuhlmannStraub(**COLUMNS), "summary", ()),
    (FrequencyGLM(["scale"]), "predict", (HAND,)),
    (FrequencyGLM(["scale"]), "summary", ()),
    (SeverityGLM(["sector"]), "predict", (HAND,)),
    (GLMLossModel(), "predict", (HAND,)),
], ids=lambda v: v if isinstance(v, str) else type(v).__name__)
def test_methods_needing_the_fit_raise_not_fitted(estimator, method, args):
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        getattr(estimator, method)(*args)


@pytest.mark.parametrize("estimator, attribute", [
    (BuhlmannCredibility(), "premium_"),
    (BuhlmannStraub(**COLUMNS), "k_"),
    (FrequencyGLM(["scale"]), "relativities_"),
    (FrequencyGLM(["scale"]), "base_value_"),
    (SeverityGLM(["sector"]), "coef_"),
    (GLMLossModel(), "frequency_"),
], ids=lambda v: v if isinstance(v, str) else type(v).__name__)
def test_learned_attributes_before_fit_raise_not_fitted(estimator, attribute):
    with pytest.raises(NotFittedError, match=f"not fitted yet, so it has no {attribute}"):
        getattr(estimator, attribute)
    assert not hasattr(estimator, attribute)  # an AttributeError, as hasattr expects


def test_not_fitted_error_is_value_attribute_and_runtime_error():
    assert issubclass(NotFittedError, ValueError)
    assert issubclass(NotFittedError, AttributeError)
    assert issubclass(NotFittedError, RuntimeError)  # what the GLMs raised before


def test_other_missing_attributes_stay_attribute_errors():
    fit = BuhlmannStraub(**COLUMNS).fit(HAND)
    with pytest.raises(AttributeError) as excinfo:
        fit.no_such_thing_  # noqa: B018 -- the access is the test
    assert not isinstance(excinfo.value, NotFittedError)
    with pytest.raises(AttributeError) as excinfo:
        BuhlmannStraub().no_such_method()
    assert not isinstance(excinfo.value, NotFittedError)


def test_fit_returns_self_and_clone_refits_the_same():
    """A clone of a fitted model is unfitted and fits to the same values."""
    fit = BuhlmannStraub(**COLUMNS).fit(HAND)
    again = clone(fit)
    assert not hasattr(again, "premium_")
    assert again.fit(HAND) is again
    pd.testing.assert_frame_equal(again.summary(), fit.summary())


def test_pickle_round_trip_fitted_and_not():
    """The attribute hook that raises NotFittedError leaves copying and pickling alone."""
    fresh = pickle.loads(pickle.dumps(BuhlmannStraub(**COLUMNS)))
    assert fresh.get_params() == BuhlmannStraub(**COLUMNS).get_params()
    fit = BuhlmannStraub(**COLUMNS).fit(HAND)
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(fit)).summary(), fit.summary())


def test_glms_clone_and_refit():
    policy_years, claims = synthetic_experience(2000, years=2, seed=4)
    data = with_claims(policy_years, claims)
    model = FrequencyGLM(["sector"]).fit(data)
    copy = clone(model)
    assert not hasattr(copy, "coef_")
    pd.testing.assert_series_equal(copy.fit(data).coef_, model.coef_)
    loss = GLMLossModel(["rating_unit"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rare units without claims
        fitted = clone(loss).fit(policy_years, claims)
    sample = policy_years.head(20)
    assert np.all(fitted.predict(sample) > 0)
    assert loss.get_params() == {"factors": ["rating_unit"], "severity_factors": ("sector",)}


@pytest.mark.parametrize("params, message", [
    ({"group": "sector", "period": "year", "exposure": "exposure"}, "exactly one"),
    ({**COLUMNS, "loss": "loss_ratio"}, "exactly one"),
    ({"period": "year", "exposure": "exposure", "loss_ratio": "loss_ratio"}, "group="),
    ({"group": "sector", "loss_ratio": "loss_ratio"}, "period=, exposure="),
])
def test_bad_configuration_is_a_value_error_at_fit(params, message):
    model = BuhlmannStraub(**params)  # the constructor validates nothing
    with pytest.raises(ValueError, match=message):
        model.fit(HAND)


@pytest.mark.parametrize("estimator, message", [
    (FrequencyGLM([]), "at least one factor"),
    (FrequencyGLM(["scale"], alpha=2), "alpha"),
    (SeverityGLM(["sector"], scale="huge"), "scale"),
    (BuhlmannCredibility(mu=-1), "finite number >= 0"),
])
def test_other_bad_configurations_are_value_errors_at_fit(estimator, message):
    data = HAND.assign(scale="small", claim_count=1, incurred=1.0)
    with pytest.raises(ValueError, match=message):
        estimator.fit(data if not isinstance(estimator, BuhlmannCredibility)
                      else np.array([[1.0, 2.0], [3.0, 4.0]]))


def test_deprecated_fit_keywords_still_work_with_a_warning():
    new = BuhlmannStraub(**COLUMNS).fit(HAND)
    old = BuhlmannStraub()
    with pytest.warns(DeprecationWarning, match="give the column names to the constructor"):
        old.fit(HAND, **COLUMNS)
    pd.testing.assert_frame_equal(old.summary(), new.summary())
    assert old.get_params()["group"] is None  # fit keywords do not change the parameters
    # a fit keyword replaces the constructor's column for that fit only
    data = HAND.rename(columns={"sector": "unit"})
    with pytest.warns(DeprecationWarning):
        by_unit = BuhlmannStraub(**COLUMNS).fit(data, group="unit")
    assert by_unit.premium_.index.name == "unit"
    assert by_unit.premium_.tolist() == new.premium_.tolist()
    # the old keywords keep their old error
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="exactly one"):
        BuhlmannStraub().fit(HAND, group="sector", period="year", exposure="exposure")


def test_new_api_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        BuhlmannStraub(**COLUMNS).fit(HAND)
