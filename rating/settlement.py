"""Settling an accident under a policy: payouts per victim and coverage, caps, payment track.

Rules (amounts in fen throughout, so every split adds up exactly):

1. Per victim. Employees, dispatched and temporary workers share one per-person
   death/disability limit (the same grade pays the same whatever the employment type); third
   parties have their own per-person limit. Death pays ``min(owed, limit)``; disability grade g
   pays ``min(owed, ratio(g) × limit)`` with the book's injury scale; an injury without
   disability pays no death/disability benefit. Where the legally owed amount is not given,
   the standard amount (the limit, or ratio × limit) is paid. Medical costs pay
   ``min(cost, medical sub-limit)``.
2. Per accident. Third-party property, rescue, medical aid, appraisal and legal costs pay up
   to their sub-limits.
3. Per-accident limit. When the lines exceed it, every line is reduced in proportion to its
   payout (pro rata; the allocation of the capped total in fen follows the largest
   remainders, ties to the earlier line). No 安责险 clause fixing this rule was found; pro rata
   treats all victims alike.
4. Annual aggregate. What earlier accidents of the policy year paid is deducted; if the rest
   is exceeded, lines are reduced pro rata again.
5. Payment track (厦应急规〔2022〕2号 二(四)): quick payment of small, clear claims
   (grade ``general``, liability clear, total at most the book's ``quick_payment_max``);
   otherwise emergency advance of rescue, medical-aid and victims' medical payouts, plus, for
   the book's ``advance_grades`` with liability clear, an advance of ``advance_share`` of the
   other losses already determined; the balance follows. The track is ``advance`` for every
   accident of an advance grade with liability clear, even when nothing is determined yet
   (advance 0: the insurer owes the advance as losses are determined); else ``standard``.
   Determined are the death and disability lines of victims with ``determined: true`` (the
   default) and the accident's third-party property, appraisal and legal costs, which the
   claim file gives as amounts (an amount given is an amount determined). The advance is
   ``advance_share`` × the determined payouts (after the per-accident and aggregate caps),
   rounded half-up to the fen.
6. Co-insurance: each line is split by share, half-up to the fen, the remainder to the lead
   (first) insurer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .book import RateBook, injury_scales, national_rules
from .book.library import Books, check_in_force, check_status, find_edition
from .book.model import SCHEDULE_KEYS, Label
from .book.schema import Money, Positive, Reader
from .book.yamlsafe import load_yaml_file
from .engine.limits import LimitSchedule, build_schedule, per_person_floor
from .engine.money import share_of, split_by_shares
from .errors import BookError, ProfileError, RatingError

EMPLOYEE_TYPES = ("employee", "dispatched", "temporary")

COVERAGE_LABELS = {
    "death": Label(zh="死亡", en="death"),
    "disability": Label(zh="伤残", en="disability"),
    "medical": Label(zh="医疗费用", en="medical costs"),
    "third_party_property": Label(zh="第三者财产损失", en="third-party property"),
    "rescue": Label(zh="抢险救援费用", en="rescue costs"),
    "medical_aid": Label(zh="医疗救护费用", en="medical aid costs"),
    "appraisal": Label(zh="事故鉴定费用", en="accident appraisal costs"),
    "legal": Label(zh="法律诉讼费用", en="legal costs"),
}


# --- input documents (read strictly, like rate books) ------------------------------------


@dataclass(frozen=True, kw_only=True)
class Victim:
    """One person harmed. ``grade`` (1-10) is required for a disability and only then;
    ``owed`` (the death/disability compensation legally owed) goes with a death or a
    disability only: an ``injury`` pays no death/disability benefit, only ``medical``."""

    id: str
    type: Literal["employee", "dispatched", "temporary", "third_party"]
    outcome: Literal["death", "disability", "injury"]
    grade: int | None = None
    medical: Money = 0.0
    owed: Money | None = None
    determined: bool = True

    def _check(self, reader: Reader, path: tuple) -> None:
        if self.outcome == "disability":
            if self.grade is None or not 1 <= self.grade <= 10:
                raise reader.error(path + ("grade",), "a disability needs an injury grade "
                                   "from 1 (most severe) to 10")
        elif self.grade is not None:
            raise reader.error(path + ("grade",), f"a grade goes with outcome 'disability', "
                               f"not {self.outcome!r}")
        if self.outcome == "injury" and self.owed is not None:
            raise reader.error(path + ("owed",), "an 'injury' without disability pays no "
                               "death/disability benefit, so 'owed' has nothing to cap; give "
                               "the victim's medical costs as 'medical', or the outcome "
                               "'disability' with its grade")


@dataclass(frozen=True, kw_only=True)
class Costs:
    """Accident costs, yuan."""

    rescue: Money = 0.0
    medical_aid: Money = 0.0
    appraisal: Money = 0.0
    legal: Money = 0.0


@dataclass(frozen=True, kw_only=True)
class Accident:
    """One accident. ``serious_injuries`` defaults to the victims with a disability grade;
    ``direct_loss`` (yuan) to 0. Both serve the accident grade only."""

    id: str
    date: dt.date
    # list: what the schema reader reads (into a tuple); absent, the same empty tuple
    victims: tuple[Victim, ...] = ()
    property_loss: Money = 0.0
    costs: Costs = Costs()
    direct_loss: Money | None = None
    serious_injuries: int | None = None
    liability_clear: bool = True

    def _check(self, reader: Reader, path: tuple) -> None:
        ids = [v.id for v in self.victims]
        if len(set(ids)) != len(ids):
            raise reader.error(path + ("victims",), "victim ids must be unique")
        if self.serious_injuries is not None and self.serious_injuries < 0:
            raise reader.error(path + ("serious_injuries",), "must not be negative")


@dataclass(frozen=True, kw_only=True)
class Share:
    insurer: str
    share: Positive


@dataclass(frozen=True, kw_only=True)
class PolicySpec:
    """A policy as written in a claim file. ``limits`` overrides the book's default schedule
    (keys as in :class:`rating.engine.limits.LimitSchedule`, yuan). ``term``: ``annual`` (default)
    runs at most the book's ``term.max_months`` months, as a quote allows (a started month
    counts whole), so the aggregate is one policy year's; ``project`` (a construction project
    rated on its contract value) may run longer, with one aggregate for the whole project."""

    id: str
    jurisdiction: str
    inception_date: dt.date
    expiry_date: dt.date
    per_person_limit: Money | None = None
    limits: dict[str, Money] = field(default_factory=dict)
    # list: what the schema reader reads (into a tuple); absent, the same empty tuple
    coinsurance: tuple[Share, ...] = ()
    term: Literal["annual", "project"] = "annual"

    def _check(self, reader: Reader, path: tuple) -> None:
        if self.expiry_date < self.inception_date:
            raise reader.error(path + ("expiry_date",), "is before inception_date")
        for key in self.limits:
            if key not in SCHEDULE_KEYS:
                raise reader.error(path + ("limits", key), f"unknown limit {key!r}; use one "
                                   "of: " + ", ".join(SCHEDULE_KEYS))
        if self.coinsurance:
            names = [s.insurer for s in self.coinsurance]
            if len(set(names)) != len(names):
                raise reader.error(path + ("coinsurance",), "insurers must be unique")
            total = sum(round(s.share * 10**9) for s in self.coinsurance)
            if total != 10**9:
                raise reader.error(path + ("coinsurance",),
                                   f"shares must add up to 1 (they add up to "
                                   f"{sum(s.share for s in self.coinsurance):g})")


@dataclass(frozen=True, kw_only=True)
class ClaimFile:
    """A claim file: one policy and the accidents of its policy year."""

    policy: PolicySpec
    accidents: list[Accident]

    def _check(self, reader: Reader, path: tuple) -> None:
        p = self.policy
        for i, acc in enumerate(self.accidents):
            if not p.inception_date <= acc.date <= p.expiry_date:
                raise reader.error(path + ("accidents", i, "date"),
                                   f"{acc.date} is outside the policy period "
                                   f"{p.inception_date} to {p.expiry_date}")
        ids = [a.id for a in self.accidents]
        if len(set(ids)) != len(ids):
            raise reader.error(path + ("accidents",), "accident ids must be unique")


# --- the policy being settled --------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """A policy ready to settle against: its limits, scale, claim rules and co-insurers."""

    id: str
    inception_date: dt.date
    expiry_date: dt.date
    schedule: LimitSchedule
    scale: tuple[float, ...]
    book: RateBook = field(repr=False)
    coinsurance: tuple[tuple[str, float], ...] = ()


def make_policy(spec: PolicySpec, book: RateBook | None = None, *, books: Books = None,
                final_only: bool | None = None, any_date: bool = False) -> Policy:
    """Build a :class:`Policy`: the per-person limit defaults to the statutory floor at
    inception and must not be below it; the schedule follows the book, with overrides.

    The book is ``book`` (in force at inception unless ``any_date``), else the edition in
    force at inception for the policy's jurisdiction, from the library ``books`` (default
    ``RATING_BOOKS``) and the shipped books; ``final_only`` refuses one that is not
    ``final`` (see :func:`rating.quote`). ``policy.book.status`` says which it is.

    Raises
    ------
    ProfileError
        When the limit is below the floor, a sub-limit exceeds the limit it is part of, or an
        annual policy runs longer than the book's ``term.max_months`` (``field`` names the
        policy key).
    """
    if book is None:
        book = find_edition(spec.jurisdiction, spec.inception_date, books)
    elif not any_date:
        check_in_force(book, spec.inception_date)
    check_status(book, final_only)
    months = _term_months(spec.inception_date, spec.expiry_date)
    if spec.term == "annual" and months > book.term.max_months:
        raise ProfileError("expiry_date", f"{spec.inception_date} to {spec.expiry_date} is "
                           f"{months} months; an annual policy runs at most "
                           f"{book.term.max_months} months (as in a quote), each policy year "
                           "with its own aggregate: give one claim file per policy year, or "
                           "term: project for a construction project's policy")
    floor = per_person_floor(book, spec.inception_date)
    per_person = spec.per_person_limit if spec.per_person_limit is not None else floor.amount
    if per_person < floor.amount:
        raise ProfileError("per_person_limit", f"{per_person:,.2f} is below the statutory floor "
                           f"{floor.amount:,.0f} in force on {spec.inception_date}")
    overrides = {k: np.array([v]) for k, v in spec.limits.items()}
    schedule, violations = build_schedule(book, np.array([round(per_person * 100)]), overrides)
    for mask, field_name, reason in violations:
        if mask[0]:
            key = field_name if field_name == "per_person_limit" else \
                f"limits.{field_name.removeprefix('limit_')}"
            raise ProfileError(key, reason)
    if book.limits.injury_scale is None or book.claims is None:
        missing = "injury-grade scale (limits.injury_scale)" \
            if book.limits.injury_scale is None else "claim payment rules (claims)"
        raise RatingError(f"rate book {book.id} has no {missing}: its source gives none, so "
                          "accidents cannot be settled on it; give the claim file a book that "
                          "has them")
    return Policy(spec.id, spec.inception_date, spec.expiry_date,
                  LimitSchedule(**{k: int(v[0]) / 100 for k, v in schedule.items()}),
                  tuple(injury_scales()[book.limits.injury_scale].ratios), book,
                  tuple((s.insurer, s.share) for s in spec.coinsurance))


# --- settlement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    """The settlement of one accident.

    Attributes
    ----------
    lines : DataFrame
        One row per victim and coverage, then the accident's costs: ``victim``, ``type``,
        ``coverage``, ``claimed`` (yuan; NaN where the owed amount was not given), ``limit``
        (the amount the line is capped at), ``payable`` (after its own limit),
        ``after_accident_limit``, ``payout`` (after the aggregate).
    grade : str
        Accident grade (general, larger, major, especially_major).
    track : str
        ``quick``, ``advance`` or ``standard``.
    payments : dict
        Amount per payment step: ``quick``; or ``emergency_advance``, ``advance``, ``balance``.
    aggregate_before, aggregate_after : float
        Aggregate limit left before and after this accident (yuan).
    coinsurance : DataFrame or None
        Each line's payout split by insurer (columns), rows adding up exactly.
    """

    policy_id: str
    accident_id: str
    date: dt.date
    grade: str
    deaths: int
    serious_injuries: int
    direct_loss: float
    lines: pd.DataFrame
    total: float
    track: str
    payments: dict[str, float]
    aggregate_before: float
    aggregate_after: float
    coinsurance: pd.DataFrame | None

    def to_dict(self) -> dict[str, Any]:
        lines = self.lines.astype(object).where(self.lines.notna(), None)
        out = {
            "policy": self.policy_id, "accident": self.accident_id,
            "date": self.date.isoformat(), "grade": self.grade, "deaths": self.deaths,
            "serious_injuries": self.serious_injuries, "direct_loss": self.direct_loss,
            "total": self.total, "track": self.track, "payments": self.payments,
            "aggregate_before": self.aggregate_before, "aggregate_after": self.aggregate_after,
            "lines": lines.to_dict(orient="records"),
        }
        if self.coinsurance is not None:
            out["coinsurance"] = self.coinsurance.to_dict(orient="records")
        return out


def accident_grade(deaths: int, serious_injuries: int, direct_loss: float) -> str:
    """State Council grade (国务院令第493号 第三条): the highest grade any measure reaches."""
    grade = "general"
    for t in national_rules().accident_grades.thresholds:
        if (deaths >= t.deaths or serious_injuries >= t.serious_injuries
                or direct_loss >= t.direct_loss):
            grade = t.grade
    return grade


def settle(policy: Policy, accident: Accident, *, paid_before: float = 0.0) -> Settlement:
    """Settle one accident.

    Parameters
    ----------
    policy : Policy
    accident : Accident
    paid_before : float
        What earlier accidents of the same policy year paid (yuan), eroding the aggregate.

    Returns
    -------
    Settlement
    """
    if not policy.inception_date <= accident.date <= policy.expiry_date:
        raise RatingError(f"accident {accident.id} on {accident.date} is outside the policy "
                          f"period {policy.inception_date} to {policy.expiry_date}")
    sched = {k: round(v * 100) for k, v in policy.schedule.as_dict().items()}
    # (victim, type, coverage, claimed fen or -1, limit fen, payable fen, determined)
    rows: list[tuple[str, str, str, int, int, int, bool]] = []
    for v in accident.victims:
        employee = v.type in EMPLOYEE_TYPES
        limit = sched["per_person"] if employee else sched["third_party_per_person"]
        owed = -1 if v.owed is None else round(v.owed * 100)
        if v.outcome == "death":
            cap = limit
        elif v.outcome == "disability":
            if v.grade is None:  # Victim._check requires it of a claim file
                raise RatingError(f"victim {v.id} of accident {accident.id}: a disability "
                                  "needs an injury grade from 1 (most severe) to 10")
            cap = int(share_of(np.array([limit]), np.array([policy.scale[v.grade - 1]]))[0])
        else:
            cap = None
        if cap is not None:
            line = cap if owed < 0 else min(owed, cap)
            rows.append((v.id, v.type, v.outcome, owed, cap, line, v.determined))
        if v.medical:
            medical = round(v.medical * 100)
            rows.append((v.id, v.type, "medical", medical, sched["medical_per_person"],
                         min(medical, sched["medical_per_person"]), True))
    costs = {"third_party_property": accident.property_loss, "rescue": accident.costs.rescue,
             "medical_aid": accident.costs.medical_aid, "appraisal": accident.costs.appraisal,
             "legal": accident.costs.legal}
    for coverage, amount in costs.items():
        if amount:
            fen = round(amount * 100)
            rows.append(("", "", coverage, fen, sched[coverage], min(fen, sched[coverage]), True))

    payable = np.array([r[5] for r in rows], dtype=np.int64)
    after_accident = _cap(payable, sched["per_accident"])
    left = max(sched["aggregate"] - round(paid_before * 100), 0)
    payout = _cap(after_accident, left)
    total = int(payout.sum())

    deaths = sum(v.outcome == "death" for v in accident.victims)
    serious = (accident.serious_injuries if accident.serious_injuries is not None
               else sum(v.outcome == "disability" for v in accident.victims))
    direct_loss = accident.direct_loss or 0.0
    grade = accident_grade(deaths, serious, direct_loss)
    coverages = [r[2] for r in rows]
    track, payments = _track(policy.book, grade, accident.liability_clear, total, payout,
                             coverages, [r[6] for r in rows])
    lines = pd.DataFrame({
        "victim": [r[0] for r in rows], "type": [r[1] for r in rows], "coverage": coverages,
        "claimed": [np.nan if r[3] < 0 else r[3] / 100 for r in rows],
        "limit": [r[4] / 100 for r in rows], "payable": payable / 100,
        "after_accident_limit": after_accident / 100, "payout": payout / 100,
    })
    return Settlement(
        policy.id, accident.id, accident.date, grade, deaths, serious, direct_loss, lines,
        total / 100, track, payments, left / 100, (left - total) / 100,
        _coinsurance(policy, lines, payout) if policy.coinsurance else None)


def settle_year(policy: Policy, accidents: list[Accident]) -> list[Settlement]:
    """Settle a policy year's accidents in date order, each eroding the aggregate."""
    out, paid = [], 0.0
    for acc in sorted(accidents, key=lambda a: (a.date, a.id)):
        result = settle(policy, acc, paid_before=paid)
        paid = round(paid + result.total, 2)
        out.append(result)
    return out


def load_claims(path: str | Path, *, books: Books = None,
                final_only: bool | None = None) -> tuple[Policy, list[Accident]]:
    """Read a claim file (YAML or JSON; see the README) strictly; the policy's rate book is
    chosen as by :func:`make_policy` (``books``, ``final_only``).

    Raises
    ------
    BookError
        Naming the file, line and key of the first problem.
    """
    data, lines = load_yaml_file(path)
    doc: ClaimFile = Reader(lines, str(path)).read(ClaimFile, data, ())
    try:
        return (make_policy(doc.policy, books=books, final_only=final_only),
                list(doc.accidents))
    except ProfileError as exc:
        where = ("policy",) + tuple(exc.field.split("."))
        line = lines.get(where, lines.get(("policy", "limits"), lines.get(("policy",))))
        raise BookError(exc.reason, file=str(path), line=line,
                        path="policy." + exc.field) from None


def _term_months(start: dt.date, end: dt.date) -> int:
    """Months from inception to an inclusive expiry date, a started month counting whole (as
    the premium's term: 2024-01-01 to 2024-12-31 is 12, to 2025-01-01 is 13)."""
    return (end.year - start.year) * 12 + end.month - start.month + (end.day >= start.day)


def _cap(amounts: np.ndarray, cap: int) -> np.ndarray:
    """Reduce ``amounts`` (fen) pro rata so they sum to at most ``cap`` (fen), exactly."""
    total = int(amounts.sum())
    if total <= cap:
        return amounts.copy()
    exact = [a * cap for a in amounts.tolist()]  # Python ints: no overflow
    base = np.array([e // total for e in exact], dtype=np.int64)
    remainders = np.array([e % total for e in exact], dtype=object)
    short = cap - int(base.sum())
    order = sorted(range(len(amounts)), key=lambda i: (-remainders[i], i))
    base[order[:short]] += 1
    return base


def _track(book: RateBook, grade: str, clear: bool, total: int, payout: np.ndarray,
           coverage: list[str], determined: list[bool]) -> tuple[str, dict[str, float]]:
    rules = book.claims
    assert rules is not None  # make_policy refuses a book without claim rules
    if grade == "general" and clear and total <= round(rules.quick_payment_max * 100):
        return "quick", {"quick": total / 100}
    emergency_mask = np.array([c in ("rescue", "medical_aid", "medical") for c in coverage],
                              dtype=bool)
    emergency = int(payout[emergency_mask].sum()) if len(payout) else 0
    advance = 0
    on_advance = grade in rules.advance_grades and clear
    if on_advance:
        base = int(payout[~emergency_mask & np.array(determined, dtype=bool)].sum()) \
            if len(payout) else 0
        advance = int(share_of(np.array([base]), np.array([rules.advance_share]))[0])
    # the track follows the grade and liability (二(四)), not the amount: an accident of an
    # advance grade with nothing determined yet is on the advance track with 0 advanced
    track = "advance" if on_advance else "standard"
    return track, {"emergency_advance": emergency / 100, "advance": advance / 100,
                   "balance": (total - emergency - advance) / 100}


def _coinsurance(policy: Policy, lines: pd.DataFrame, payout: np.ndarray) -> pd.DataFrame:
    split = split_by_shares(payout, [share for _, share in policy.coinsurance])
    out = lines[["victim", "coverage"]].copy()
    for j, (name, _) in enumerate(policy.coinsurance):
        out[name] = split[:, j] / 100
    return out
