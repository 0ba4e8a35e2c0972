"""Expected losses for scenario results: a calibrated frequency x severity model.

Scenario runs accept any *loss model*: an object with ``predict(data) -> ndarray`` giving
each policy's expected incurred loss in yuan for its term. ``data`` holds the policy's
profile columns as rated (after the scenario's portfolio changes) plus

``rating_unit``
    ``sector.subsector``, as in the experience schema;
``basis``
    The sub-sector's exposure basis;
``exposure``
    Earned exposure in the basis unit, as in the experience schema: the measure x months
    covered / 12, or the contract value for a project-term policy;
``worst_accident_grade``
    ``none`` or the worst grade with a non-zero ``accidents_<grade>`` count, as the
    experience schema has it (derived when the portfolio does not give it).

:class:`GLMLossModel` is such a model, fitted on experience with the package's GLMs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..calibrate.base import Estimator
from ..calibrate.experience import claims_with, validate_experience, with_claims
from ..calibrate.glm import FrequencyGLM, SeverityGLM
from ..errors import ProfileError, RatingError


class GLMLossModel(Estimator):
    """Expected loss = expected claim count (Poisson GLM) x mean claim amount (Gamma GLM).

    Parameters
    ----------
    factors : sequence of str
        Categorical factors of the frequency model, columns of the experience and of the
        portfolios it will predict for; ``rating_unit`` carries the base frequency of each
        rating unit and should be among them.
    severity_factors : sequence of str
        Factors of the severity model; default ``["sector"]``: a mean amount per sector,
        since a rating unit has too few claims to fit its own.

    Attributes
    ----------
    frequency_ : FrequencyGLM
    severity_ : SeverityGLM
    """

    _fitted = "severity_"

    def __init__(self, factors: Sequence[str] = ("rating_unit",),
                 severity_factors: Sequence[str] = ("sector",)):
        self.factors = factors
        self.severity_factors = severity_factors

    def fit(self, policy_years: pd.DataFrame, claims: pd.DataFrame) -> GLMLossModel:
        """Fit both models on experience (:mod:`rating.calibrate.experience` schema).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For bad factors (see :class:`~rating.calibrate.glm.FrequencyGLM`) or experience
            (:class:`~rating.calibrate.experience.ExperienceError`).
        """
        validate_experience(policy_years, claims)
        severity_factors = list(self.severity_factors)
        self.frequency_ = FrequencyGLM(list(self.factors)).fit(with_claims(policy_years, claims))
        self.severity_ = SeverityGLM(severity_factors).fit(
            claims_with(policy_years, claims, severity_factors))
        return self

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        """Expected incurred loss per row (yuan): frequency x severity.

        Parameters
        ----------
        data : DataFrame
            The factor columns of both models and ``exposure`` (earned, basis unit).
        """
        self._check_fitted()
        try:
            return self.frequency_.predict(data) * self.severity_.predict(data)
        except ProfileError as exc:
            raise RatingError(f"the loss model cannot predict {exc}: a level the experience "
                              "did not fit (no exposure or no claims) has no relativity; refit "
                              "on more experience or coarser factors") from None
