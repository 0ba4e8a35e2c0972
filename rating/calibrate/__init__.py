"""Calibration from loss experience: the experience schema, frequency and severity GLMs,
credibility, indicated rates, a new rate book and its dislocation on a portfolio.

Fitted classes follow scikit-learn (:class:`rating.calibrate.base.Estimator`): configuration in
the constructor, ``fit`` returns ``self``, learned values end in ``_``, ``get_params`` /
``set_params`` / ``sklearn.base.clone`` work, and a learned value read before ``fit`` raises
:class:`NotFittedError`.

:mod:`~rating.calibrate.experience`
    The policy-year and claim frames, their validation and joins.
:mod:`~rating.calibrate.glm`
    Poisson frequency and Gamma severity GLMs on compressed cells; severity fits.
:mod:`~rating.calibrate.credibility`
    Bühlmann and Bühlmann–Straub credibility.
:mod:`~rating.calibrate.indicate`
    Pure risk loss rates and gross rates under loads.
:mod:`~rating.calibrate.rebook`
    Experience -> a new draft rate book (``rating calibrate``).
:mod:`~rating.calibrate.dislocation`
    Old book vs new on a portfolio (``rating dislocation``).
"""

from .base import Estimator, NotFittedError
from .credibility import BuhlmannCredibility, BuhlmannStraub
from .dislocation import Dislocation, dislocation
from .experience import (
           ExperienceError,
           claims_with,
           incurred,
           validate_experience,
           with_claims,
)
from .glm import FrequencyGLM, SeverityFit, SeverityGLM, compare_severity, fit_severity
from .indicate import Loads, check_loads, gross_rates, pure_risk_loss_rates
from .rebook import (
           Calibration,
           CalibrationConfig,
           calibrate,
           load_config,
           read_experience,
)

__all__ = ["BuhlmannCredibility", "BuhlmannStraub", "Calibration", "CalibrationConfig",
           "Dislocation", "Estimator", "ExperienceError", "FrequencyGLM", "Loads",
           "NotFittedError", "SeverityFit", "SeverityGLM", "calibrate", "check_loads",
           "claims_with", "compare_severity", "dislocation", "fit_severity", "gross_rates",
           "incurred", "load_config", "pure_risk_loss_rates", "read_experience",
           "validate_experience", "with_claims"]
