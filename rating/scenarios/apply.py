"""Applying a scenario: a new rate book, new income statistics, a changed portfolio.

Nothing is modified in place: each function builds a new document (or frame) from the
input and validates it like any other, so a scenario can never leave a book, the statistics
or the caller's portfolio changed, and never produces a book the loader would refuse.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from ..book import IncomeStatistics, RateBook, load_book, read_income_statistics
from ..book.schema import as_data
from ..engine.calendar import add_months, date_column
from ..engine.columns import Problems, dates, numbers
from ..engine.money import exact, round_half_up
from ..errors import BookError
from .spec import BookChanges, Scenario
from .spec import scenario as read_scenario

COUNT_EXPOSURES = frozenset({"headcount", "vehicles", "vessels"})
MONEY_EXPOSURES = frozenset({"contract_value", "payroll", "revenue"})


# --- the rate book ---------------------------------------------------------------------------

def apply_book(book: RateBook, scenario: Scenario | dict[str, Any]) -> RateBook:
    """The rate book with the scenario's book changes; ``book`` itself is not modified.

    Parameters
    ----------
    book : RateBook
    scenario : Scenario or mapping

    Returns
    -------
    RateBook
        ``book`` itself when the scenario changes nothing in it; otherwise a new, validated
        book: id ``<book id>+<scenario name>``, status ``draft``, the scenario named in its
        title and notes, a note on every object changed.

    Raises
    ------
    BookError
        A change the book cannot take (unknown sector, level or band; float floor above the
        cap...), naming the scenario key, or the book the changes would make is invalid.
    """
    sc = read_scenario(scenario)
    changes = sc.book
    if changes.empty:
        return book
    doc = as_data(book)
    note = f"scenario {sc.name!r}"
    for key, scale in changes.base_rate.items():
        for s, ss in _units(book, sc, ("book", "base_rate", key), key):
            node = doc["sectors"][s]["subsectors"][ss]
            node["base_rate"] *= scale
            _note(node, f"{note}: base rate x {scale:g}")
    _check_once(book, sc, "base_rate", changes.base_rate)
    for key, amount in changes.minimum_premium.items():
        for s, ss in _units(book, sc, ("book", "minimum_premium", key), key):
            node = doc["sectors"][s]["subsectors"][ss]
            node["minimum_premium"] = amount
            _note(node, f"{note}: minimum premium {amount:,.2f}")
    _check_once(book, sc, "minimum_premium", changes.minimum_premium)
    _set_factors(doc, book, sc, note)
    _set_float_bounds(doc, book, sc, note)
    if changes.prevention_share is not None:
        doc["expenses"]["prevention_share_min"] = changes.prevention_share
        _note(doc["expenses"], f"{note}: prevention share {changes.prevention_share:g}")
    doc["id"] = f"{book.id}+{sc.name}"
    doc["status"] = "draft"
    doc["title"] = {"zh": f"{doc['title']['zh']}（情景：{sc.name}）",
                    "en": f"{doc['title']['en']} (scenario: {sc.name})"}
    doc["notes"] = " ".join(filter(None, [doc.get("notes"), f"Scenario {sc.name!r} applied"
                                          + (f": {sc.description}" if sc.description else "")
                                          + "."]))
    try:
        return load_book(doc)
    except BookError as exc:
        raise sc.error(("book",), f"the changed rate book is not valid: {exc.path}: "
                                  f"{exc.reason}") from None


def _units(book: RateBook, sc: Scenario, path: tuple, key: str) -> list[tuple[str, str]]:
    """The (sector, sub-sector) pairs a key addresses: ``all``, a sector, or
    ``sector.subsector``."""
    if key == "all":
        return [(s, ss) for s, sector in book.sectors.items() for ss in sector.subsectors]
    sector, _, sub = key.partition(".")
    if sector not in book.sectors:
        raise sc.error(path, f"unknown sector {sector!r} in {book.id}; use 'all', a sector "
                             "or sector.subsector, sectors: " + ", ".join(book.sectors))
    subs = book.sectors[sector].subsectors
    if not sub:
        return [(sector, ss) for ss in subs]
    if sub not in subs:
        raise sc.error(path, f"unknown sub-sector {sub!r} of {sector}; use one of: "
                             + ", ".join(subs))
    return [(sector, sub)]


def _check_once(book: RateBook, sc: Scenario, name: str, mapping: dict) -> None:
    seen: dict[tuple[str, str], str] = {}
    for key in mapping:
        for unit in _units(book, sc, ("book", name, key), key):
            if unit in seen:
                raise sc.error(("book", name, key), f"{'.'.join(unit)} is addressed by both "
                               f"{seen[unit]!r} and {key!r}; address each sub-sector once")
            seen[unit] = key


def _tables(doc: dict) -> dict[str, dict]:
    """Every factor table (and loading) of a book document by the name scenarios use."""
    out = {f"tiers.{name}": node for name, node in doc.get("tiers", {}).items()}
    for g, group in doc["floating"]["groups"].items():
        out.update({f"floating.{g}.{name}": node for name, node in group["factors"].items()})
    out["limit_factors"] = doc["limit_factors"]
    out.update({f"loadings.{name}": node for name, node in doc.get("loadings", {}).items()})
    return out


def _set_factors(doc: dict, book: RateBook, sc: Scenario, note: str) -> None:
    tables = _tables(doc)
    done: set[tuple] = set()
    for i, change in enumerate(sc.book.factors):
        path = ("book", "factors", i)
        node = tables.get(change.table)
        if node is None:
            raise sc.error(path + ("table",), f"{book.id} has no table {change.table!r}; use "
                           "one of: " + ", ".join(tables))
        if change.table.startswith("loadings."):
            if change.level is not None or change.band is not None:
                raise sc.error(path, "a loading has one factor: give no 'level' or 'band'")
            target, what = node, "factor"
        elif "levels" in node:
            if change.level is None:
                raise sc.error(path, f"{change.table} is categorical: name a 'level' ("
                               + ", ".join(node["levels"]) + ")")
            if change.level not in node["levels"]:
                raise sc.error(path + ("level",), f"{change.table} has no level "
                               f"{change.level!r}; use one of: " + ", ".join(node["levels"]))
            target, what = node["levels"][change.level], f"level {change.level}"
        else:
            lowers = [band["lower"] for band in node["bands"]]
            if change.band is None:
                raise sc.error(path, f"{change.table} is banded: name a 'band' by its lower "
                               "bound (" + ", ".join(f"{x:g}" for x in lowers) + ")")
            if change.band not in lowers:
                raise sc.error(path + ("band",), f"{change.table} has no band starting at "
                               f"{change.band:g}; bands start at: "
                               + ", ".join(f"{x:g}" for x in lowers))
            target = node["bands"][lowers.index(change.band)]
            what = f"band from {change.band:g}"
        key = (change.table, change.level, change.band)
        if key in done:
            raise sc.error(path, f"{change.table} {what} is changed twice; change it once")
        done.add(key)
        target["factor"] = change.factor
        _note(node, f"{note}: {what} factor {change.factor:g}")


def _set_float_bounds(doc: dict, book: RateBook, sc: Scenario, note: str) -> None:
    changes: BookChanges = sc.book
    if changes.float_floor is None and changes.float_cap is None:
        return
    floating = doc["floating"]
    floor = floating["floor"] if changes.float_floor is None else changes.float_floor
    cap = floating["cap"] if changes.float_cap is None else changes.float_cap
    if floor > cap:
        which = "float_floor" if changes.float_floor is not None else "float_cap"
        raise sc.error(("book", which), f"float floor {floor:g} would be above the float cap "
                       f"{cap:g} of {book.id}")
    if floor > 1:
        raise sc.error(("book", "float_floor"), f"float floor {floor:g} is above 1: a clean "
                       "record would be floated up; use a floor of at most 1")
    if cap < 1:
        raise sc.error(("book", "float_cap"), f"float cap {cap:g} is below 1: a clean record "
                       "would be floated down; use a cap of at least 1")
    floating["floor"], floating["cap"] = floor, cap
    _note(floating, f"{note}: float bounds {floor:g} to {cap:g}")


def _note(node: dict, text: str) -> None:
    node["note"] = f"{node['note']} {text}." if node.get("note") else f"{text}."


# --- statistics ------------------------------------------------------------------------------

def apply_statistics(income: IncomeStatistics, scenario: Scenario | dict[str, Any], *,
                     regions: list[str] | None = None) -> IncomeStatistics:
    """Income statistics with the scenario's projected figures added.

    Each region's series is extended from its last published figure by the growth path:
    ``value[y] = value[y - 1] x (1 + rate[y])``, rounded half-up to the yuan like published
    figures. Published figures are never replaced. Projected figures are marked
    ``illustrative`` with ``confidence: low`` and a note naming the scenario.

    The regions projected are the scenario's ``regions``, else ``regions`` (the runner
    passes those of the books it rates), else every series.

    Returns
    -------
    IncomeStatistics
        ``income`` itself when the scenario has no statistics changes.

    Raises
    ------
    BookError
        An unknown region, or a path that starts after a region's last figure + 1 (a gap).
    """
    sc = read_scenario(scenario)
    if sc.statistics is None:
        return income
    growth = sc.statistics.income_growth
    doc = as_data(income)
    chosen = sc.statistics.regions or regions or list(doc["series"])
    for i, region in enumerate(chosen):
        if region not in doc["series"]:
            raise sc.error(("statistics", "regions", i), f"no income series {region!r}; use "
                           "one of: " + ", ".join(doc["series"]))
        values = doc["series"][region]["values"]
        last = values[-1]
        if growth.first_year > last["year"] + 1:
            raise sc.error(("statistics", "income_growth", "first_year"),
                           f"{region}'s last figure is for {last['year']}: the path must start "
                           f"by {last['year'] + 1} (starts {growth.first_year})")
        value = last["value"]
        for k, rate in enumerate(growth.rates):
            year = growth.first_year + k
            if year <= last["year"]:
                continue
            value = math.floor(value * (1.0 + rate) + 0.5)
            values.append({"year": year, "value": float(value), "illustrative": True,
                           "confidence": "low",
                           "note": f"scenario {sc.name!r}: {year - 1} figure x {1 + rate:g}"})
    try:
        return read_income_statistics(doc)
    except BookError as exc:
        raise sc.error(("statistics",), f"the projected statistics are not valid: "
                                        f"{exc.path}: {exc.reason}") from None


# --- the portfolio ---------------------------------------------------------------------------

def apply_portfolio(frame: pd.DataFrame, scenario: Scenario | dict[str, Any]) -> pd.DataFrame:
    """A copy of the portfolio with the scenario's portfolio changes.

    Dates move ``years_forward`` years; exposures grow (counts round half-up to whole units,
    money amounts to the fen, exactly half-up); safety-record counts shift for a seeded random
    share of the policies. Only rows of the scenario's ``sectors`` change. Columns keep their
    kind (dates written as they were, counts as whole numbers). Bringing the policies within
    the rules of the scenario's book (limits, commission, prevention share) is done when they
    are rated (:func:`rating.scenarios.rate_scenarios`).

    Returns
    -------
    DataFrame
        Same index, order and columns as ``frame`` (plus a record column a shift needs that
        the frame lacked); a copy even when nothing changes.

    Raises
    ------
    ProfileError
        A column the changes read holds invalid values (naming row and field).
    """
    sc = read_scenario(scenario)
    changes = sc.portfolio
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame never changes
    if changes is None:
        return out
    n = len(out)
    problems = Problems(out.index)
    rows = _rows_in_sectors(out, sc)
    for name in ("inception_date", "expiry_date"):
        if changes.years_forward and name in out.columns:
            days = dates(out[name], name, problems, n=n)
            moved = np.where(rows, add_months(days, 12 * changes.years_forward), days)
            out[name] = date_column(moved, out[name])
    for name, rate in changes.exposure_growth.items():
        if name in out.columns:
            out[name] = _grow(out[name], name, rate, rows, problems)
    for shift in changes.record_shift:
        out[shift.field] = _shift(out.get(shift.field), shift, rows, problems, n)
    problems.raise_if_any()
    return out


def _rows_in_sectors(frame: pd.DataFrame, sc: Scenario) -> np.ndarray:
    sectors = None if sc.portfolio is None else sc.portfolio.sectors
    if sectors is None:
        return np.ones(len(frame), dtype=bool)
    if "sector" not in frame.columns:
        raise sc.error(("portfolio", "sectors"), "the portfolio has no 'sector' column")
    return frame["sector"].astype("string").str.strip().isin(sectors).fillna(False).to_numpy(bool)


def _grow(values: pd.Series, name: str, rate: float, rows: np.ndarray,
          problems: Problems) -> np.ndarray:
    x = numbers(values, name, problems, n=len(values))
    grown = x * (1.0 + rate)
    digits = 0 if name in COUNT_EXPOSURES else 2 if name in MONEY_EXPOSURES else None
    if digits is not None:
        factor = 1 + Decimal(repr(rate))  # the rate as written, so halves are found exactly
        ok = ~np.isnan(x)
        grown[ok] = round_half_up(grown[ok], lambda at: exact(x[ok][at]) * factor, digits)
    return np.where(rows & ~np.isnan(x), grown, x)


def _shift(values: pd.Series | None, shift, rows: np.ndarray, problems: Problems,
           n: int) -> np.ndarray:
    if values is None:
        counts = np.zeros(n, dtype=np.int64)  # a record count left out is 0
    else:
        x = numbers(values, shift.field, problems, n=n, integer=True)
        counts = np.where(np.isnan(x), 0, x).astype(np.int64)
    eligible = np.flatnonzero(rows & (counts > 0 if shift.add < 0 else True))
    k = math.floor(shift.share * len(eligible) + 0.5)
    chosen = np.random.default_rng(shift.seed).choice(eligible, size=k, replace=False)
    out = counts.copy()
    out[chosen] = np.maximum(out[chosen] + shift.add, 0)
    return out

