"""rating: premiums, limits and payouts for China's work-safety liability insurance (安责险).

The public API is small and pinned by ``tests/test_api.py``.
"""

from . import _moved
from .book import RateBook, books, find_book, load_book
from .book.library import BookLibrary
from .engine.limits import LimitFloor, per_person_floor
from .errors import BookError, Collected, ProfileError, RatingError
from .portfolio import rate_portfolio
from .quote import Quote, Split, quote
from .renewal import Renewal, renew, renew_portfolio

__all__ = [
    "BookError",
    "BookLibrary",
    "Collected",
    "LimitFloor",
    "ProfileError",
    "Quote",
    "RateBook",
    "RatingError",
    "Renewal",
    "Split",
    "books",
    "find_book",
    "load_book",
    "per_person_floor",
    "quote",
    "rate_portfolio",
    "renew",
    "renew_portfolio",
]

__version__ = "0.1.0"

_moved.install()
