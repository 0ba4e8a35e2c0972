"""Rate scenarios for analysts: "what if" changes to a rate book, the income statistics or
the portfolio, rated over a whole book and summarised in tidy frames ready to plot.

>>> from rating import scenarios
>>> summary = scenarios.run_scenarios(portfolio, [
...     {"name": "construction_up", "book": {"base_rate": {"construction": 1.1}}},
...     {"name": "cap_1_3", "book": {"float_cap": 1.3}},
... ])

A scenario is data (:mod:`rating.scenarios.spec` documents the format); applying one never
changes the book, the statistics or the portfolio it is applied to
(:mod:`rating.scenarios.apply`). Plot helpers live in :mod:`rating.scenarios.plots`.
"""

from .apply import apply_book, apply_portfolio, apply_statistics
from .loss import GLMLossModel
from .run import rate_scenarios
from .spec import Scenario, load_scenarios, scenario
from .summary import run_scenarios, summarise
from .sweep import sweep

__all__ = ["GLMLossModel", "Scenario", "apply_book", "apply_portfolio", "apply_statistics",
           "load_scenarios", "rate_scenarios", "run_scenarios", "scenario", "summarise",
           "sweep"]
