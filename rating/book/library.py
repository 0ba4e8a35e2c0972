"""An insurer's own rate books: a folder of filed editions, chosen like the shipped ones.

A :class:`BookLibrary` is a folder of rate-book YAML files (``*.yaml``, ``*.yml``; not its
sub-folders). Each is read by the same strict loader as the shipped books, book ids must be
unique, and two editions of one jurisdiction in the library may not overlap in time (as for
the shipped books).

Precedence
    For a risk in ``CN-FJ-XM`` on a date the jurisdictions are tried most specific first
    (``CN-FJ-XM``, then ``CN-FJ``, then ``CN``); at each level the library's edition in force
    is taken before a shipped one. So a library ``CN-FJ-XM`` edition overrides the shipped
    ``CN-FJ-XM`` one on the dates it covers, but a library ``CN-FJ`` edition does not override
    a shipped ``CN-FJ-XM`` one: the most specific jurisdiction still wins. A library edition
    may overlap a shipped one of its jurisdiction (that is how it overrides it); a library id
    equal to a shipped id is refused unless the two are the same document (same sha256).

Default library
    ``books=None`` in the functions that rate means the folder named by the environment
    variable ``RATING_BOOKS`` (unset or empty: shipped books only). A library given by path is
    read once per process and read again when one of its files changes.

Status and dates
    :func:`check_status` refuses a ``draft`` or ``illustrative`` book when ``final_only``;
    its default, :data:`FINAL_ONLY`, is the one place a production setting changes.
    :func:`check_in_force` refuses a book given explicitly on a rating date outside its
    edition (``any_date=True`` lets a what-if run price it anyway).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Union

from ..errors import BookError, RatingError
from . import _overlap, find_book, load_book
from . import books as shipped_books
from .dates import as_date
from .model import RateBook

__all__ = ["BookLibrary", "Books", "ENV", "FINAL_ONLY", "library", "find_edition", "get_book",
           "check_status", "check_in_force", "out_of_force", "final_only_default", "status_note",
           "origin_of", "all_books"]

ENV = "RATING_BOOKS"
"""The environment variable naming the default library folder."""

FINAL_ONLY = False
"""The default of ``final_only`` everywhere (API and CLI): the one place to change it."""

Books = Union["BookLibrary", str, os.PathLike, None]
"""What a ``books=`` argument accepts: a library, a folder's path, or None (``RATING_BOOKS``)."""


class BookLibrary:
    """A folder of an insurer's rate books, chosen by jurisdiction and date before the shipped.

    Parameters
    ----------
    path : str or PathLike
        The folder. Every ``*.yaml`` / ``*.yml`` file in it is a rate book.

    Raises
    ------
    BookError
        A book that does not load (naming file, line and key), an id used twice (or used by a
        different shipped book), or two editions of one jurisdiction that overlap in time.
    RatingError
        When ``path`` is not a folder.

    Examples
    --------
    >>> lib = rating.BookLibrary("filed-books/")            # doctest: +SKIP
    >>> lib.find("CN-FJ-XM", datetime.date(2025, 1, 1))    # doctest: +SKIP
    >>> rating.quote(profile, books=lib)                   # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_dir():
            raise RatingError(f"rate book library {str(path)!r} is not a folder")
        self._books = tuple(load_book(p) for p in _book_files(self.path))
        _check_editions(self._books)
        shipped = {b.id: b for b in shipped_books()}
        for book in self._books:
            twin = shipped.get(book.id)
            if twin is not None and twin.sha256 != book.sha256:
                raise BookError(f"book id {book.id!r} is a shipped book's id; give the "
                                "library's edition its own id", file=book.origin)

    def __repr__(self) -> str:
        return f"BookLibrary({str(self.path)!r}, {len(self._books)} books)"

    def books(self) -> list[RateBook]:
        """The library's own editions, sorted by jurisdiction and effective date."""
        return sorted(self._books, key=lambda b: (b.jurisdiction, b.effective_from))

    def all_books(self) -> list[RateBook]:
        """The library's editions and the shipped ones (library first at equal keys)."""
        own = self.books()
        ids = {b.id for b in own}
        rest = [b for b in shipped_books() if b.id not in ids]
        return sorted(own + rest, key=lambda b: (b.jurisdiction, b.effective_from,
                                                 origin_of(b) == "shipped"))

    def find(self, jurisdiction: str, date: dt.date | str) -> RateBook:
        """The edition in force on ``date`` for ``jurisdiction``: most specific jurisdiction
        first, and at each level the library's edition before a shipped one.

        Raises
        ------
        RatingError
            When neither the library nor the shipped books have one in force.
        """
        date = as_date(date, "date")
        parts = str(jurisdiction).split("-")
        for n in range(len(parts), 0, -1):
            code = "-".join(parts[:n])
            for pool in (self._books, shipped_books()):
                for book in pool:
                    if book.jurisdiction == code and _in_force(book, date):
                        return book
        known = ", ".join(f"{b.jurisdiction} from {b.effective_from} ({origin_of(b)})"
                          for b in self.all_books()) or "none"
        raise RatingError(f"no rate book is in force for jurisdiction {jurisdiction!r} on "
                          f"{date}; library {self.path} and shipped books: {known}")

    def get(self, book_id: str) -> RateBook:
        """The library's or else the shipped book with this id."""
        for book in (*self._books, *shipped_books()):
            if book.id == book_id:
                return book
        raise RatingError(f"no rate book {book_id!r} in library {self.path} or the shipped "
                          "books")


def _book_files(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir()
                  if p.suffix.lower() in (".yaml", ".yml") and p.is_file())


def _check_editions(loaded: Iterable[RateBook]) -> None:
    """The rules of the shipped books: ids unique, one jurisdiction's editions disjoint."""
    loaded = tuple(loaded)
    by_id: dict[str, RateBook] = {}
    for book in loaded:
        if book.id in by_id:
            raise BookError(f"book id {book.id!r} is used twice (also in "
                            f"{by_id[book.id].origin})", file=book.origin)
        by_id[book.id] = book
    for i, a in enumerate(loaded):
        for b in loaded[i + 1:]:
            if a.jurisdiction == b.jurisdiction and _overlap(a, b):
                raise BookError(f"editions {a.id!r} and {b.id!r} of {a.jurisdiction} overlap "
                                f"in time ({_span(a)} and {_span(b)})", file=b.origin)


_cache: dict[Path, tuple[tuple, BookLibrary]] = {}


def library(books: Books = None) -> BookLibrary | None:
    """A ``books=`` argument as a library: a :class:`BookLibrary` as it is, a path read (once
    per process, again when a file in it changes), None as ``RATING_BOOKS`` (None when the
    variable is unset or empty: shipped books only)."""
    if isinstance(books, BookLibrary):
        return books
    if books is None:
        books = os.environ.get(ENV) or None
        if books is None:
            return None
    path = Path(books).resolve()
    if not path.is_dir():
        raise RatingError(f"rate book library {str(books)!r} is not a folder")
    signature = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                      for p in _book_files(path))
    cached = _cache.get(path)
    if cached is None or cached[0] != signature:
        cached = (signature, BookLibrary(path))
        _cache[path] = cached
    return cached[1]


def find_edition(jurisdiction: str, date: dt.date | str, books: Books = None) -> RateBook:
    """The edition in force for ``jurisdiction`` on ``date``: from the library ``books`` (or
    ``RATING_BOOKS``) and the shipped books, as :meth:`BookLibrary.find`; the shipped books
    only (:func:`rating.find_book`) when there is no library."""
    lib = library(books)
    if lib is None:
        return find_book(jurisdiction, as_date(date, "date"))
    return lib.find(jurisdiction, date)


def get_book(ref: RateBook | str | os.PathLike, books: Books = None) -> RateBook:
    """A book given as itself, a YAML file's path, or an id of the library's or the shipped
    books (a path that exists wins over an id)."""
    if isinstance(ref, RateBook):
        return ref
    if Path(ref).is_file():
        return load_book(Path(ref))
    lib = library(books)
    if lib is not None:
        return lib.get(str(ref))
    for book in shipped_books():
        if book.id == str(ref):
            return book
    raise RatingError(f"{str(ref)!r} is neither a rate book file nor the id of a shipped book"
                      + ("" if lib is not None else f" (set {ENV} or pass --books for a library)"))


def all_books(books: Books = None) -> list[RateBook]:
    """The editions to choose from: the library's (``books`` or ``RATING_BOOKS``) and the
    shipped ones."""
    lib = library(books)
    return shipped_books() if lib is None else lib.all_books()


def origin_of(book: RateBook) -> str:
    """``"shipped"`` for a shipped book, else the file it was read from (``"<data>"`` for a
    book built in memory)."""
    if any(book is b for b in shipped_books()):
        return "shipped"
    return book.origin or "<data>"


def final_only_default() -> bool:
    """The default of ``final_only``: :data:`FINAL_ONLY`."""
    return FINAL_ONLY


_NOTES = {
    "illustrative": "its rates are examples, not filed rates",
    "draft": "it is a draft, not a filed edition",
}


def status_note(book_id: str, status: str) -> str | None:
    """One line on a book that is not final (the CLI's warning), None for a final one."""
    if status == "final":
        return None
    return f"rate book {book_id} is {status}: {_NOTES.get(status, 'not final')}"


def check_status(book: RateBook, final_only: bool | None = None) -> None:
    """Refuse a book whose status is not ``final`` when ``final_only`` (default
    :data:`FINAL_ONLY`)."""
    if final_only is None:
        final_only = final_only_default()
    if final_only and book.status != "final":
        raise RatingError(f"rate book {book.id} is {book.status}, not final; final_only "
                          "(--final-only) refuses it")


def check_in_force(book: RateBook, date: dt.date) -> None:
    """Refuse a rating date outside the book's edition."""
    if not _in_force(book, date):
        raise RatingError(out_of_force(book, date))


def out_of_force(book: RateBook, date: dt.date | None) -> str:
    """The message for a rating date outside a book's edition."""
    when = f"the rating date {date}" if date is not None else "a rating date"
    return (f"rate book {book.id} is in force {_span(book)}; {when} is outside it "
            "(any_date=True or --any-date prices on it anyway)")


def _in_force(book: RateBook, date: dt.date) -> bool:
    return book.effective_from <= date and (book.effective_to is None
                                            or date <= book.effective_to)


def _span(book: RateBook) -> str:
    return f"{book.effective_from}..{book.effective_to or 'open'}"
