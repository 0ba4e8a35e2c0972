"""Rating a book of business: many profiles, one engine, each row on the edition in force."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal, overload

import numpy as np
import pandas as pd

from .book import IncomeStatistics, RateBook, load_book
from .book.dates import as_date
from .book.fields import check_known
from .book.library import Books, check_in_force, check_status, find_edition, out_of_force
from .engine.columns import Days, Encoded, Problems, encode
from .engine.lookups import Inputs
from .engine.premium import Rated, rate_frame
from .errors import Collected, ErrorMode, ProfileError, RatingError

RESULT_COLUMNS = ["premium", "per_person_limit", "floor", "prevention_fund", "commission",
                  "net", "rate_book", "subsector", "exposure", "base_rate", "minimum_premium"]
"""Leading output columns; factor columns (``factor_<step>``), floating-group columns
(``group_<name>``) and the limit schedule (``limit_<key>``) follow."""


@overload
def rate_portfolio(frame: pd.DataFrame, book: RateBook | str | Path | None = ...,
                   date: dt.date | str | None = ..., *, errors: Literal["raise"] = ...,
                   income: IncomeStatistics | None = ..., books: Books = ...,
                   final_only: bool | None = ..., any_date: bool = ...) -> pd.DataFrame: ...
@overload
def rate_portfolio(frame: pd.DataFrame, book: RateBook | str | Path | None = ...,
                   date: dt.date | str | None = ..., *, errors: Literal["collect"],
                   income: IncomeStatistics | None = ..., books: Books = ...,
                   final_only: bool | None = ..., any_date: bool = ...) -> Collected: ...
def rate_portfolio(frame: pd.DataFrame, book: RateBook | str | Path | None = None,
                   date: dt.date | str | None = None, *, errors: ErrorMode = "raise",
                   income: IncomeStatistics | None = None, books: Books = None,
                   final_only: bool | None = None,
                   any_date: bool = False) -> pd.DataFrame | Collected:
    """Rate every row of a portfolio with the same engine as :func:`rating.quote`.

    Parameters
    ----------
    frame : DataFrame
        One enterprise profile per row; the columns are the profile fields of the README
        (strings as ``pd.read_csv`` gives them are fine).
    book : RateBook or path, optional
        One book for every row; rows whose rating date is outside its edition are bad rows
        (a ``date`` outside it raises RatingError) unless ``any_date``. Default: for each row
        the edition in force for its ``jurisdiction`` on its rating date, from the library
        ``books`` and the shipped books.
    date : date or 'YYYY-MM-DD', optional
        Rating date for every row; default each row's ``inception_date``.
    errors : {"raise", "collect"}
        ``raise`` (default): one ProfileError listing the first bad rows. ``collect``: rate the
        good rows and return a :class:`rating.Collected` pair ``(rated, problems)``,
        ``problems`` having one line per bad row and field (``row``, ``field``, ``reason``).
    income : IncomeStatistics, optional
        Urban income figures for the per-person floors; default the shipped statistics
        (``tables/statistics/income.yaml``). Scenarios pass projected figures.
    books : BookLibrary or path, optional
        An insurer's library of editions (:class:`rating.BookLibrary`), preferred to the
        shipped books at each jurisdiction level; default the folder ``RATING_BOOKS`` names.
    final_only : bool, optional
        Refuse (RatingError) any edition used that is ``draft`` or ``illustrative``; default
        :data:`rating.book.library.FINAL_ONLY` (False).
    any_date : bool
        Rate every row on an explicit ``book`` whatever its effective dates (a what-if run).

    Returns
    -------
    DataFrame, or Collected with ``errors="collect"``
        Indexed like the input, in its order: premium and split (yuan), the per-person limit
        and its floor, the rate book, and every factor applied. ``result.attrs["rate_books"]``
        maps the id of each edition used to its ``status`` (``final``, ``draft`` or
        ``illustrative``): the status is kept once per edition, not per row.
    """
    if errors not in ("raise", "collect"):
        raise ValueError("errors must be 'raise' or 'collect'")
    if not isinstance(frame, pd.DataFrame):
        raise ProfileError("portfolio", f"expected a DataFrame, got {type(frame).__name__}")
    check_known(frame.columns)
    if isinstance(book, (str, Path)):
        book = load_book(book)
    date = as_date(date, "date")
    problems = Problems(frame.index)
    inputs = Inputs(frame, problems)
    parts: list[tuple[np.ndarray, Rated]] = []
    editions = _editions(inputs, book, date, books, any_date)
    for _, edition in editions:
        check_status(edition, final_only)
    already_bad = problems.bad_rows()  # no book, or one the row's jurisdiction is outside
    for rows, edition in editions:
        rows = rows[~already_bad[rows]]
        # every edition's rows are checked before anything is raised, so the error lists the
        # first bad rows of the whole frame
        rated = rate_frame(frame.iloc[rows], edition, date=date, errors="collect",
                           encoded=_encoded_rows(inputs, rows), income=income)
        if rated.problems.items:
            for positions, field_name, reason in rated.problems.items:
                mask = np.zeros(len(frame), dtype=bool)
                mask[rows[positions]] = True
                problems.add(mask, field_name, reason)
            rows = rows[~rated.problems.bad_rows()]
        parts.append((rows, rated))
    if errors == "raise":
        problems.raise_if_any()
    result = _assemble(frame, parts)
    result.attrs["rate_books"] = {edition.id: edition.status for _, edition in editions}
    if errors == "collect":
        return Collected(result, problems.table())
    return result


def editions_in_force(frame: pd.DataFrame, book: RateBook | None, date: dt.date | None,
                      problems: Problems, books: Books = None,
                      any_date: bool = True) -> list[tuple[np.ndarray, RateBook]]:
    """(row positions, book) for each edition the rows of ``frame`` are rated on, rows in
    input order, as :func:`rate_portfolio` chooses them; rows without one are reported to
    ``problems`` (for callers that prepare rows for rating, such as renewals)."""
    return _editions(Inputs(frame, problems), book, date, books, any_date)


def _editions(inputs: Inputs, book: RateBook | None, date: dt.date | None,
              books: Books = None, any_date: bool = False):
    """(row positions, book) for each edition the rows are rated on, rows in input order."""
    n, problems = inputs.n, inputs.problems
    if book is not None:
        if not any_date:
            _check_dates(inputs, book, date)
        if "jurisdiction" in inputs.columns:
            enc = inputs.column("jurisdiction")
            enc = enc if isinstance(enc, Encoded) else encode(enc)
            for k, code in enumerate(enc.uniques):
                if not (str(code) + "-").startswith(book.jurisdiction + "-"):
                    problems.add(enc.codes == k, "jurisdiction", f"{code!r} is outside the "
                                 f"rate book's jurisdiction {book.jurisdiction}")
        return [(np.arange(n), book)]
    if "jurisdiction" not in inputs.columns:
        raise ProfileError("jurisdiction", "is required to choose a rate book (e.g. CN-FJ-XM), "
                           "or pass a book")
    enc = inputs.column("jurisdiction")
    enc = enc if isinstance(enc, Encoded) else encode(enc)
    juris_codes, juris = enc.codes, enc.uniques
    if date is not None:
        when = Days(np.zeros(n, dtype=np.int64), np.array([date, "NaT"], dtype="datetime64[D]"))
    else:
        when = inputs.days("inception_date")
        problems.add(np.isnat(when.days)[when.codes] & inputs.absent("inception_date"),
                     "inception_date", "is required (YYYY-MM-DD)")
    problems.add(juris_codes < 0, "jurisdiction", "is required to choose a rate book")
    # one book look-up per (jurisdiction, distinct date) pair that occurs, then one pass over
    # the rows; pair keys are small, so counting them finds those that occur
    width = len(when.days)
    none = len(juris) * width  # the key of rows that have no pair
    if len(juris) == 1 and juris_codes.min(initial=0) >= 0:
        # one jurisdiction throughout (the usual case): the date code is the key, -1 (no
        # date) indexes the last slot, and every distinct date occurs
        pair, keys = when.codes, np.flatnonzero(~np.isnat(when.days))
    else:
        valid = (juris_codes >= 0) & ~np.isnat(when.days)[when.codes]
        pair = np.where(valid, juris_codes * width + when.codes, none)
        keys = np.flatnonzero(np.bincount(pair, minlength=none + 1)[:none])
    editions: list[RateBook] = []
    which = np.full(none + 1, -1, dtype=np.int64)  # key -> index into editions
    for key in keys:
        j, d = divmod(int(key), width)
        try:
            edition = find_edition(str(juris[j]), when.days[d].astype(dt.date), books)
        except RatingError as exc:
            problems.add(pair == key, "jurisdiction", str(exc))
            continue
        found = next((e for e, b in enumerate(editions) if b is edition), None)
        if found is None:
            editions.append(edition)
            found = len(editions) - 1
        which[key] = found
    row_edition = which[pair]
    if len(editions) == 1 and row_edition.min(initial=0) == 0:  # every row on the one edition
        return [(np.arange(n), editions[0])]
    return [(np.flatnonzero(row_edition == e), b) for e, b in enumerate(editions)]


_NAMED_DATES = 20
"""Distinct out-of-edition rating dates named one by one in the problems; others share one."""


def _check_dates(inputs: Inputs, book: RateBook, date: dt.date | None) -> None:
    """Rows whose rating date is outside an explicit book's edition are problems (one
    ``date`` for every row outside it raises)."""
    if date is not None:
        check_in_force(book, date)
        return
    if "inception_date" not in inputs.columns:
        return  # reported by the engine
    when = inputs.days("inception_date")
    days = when.days
    start = np.datetime64(book.effective_from, "D")
    outside = ~np.isnat(days) & (days < start)
    if book.effective_to is not None:
        outside |= ~np.isnat(days) & (days > np.datetime64(book.effective_to, "D"))
    if not outside.any():
        return
    slots = np.flatnonzero(outside)
    for slot in slots[:_NAMED_DATES]:
        inputs.problems.add(when.codes == slot, "inception_date",
                            out_of_force(book, days[slot].astype(dt.date)))
    if len(slots) > _NAMED_DATES:
        inputs.problems.add(np.isin(when.codes, slots[_NAMED_DATES:]), "inception_date",
                            out_of_force(book, None))


def _encoded_rows(inputs: Inputs, rows: np.ndarray) -> dict[str, Encoded]:
    """The text columns ``inputs`` has factorised, restricted to ``rows``."""
    out = {}
    for key, enc in inputs.cache.items():
        if key[0] == "col" and isinstance(enc, Encoded):
            out[key[1]] = enc if len(rows) == inputs.n else Encoded(enc.codes[rows], enc.uniques)
    return out


def _assemble(frame: pd.DataFrame, parts: list[tuple[np.ndarray, Rated]]) -> pd.DataFrame:
    pieces = []
    for rows, rated in parts:
        names = sorted({ss for _, ss in rated.subsector_keys})
        name_code = np.array([names.index(ss) for _, ss in rated.subsector_keys])
        columns = {
            "premium": rated.premium_fen / 100,
            "per_person_limit": rated.limit,
            "floor": rated.floor,
            "prevention_fund": rated.prevention_fen / 100,
            "commission": rated.commission_fen / 100,
            "net": (rated.premium_fen - rated.prevention_fen - rated.commission_fen) / 100,
            "rate_book": pd.Categorical.from_codes(np.zeros(len(rows), dtype=np.int8),
                                                   [rated.book.id]),
            "subsector": pd.Categorical.from_codes(name_code[rated.subsector_code], names),
            "exposure": rated.exposure,
            "base_rate": rated.base_rate,
            "minimum_premium": rated.minimum,
        }
        for step in rated.steps:
            columns[f"factor_{step.key}"] = step.factor
        for name, values in rated.groups.items():
            columns[f"group_{name}"] = values
        for key in rated.schedule:
            if key != "per_person":
                columns[f"limit_{key}"] = rated.schedule.yuan(key)
        # copy=False: keep the column arrays as they are instead of consolidating them into
        # one 2-D block, which would copy the whole result once more
        pieces.append(pd.DataFrame(columns, index=rows, copy=False))
    if not pieces:
        return pd.DataFrame(columns=RESULT_COLUMNS, index=frame.index[:0])
    if len(pieces) == 1:
        out = pieces[0]
    else:
        out = pd.concat(pieces).sort_index()
        factor_cols = [c for c in out.columns if c.startswith(("factor_", "group_"))]
        out[factor_cols] = out[factor_cols].fillna(1.0)  # a step a row's book does not have
    out.index = frame.index[out.index.to_numpy()]
    return out
