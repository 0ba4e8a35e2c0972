"""Aggregate loss and limits: Panjer recursion, FFT and simulation, risk measures, limited
expected values and increased-limit factors.

:mod:`rating.risk.aggregate`
    Frequency and severity models and the aggregate loss distribution.
:mod:`rating.risk.increased_limits`
    Limited expected values and increased-limit factors (not the statutory limits, which are
    :mod:`rating.engine.limits`).
"""

from .aggregate import (
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
from .increased_limits import (
                        frozen_params,
                        increased_limits,
                        limit_factor_bands,
                        limited_expected_value,
)

__all__ = ["AggregateDistribution", "Binomial", "DiscreteSeverity", "NegativeBinomial",
           "Poisson", "accident_severity", "as_frequency", "compound_moments", "discretise",
           "fft_aggregate", "frozen_params", "increased_limits", "limit_factor_bands",
           "limited_expected_value", "panjer", "simulate_aggregate"]
