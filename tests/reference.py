"""An independent, scalar, exact-decimal implementation of the rating manual, for tests.

It shares no code with the engine: it reads the rate book's values and applies the algorithm
as written in tables/README.md, one profile at a time, in :mod:`decimal` arithmetic, so the
engine's vectorised float arithmetic (and its half-fen settlement) can be checked against it.
Also: a seeded generator of random valid profiles covering every sub-sector.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, localcontext

import numpy as np

D = lambda x: Decimal(repr(x)) if isinstance(x, float) else Decimal(x)  # noqa: E731

GRADES = ["general", "larger", "major", "especially_major"]
NATIONAL_FLOORS = [(dt.date(2018, 1, 1), 300000), (dt.date(2025, 3, 29), 400000)]
COMMISSION_CAPS = [(dt.date(2025, 3, 29), Decimal("0.05"))]
XM_INCOME = {2018: 54401, 2022: 70467, 2023: 72880}


def floor_xm(date: dt.date) -> Decimal:
    """Per-person floor of the Xiamen book: max(national, 10 × prior-year income),
    rounded up to 10,000."""
    national = max(v for d, v in NATIONAL_FLOORS if d <= date)
    year = max(y for y in XM_INCOME if y <= date.year - 1)
    amount = max(Decimal(national), 10 * Decimal(XM_INCOME[year]))
    return (amount / 10000).to_integral_value(rounding=ROUND_CEILING) * 10000


def _band(bands, closed, x: Decimal) -> Decimal:
    for i, b in enumerate(bands):
        lo, hi = D(b.lower), (None if b.upper is None else D(b.upper))
        if i == 0 and x == lo:
            return D(b.factor)
        inside_lo = x >= lo if closed == "left" else x > lo
        inside_hi = hi is None or (x < hi if closed == "left" else x <= hi)
        if inside_lo and inside_hi:
            return D(b.factor)
    raise ValueError(f"{x} outside bands")


def _table(table, profile) -> Decimal:
    var = table.variable
    if table.levels is not None:
        if var == "worst_accident_grade":
            value = "none"
            for g in GRADES:
                if profile.get(f"accidents_{g}", 0):
                    value = g
        elif var == "blacklisted":
            value = "true" if profile.get(var, False) else "false"
        else:
            value = profile.get(var, table.default)
        return D(table.levels[value].factor)
    return _band(table.bands, table.closed or "left", D(profile.get(var, 0)))


def _applies(obj, sector) -> bool:
    return obj.sectors is None or sector in obj.sectors


def _months(start: dt.date, end: dt.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months + (1 if end.day >= start.day else 0)


def reference_quote(profile: dict, book) -> dict[str, Decimal]:
    """Premium and split of one profile, exactly, in yuan (Decimal)."""
    with localcontext() as ctx:
        ctx.prec = 80
        sector = profile["sector"]
        sec = book.sectors[sector]
        sub = sec.subsectors[profile.get("subsector") or next(iter(sec.subsectors))]
        field = {"persons": "headcount"}.get(sub.basis, sub.basis)
        money = sub.basis in ("contract_value", "payroll", "revenue")
        premium = D(profile[field]) * D(sub.base_rate) / (1000 if money else 1)
        start = dt.date.fromisoformat(profile["inception_date"])
        limit = D(profile.get("per_person_limit", floor_xm(start)))
        premium *= _band(book.limit_factors.bands, book.limit_factors.closed, limit)
        for table in book.tiers.values():
            if _applies(table, sector):
                premium *= _table(table, profile)
        fl = book.floating
        groups = []
        for group in fl.groups.values():
            fs = [_table(t, profile) if _applies(t, sector) else Decimal(1)
                  for t in group.factors.values()]
            if group.rule == "product":
                g = Decimal(1)
                for f in fs:
                    g *= f
            elif group.rule == "additive":
                g = 1 + sum(f - 1 for f in fs)
            elif group.rule == "highest":
                g = max(fs)
            else:
                g = min(fs)
            groups.append(g)
        if fl.combine == "product":
            floating = Decimal(1)
            for g in groups:
                floating *= g
        else:
            floating = 1 + sum(g - 1 for g in groups)
        premium *= min(max(floating, D(fl.floor)), D(fl.cap))
        for key in profile.get("extensions", []):
            premium *= D(book.loadings[key].factor)
        if sub.term == "annual" and profile.get("expiry_date"):
            months = _months(start, dt.date.fromisoformat(profile["expiry_date"]))
            premium *= D(book.term.short_term_scale[months - 1])
        premium = max(premium, D(sub.minimum_premium))
        fen = lambda x: x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # noqa: E731
        total = fen(premium)
        fund = fen(total * D(profile.get("prevention_share", book.expenses.prevention_share_min)))
        commission = fen(total * D(profile.get("commission_rate", 0.0)))
        return {"unrounded": premium, "premium": total, "prevention_fund": fund,
                "commission": commission, "net": total - fund - commission}


def random_profiles(book, n: int, seed: int) -> list[dict]:
    """``n`` valid profiles for the Xiamen book, covering every sub-sector and option."""
    rng = np.random.default_rng(seed)
    subs = [(s, ss, sub) for s, sec in book.sectors.items() for ss, sub in sec.subsectors.items()]
    first, last = dt.date(2022, 6, 1).toordinal(), dt.date(2026, 12, 31).toordinal()
    out = []
    for _ in range(n):
        s, ss, sub = subs[rng.integers(len(subs))]
        start = dt.date.fromordinal(int(rng.integers(first, last)))
        p = {"jurisdiction": "CN-FJ-XM", "sector": s, "subsector": ss,
             "inception_date": start.isoformat()}
        if sub.basis in ("contract_value", "payroll", "revenue"):
            p[sub.basis] = int(rng.integers(10_000_00, 2_000_000_000_00)) / 100
        elif sub.basis == "capacity_tonnes":
            p[sub.basis] = int(rng.integers(1000, 5_000_000)) / 10
        else:
            field = "headcount" if sub.basis == "persons" else sub.basis
            p[field] = int(rng.integers(1, 800))
        for table in book.tiers.values():
            if _applies(table, s) and table.levels is not None and rng.random() < 0.9:
                p[table.variable] = str(rng.choice(list(table.levels)))
            if table.variable == "scale" and _applies(table, s) and "scale" not in p:
                p["scale"] = "medium"
            if table.variable == "product" and _applies(table, s) and "product" not in p:
                p["product"] = "other"
        for g in GRADES:
            if rng.random() < 0.15:
                p[f"accidents_{g}"] = int(rng.integers(1, 3))
        for field in ("deaths", "major_hazards_unrectified"):
            if rng.random() < 0.2:
                p[field] = int(rng.integers(0, 12))
        if "deaths" in p and "headcount" in p:  # deaths beyond the headcount need accidents
            p["deaths"] = min(p["deaths"], p["headcount"])  # that hold them (engine.consistency)
        p["claim_free_years"] = int(rng.integers(0, 6))
        p["standardisation_grade"] = str(rng.choice(["none", "grade_3", "grade_2", "grade_1"]))
        p["honour"] = str(rng.choice(["none", "city", "provincial"]))
        p["blacklisted"] = bool(rng.random() < 0.05)
        if rng.random() < 0.5:
            p["per_person_limit"] = float(floor_xm(start) + 10000 * int(rng.integers(0, 150)))
        if sub.term == "annual" and rng.random() < 0.3:
            months = int(rng.integers(1, 13))
            end = _add_months(start, months) - dt.timedelta(days=1)
            p["expiry_date"] = end.isoformat()
        if rng.random() < 0.3:
            p["extensions"] = [k for k in book.loadings if rng.random() < 0.5]
        cap = 0.05 if start >= dt.date(2025, 3, 29) else 0.10
        p["commission_rate"] = int(rng.integers(0, int(cap * 1000) + 1)) / 1000
        p["prevention_share"] = int(rng.integers(200, 301)) / 1000
        out.append(p)
    return out


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    raise AssertionError
