"""Rate books: strict loading, content hashes, and selection by jurisdiction and date."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
from pathlib import Path
from typing import Any, TypeVar

from ..errors import BookError, RatingError
from .dates import as_date
from .groups import FloatGroupFile, with_groups
from .model import RateBook
from .reference import IncomeStatistics, InjuryScale, NationalRules, value_at
from .schema import Reader
from .yamlsafe import load_yaml, load_yaml_file

__all__ = ["RateBook", "NationalRules", "IncomeStatistics", "load_book", "books", "find_book",
           "national_rules", "income_statistics", "read_income_statistics", "tables_dir",
           "load_any", "injury_scales", "InjuryScale", "commission_cap"]

T = TypeVar("T")


def tables_dir() -> Path:
    """The folder of shipped tables: ``rating/_tables`` when installed, else the source
    tree's ``tables/`` (an editable install or a checkout on ``sys.path``)."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "_tables"
    return installed if installed.is_dir() else package.parent / "tables"


def content_hash(data: Any) -> str:
    """sha256 of a document's canonical JSON form (sorted keys, no whitespace)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=lambda d: d.isoformat())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read(cls: type[T], data: Any, lines, file: str | None) -> T:
    obj = Reader(lines, file).read(cls, data, ())
    object.__setattr__(obj, "sha256", content_hash(data))
    return obj


def load_book(source: str | Path | dict) -> RateBook:
    """Load and validate a rate book.

    Parameters
    ----------
    source : str, Path or dict
        A YAML file's path, or an already parsed document (then errors carry no line).

    Returns
    -------
    RateBook
        The validated book; ``book.sha256`` is the hash of its canonical form.

    Raises
    ------
    BookError
        Naming the file, line and key path of the first problem found.
    """
    if isinstance(source, dict):
        return _read_book(source, {}, None)
    data, lines = load_yaml_file(source)
    return _read_book(data, lines, str(source))


def load_book_text(text: str, name: str = "<text>") -> RateBook:
    """Load a rate book from YAML text (see :func:`load_book`)."""
    data, lines = load_yaml(text, file=name)
    return _read_book(data, lines, name)


def load_any(path: str | Path) -> (RateBook | NationalRules | IncomeStatistics | InjuryScale
                                    | FloatGroupFile):
    """Load a rate book, national rules, income statistics, an injury scale or a floating
    group, by its keys."""
    data, lines = load_yaml_file(path)
    if isinstance(data, dict) and "group" in data:
        return _read(FloatGroupFile, data, lines, str(path))
    if isinstance(data, dict) and "per_person_floor" in data:
        return _read(NationalRules, data, lines, str(path))
    if isinstance(data, dict) and "series" in data:
        return _read(IncomeStatistics, data, lines, str(path))
    if isinstance(data, dict) and "ratios" in data:
        return _read(InjuryScale, data, lines, str(path))
    return _read_book(data, lines, str(path))


def _read_book(data: Any, lines, file: str | None) -> RateBook:
    data = with_groups(data, floating_groups(), Reader(lines, file))
    book = _read(RateBook, data, lines, file)
    scale = book.limits.injury_scale
    if scale is not None and scale not in injury_scales():
        raise Reader(lines, file).error(("limits", "injury_scale"), f"unknown injury scale "
                                        f"{scale!r}; use one of: " + ", ".join(injury_scales()))
    object.__setattr__(book, "origin", file)
    return book


@functools.cache
def injury_scales() -> dict[str, InjuryScale]:
    """The shipped injury-grade scales (``tables/scales/*.yaml``), by id."""
    out: dict[str, InjuryScale] = {}
    for path in sorted((tables_dir() / "scales").glob("*.yaml")):
        data, lines = load_yaml_file(path)
        scale = _read(InjuryScale, data, lines, str(path))
        if scale.id in out:
            raise BookError(f"scale id {scale.id!r} is used twice", file=str(path))
        out[scale.id] = scale
    return out


@functools.cache
def _shipped() -> tuple[RateBook, ...]:
    paths = sorted((tables_dir() / "books").glob("*.yaml"))
    loaded = tuple(load_book(p) for p in paths)
    by_id: dict[str, RateBook] = {}
    for book in loaded:
        if book.id in by_id:
            raise BookError(f"book id {book.id!r} is used twice", file=book.origin)
        by_id[book.id] = book
    for a in loaded:
        for b in loaded:
            if a is not b and a.jurisdiction == b.jurisdiction and _overlap(a, b):
                raise BookError(f"editions {a.id!r} and {b.id!r} of {a.jurisdiction} overlap "
                                "in time", file=a.origin)
    return loaded


def _overlap(a: RateBook, b: RateBook) -> bool:
    a_end = a.effective_to or dt.date.max
    b_end = b.effective_to or dt.date.max
    return a.effective_from <= b_end and b.effective_from <= a_end


def books() -> list[RateBook]:
    """The shipped rate books, sorted by jurisdiction and effective date."""
    return sorted(_shipped(), key=lambda b: (b.jurisdiction, b.effective_from))


def find_book(jurisdiction: str, date: dt.date,
              candidates: list[RateBook] | None = None) -> RateBook:
    """The edition in force on ``date`` for ``jurisdiction``.

    The most specific jurisdiction wins: for ``CN-FJ-XM`` a Xiamen book is preferred to a
    Fujian one, and that to a national one.

    Raises
    ------
    RatingError
        When no edition is in force.
    """
    if isinstance(date, str):
        date = as_date(date, "date")
    pool = books() if candidates is None else candidates
    parts = jurisdiction.split("-")
    for n in range(len(parts), 0, -1):
        code = "-".join(parts[:n])
        for book in pool:
            if (book.jurisdiction == code and book.effective_from <= date
                    and (book.effective_to is None or date <= book.effective_to)):
                return book
    known = ", ".join(f"{b.jurisdiction} from {b.effective_from}" for b in pool) or "none"
    raise RatingError(f"no rate book is in force for jurisdiction {jurisdiction!r} on {date}; "
                      f"shipped books: {known}")


@functools.cache
def floating_groups() -> dict[str, FloatGroupFile]:
    """The shipped floating groups (``tables/floating/*.yaml``) by id, for books to include."""
    out = {}
    for path in sorted((tables_dir() / "floating").glob("*.yaml")):
        data, lines = load_yaml_file(path)
        group = _read(FloatGroupFile, data, lines, str(path))
        out[group.id] = group
    return out


@functools.cache
def national_rules() -> NationalRules:
    """The shipped national rules (``tables/national.yaml``)."""
    path = tables_dir() / "national.yaml"
    data, lines = load_yaml_file(path)
    return _read(NationalRules, data, lines, str(path))


def commission_cap(book: RateBook, date: dt.date) -> float:
    """The commission cap in force on ``date``: the lower of the national cap (应急〔2025〕27号:
    5% from 2025-03-29) and the book's own; ``inf`` where neither sets one.

    Parameters
    ----------
    book : RateBook
    date : datetime.date
        The rating date.

    Returns
    -------
    float
        Share of the premium (0.05 = 5%).
    """
    national = value_at(national_rules().commission_cap, date)
    caps = [c for c in (book.expenses.commission_cap,
                        None if national is None else national.value) if c is not None]
    return min(caps, default=math.inf)


def read_income_statistics(data: dict, name: str | None = None) -> IncomeStatistics:
    """Validate income statistics given as a parsed document (e.g. projected by a scenario)."""
    return _read(IncomeStatistics, data, {}, name)


@functools.cache
def income_statistics() -> IncomeStatistics:
    """The shipped income statistics (``tables/statistics/income.yaml``)."""
    path = tables_dir() / "statistics" / "income.yaml"
    data, lines = load_yaml_file(path)
    return _read(IncomeStatistics, data, lines, str(path))

