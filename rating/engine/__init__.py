"""The columnar rating engine: profile columns -> factor columns -> premium, worksheet,
limits and split, one code path for one quote and a million rows.

Not the user's entry point: :func:`rating.quote` and :func:`rating.rate_portfolio` call it.
Its modules are internals that may change between releases:

``columns``
    Profile columns read and checked (codes, numbers, dates), problems collected per row.
``lookups``
    A rate book's tables as factor columns.
``premium``
    :func:`rate_frame`: the premium chain, exact to the fen, and its split.
``limits``
    The statutory per-person floor and the limit schedule.
``money``
    Half-up rounding to the fen and exact splits.
``calendar``
    Month arithmetic of policy terms.
``worksheet``
    One row's steps, as a quote shows them.
``memo``
    Caches keyed by a book's identity.

The engine is pure: no files, no network, no database; it imports the rules
(:mod:`rating.book`) and nothing above it.
"""

from .limits import (
                     LimitFloor,
                     LimitSchedule,
                     build_schedule,
                     per_person_floor,
                     work_injury_benchmark,
)
from .premium import Rated, rate_frame

__all__ = ["LimitFloor", "LimitSchedule", "Rated", "build_schedule", "per_person_floor",
           "rate_frame", "work_injury_benchmark"]
