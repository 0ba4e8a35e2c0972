"""The public API is small and stable: this test pins its names."""

import rating


def test_public_names_are_pinned():
    assert sorted(rating.__all__) == [
        "BookError", "BookLibrary", "Collected", "LimitFloor", "ProfileError", "Quote", "RateBook",
        "RatingError", "Renewal", "Split", "books", "find_book", "load_book", "per_person_floor",
        "quote", "rate_portfolio", "renew", "renew_portfolio",
    ]
    for name in rating.__all__:
        assert hasattr(rating, name)


def test_errors_are_value_errors():
    assert issubclass(rating.BookError, rating.RatingError)
    assert issubclass(rating.ProfileError, rating.RatingError)
    assert issubclass(rating.RatingError, ValueError)


def test_scenario_names_are_pinned():
    from rating import scenarios
    from rating.scenarios import plots

    assert sorted(scenarios.__all__) == [
        "GLMLossModel", "Scenario", "apply_book", "apply_portfolio", "apply_statistics",
        "load_scenarios", "rate_scenarios", "run_scenarios", "scenario", "summarise", "sweep",
    ]
    for name in scenarios.__all__:
        assert hasattr(scenarios, name)
    for name in ("plot_change_by_segment", "plot_change_distribution", "plot_sweep"):
        assert callable(getattr(plots, name))


def test_collect_mode_returns_one_named_result_type():
    """Two profiles, the second with a negative headcount: the collected result rates the
    first and names the second's field; the default mode raises on the same frame."""
    import pandas as pd
    import pytest

    good = {"jurisdiction": "CN-FJ-XM", "sector": "hazardous_chemicals",
            "subsector": "production", "headcount": 120, "inception_date": "2024-07-01",
            "scale": "small", "product": "toxic"}
    frame = pd.DataFrame([good, {**good, "headcount": -5}], index=["a", "b"])
    result = rating.rate_portfolio(frame, errors="collect")
    assert isinstance(result, rating.Collected)
    assert list(result.rated.index) == ["a"]
    assert result.problems[["row", "field"]].values.tolist() == [["b", "headcount"]]
    rated, problems = result  # a named pair unpacks like the old tuple
    assert rated is result.rated and problems is result.problems
    with pytest.raises(rating.ProfileError, match="headcount"):
        rating.rate_portfolio(frame)


SUBPACKAGE_NAMES = {
    "rating.book": [
        "IncomeStatistics", "InjuryScale", "NationalRules", "RateBook", "books",
        "commission_cap", "find_book", "income_statistics", "injury_scales", "load_any",
        "load_book", "national_rules", "read_income_statistics", "tables_dir"],
    "rating.engine": [
        "LimitFloor", "LimitSchedule", "Rated", "build_schedule", "per_person_floor",
        "rate_frame", "work_injury_benchmark"],
    "rating.risk": [
        "AggregateDistribution", "Binomial", "DiscreteSeverity", "NegativeBinomial", "Poisson",
        "accident_severity", "as_frequency", "compound_moments", "discretise", "fft_aggregate",
        "frozen_params", "increased_limits", "limit_factor_bands", "limited_expected_value",
        "panjer", "simulate_aggregate"],
    "rating.calibrate": [
        "BuhlmannCredibility", "BuhlmannStraub", "Calibration", "CalibrationConfig",
        "Dislocation", "Estimator", "ExperienceError", "FrequencyGLM", "Loads",
        "NotFittedError", "SeverityFit", "SeverityGLM", "calibrate", "check_loads",
        "claims_with", "compare_severity", "dislocation", "fit_severity", "gross_rates",
        "incurred", "load_config", "pure_risk_loss_rates", "read_experience",
        "validate_experience", "with_claims"],
    "rating.synthetic": ["synthetic_experience", "synthetic_portfolio", "true_relativities"],
}


def test_subpackage_names_are_pinned():
    import importlib

    for name, expected in SUBPACKAGE_NAMES.items():
        module = importlib.import_module(name)
        assert sorted(module.__all__) == expected, name
        for attr in module.__all__:
            assert hasattr(module, attr), f"{name}.{attr}"
