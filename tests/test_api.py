"""The public API is small and stable: this test pins its names."""

import rating


def test_public_names_are_pinned():
    assert sorted(rating.__all__) == [
        "BookError", "Collected", "LimitFloor", "ProfileError", "Quote", "RateBook", "RatingError", "Renewal",
        "Split", "books", "find_book", "load_book", "per_person_floor", "quote", "rate_portfolio",
        "renew", "renew_portfolio",
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
