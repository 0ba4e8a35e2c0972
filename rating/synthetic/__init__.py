"""Seeded synthetic data with known answers: a portfolio of profiles, and a loss experience
drawn from a known frequency model, for tests, benchmarks and notebooks.

>>> from rating.synthetic import synthetic_portfolio, synthetic_experience
>>> book = synthetic_portfolio(1_000, seed=0)               # profiles, as rate_portfolio reads
>>> policy_years, claims = synthetic_experience(500, years=3, seed=0)

Every assumption in :mod:`rating.synthetic.portfolio` and :mod:`rating.synthetic.experience`
is illustrative.
"""

from .experience import synthetic_experience, true_relativities
from .portfolio import synthetic_portfolio

__all__ = ["synthetic_experience", "synthetic_portfolio", "true_relativities"]
