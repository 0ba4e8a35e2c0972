"""Seeded synthetic portfolios: realistic-looking books of business for tests, benchmarks and
notebooks.

:func:`synthetic_portfolio` draws ``n`` valid enterprise profiles for a rate book (by default
the shipped Xiamen book) with numpy only, so a million rows take a few seconds. The frame
holds what a CSV export of a policy system would: text and numbers, dates as ``YYYY-MM-DD``,
extensions as ``a;b``, blanks as NaN.

Every distribution below is an **illustrative assumption** (no Xiamen portfolio statistics
are public); the shapes (which sectors dominate, how skewed exposures are, how rare severe
accidents are) are what matters for testing and timing, not the levels.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..book import RateBook, commission_cap, find_book
from ..book.fields import EXPOSURE_FIELDS
from ..engine.calendar import add_months
from ..engine.limits import per_person_floor

# --- assumptions (illustrative) --------------------------------------------------------------

SUBSECTOR_WEIGHTS: dict[tuple[str, str], float] = {
    # Construction projects and road-transport fleets are most of a city's compulsory book;
    # filling stations (chemical trading) and small voluntary "other" businesses follow;
    # mines, civil explosives and urban rail (one metro operator) are rare. The rarest
    # sub-sectors are kept at >= 0.1% so 10,000 rows still cover every sector and basis.
    ("construction", "building"): 0.24,
    ("construction", "municipal"): 0.08,
    ("road_transport", "freight"): 0.14,
    ("road_transport", "passenger"): 0.03,
    ("road_transport", "dangerous_goods"): 0.04,
    ("other", "general"): 0.168,
    ("hazardous_chemicals", "trading"): 0.06,
    ("hazardous_chemicals", "use"): 0.03,
    ("hazardous_chemicals", "storage"): 0.015,
    ("hazardous_chemicals", "production"): 0.015,
    ("fishery", "marine_fishing"): 0.03,
    ("fishery", "aquaculture"): 0.03,
    ("water_transport", "cargo"): 0.025,
    ("water_transport", "passenger"): 0.005,
    ("metal_smelting", "ferrous"): 0.015,
    ("metal_smelting", "nonferrous"): 0.015,
    ("fireworks", "retail"): 0.04,
    ("fireworks", "wholesale"): 0.005,
    ("fireworks", "production"): 0.002,
    ("non_coal_mines", "open_pit"): 0.004,
    ("non_coal_mines", "underground"): 0.002,
    ("non_coal_mines", "tailings_pond"): 0.002,
    ("civil_explosives", "production_sales"): 0.002,
    ("civil_explosives", "blasting"): 0.004,
    ("urban_rail", "operation"): 0.001,
}
OTHER_WEIGHT = 0.002
"""Weight of a sub-sector of another book that the table above does not name."""

EXPOSURE_LOGNORMAL: dict[str, tuple[float, float]] = {
    # basis -> (median, sigma of log): right-skewed, a few very large risks
    "persons": (30, 1.0),
    "contract_value": (20_000_000, 1.3),   # yuan per project
    "vehicles": (15, 1.1),
    "vessels": (3, 0.8),
    "capacity_tonnes": (300_000, 0.8),
    "payroll": (600_000_000, 0.3),         # a metro operator's wage bill
    "revenue": (20_000_000, 1.2),          # a filling station's turnover
}
MEDIAN_BY_SUBSECTOR: dict[tuple[str, str], float] = {
    # where a sub-sector's typical size differs from its basis' default
    ("non_coal_mines", "underground"): 80, ("non_coal_mines", "tailings_pond"): 10,
    ("hazardous_chemicals", "production"): 120, ("hazardous_chemicals", "storage"): 40,
    ("hazardous_chemicals", "use"): 60,
    ("fireworks", "production"): 50, ("fireworks", "wholesale"): 15, ("fireworks", "retail"): 3,
    ("civil_explosives", "production_sales"): 60, ("civil_explosives", "blasting"): 30,
    ("metal_smelting", "ferrous"): 200, ("metal_smelting", "nonferrous"): 150,
    ("fishery", "marine_fishing"): 12, ("fishery", "aquaculture"): 8,
    ("construction", "municipal"): 30_000_000,
    ("road_transport", "passenger"): 30, ("road_transport", "dangerous_goods"): 20,
    ("water_transport", "passenger"): 2,
}
MONEY_CAP = 5e10
"""Largest money exposure drawn (yuan): the lognormal tail is cut where no real policy is."""

LEVEL_WEIGHTS: dict[str, dict[str, float]] = {
    # tier table -> level -> weight (levels not named share an equal small weight)
    "enterprise_type": {"general": 0.9, "major_hazard_installation": 0.1},
    "production_mode_mines": {"mechanised": 0.5, "semi_mechanised": 0.35, "manual": 0.15},
    "production_mode_fishery": {"inshore": 0.6, "offshore": 0.3, "distant_water": 0.1},
    "product": {"flammable_explosive": 0.45, "toxic": 0.15, "corrosive": 0.2, "other": 0.2},
    "project_type": {"general": 0.8, "high_risk": 0.17, "subway": 0.03},
    "scale": {"micro": 0.35, "small": 0.4, "medium": 0.18, "large": 0.07},
}
SCALE_BY_HEADCOUNT = ((20, "micro"), (300, "small"), (1000, "medium"))
"""Industrial size classes by employees (工信部联企业〔2011〕300号): below 20 micro, below 300
small, below 1000 medium, else large; used for the scale tier where headcount is known."""
BLANK_DEFAULT = 0.5
"""Share of rows whose level equals the table's default that leave the field blank."""

SECTOR_RISK: dict[str, float] = {
    # multiplier of the accident frequencies below
    "non_coal_mines": 3.0, "hazardous_chemicals": 1.5, "fireworks": 1.5, "road_transport": 2.0,
    "urban_rail": 1.0, "water_transport": 1.5, "construction": 1.5, "civil_explosives": 2.0,
    "metal_smelting": 2.0, "fishery": 2.0, "other": 0.5,
}
ACCIDENT_RATES = {"general": 0.02, "larger": 0.001, "major": 1e-4, "especially_major": 1e-5}
"""Poisson mean of accidents per enterprise-year by State Council grade, before SECTOR_RISK."""
DEATHS_PER_ACCIDENT = {"general": (0, 3), "larger": (3, 10), "major": (10, 30),
                       "especially_major": (30, 61)}
"""Deaths per accident by grade, [low, high): the grade thresholds of 国务院令第493号."""
DEATH_SHARE_GENERAL = 0.3
"""Share of general accidents with a death (most are injuries only)."""
HAZARD_RATE = 0.015
"""Poisson mean of major hazards left unrectified per enterprise."""
CLAIM_FREE_P = 0.35
"""Geometric parameter of claim-free years for enterprises without an accident (mean ~2)."""
MAX_CLAIM_FREE = 8
"""Claim-free years are cut at the age of the scheme (Xiamen's cover dates from ~2016)."""
STANDARDISATION = {"none": 0.55, "grade_3": 0.3, "grade_2": 0.12, "grade_1": 0.03}
HONOUR = {"none": 0.93, "city": 0.05, "provincial": 0.02}
BLACKLIST_SHARE = 0.005

DATE_FROM, DATE_TO = dt.date(2023, 1, 1), dt.date(2026, 12, 31)
NEW_YEAR_SHARE = 0.1
"""Share of policies renewing on 1 January (the rest incept uniformly over the range)."""
SHORT_TERM: dict[str, tuple[float, tuple[int, ...]]] = {
    # sector or "sector.subsector" -> (share of short-term policies, months drawn from)
    "fishery": (0.3, (8, 9)),            # cover outside the summer fishing moratorium
    "fireworks.retail": (0.4, (1, 2, 3)),  # the Spring Festival selling season
}
SHORT_TERM_DEFAULT = (0.03, tuple(range(1, 12)))
EXPLICIT_EXPIRY = 0.2
"""Share of full-year policies that state their expiry date (the others leave it blank)."""
PROJECT_MONTHS = (6, 37)
"""Construction projects last [6, 37) months (project term: the whole project, factor 1)."""

LIMIT_CHOSEN = 0.25
"""Share of policies choosing a per-person limit above the statutory floor."""
LIMIT_CHOICES = {800_000: 0.35, 1_000_000: 0.3, 1_200_000: 0.1, 1_500_000: 0.12,
                 2_000_000: 0.1, 3_000_000: 0.03}
EXTENSION_SHARE: dict[str, dict[str, float]] = {
    # loading -> sector -> share of policies (key "" : every other sector)
    "occupational_disease": {"non_coal_mines": 0.2, "metal_smelting": 0.2,
                             "hazardous_chemicals": 0.15, "": 0.05},
    "third_party_higher_limit": {"road_transport": 0.08, "water_transport": 0.08,
                                 "construction": 0.08, "": 0.03},
}
EXTENSION_DEFAULT = 0.03
DIRECT_SHARE = 0.2
"""Share of policies written without an intermediary (commission 0)."""
UNCAPPED_COMMISSION = 0.10
"""Highest commission drawn where no cap is in force (before 2025-03-29 nationally)."""
COMMISSION_STEP = 0.005
PREVENTION_ABOVE_MIN = {0.05: 0.1, 0.1: 0.05}
"""Prevention-fund share above the book's minimum -> share of policies (the rest: default)."""


def synthetic_portfolio(n: int, seed: int = 0, book: RateBook | None = None) -> pd.DataFrame:
    """A seeded, deterministic synthetic portfolio of valid enterprise profiles.

    Parameters
    ----------
    n : int
        Number of rows (policies).
    seed : int
        Seed of the numpy generator: the same ``(n, seed, book)`` gives the same frame (with
        the same numpy version; numpy does not promise identical streams across versions).
    book : RateBook, optional
        The book whose sectors, tiers and loadings the profiles use. Default: the shipped
        Xiamen book (``CN-FJ-XM``).

    Returns
    -------
    DataFrame
        One profile per row, index ``0..n-1``, the columns a portfolio CSV would hold (see
        the README's profile fields): ``id``, ``jurisdiction``, ``sector``, ``subsector``,
        dates as ``YYYY-MM-DD`` text, exposures, tier levels, the safety record, the limit,
        extensions (``a;b``) and the distribution shares. Blank cells are NaN.

    Notes
    -----
    Assumptions, all illustrative (constants at the top of this module):

    - **Sector mix** (``SUBSECTOR_WEIGHTS``): construction ~32% (building works 24%),
      road transport ~21%, voluntary other sectors ~17%, hazardous chemicals ~12% (half of
      it filling stations rated on revenue), fishery 6%, fireworks ~5%, water transport and
      metal smelting 3% each, mines 0.8%, civil explosives 0.6%, urban rail 0.1%.
    - **Exposures** are lognormal (``EXPOSURE_LOGNORMAL``, medians by sub-sector in
      ``MEDIAN_BY_SUBSECTOR``): headcount median 30 (sigma 1.0, whole persons >= 1),
      contract values median 20m yuan (sigma 1.3, 2-decimal yuan, at least 100,000),
      fleets median 15 vehicles / 3 vessels, revenue median 20m, payroll median 600m.
    - **Tiers**: each tier table with levels is filled for the sectors it applies to,
      from ``LEVEL_WEIGHTS``; the scale follows the headcount size classes where the
      headcount is known. Half the rows at a table's default level leave it blank.
    - **History** (last policy year): accidents Poisson by grade (``ACCIDENT_RATES`` ×
      ``SECTOR_RISK``; general 2%, larger 0.1%, major 0.01%, especially major 0.001% per
      enterprise before the sector multiplier), deaths consistent with the grades
      (``DEATHS_PER_ACCIDENT``), unrectified major hazards Poisson(0.015), claim-free years
      geometric up to 8 (0 after an accident), standardisation mostly none, honours rare,
      0.5% blacklisted (a true/false column, as ``pd.read_csv`` reads one).
    - **Policy**: inception uniform over 2023-2026 with 10% on 1 January; short-term
      cover for seasonal fishery and fireworks retail, 3% elsewhere; construction states a
      project end 6-36 months on (project term); 25% choose a per-person limit above the
      statutory floor in force at inception (``LIMIT_CHOICES``), the rest take the floor;
      extensions by sector (``EXTENSION_SHARE``); commission 0 for 20% (direct), else a
      multiple of 0.5% up to the cap in force at inception (5% from 2025-03-29, 10% where
      uncapped); 15% set a prevention share above the book's minimum.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    book = book or find_book("CN-FJ-XM", DATE_FROM)
    rng = np.random.default_rng(seed)
    subs = [(s, ss) for s, sec in book.sectors.items() for ss in sec.subsectors]
    sub = _draw(rng, [SUBSECTOR_WEIGHTS.get(k, OTHER_WEIGHT) for k in subs], n)
    sectors = list(book.sectors)
    sector = np.array([sectors.index(s) for s, _ in subs])[sub]

    columns: dict[str, object] = {
        "id": _ids("P", n),
        "jurisdiction": _text([book.jurisdiction], np.zeros(n, dtype=np.int64)),
        "sector": _text(sectors, sector),
        # a sector with one sub-sector needs none: exports leave it blank
        "subsector": _text([ss if len(book.sectors[s].subsectors) > 1 else None
                            for s, ss in subs], sub),
    }
    inception = _inception(rng, n)
    columns["inception_date"] = _date_text(inception)
    columns["expiry_date"] = _date_text(_expiry(rng, book, subs, sub, inception))
    columns.update(_exposures(rng, book, subs, sub))
    columns.update(_tiers(rng, book, sector, columns.get("headcount")))
    columns.update(_history(rng, sectors, sector))
    columns.update(_cover(rng, book, sectors, sector, inception))
    return pd.DataFrame(columns)


# --- drawing helpers ---------------------------------------------------------------------------

def _draw(rng: np.random.Generator, weights, n: int) -> np.ndarray:
    """``n`` codes into ``weights`` (normalised)."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _text(labels, codes: np.ndarray):
    """The text column ``labels[code]``, blank (NaN) for code -1 or a None label.

    Built as an Arrow dictionary array and decoded in C++: converting a million Python
    strings one by one would be most of the generator's time.
    """
    blank = np.array([x is None for x in labels] + [True])[np.where(codes < 0, len(labels),
                                                                    codes)]
    indices = pa.array(np.where(blank, 0, codes), mask=blank)
    dictionary = pa.array(["" if x is None else str(x) for x in labels] or [""], pa.string())
    return _as_column(pa.DictionaryArray.from_arrays(indices, dictionary).dictionary_decode())


def _as_column(values: pa.Array):
    """An Arrow string array as the column ``pd.read_csv`` gives: pandas' default string
    dtype (Arrow-backed ``str`` on pandas 3), or objects with NaN blanks before it."""
    dtype = pd.Series(["x"]).dtype
    if isinstance(dtype, pd.StringDtype):
        return pd.array(values, dtype=dtype)
    out = values.to_numpy(zero_copy_only=False).astype(object)
    out[pd.isna(out)] = np.nan
    return out


def _ids(prefix: str, n: int):
    """Identifiers ``P0000001``, ..., zero-padded to a common width."""
    width = max(7, len(str(n)))
    digits = pc.utf8_lpad(pa.array(np.arange(1, n + 1)).cast(pa.string()), width, "0")
    return _as_column(pc.binary_join_element_wise(prefix, digits, ""))


def _date_text(days: np.ndarray):
    """``YYYY-MM-DD`` text (blank for NaT), formatting each calendar day once."""
    ok = ~np.isnat(days)
    ordinal = days.astype(np.int64)
    lo, hi = (ordinal[ok].min(), ordinal[ok].max()) if ok.any() else (0, 0)
    calendar = np.datetime_as_string(np.arange(lo, hi + 1).astype("datetime64[D]"))
    return _text(calendar.tolist(), np.where(ok, ordinal - lo, -1))


def _inception(rng: np.random.Generator, n: int) -> np.ndarray:
    start, end = np.datetime64(DATE_FROM, "D"), np.datetime64(DATE_TO, "D")
    days = start + rng.integers(0, (end - start).astype(int) + 1, size=n)
    years = rng.integers(DATE_FROM.year, DATE_TO.year + 1, size=n)
    new_year = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    return np.where(rng.random(n) < NEW_YEAR_SHARE, new_year, days)


def _expiry(rng, book: RateBook, subs, sub: np.ndarray, inception: np.ndarray) -> np.ndarray:
    """Expiry dates (inclusive; NaT = blank, a full year): project ends, short terms, a
    stated full year for some annual policies."""
    n = len(sub)
    project = np.array([book.sectors[s].subsectors[ss].term == "project" for s, ss in subs])[sub]
    share = np.zeros(len(subs))
    month_sets = []
    for k, (s, ss) in enumerate(subs):
        share[k], choices = SHORT_TERM.get(f"{s}.{ss}", SHORT_TERM.get(s, SHORT_TERM_DEFAULT))
        month_sets.append(choices)
    # draw an index into each sub-sector's month set, then map it per sub-sector
    widest = max(len(m) for m in month_sets)
    month_table = np.array([[m[i % len(m)] for i in range(widest)] for m in month_sets])
    lengths = np.array([len(m) for m in month_sets])
    pick = (rng.random(n) * lengths[sub]).astype(np.int64)
    months = month_table[sub, pick]
    short = ~project & (rng.random(n) < share[sub])
    stated = ~project & ~short & (rng.random(n) < EXPLICIT_EXPIRY)
    months = np.where(stated, book.term.max_months, months)
    months = np.where(project, rng.integers(*PROJECT_MONTHS, size=n), months)
    end = add_months(inception, months) - np.timedelta64(1, "D")
    return np.where(project | short | stated, end, np.datetime64("NaT", "D"))


def _exposures(rng, book: RateBook, subs, sub: np.ndarray) -> dict[str, np.ndarray]:
    """One column per exposure field: the row's basis filled, the others blank."""
    n = len(sub)
    basis = [book.sectors[s].subsectors[ss].basis for s, ss in subs]
    median = np.array([MEDIAN_BY_SUBSECTOR.get(k, EXPOSURE_LOGNORMAL[b][0])
                       for k, b in zip(subs, basis)])[sub]
    sigma = np.array([EXPOSURE_LOGNORMAL[b][1] for b in basis])[sub]
    draw = median * np.exp(sigma * rng.standard_normal(n))
    basis_code = np.array([list(EXPOSURE_FIELDS).index(b) for b in basis])[sub]
    out = {}
    for b, (name, field) in enumerate(EXPOSURE_FIELDS.items()):
        rows = basis_code == b
        if name in ("persons", "vehicles", "vessels"):
            values = np.maximum(1.0, np.rint(draw))
        elif name == "capacity_tonnes":
            values = np.maximum(1000.0, np.rint(draw))
        else:  # money: yuan to the fen
            values = np.rint(np.clip(draw, 100_000, MONEY_CAP) * 100) / 100
        out[field] = np.where(rows, values, np.nan)
    return out


def _tiers(rng, book: RateBook, sector: np.ndarray, headcount) -> dict[str, np.ndarray]:
    """Level columns for the tier tables with levels, filled where the table applies."""
    n = len(sector)
    sectors = list(book.sectors)
    codes: dict[str, np.ndarray] = {}
    levels_of: dict[str, list[str]] = {}
    for name, table in book.tiers.items():
        if table.levels is None:  # banded tiers key on exposures already drawn
            continue
        # tables on one variable for disjoint sectors (production_mode) share its column
        levels = levels_of.setdefault(table.variable, [])
        levels.extend(lvl for lvl in table.levels if lvl not in levels)
        weights = LEVEL_WEIGHTS.get(name, {})
        drawn = _draw(rng, [weights.get(lvl, 0.05) for lvl in table.levels], n)
        local = np.array([levels.index(lvl) for lvl in table.levels])[drawn]
        if name == "scale" and headcount is not None:
            by_size = _scale_by_headcount(headcount, levels, table.levels)
            local = np.where(by_size >= 0, by_size, local)
        if table.default is not None:
            blank = (local == levels.index(table.default)) & (rng.random(n) < BLANK_DEFAULT)
            local = np.where(blank, -1, local)
        applies = np.ones(n, dtype=bool) if table.sectors is None else \
            np.isin(sector, [sectors.index(s) for s in table.sectors])
        col = codes.setdefault(table.variable, np.full(n, -1, dtype=np.int64))
        col[applies] = local[applies]
    return {var: _text(levels_of[var], c) for var, c in codes.items()}


def _scale_by_headcount(headcount: np.ndarray, levels: list[str], table_levels) -> np.ndarray:
    """Scale level codes from the size classes (-1 where the headcount is unknown or the
    book's levels are not the four classes)."""
    names = [name for _, name in SCALE_BY_HEADCOUNT] + ["large"]
    if not all(name in table_levels for name in names):
        return np.full(len(headcount), -1)
    edges = np.array([edge for edge, _ in SCALE_BY_HEADCOUNT])
    cls = np.searchsorted(edges, np.nan_to_num(headcount), side="right")
    code = np.array([levels.index(name) for name in names])[cls]
    return np.where(np.isnan(headcount), -1, code)


def _history(rng, sectors: list[str], sector: np.ndarray) -> dict[str, np.ndarray]:
    """Last year's safety record: accident counts by grade, deaths, hazards, credit."""
    n = len(sector)
    risk = np.array([SECTOR_RISK.get(s, 1.0) for s in sectors])[sector]
    out: dict[str, np.ndarray] = {}
    deaths = np.zeros(n, dtype=np.int64)
    any_accident = np.zeros(n, dtype=bool)
    for grade, rate in ACCIDENT_RATES.items():
        count = rng.poisson(rate * risk)
        out[f"accidents_{grade}"] = count
        any_accident |= count > 0
        low, high = DEATHS_PER_ACCIDENT[grade]
        per = rng.integers(low, high, size=n)
        if grade == "general":  # most general accidents kill nobody
            per = np.where(rng.random(n) < DEATH_SHARE_GENERAL, np.maximum(per, 1), 0)
        deaths += count * per
    out["deaths"] = deaths
    out["major_hazards_unrectified"] = rng.poisson(HAZARD_RATE, size=n)
    clean = np.minimum(rng.geometric(CLAIM_FREE_P, size=n) - 1, MAX_CLAIM_FREE)
    out["claim_free_years"] = np.where(any_accident, 0, clean)
    standard = _draw(rng, list(STANDARDISATION.values()), n)
    standard = np.where((standard == 0) & (rng.random(n) < BLANK_DEFAULT), -1, standard)
    out["standardisation_grade"] = _text(list(STANDARDISATION), standard)
    honour = _draw(rng, list(HONOUR.values()), n)
    out["honour"] = _text([None] + list(HONOUR)[1:], honour)  # "none" is left blank
    out["blacklisted"] = rng.random(n) < BLACKLIST_SHARE
    return out


def _cover(rng, book: RateBook, sectors: list[str], sector: np.ndarray,
           inception: np.ndarray) -> dict[str, np.ndarray]:
    """Per-person limit, extensions, commission and prevention share."""
    n = len(sector)
    floor = _floors(book, inception)
    chosen = np.array(list(LIMIT_CHOICES))[_draw(rng, list(LIMIT_CHOICES.values()), n)]
    chosen = np.where(chosen > floor, chosen, floor + 100_000)  # above the floor by design
    limit = np.where(rng.random(n) < LIMIT_CHOSEN, chosen.astype(float), np.nan)

    mask = np.zeros(n, dtype=np.int64)
    keys = list(book.loadings)
    for j, (name, loading) in enumerate(book.loadings.items()):
        shares = EXTENSION_SHARE.get(name, {})
        share = np.array([shares.get(s, shares.get("", EXTENSION_DEFAULT)) for s in sectors])
        offered = np.array([loading.sectors is None or s in loading.sectors for s in sectors])
        take = offered[sector] & (rng.random(n) < share[sector])
        mask |= take.astype(np.int64) << j
    combos = [";".join(k for j, k in enumerate(keys) if m >> j & 1) or None
              for m in range(2 ** len(keys))]

    cap = _commission_caps(book, inception)
    cap = np.where(np.isfinite(cap), cap, UNCAPPED_COMMISSION)
    steps = np.floor(cap / COMMISSION_STEP + 1e-9).astype(np.int64)
    commission = rng.integers(0, steps + 1) * round(COMMISSION_STEP * 1000)
    commission = np.where(rng.random(n) < DIRECT_SHARE, 0, commission) / 1000

    share_min = book.expenses.prevention_share_min
    above = _draw(rng, [1 - sum(PREVENTION_ABOVE_MIN.values()),
                        *PREVENTION_ABOVE_MIN.values()], n)
    levels = [np.nan] + [round(share_min + x, 6) for x in PREVENTION_ABOVE_MIN]
    return {"per_person_limit": limit, "extensions": _text(combos, mask),
            "commission_rate": commission, "prevention_share": np.array(levels)[above]}


def _floors(book: RateBook, days: np.ndarray) -> np.ndarray:
    """The statutory per-person floor at each inception date, computed once per day."""
    uniq, inverse = np.unique(days, return_inverse=True)
    amounts = np.array([per_person_floor(book, d.astype(dt.date)).amount for d in uniq])
    return amounts[inverse]


def _commission_caps(book: RateBook, days: np.ndarray) -> np.ndarray:
    """The commission cap in force at each inception date (inf where none), once per day."""
    uniq, inverse = np.unique(days, return_inverse=True)
    return np.array([commission_cap(book, d.astype(dt.date)) for d in uniq])[inverse]
