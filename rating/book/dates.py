"""Dates as the rules read them: written exactly YYYY-MM-DD, or given as date objects.

Plain Python, so the rules layer reads dates without the engine's column machinery.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, overload

from ..errors import ProfileError


@overload
def as_date(value: None, name: str) -> None: ...
@overload
def as_date(value: str | dt.date, name: str) -> dt.date: ...
def as_date(value: Any, name: str) -> dt.date | None:
    """A rating date given as a date, a datetime (its calendar day), a pandas Timestamp or
    'YYYY-MM-DD' text; None stays None. Anything else is a ProfileError naming ``name``."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):  # pandas Timestamps too
        return value.date()
    if isinstance(value, str):
        try:
            return iso_date(value)
        except ValueError:
            pass
    raise ProfileError(name, f"{value!r} is not a date written YYYY-MM-DD")


def iso_date(text: str) -> dt.date:
    """A date written exactly YYYY-MM-DD (ValueError otherwise, e.g. 20220101, 2022-02-30)."""
    text = text.strip()
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(text)
    return dt.date.fromisoformat(text)
