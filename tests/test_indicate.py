"""Indicated rates: pure risk loss rates with their intervals, and the loads on top."""

import datetime as dt

import pandas as pd
import pytest

import rating
from rating.calibrate.indicate import Loads, check_loads, gross_rates, pure_risk_loss_rates


def test_pure_rates_and_interval():
    """Group A: exposure 1,000 persons, claims 2,000 and 6,000 -> losses 8,000, pure rate 8
    yuan/person; se = sqrt(2,000² + 6,000²)/1,000 = sqrt(40,000,000)/1,000 = 6.3246;
    95% interval 8 ± 1.95996 × 6.3246 = [0 (clipped), 20.396]. Group B: no claims, rate 0."""
    exposure = pd.Series({"A": 1000.0, "B": 500.0})
    claims = pd.DataFrame({"group": ["A", "A"], "amount": [2000.0, 6000.0]})
    out = pure_risk_loss_rates(exposure, claims)
    a = out.loc["A"]
    assert (a["claims"], a["losses"], a["pure_rate"]) == (2, 8000.0, 8.0)
    assert a["std_error"] == pytest.approx(6.324555, rel=1e-6)
    assert a["lower"] == 0.0 and a["upper"] == pytest.approx(8 + 1.959964 * 6.324555, rel=1e-6)
    assert (out.loc["B", "claims"], out.loc["B", "pure_rate"]) == (0, 0.0)


def test_gross_rate_formula():
    """Pure 8 yuan/person, fixed 1 yuan/person, loads 20% + 5% + 10% + 3% = 38%:
    (8 + 1) / 0.62 = 14.516129..."""
    loads = Loads(prevention_share=0.20, commission=0.05, variable_expense=0.10,
                  profit_load=0.03, fixed_expense=1.0)
    rate = gross_rates(pd.Series({"A": 8.0}), loads)
    assert rate["A"] == pytest.approx(9 / 0.62, rel=1e-12)


@pytest.mark.parametrize("loads, date, needle", [
    (Loads(prevention_share=0.15, commission=0.0), dt.date(2024, 1, 1), "below the book's floor"),
    (Loads(prevention_share=0.2, commission=0.06), dt.date(2025, 3, 29), "above the cap 0.05"),
    (Loads(prevention_share=0.5, commission=0.05, variable_expense=0.45), dt.date(2025, 6, 1),
     "below 1"),
    (Loads(prevention_share=0.2, commission=-0.01), dt.date(2025, 6, 1), ">= 0"),
])
def test_loads_are_checked(loads, date, needle):
    with pytest.raises(rating.RatingError, match=needle):
        check_loads(loads, rating.books()[0], date)


def test_commission_above_five_percent_allowed_before_2025():
    loads = Loads(prevention_share=0.2, commission=0.08)
    assert check_loads(loads, rating.books()[0], dt.date(2025, 3, 28)) is loads


def test_claims_without_exposure_are_refused():
    with pytest.raises(rating.RatingError, match="no exposure"):
        pure_risk_loss_rates(pd.Series({"A": 1.0}),
                             pd.DataFrame({"group": ["Z"], "amount": [1.0]}))
