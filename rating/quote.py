"""Quoting one enterprise: a one-row call of the rating engine."""

from __future__ import annotations

import copy
import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .book import RateBook, load_book
from .book.dates import as_date
from .book.fields import check_known
from .book.library import Books, check_in_force, check_status, find_edition
from .coinsurance import split_by_insurer
from .engine.columns import OneRow, Problems, dates
from .engine.limits import LimitFloor, LimitSchedule
from .engine.premium import Rated, rate_frame
from .engine.worksheet import floating_detail, worksheet
from .errors import ProfileError


@dataclass(frozen=True)
class Split:
    """The premium split, in yuan; the three amounts add up to the premium exactly.

    Attributes
    ----------
    prevention_fund : float
        Accident-prevention fund (事故预防费用), ``premium × prevention_share`` to the fen.
    commission : float
        Commission (佣金), ``premium × commission_rate`` to the fen.
    net : float
        The rest.
    """

    prevention_fund: float
    commission: float
    net: float
    prevention_share: float
    commission_rate: float
    commission_cap: float | None
    """The cap in force on the rating date (book and national rules), None when uncapped."""


@dataclass(frozen=True)
class Quote:
    """A priced quote for one enterprise.

    Attributes
    ----------
    premium : float
        Yuan, rounded half-up to the fen.
    worksheet, floating, insurers : DataFrame
        The calculation step by step, the floating-rate lookups, and the split by insurer
        (properties, built on first use).
    rate_book_id, rate_book_sha256 : str
        The rate book used and its content hash.
    per_person_limit : float
        The per-person death/disability limit (yuan), the statutory floor by default.
    floor : LimitFloor
        The statutory floor the limit was checked against.
    split : Split
        Prevention fund, commission and the rest.
    schedule : LimitSchedule
        The policy's limits: per person, per accident and aggregate (yuan).
    book : RateBook
        The rate book itself (labels, tables).
    rated, profile
        The engine's result and the profile, for the tables built on demand.
    """

    premium: float
    rate_book_id: str
    rate_book_sha256: str
    rate_book_status: str
    jurisdiction: str
    sector: str
    subsector: str
    per_person_limit: float
    floor: LimitFloor
    split: Split
    schedule: LimitSchedule
    book: RateBook = field(repr=False, compare=False)
    rated: Rated = field(repr=False, compare=False)
    profile: Mapping[str, Any] = field(repr=False)

    # The tables below are built when first looked at: pricing needs none of them, and
    # building DataFrames costs more than the rating itself.
    @functools.cached_property
    def worksheet(self) -> pd.DataFrame:
        """Every step of the calculation (see :func:`rating.engine.worksheet.worksheet`)."""
        return worksheet(self.rated, 0)

    @functools.cached_property
    def floating(self) -> pd.DataFrame:
        """Each floating-factor lookup, its group rule and group factor."""
        return floating_detail(self.rated, 0)

    @functools.cached_property
    def insurers(self) -> pd.DataFrame:
        """Premium, prevention fund and commission by insurer (one row unless co-insured)."""
        return _insurers(self.profile, self.split, self.premium)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``rating quote --json`` output)."""
        return {
            "premium": self.premium,
            "currency": "CNY",
            "sector": self.sector,
            "subsector": self.subsector,
            "rate_book": {"id": self.rate_book_id, "sha256": self.rate_book_sha256,
                          "jurisdiction": self.jurisdiction, "status": self.rate_book_status},
            "per_person_limit": self.per_person_limit,
            "floor": {
                "amount": self.floor.amount, "date": self.floor.date.isoformat(),
                "binding": self.floor.binding, "income_year": self.floor.income_year,
                "provisional": self.floor.provisional,
                "components": [{"name": c.name, "amount": c.amount, "basis": c.basis}
                               for c in self.floor.components],
            },
            "split": {
                "prevention_fund": self.split.prevention_fund,
                "commission": self.split.commission, "net": self.split.net,
                "prevention_share": self.split.prevention_share,
                "commission_rate": self.split.commission_rate,
                "commission_cap": self.split.commission_cap,
            },
            "schedule": self.schedule.as_dict(),
            "insurers": _records(self.insurers),
            "worksheet": _records(self.worksheet),
            "floating": _records(self.floating),
        }


def quote(profile: Mapping[str, Any], book: RateBook | str | Path | None = None,
          date: dt.date | None = None, *, books: Books = None, final_only: bool | None = None,
          any_date: bool = False) -> Quote:
    """Price one enterprise.

    Parameters
    ----------
    profile : mapping
        Profile fields (see the README): at least ``sector`` (and ``subsector`` where the
        sector has several), ``inception_date``, the exposure of the sub-sector's basis, and
        ``jurisdiction`` unless ``book`` is given.
    book : RateBook or path, optional
        Default: the edition in force for the profile's jurisdiction on the rating date, from
        the library ``books`` and the shipped books. An explicit book must be in force on the
        rating date unless ``any_date``.
    date : date or 'YYYY-MM-DD', optional
        Rating date: selects the book, the national rules and the limit floor; default the
        inception date.
    books : BookLibrary or path, optional
        An insurer's library of editions (see :class:`rating.BookLibrary`), preferred to the
        shipped books at each jurisdiction level; default the folder ``RATING_BOOKS`` names.
    final_only : bool, optional
        Refuse a ``draft`` or ``illustrative`` book (default
        :data:`rating.book.library.FINAL_ONLY`, False). Otherwise such a book quotes and the
        quote carries its ``rate_book_status``.
    any_date : bool
        Price on an explicit book whatever its effective dates (a what-if run).

    Returns
    -------
    Quote

    Raises
    ------
    ProfileError
        Naming the field at fault and what would be valid.
    RatingError
        No edition in force, a book refused by ``final_only``, or an explicit book out of its
        dates.
    """
    if not isinstance(profile, Mapping):
        raise ProfileError("profile", f"expected a mapping of fields, got {type(profile).__name__}")
    check_known(profile)
    _check_scalars(profile)
    date = as_date(date, "date")
    if isinstance(book, (str, Path)):
        book = load_book(book)
    frame = OneRow(profile)
    jurisdiction = profile.get("jurisdiction")
    if book is None:
        if not jurisdiction:
            raise ProfileError("jurisdiction", "is required to choose a rate book "
                               "(e.g. CN-FJ-XM), or pass a book")
        book = find_edition(str(jurisdiction), _rating_date(frame, date), books)
    else:
        if jurisdiction and not (str(jurisdiction) + "-").startswith(book.jurisdiction + "-"):
            raise ProfileError("jurisdiction", f"{jurisdiction!r} is outside the rate book's "
                               f"jurisdiction {book.jurisdiction}")
        if not any_date:
            check_in_force(book, _rating_date(frame, date))
    check_status(book, final_only)
    rated = rate_frame(frame, book, date=date, single=True)
    premium_fen = int(rated.premium_fen[0])
    prevention, commission = int(rated.prevention_fen[0]), int(rated.commission_fen[0])
    day = rated.rate_date[0].astype(dt.date)
    return Quote(
        premium=premium_fen / 100,
        rate_book_id=book.id, rate_book_sha256=book.sha256, rate_book_status=book.status,
        jurisdiction=book.jurisdiction,
        sector=rated.subsector_keys[rated.subsector_code[0]][0],
        subsector=rated.subsector_keys[rated.subsector_code[0]][1],
        per_person_limit=float(rated.limit[0]), floor=rated.floors[day], book=book,
        schedule=LimitSchedule(**{k: v / 100 for k, v in rated.schedule.row(0).items()}),
        rated=rated, profile=_own_copy(profile),
        split=Split(prevention / 100, commission / 100,
                    (premium_fen - prevention - commission) / 100,
                    float(rated.prevention_share[0]), float(rated.commission_rate[0]),
                    _finite_or_none(rated.commission_cap[0])))


def _rating_date(frame: OneRow, date: dt.date | None) -> dt.date:
    """``date``, else the profile's inception date (required)."""
    if date is not None:
        return date
    problems = Problems(frame.index, single=True)
    when = dates(frame.get("inception_date"), "inception_date", problems, n=1)
    problems.raise_if_any()
    if pd.isna(when[0]):
        raise ProfileError("inception_date", "is required (YYYY-MM-DD)")
    return when[0].astype(dt.date)


def _insurers(profile: Mapping[str, Any], split: Split, premium: float) -> pd.DataFrame:
    amounts = pd.DataFrame({"premium": [premium], "prevention_fund": [split.prevention_fund],
                            "commission": [split.commission]})
    frame = pd.DataFrame({k: [profile.get(k)] for k in ("insurer", "coinsurance")})
    return split_by_insurer(frame, amounts).drop(columns="row")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts for JSON: NaN becomes None (JSON has no NaN)."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


_SCALARS = (str, int, float, dt.date, np.generic)


def _check_scalars(profile: Mapping[str, Any]) -> None:
    """One plain value per field (a list of keys for ``extensions``)."""
    for name, value in profile.items():
        if name == "per_person_limit" and isinstance(value, (Mapping, list, tuple, set)):
            raise ProfileError(name, "must be one amount for every employee: the same limit "
                               "covers employees, dispatched and temporary workers alike, and "
                               "may not differ by post or employment type (应急〔2025〕27号 "
                               "第十六条)")
        if name == "extensions" and isinstance(value, (list, tuple)):
            if all(isinstance(v, str) for v in value):
                continue
            raise ProfileError(name, "expected a list of extension keys")
        if value is None:
            continue
        if not isinstance(value, _SCALARS) or isinstance(value, (complex, np.complexfloating)):
            raise ProfileError(name, f"expected a single value, got {type(value).__name__}")
        if isinstance(value, (float, np.floating)) and not np.isfinite(value):
            raise ProfileError(name, "must be a finite number (or left out)")


_IMMUTABLE = (str, int, float, bool, type(None), dt.date)


def _own_copy(profile: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of a checked profile (see :func:`_check_scalars`), which later changes to
    the caller's cannot reach: its values are plain immutable scalars, kept, and at most a
    list of extension keys, copied; anything else is deep-copied (``copy.deepcopy`` of the
    whole profile costs as much as a tenth of the quote)."""
    return {k: v if type(v) in _IMMUTABLE else v.copy() if type(v) is list
            else copy.deepcopy(v) for k, v in profile.items()}


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
