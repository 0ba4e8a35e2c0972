"""Hypothesis strategies that build valid profiles field by field.

Each field is drawn from the values the shipped Xiamen rate book (tables/books/
cn-fj-xm-2022.yaml, found with :func:`rating.find_book`) accepts, so a failing example
shrinks to a small profile (the first sub-sector, the book's first day, one person, no
accident, options left out) rather than to a seed of a home-made generator. The ranges are
those of :func:`reference.random_profiles`, which the bulk (fixed-seed) tests still use.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st
from reference import GRADES, _add_months, _applies, floor_xm

import rating

JURISDICTION = "CN-FJ-XM"
BOOK = rating.find_book(JURISDICTION, dt.date(2022, 6, 1))
FIRST_DAY = BOOK.effective_from
LAST_DAY = dt.date(2026, 12, 30)
# the same edition is in force over the whole range, so every drawn profile is rated on BOOK
assert rating.find_book(JURISDICTION, FIRST_DAY) is BOOK
assert rating.find_book(JURISDICTION, LAST_DAY) is BOOK

SUBSECTORS = [(s, ss) for s, sec in BOOK.sectors.items() for ss in sec.subsectors]
MONEY_BASES = ("contract_value", "payroll", "revenue")
RECORDS = ["deaths", "major_hazards_unrectified"]
COMMISSION_CAP_FROM = dt.date(2025, 3, 29)  # 5% from then on; 10% drawn before


def _floating_levels(variable: str) -> list[str]:
    """The levels of the book's floating table keyed on ``variable``."""
    (table,) = [t for g in BOOK.floating.groups.values() for t in g.factors.values()
                if t.variable == variable]
    return list(table.levels)


def exposure(basis: str) -> st.SearchStrategy:
    """The exposure measure of a basis: yuan to the fen, tonnes to 0.1 t, or a count."""
    if basis in MONEY_BASES:
        return st.integers(10_000_00, 2_000_000_000_00).map(lambda fen: fen / 100)
    if basis == "capacity_tonnes":
        return st.integers(1_000, 5_000_000).map(lambda tenths: tenths / 10)
    return st.integers(1, 800)


def optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """``None`` (the field is left out of the profile, and shrinks there) or a value."""
    return st.none() | strategy


@st.composite
def profiles(draw) -> dict:
    """A valid profile for the Xiamen book: any sub-sector, inception day, exposure, tier
    levels, accident record, safety management, limit, term, extensions and distribution."""
    sector, subsector = draw(st.sampled_from(SUBSECTORS))
    sub = BOOK.sectors[sector].subsectors[subsector]
    start = draw(st.dates(FIRST_DAY, LAST_DAY))
    p = {"jurisdiction": JURISDICTION, "sector": sector, "subsector": subsector,
         "inception_date": start.isoformat()}
    p[{"persons": "headcount"}.get(sub.basis, sub.basis)] = draw(exposure(sub.basis))
    for table in BOOK.tiers.values():
        if table.levels is None or not _applies(table, sector):
            continue  # banded tiers read the exposure drawn above
        levels = st.sampled_from(list(table.levels))
        # a table without a default (scale, product) needs its level in the profile
        level = draw(levels if table.default is None else optional(levels))
        if level is not None:
            p[table.variable] = level
    for grade in GRADES:
        if n := draw(st.integers(0, 2)):
            p[f"accidents_{grade}"] = n
    for field in RECORDS:
        if (n := draw(optional(st.integers(0, 11)))) is not None:
            p[field] = n
    if "deaths" in p and "headcount" in p:  # deaths beyond the headcount need accidents
        p["deaths"] = min(p["deaths"], p["headcount"])  # that hold them (engine.consistency)
    p["claim_free_years"] = draw(st.integers(0, 5))
    p["standardisation_grade"] = draw(st.sampled_from(_floating_levels("standardisation_grade")))
    p["honour"] = draw(st.sampled_from(_floating_levels("honour")))
    p["blacklisted"] = draw(st.booleans())
    if (steps := draw(optional(st.integers(0, 149)))) is not None:
        p["per_person_limit"] = float(floor_xm(start) + 10_000 * steps)
    if sub.term == "annual" and (months := draw(optional(st.integers(1, 12)))) is not None:
        p["expiry_date"] = (_add_months(start, months) - dt.timedelta(days=1)).isoformat()
    chosen = draw(optional(st.sets(st.sampled_from(list(BOOK.loadings)))))
    if chosen is not None:
        p["extensions"] = [key for key in BOOK.loadings if key in chosen]  # book order
    cap = 50 if start >= COMMISSION_CAP_FROM else 100  # per mille
    p["commission_rate"] = draw(st.integers(0, cap)) / 1000
    floor = round(BOOK.expenses.prevention_share_min * 1000)
    p["prevention_share"] = draw(st.integers(floor, 300)) / 1000
    return p
