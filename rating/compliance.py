"""Bringing a policy's stated values within the rules in force on its rating date.

A renewal (or a scenario that moves a book a year on, or changes its rules) must meet the
rules of its new date and book: a stated per-person limit below the statutory floor is raised
to it, a commission rate above the cap in force lowered to it, a prevention-fund share below
the book's minimum raised to it. Rating itself never does this — a quote that breaks a rule
is an error naming the field — so renewals and scenarios do it first, and say so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .book import IncomeStatistics, RateBook, commission_cap
from .engine.columns import Problems, dates
from .engine.limits import per_person_floor

RULED = ("per_person_limit", "commission_rate", "prevention_share")
"""The stated fields a rule in force may override, in the order they are checked."""


@dataclass
class Brought:
    """Profiles brought within the rules.

    Attributes
    ----------
    frame : DataFrame
        The profiles (the input itself when nothing moved, else a copy).
    moved : dict of str to ndarray of bool
        Per field of :data:`RULED`, the rows whose stated value was replaced.
    changes : DataFrame
        One row per replaced value: ``pos`` (row position), ``field``, ``before``,
        ``after`` and ``reason`` (the rule and the date it is in force on).
    """

    frame: pd.DataFrame
    moved: dict[str, np.ndarray]
    changes: pd.DataFrame


def within_rules(frame: pd.DataFrame, book: RateBook, date: dt.date | None = None,
                 income: IncomeStatistics | None = None) -> Brought:
    """Replace stated values that break the rules of ``book`` on each rating date.

    Parameters
    ----------
    frame : DataFrame
        Profiles rated on ``book``.
    book : RateBook
    date : date, optional
        Rating date of every row; default each row's inception date.
    income : IncomeStatistics, optional
        For the per-person floors; default the shipped statistics.

    Returns
    -------
    Brought
        Rows with a bad or missing date are left as they are: rating reports them.
    """
    n = len(frame)
    if date is not None:
        codes, days = np.zeros(n, dtype=np.int64), [date]
    else:
        when = dates(frame.get("inception_date"), "inception_date", Problems(frame.index), n=n)
        codes, uniq = pd.factorize(when, use_na_sentinel=True)
        days = [d.astype("datetime64[D]").astype(dt.date) for d in np.asarray(uniq)]
    day_text = np.array([d.isoformat() for d in days] + [""], dtype=object)[codes]
    floors = np.array([_floor(book, d, income) for d in days] + [np.nan])[codes]
    caps = np.array([commission_cap(book, d) for d in days] + [np.inf])[codes]
    rules = {
        "per_person_limit": (floors, np.less, "below the statutory per-person floor of {:,.0f} "
                                              "yuan in force on {}"),
        "commission_rate": (caps, np.greater, "above the commission cap of {:g} in force on {}"),
        "prevention_share": (np.full(n, book.expenses.prevention_share_min), np.less,
                             "below the minimum prevention-fund share of {:g} of rate book "
                             + book.id + " ({})"),
    }
    out, moved, pieces = frame, {}, []
    for column in RULED:
        bound, breaks, why = rules[column]
        if column not in frame.columns:
            moved[column] = np.zeros(n, dtype=bool)
            continue
        stated = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        moved[column] = breaks(stated, bound)  # NaN compares False: a blank takes the book's
        rows = np.flatnonzero(moved[column])
        if not rows.size:
            continue
        out = frame.copy() if out is frame else out
        out[column] = np.where(moved[column], bound, stated)
        pieces.append(pd.DataFrame({
            "pos": rows, "field": column, "before": stated[rows], "after": bound[rows],
            "reason": [f"{stated[r]:g} is " + why.format(bound[r], day_text[r]) for r in rows]}))
    changes = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(
        {"pos": pd.Series(dtype=np.int64), "field": pd.Series(dtype=object),
         "before": pd.Series(dtype=float), "after": pd.Series(dtype=float),
         "reason": pd.Series(dtype=object)})
    return Brought(out, moved, changes)


def _floor(book: RateBook, day: dt.date, income: IncomeStatistics | None) -> float:
    try:
        return per_person_floor(book, day, income=income).amount
    except LookupError:  # no floor on that date: the rating reports the row
        return np.nan
