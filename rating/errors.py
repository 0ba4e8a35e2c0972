"""Errors raised by the package.

Every error says where the problem is (a file and line, a key path, a profile field or a row)
and what would be valid, so that the command line can print it as one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    import pandas as pd

ErrorMode = Literal["raise", "collect"]
"""What a call does with bad rows: ``raise`` one error naming the first of them, or
``collect`` them and go on with the rest."""


class RatingError(ValueError):
    """Base class for every error the package raises on bad input."""


class BookError(RatingError):
    """A rate book, a statistics file or the national rules file is invalid.

    Attributes
    ----------
    file : str or None
        The YAML file, when the document came from one.
    line : int or None
        1-based line of the offending key or value.
    path : str
        Dotted key path inside the document, e.g. ``sectors.construction.base_rate``.
    reason : str
        What is wrong and what would be valid.
    """

    def __init__(self, reason: str, *, file: str | None = None, line: int | None = None,
                 path: str = ""):
        self.file, self.line, self.path, self.reason = file, line, path, reason
        where = file or "<document>"
        if line is not None:
            where += f":{line}"
        if path:
            where += f": {path}"
        super().__init__(f"{where}: {reason}")


class ProfileError(RatingError):
    """An enterprise profile (or a portfolio row) is invalid.

    Attributes
    ----------
    field : str
        The profile field (portfolio column) at fault.
    row : object or None
        The row label, for portfolio input.
    reason : str
        What is wrong and what would be valid.
    """

    def __init__(self, field: str, reason: str, *, row: object | None = None):
        self.field, self.row, self.reason = field, row, reason
        where = f"row {row!r}: " if row is not None else ""
        super().__init__(f"{where}{field}: {reason}")


class ReferenceDataError(RatingError, LookupError):
    """The reference data cannot answer for a date: no income figure or no floor in force,
    or a rating date further beyond the latest income statistic than projections may go.

    A LookupError too, so callers that collect "no floor on this date" per row keep doing so;
    the command line reports it as bad input (exit 2), unlike a bare KeyError, which is a bug.
    """


class Collected(NamedTuple):
    """What a call with ``errors="collect"`` returns: the rows it could rate, and one line per
    problem of the others.

    A named pair, so both ``result.rated`` and ``rated, problems = ...`` read it. With
    ``errors="raise"`` the same calls return the rated frame alone; the mode is fixed by the
    argument, so each call has one return type (the functions' overloads say which).

    Attributes
    ----------
    rated : DataFrame
        The good rows' results, as the call returns them with ``errors="raise"``.
    problems : DataFrame
        One line per bad row and field: ``row`` (the input's label), ``field``, ``reason``
        (and ``scenario`` for scenario runs).
    """

    rated: pd.DataFrame
    problems: pd.DataFrame
