"""Renewals: next year's profile from last year's and the policy year's experience.

A renewal re-rates an enterprise on what happened in the policy year that is ending. The
year's experience arrives as *events*, one row each:

========================  =====================================================================
kind                      fields
========================  =====================================================================
``accident``              ``grade`` (general / larger / major / especially_major; if absent,
                          derived from ``deaths``, ``serious_injuries`` and ``direct_loss`` by
                          :func:`rating.settlement.accident_grade`), ``deaths`` (persons)
``claim``                 ``amount`` (yuan paid)
``hazard``                ``major`` (true/false), ``rectified`` (true/false, by the end of the
                          policy year; required for a major hazard)
``standardisation``       ``grade`` (none / grade_3 / grade_2 / grade_1): the new grade
``honour``                ``level`` (none / city / provincial): the new level
``blacklist``             ``status`` (true/false): on the joint-sanction blacklist or not
========================  =====================================================================

Every event also has ``policy`` (the policy's ``id``) and ``date`` (YYYY-MM-DD, inside that
policy's year), and may have ``id`` (quoted in the reasons) and ``note`` (ignored).

Rules (the floating-rate inputs describe "the policy year before the one being rated", see
:mod:`rating.book.fields`):

- ``accidents_<grade>``: the year's accidents of that grade; ``deaths``: their deaths.
- ``major_hazards_unrectified``: major hazards found in the year and not rectified by its end.
  The up-float for hazards left unrectified is 厦应急规〔2022〕2号 二(六)
  ("对存在重大隐患拒不整改的…可在下一年度上浮保险费率"); a hazard rectified in time raises
  nothing.
- ``claim_free_years``: last year's count + 1 after a year with no claim and no accident, else
  0. Any claim event breaks the run, whatever its amount: an accident is a claim in waiting.
- ``standardisation_grade``, ``honour``, ``blacklisted``: the latest event's value (on the same
  date, the later row), else unchanged.
- ``inception_date``: the day after last year's expiry (default expiry: the day before the
  anniversary; from 29 February, 28 February next year). ``expiry_date``, when given, keeps
  the term: whole-month terms (annual ones included) the same number of months, so a leap day
  does not shift the anniversary; other terms the same number of days.
- Everything else is carried over unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from .book import RateBook, load_book
from .book.fields import ACCIDENT_GRADES, check_known
from .book.library import Books
from .compliance import within_rules
from .engine.calendar import date_column
from .engine.columns import (
    INVALID,
    MISSING,
    Problems,
    absent,
    categories,
    dates,
    flags,
    numbers,
    show_value,
)
from .errors import ProfileError
from .portfolio import editions_in_force, rate_portfolio
from .quote import Quote, quote
from .settlement import accident_grade

EVENT_KINDS = ("accident", "claim", "hazard", "standardisation", "honour", "blacklist")
STANDARDISATION_GRADES = ("none", "grade_3", "grade_2", "grade_1")
HONOUR_LEVELS = ("none", "city", "provincial")

EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    # kind-specific column -> the kinds it belongs to
    "grade": ("accident", "standardisation"),
    "deaths": ("accident",),
    "serious_injuries": ("accident",),
    "direct_loss": ("accident",),
    "amount": ("claim",),
    "major": ("hazard",),
    "rectified": ("hazard",),
    "level": ("honour",),
    "status": ("blacklist",),
}
EVENT_COLUMNS = ("policy", "date", "kind", *EVENT_FIELDS, "id", "note")
"""Columns an events frame may have."""

ACCIDENT_FIELDS = tuple(f"accidents_{g}" for g in ACCIDENT_GRADES)
RECORD_FIELDS = ("inception_date", "expiry_date", *ACCIDENT_FIELDS, "deaths",
                 "major_hazards_unrectified", "claim_free_years", "standardisation_grade",
                 "honour", "blacklisted")
"""Profile fields a renewal may change, in the order ``changes`` lists them."""

CHANGE_COLUMNS = ["policy", "field", "before", "after", "reason"]

_VARIABLE_FIELDS = {"worst_accident_grade": ACCIDENT_FIELDS}
"""Floating-table variables computed from several profile fields (others are one field)."""

_K = {k: i for i, k in enumerate(EVENT_KINDS)}


class EventError(ProfileError):
    """An event (a row of the events frame) is invalid.

    Attributes are those of :class:`rating.ProfileError`; ``field`` is the events column.
    """

    def __init__(self, field: str, reason: str, *, row: object | None = None):
        super().__init__(field, reason, row=row)
        where = f"row {row!r}: " if row is not None else ""
        self.args = (f"events: {where}{field}: {reason}",)


# --- the renewal of one enterprise ---------------------------------------------------------


@dataclass(frozen=True)
class Renewal:
    """One enterprise's renewal.

    Attributes
    ----------
    profile : dict
        Next year's profile.
    quote : Quote
        The renewal quote (next year's profile).
    previous : Quote
        The quote of last year's profile, so each factor's change is visible.
    changes : DataFrame
        ``policy, field, before, after, reason``: each profile field the renewal changed and
        the events that moved it (see :func:`next_profiles`).
    worksheet : DataFrame
        One row per floating-factor table whose factor changed: ``group``, ``table``,
        ``variable``, ``value_before``, ``value_after``, ``factor_before``, ``factor_after``,
        ``group_factor_before``, ``group_factor_after`` and ``experience`` (the field changes
        behind the variable, with their reasons).
    """

    profile: dict[str, Any]
    quote: Quote
    previous: Quote
    changes: pd.DataFrame
    worksheet: pd.DataFrame

    @property
    def premium_change(self) -> float:
        """Renewal premium over last year's (ratio; 1.1 is +10%)."""
        return self.quote.premium / self.previous.premium


def renew(profile: Mapping[str, Any],
          events: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
          book: RateBook | str | Path | None = None, *, books: Books = None,
          final_only: bool | None = None, any_date: bool = False) -> Renewal:
    """Renew one enterprise's policy on its policy year's experience.

    Parameters
    ----------
    profile : mapping
        Last year's profile (the fields of a quote), with ``inception_date``.
    events : DataFrame or list of mappings, optional
        The policy year's events (see the module docstring). ``policy`` may be left out; given,
        it must be the profile's ``id``. None or empty: a year without events.
    book : RateBook or path, optional
        For both quotes (in force at both inceptions unless ``any_date``); default the edition
        in force at each one's inception, from the library ``books`` and the shipped books.
    books, final_only, any_date
        As for :func:`rating.quote`.

    Returns
    -------
    Renewal

    Raises
    ------
    ProfileError
        For a bad profile; :class:`EventError` (a ProfileError) for a bad event, naming the
        event's row (its position in a list) and field.
    """
    if not isinstance(profile, Mapping):
        raise ProfileError("profile", f"expected a mapping of fields, got {type(profile).__name__}")
    check_known(profile)
    # a profile without an id still renews: its events need not name it
    pid = profile.get("id")
    key = pid if pid is not None else "<profile>"
    frame = pd.DataFrame({k: [v] for k, v in {**profile, "id": key}.items()})
    year = _as_frame(events)
    if len(year):  # one enterprise's events need not name it
        policy = year["policy"] if "policy" in year.columns else pd.Series(np.nan, year.index)
        year = year.assign(policy=policy.astype(object).where(policy.notna(), key))
    new, changes = _next_profiles(frame, year, single=True)
    if isinstance(book, (str, Path)):  # read once, for the rules and both quotes
        book = load_book(book)
    new, ruled = _within_rules(new, book, books)
    changes = pd.concat([changes, ruled], ignore_index=True) if len(ruled) else changes
    if pid is None:
        changes = changes.assign(policy=None)
    next_profile = _row_dict(new, profile, keep_id=pid is not None)
    options: dict[str, Any] = {"books": books, "final_only": final_only, "any_date": any_date}
    previous = quote(profile, book=book, **options)
    renewed = quote(next_profile, book=book, **options)
    return Renewal(next_profile, renewed, previous, changes,
                   _renewal_worksheet(previous.floating, renewed.floating, changes))


def _within_rules(profiles: pd.DataFrame, book: RateBook | str | Path | None,
                  books: Books = None):
    """Next year's profiles within the rules of the edition each renews on
    (:mod:`rating.compliance`), and the changes that made: ``policy, field, before, after,
    reason``. Rows without an edition are left for the rating to report."""
    if isinstance(book, (str, Path)):
        book = load_book(book)
    problems = Problems(profiles.index)
    if book is None and "jurisdiction" not in profiles.columns:
        return profiles, pd.DataFrame(columns=CHANGE_COLUMNS)
    out, pieces = profiles, []
    for rows, edition in editions_in_force(profiles, book, None, problems, books):
        rows = rows[~problems.bad_rows()[rows]]
        brought = within_rules(out.iloc[rows], edition)
        if len(brought.changes):
            out = out.copy() if out is profiles else out
            for column, moved in brought.moved.items():
                if moved.any():  # only the replaced values: bad text stays for the rating
                    values = out[column].astype(object)
                    values.iloc[rows[moved]] = brought.frame[column].to_numpy()[moved]
                    out[column] = values
            pos = rows[brought.changes["pos"].to_numpy()]
            pieces.append(brought.changes.assign(
                policy=profiles["id"].to_numpy(dtype=object)[pos] if "id" in profiles.columns
                else None, pos=pos))
    if not pieces:
        return out, pd.DataFrame(columns=CHANGE_COLUMNS)
    changes = pd.concat(pieces, ignore_index=True).sort_values("pos", kind="stable")
    return out, changes[CHANGE_COLUMNS].astype(object).reset_index(drop=True)


def _as_frame(events) -> pd.DataFrame:
    if events is None:
        return pd.DataFrame()
    if isinstance(events, pd.DataFrame):
        return events
    if isinstance(events, (Mapping, str)) or not isinstance(events, Sequence):
        raise ProfileError("events", "expected a DataFrame or a list of events (mappings), "
                           f"got {type(events).__name__}")
    if not all(isinstance(e, Mapping) for e in events):
        raise ProfileError("events", "each event must be a mapping of fields")
    return pd.DataFrame(list(events))


def _row_dict(frame: pd.DataFrame, original: Mapping[str, Any], keep_id: bool) -> dict:
    """Row 0 as a profile mapping: plain Python values, no empty fields the original lacked."""
    out = {}
    for name, value in frame.iloc[0].items():
        if isinstance(value, np.generic):
            value = value.item()
        if name == "id" and not keep_id:
            continue
        if name not in original and (value is None or (isinstance(value, float)
                                                       and np.isnan(value))):
            continue
        out[name] = value
    return out


def _renewal_worksheet(before: pd.DataFrame, after: pd.DataFrame,
                       changes: pd.DataFrame) -> pd.DataFrame:
    """The floating tables whose factor changed, beside the experience behind each."""
    keys = ["group", "table", "variable"]
    cols = keys + ["value", "factor", "group_factor"]
    # outer: a new edition may add or drop a table; a missing side is NaN, hence "changed"
    both = before[cols].merge(after[cols].assign(order=np.arange(len(after))), on=keys,
                              how="outer", suffixes=("_before", "_after"))
    both = both.sort_values("order", kind="stable", na_position="last")  # the book's order
    moved = both[~(both.factor_before == both.factor_after)].reset_index(drop=True)
    moved = moved[keys + [f"{c}_{s}" for c in ("value", "factor", "group_factor")
                          for s in ("before", "after")]]
    fields = pd.DataFrame([(v, f) for v in moved.variable.unique()
                           for f in _VARIABLE_FIELDS.get(v, (v,))], columns=["variable", "field"])
    text = changes.assign(
        text=changes.field + " " + changes.before.map(_show) + " → "
        + changes.after.map(_show) + ": " + changes.reason)
    experience = (fields.merge(text[["field", "text"]], on="field")
                  .groupby("variable", sort=False).text.agg("; ".join))
    return moved.assign(experience=moved.variable.map(experience).fillna(""))


def _show(value) -> str:
    return "none" if value is None else str(value)


# --- a portfolio ---------------------------------------------------------------------------


def renew_portfolio(policies: pd.DataFrame, events: pd.DataFrame | None,
                    book: RateBook | str | Path | None = None, *, books: Books = None,
                    final_only: bool | None = None, any_date: bool = False) -> pd.DataFrame:
    """Renew a book of policies on their policy year's events and rate both years.

    Parameters
    ----------
    policies : DataFrame
        Last year's profiles, one per row, with a unique ``id``.
    events : DataFrame
        The policy year's events of every policy (see the module docstring).
    book : RateBook or path, optional
        For every row of both years; default each row's edition in force at its inception
        (from the library ``books`` and the shipped books).
    books, final_only, any_date
        As for :func:`rating.rate_portfolio`.

    Returns
    -------
    DataFrame
        :func:`rating.rate_portfolio` of next year's profiles (indexed like ``policies``), with
        ``premium_before`` (yuan: last year's profiles rated the same way) and
        ``premium_change`` (ratio ``premium / premium_before``) after ``premium``.
    """
    if not isinstance(policies, pd.DataFrame):
        raise ProfileError("policies", f"expected a DataFrame, got {type(policies).__name__}")
    new, _ = _next_profiles(policies, _as_frame(events), changes=False)
    if isinstance(book, (str, Path)):  # read once, for the rules and both years
        book = load_book(book)
    new, _ = _within_rules(new, book, books)
    before = rate_portfolio(policies, book, books=books, final_only=final_only,
                            any_date=any_date)
    after = rate_portfolio(new, book, books=books, final_only=final_only, any_date=any_date)
    after.insert(1, "premium_before", before.premium)
    after.insert(2, "premium_change", after.premium / before.premium)
    return after


def next_profiles(policies: pd.DataFrame,
                  events: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Next year's profiles from last year's and the policy year's events.

    Parameters
    ----------
    policies : DataFrame
        Last year's profiles, one per row: a unique ``id``, ``inception_date``, optionally
        ``expiry_date``, and the rating fields.
    events : DataFrame
        The year's events (see the module docstring); ``policy`` matches ``policies.id``.

    Returns
    -------
    profiles : DataFrame
        Next year's profiles, same index and columns (plus the safety-record fields the
        events set).
    changes : DataFrame
        One row per policy and field changed: ``policy`` (id), ``field``, ``before``,
        ``after`` and ``reason`` (the events that moved it, or why it moved without one), in
        policy order, fields in :data:`RECORD_FIELDS` order.

    Raises
    ------
    ProfileError
        For a bad policy row (row label and field); :class:`EventError` for a bad event (event
        row label and field: unknown kind, bad or missing date, a date outside its policy's
        year, an unknown policy id, a negative count ...).
    """
    if not isinstance(policies, pd.DataFrame):
        raise ProfileError("policies", f"expected a DataFrame, got {type(policies).__name__}")
    return _next_profiles(policies, _as_frame(events))


@overload
def _next_profiles(policies: pd.DataFrame, events: pd.DataFrame, *, single: bool = False,
                   changes: Literal[True] = True) -> tuple[pd.DataFrame, pd.DataFrame]: ...
@overload
def _next_profiles(policies: pd.DataFrame, events: pd.DataFrame, *, single: bool = False,
                   changes: Literal[False]) -> tuple[pd.DataFrame, None]: ...
def _next_profiles(policies: pd.DataFrame, events: pd.DataFrame, *, single: bool = False,
                   changes: bool = True) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """:func:`next_profiles`; ``single``: errors name the field only (one profile);
    ``changes=False`` skips the changes frame (None), which rating alone does not need."""
    before = _read_policies(policies, single)
    parsed = _read_events(events, before)
    after = _roll(before, _aggregate(parsed, len(policies)))
    out = _write(policies, before, after)
    return out, _changes(policies, before, after, parsed) if changes else None


# --- reading -------------------------------------------------------------------------------


def _read_policies(policies: pd.DataFrame, single: bool) -> dict[str, np.ndarray]:
    """Ids (as match keys), policy years and the safety record of last year's profiles."""
    check_known(policies.columns)
    n = len(policies)
    problems = Problems(policies.index, single=single)
    if "id" not in policies.columns:
        raise ProfileError("id", "is required to match events to policies")
    keys = _keys(policies["id"])
    problems.add(pd.isna(keys), "id", "is required to match events to policies")
    dup = pd.Series(keys).duplicated(keep=False).to_numpy() & ~pd.isna(keys)
    for key in pd.unique(keys[dup]):
        problems.add(keys == key, "id", f"{key!r} is not unique")
    col = policies.get
    start = dates(col("inception_date"), "inception_date", problems, n=n)
    problems.add(np.isnat(start) & absent(col("inception_date"), n), "inception_date",
                 "is required (YYYY-MM-DD)")
    given = dates(col("expiry_date"), "expiry_date", problems, n=n)
    problems.add(~np.isnat(given) & (given < start), "expiry_date", "is before inception_date")
    record: dict[str, np.ndarray] = {"key": keys, "inception_date": start, "expiry_given": given,
                                     "expiry_date": np.where(np.isnat(given),
                                                             _year_end(start, 12), given)}
    for name in (*ACCIDENT_FIELDS, "deaths", "major_hazards_unrectified", "claim_free_years"):
        counts = numbers(col(name), name, problems, n=n, integer=True)
        record[name] = np.nan_to_num(counts).astype(np.int64)  # no record means none
    for name in ("standardisation_grade", "honour"):
        record[name] = _level_text(col(name), n)
    flag = flags(col("blacklisted"), "blacklisted", problems, n=n)
    # None where absent (np.where takes None as an object scalar: see _iso)
    blacklisted: np.ndarray = flag == 1
    record["blacklisted"] = np.where(flag == MISSING, None,  # type: ignore[call-overload]
                                     blacklisted).astype(object)
    try:
        problems.raise_if_any()
    except ProfileError as exc:
        raise ProfileError(exc.field, exc.reason, row=_plain(exc.row)) from None
    return record


def _plain(label: object) -> object:
    """A row label as the user wrote it: 3, not np.int64(3), in messages."""
    return label.item() if isinstance(label, np.generic) else label


def _keys(values: pd.Series) -> np.ndarray:
    """Ids as match keys: text, stripped, whole numbers without a decimal point (a CSV file
    may read one frame's ids as numbers and the other's as text); None where missing."""
    present = ~absent(values, len(values))
    if pd.api.types.is_float_dtype(values.dtype) and (
            values[present] == np.floor(values[present])).all():
        values = values.astype("Int64")  # 17.0 -> 17
    text: np.ndarray = values.astype(str).str.strip().to_numpy(dtype=object)
    return np.where(present, text, None)  # type: ignore[call-overload]  # see _iso


def _level_text(values: pd.Series | None, n: int) -> np.ndarray:
    """A level field as stripped text, None where absent (the book's default applies)."""
    if values is None:
        return np.full(n, None, dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = [str(u).strip() or None for u in uniques]
    return np.array(text + [None], dtype=object)[codes]


def _read_events(events: pd.DataFrame, policies: dict[str, np.ndarray]) -> pd.DataFrame:
    """Validated events, one row each, sorted by policy position then date (stable).

    Columns: ``pos`` (policy row position), ``date``, ``kind`` (code in EVENT_KINDS),
    ``grade`` (accident grade code), ``deaths`` (persons), ``major``, ``unrectified`` (a major
    hazard left open), ``standardisation``, ``honour`` (level codes), ``status`` (blacklist
    code), ``amount`` (yuan) and ``event_id``; codes are MISSING where the kind has none.
    """
    unknown = [c for c in events.columns if c not in EVENT_COLUMNS]
    if unknown:
        raise EventError(str(unknown[0]), "unknown event column; valid columns: "
                         + ", ".join(EVENT_COLUMNS))
    if not len(events):
        return _empty_events()
    n = len(events)
    problems = Problems(events.index)
    col = events.get
    for name in ("policy", "date", "kind"):
        if name not in events.columns:
            raise EventError(name, "is required for every event")

    kind = _levels(col("kind"), "kind", EVENT_KINDS, np.ones(n, bool), "an event kind",
                   problems)
    is_kind = {k: kind == i for k, i in _K.items()}
    for name, owners in EVENT_FIELDS.items():
        given = ~absent(col(name), n)
        for k in EVENT_KINDS:
            if k not in owners:
                problems.add(given & is_kind[k], name, f"does not go with a {k} event (it "
                             f"belongs to {' and '.join(owners)} events)")

    pos = _policy_positions(col("policy"), policies, problems)
    day = dates(col("date"), "date", problems, n=n)
    problems.add(np.isnat(day) & absent(col("date"), n), "date", "is required (YYYY-MM-DD)")
    _check_in_year(day, pos, policies, problems)

    measures = pd.DataFrame({  # NaN (absent or bad, the latter reported) counts as none
        "deaths": numbers(col("deaths"), "deaths", problems, n=n, integer=True),
        "serious_injuries": numbers(col("serious_injuries"), "serious_injuries", problems, n=n,
                                    integer=True),
        "direct_loss": numbers(col("direct_loss"), "direct_loss", problems, n=n)}).fillna(0)
    grade = _accident_grades(col("grade"), measures, is_kind["accident"], problems)
    deaths = measures.deaths.to_numpy()
    amount = numbers(col("amount"), "amount", problems, n=n)
    cents = amount * 100  # 0.29 × 100 is 28.999999999999996: allow float error, as books do
    problems.add(is_kind["claim"] & ~np.isnan(amount)
                 & (np.abs(cents - np.round(cents)) > 1e-9 + 8 * np.finfo(float).eps * cents),
                 "amount", "has fractions of a fen; amounts are yuan with at most 2 decimals")

    major = _flag(col("major"), "major", is_kind["hazard"], "a hazard event", problems)
    rectified = _flag(col("rectified"), "rectified", is_kind["hazard"] & (major == 1),
                      "a major hazard (rectified by the end of the policy year?)", problems)
    status = _flag(col("status"), "status", is_kind["blacklist"], "a blacklist event",
                   problems)
    std = _levels(col("grade"), "grade", STANDARDISATION_GRADES, is_kind["standardisation"],
                  "a standardisation grade", problems)
    honour = _levels(col("level"), "level", HONOUR_LEVELS, is_kind["honour"],
                     "an honour level", problems)
    try:
        problems.raise_if_any()
    except ProfileError as exc:
        raise EventError(exc.field, exc.reason, row=_plain(exc.row)) from None

    parsed = pd.DataFrame({
        "pos": pos, "date": day, "kind": kind, "grade": grade,
        "deaths": np.where(is_kind["accident"], deaths, 0).astype(np.int64),
        "major": major == 1,
        "unrectified": is_kind["hazard"] & (major == 1) & (rectified == 0),
        "standardisation": std, "honour": honour, "status": status, "amount": amount,
        "event_id": (np.full(n, None, dtype=object) if col("id") is None else
                     np.where(absent(col("id"), n), None, col("id").astype(str).to_numpy(object))),
    })
    return parsed.sort_values(["pos", "date"], kind="stable", ignore_index=True)


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame({
        "pos": np.zeros(0, np.int64), "date": np.zeros(0, "datetime64[D]"),
        "kind": np.zeros(0, np.int64), "grade": np.zeros(0, np.int64),
        "deaths": np.zeros(0, np.int64), "major": np.zeros(0, bool),
        "unrectified": np.zeros(0, bool), "standardisation": np.zeros(0, np.int64),
        "honour": np.zeros(0, np.int64), "status": np.zeros(0, np.int64),
        "amount": np.zeros(0), "event_id": np.zeros(0, dtype=object)})


def _levels(values: pd.Series | None, name: str, levels: Sequence[str], needed: np.ndarray,
            what: str, problems: Problems) -> np.ndarray:
    """Level codes where ``needed`` (MISSING elsewhere); a missing or unknown level there is a
    problem naming the value and the valid levels."""
    n = len(needed)
    codes = categories(values, name, levels, None, n=n)
    problems.add(needed & (codes == MISSING), name,
                 f"is required; use one of: {', '.join(levels)}")
    bad = needed & (codes == INVALID)
    if bad.any():
        if values is None:  # categories: an absent column is MISSING, never INVALID
            raise ValueError(f"{name}: invalid levels in an absent column")
        raw = values.to_numpy(dtype=object)
        for value in pd.unique(raw[bad]):
            problems.add(bad & (raw == value), name, f"{show_value(value)} is not {what}; use "
                         "one of: " + ", ".join(levels))
    return np.where(needed, codes, MISSING)


def _flag(values: pd.Series | None, name: str, needed: np.ndarray, what: str,
          problems: Problems) -> np.ndarray:
    """0/1 where ``needed`` (MISSING elsewhere); missing there is a problem."""
    n = len(needed)
    raw = flags(values, name, problems, n=n)
    problems.add(needed & (raw == MISSING) & absent(values, n), name,
                 f"is required (true/false) for {what}")
    return np.where(needed, raw, MISSING)


def _policy_positions(values: pd.Series, policies: dict[str, np.ndarray],
                      problems: Problems) -> np.ndarray:
    """Row position of each event's policy (-1 where unknown or missing)."""
    keys = _keys(values)
    pos = pd.Index(policies["key"]).get_indexer(keys)
    problems.add(pd.isna(keys), "policy", "is required (the id of a policy)")
    unknown = (pos < 0) & ~pd.isna(keys)
    for key in pd.unique(keys[unknown]):
        problems.add(keys == key, "policy", f"{key!r} is not the id of any policy")
    return pos


def _check_in_year(day: np.ndarray, pos: np.ndarray, policies: dict[str, np.ndarray],
                   problems: Problems) -> None:
    """Each event must fall inside its policy's year (inception to expiry, inclusive)."""
    known = pos >= 0
    safe = np.where(known, pos, 0)
    start, end = policies["inception_date"][safe], policies["expiry_date"][safe]
    outside = known & ~np.isnat(day) & ((day < start) | (day > end))
    for p in np.unique(pos[outside]):  # one message per policy: it names that policy's year
        problems.add(outside & (pos == p), "date",
                     f"is outside the policy year of policy {policies['key'][p]!r} "
                     f"({start[pos == p][0]} to {end[pos == p][0]})")


def _accident_grades(stated: pd.Series | None, measures: pd.DataFrame, is_accident: np.ndarray,
                     problems: Problems) -> np.ndarray:
    """Each accident's grade code in ACCIDENT_GRADES (MISSING for other events).

    Parameters
    ----------
    stated : Series or None
        The ``grade`` column as given.
    measures : DataFrame
        ``deaths`` (persons), ``serious_injuries`` (persons) and ``direct_loss`` (yuan) per
        event, 0 where not given.

    A stated grade is kept (serious injuries or losses the event omits may justify it) unless
    the given deaths, serious injuries or direct loss put the accident in a higher grade;
    an accident without a grade gets the one they imply (国务院令第493号 第三条).
    """
    n = len(measures)
    stated = _levels(stated, "grade", ACCIDENT_GRADES, is_accident & ~absent(stated, n),
                     "an accident grade", problems)
    measures = measures[is_accident]
    # the State Council thresholds are applied once per distinct (deaths, injuries, loss)
    distinct = measures.drop_duplicates()
    distinct = distinct.assign(implied=[
        ACCIDENT_GRADES.index(accident_grade(int(d), int(s), float(loss)))
        for d, s, loss in distinct.itertuples(index=False)])
    implied = np.full(n, MISSING, dtype=np.int64)
    implied[is_accident] = measures.merge(distinct, how="left", on=list(measures.columns)
                                          ).implied.to_numpy()
    for g, name in enumerate(ACCIDENT_GRADES):
        problems.add(is_accident & (stated >= 0) & (stated < g) & (implied == g), "grade",
                     f"is below {name!r}, the grade its deaths, serious injuries or direct "
                     "loss imply (国务院令第493号 第三条)")
    return np.where(stated >= 0, stated, implied)


def _describe(parsed: pd.DataFrame) -> np.ndarray:
    """One line per event for the reasons, e.g. ``accident 2024-05-10: larger, 2 deaths``."""
    kind = parsed.kind.to_numpy()
    name = np.array(EVENT_KINDS, dtype=object)[kind]
    when = np.datetime_as_string(parsed.date.to_numpy().astype("datetime64[D]"), unit="D")
    label = name + " " + when.astype(object)
    ids = parsed.event_id.to_numpy(dtype=object)
    label = np.where(pd.isna(ids), label, label + " (" + ids.astype(str) + ")")
    amount = parsed.amount.to_numpy()
    grades = np.array(ACCIDENT_GRADES + ("",), dtype=object)[parsed.grade.to_numpy()]
    deaths = parsed.deaths.to_numpy()
    accident = grades + np.where(deaths > 0, ", " + deaths.astype(str).astype(object)
                                 + np.where(deaths == 1, " death", " deaths"), "")
    claim = np.where(np.isnan(amount), "amount not given",
                     np.char.mod("%.2f yuan paid", np.nan_to_num(amount)).astype(object))
    hazard = np.where(~parsed.major, "not major",
                      np.where(parsed.unrectified, "major, not rectified", "major, rectified"))
    std = np.array(STANDARDISATION_GRADES + ("",), dtype=object)[parsed.standardisation]
    honour = np.array(HONOUR_LEVELS + ("",), dtype=object)[parsed.honour]
    listed = np.where(parsed.status == 1, "listed", "removed")
    detail = np.select([kind == _K[k] for k in EVENT_KINDS],
                       [accident, claim, hazard, std, honour, listed], "")
    return (label + ": " + detail.astype(object)).astype(object)


# --- the rules -----------------------------------------------------------------------------


def _aggregate(parsed: pd.DataFrame, n: int) -> pd.DataFrame:
    """The year's record per policy position (0 .. n-1), one groupby over the events."""
    accident = parsed.kind == _K["accident"]
    indicators = {f: accident & (parsed.grade == g) for g, f in enumerate(ACCIDENT_FIELDS)}
    counted = parsed.assign(**indicators, broke=accident | (parsed.kind == _K["claim"]))
    spec = {f: (f, "sum") for f in ACCIDENT_FIELDS}
    record = counted.groupby("pos").agg(**spec, deaths=("deaths", "sum"),
                                        major_hazards_unrectified=("unrectified", "sum"),
                                        broke=("broke", "any"))
    record = record.astype(np.int64).reindex(range(n), fill_value=0)
    # the latest event of each kind sets its field; parsed is sorted by (pos, date), stably
    for kind, column in (("standardisation", "standardisation"), ("honour", "honour"),
                         ("blacklist", "status")):
        latest = parsed[parsed.kind == _K[kind]].groupby("pos")[column].last()
        record[kind] = latest.reindex(range(n), fill_value=MISSING).to_numpy()
    return record


def _roll(before: dict[str, np.ndarray], record: pd.DataFrame) -> dict[str, np.ndarray]:
    """Next year's record fields and dates."""
    after = {name: record[name].to_numpy() for name in (*ACCIDENT_FIELDS, "deaths",
                                                        "major_hazards_unrectified")}
    broke = record.broke.to_numpy().astype(bool)
    after["claim_free_years"] = np.where(broke, 0, before["claim_free_years"] + 1)
    after["standardisation_grade"] = _latest(record.standardisation.to_numpy(),
                                             STANDARDISATION_GRADES,
                                             before["standardisation_grade"])
    after["honour"] = _latest(record.honour.to_numpy(), HONOUR_LEVELS, before["honour"])
    status = record.blacklist.to_numpy()
    after["blacklisted"] = np.where(status == MISSING, before["blacklisted"],
                                    status == 1).astype(object)
    start, end = before["inception_date"], before["expiry_date"]
    new_start = end + 1
    after["inception_date"] = new_start
    after["expiry_date"] = np.where(np.isnat(before["expiry_given"]),
                                    np.datetime64("NaT", "D"), _same_term(start, end, new_start))
    return after


def _latest(codes: np.ndarray, levels: Sequence[str], before: np.ndarray) -> np.ndarray:
    names = np.array(list(levels) + [None], dtype=object)
    return np.where(codes == MISSING, before, names[codes])


def _year_end(start: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """The last day of a term of whole ``months`` from ``start``: the day before its
    anniversary, where a day the target month lacks falls on the next month's first day
    (2024-02-29 + 12 months ends 2025-02-28; 2023-03-01 + 12 months ends 2024-02-29)."""
    month = start.astype("datetime64[M]")
    offset = start - month.astype("datetime64[D]")
    target = month + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    following = (target + 1).astype("datetime64[D]")
    anniversary = np.minimum(target.astype("datetime64[D]") + offset, following)
    return anniversary - 1


def _same_term(start: np.ndarray, end: np.ndarray, new_start: np.ndarray) -> np.ndarray:
    """The expiry that gives the term ``start``..``end`` (inclusive) again from ``new_start``.

    Whole-month terms keep their months (an annual policy stays annual across a leap day);
    any other term keeps its number of days.
    """
    months = ((end + 1).astype("datetime64[M]") - start.astype("datetime64[M]")).astype(np.int64)
    months = np.where(_year_end(start, months) == end, months, months - 1)
    whole = (months > 0) & (_year_end(start, months) == end)
    by_months = _year_end(new_start, np.where(whole, months, 0))
    return np.where(whole, by_months, new_start + (end - start))


# --- writing -------------------------------------------------------------------------------


def _write(policies: pd.DataFrame, before: dict[str, np.ndarray],
           after: dict[str, np.ndarray]) -> pd.DataFrame:
    """Next year's profile frame: the changed fields replaced, the rest as it was."""
    out = policies.copy()
    for name in ("inception_date", "expiry_date"):
        if name in policies.columns:
            out[name] = date_column(after[name], policies[name])
    for name in (*ACCIDENT_FIELDS, "deaths", "major_hazards_unrectified", "claim_free_years"):
        out[name] = after[name].astype(np.int64)
    for name in ("standardisation_grade", "honour", "blacklisted"):
        values = after[name]
        changed = _differs(before[name], values)
        if name in policies.columns:
            # untouched rows keep the value exactly as written
            out[name] = np.where(changed, values, policies[name].to_numpy(dtype=object))
        elif changed.any():
            out[name] = values
        if (name in out.columns and out[name].notna().all()
                and pd.api.types.infer_dtype(out[name]) == "boolean"):
            out[name] = out[name].astype(bool)  # all true/false (not "false" text): a flag column
    return out


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise a != b for object arrays, treating None as a value."""
    return ~((pd.isna(a) & pd.isna(b)) | (a == b))


# --- the changes frame ---------------------------------------------------------------------


_NO_EVENT = {
    **{f: f"no {g.replace('_', ' ')} accident in the policy year"
       for g, f in zip(ACCIDENT_GRADES, ACCIDENT_FIELDS)},
    "deaths": "no accident deaths in the policy year",
    "major_hazards_unrectified": "no major hazard left unrectified at the end of the policy year",
    "claim_free_years": "no claim and no accident in the policy year",
    "expiry_date": "same term as the expiring policy",
}


def _changes(policies: pd.DataFrame, before: dict[str, np.ndarray],
             after: dict[str, np.ndarray], parsed: pd.DataFrame) -> pd.DataFrame:
    """Tidy ``policy, field, before, after, reason`` rows for every field that changed."""
    end_text = np.datetime_as_string(before["expiry_date"], unit="D").astype(object)
    pieces = []
    for order, name in enumerate(RECORD_FIELDS):
        old, new = before[name], after[name]
        if name == "expiry_date":
            if name not in policies.columns:
                continue  # the default term, not written: nothing to show
            old = before["expiry_given"]
        if name in ("inception_date", "expiry_date"):
            old, new = _iso(old), _iso(new)
        else:
            old, new = old.astype(object), new.astype(object)
        rows = np.flatnonzero(_differs(old, new))
        default: np.ndarray | str
        if name == "inception_date":
            default = "the day after expiry " + end_text[rows]
        else:
            default = _NO_EVENT.get(name, "")
        pieces.append(pd.DataFrame({"pos": rows, "order": order, "field": name,
                                    "before": old[rows], "after": new[rows],
                                    "default": default}))
    changes = pd.concat(pieces, ignore_index=True)
    reasons = _event_reasons(parsed)
    changes = changes.merge(reasons, how="left", on=["pos", "field"])
    changes["reason"] = changes.reason.fillna(changes.default)
    changes = changes.sort_values(["pos", "order"], kind="stable", ignore_index=True)
    changes.insert(0, "policy", policies["id"].to_numpy(dtype=object)[changes.pos.to_numpy()])
    out = changes[CHANGE_COLUMNS].astype(object)
    return out.where(out.notna(), None)


def _iso(days: np.ndarray) -> np.ndarray:
    # np.where takes None as an object scalar; numpy's stubs allow no None for x or y
    return np.where(np.isnat(days), None,  # type: ignore[call-overload]
                    np.datetime_as_string(days, unit="D").astype(object))


def _event_reasons(parsed: pd.DataFrame) -> pd.DataFrame:
    """``pos, field, reason``: the events bearing on each field, in date order."""
    kind, grade = parsed.kind, parsed.grade
    accident, claim = kind == _K["accident"], kind == _K["claim"]
    bearing = [(f, accident & (grade == g)) for g, f in enumerate(ACCIDENT_FIELDS)]
    bearing += [("deaths", accident & (parsed.deaths > 0)),
                ("major_hazards_unrectified", (kind == _K["hazard"]) & parsed.major),
                ("claim_free_years", accident | claim),
                ("standardisation_grade", kind == _K["standardisation"]),
                ("honour", kind == _K["honour"]),
                ("blacklisted", kind == _K["blacklist"])]
    # described once per event, then listed under each field it bears on
    parsed = parsed.assign(text=_describe(parsed))
    long = pd.concat([parsed.loc[mask, ["pos", "text"]].assign(field=name)
                      for name, mask in bearing], ignore_index=True)
    grouped = long.groupby(["pos", "field"], sort=False)
    group, rank = grouped.ngroup().to_numpy(), grouped.cumcount().to_numpy()
    text = long.text.to_numpy(dtype=object)
    # "; ".join per group without a Python call per group: append the r-th event of every
    # group at once, for r = 0, 1, ... (a few rounds: a policy year has few events)
    reason = np.empty(grouped.ngroups, dtype=object)
    first = rank == 0
    reason[group[first]] = text[first]
    for r in range(1, int(rank.max(initial=0)) + 1):
        nth = rank == r
        reason[group[nth]] = reason[group[nth]] + "; " + text[nth]
    keys = long.loc[first, ["pos", "field"]].to_numpy()
    return pd.DataFrame({"pos": keys[:, 0].astype(np.int64), "field": keys[:, 1],
                         "reason": reason[group[first]]})
