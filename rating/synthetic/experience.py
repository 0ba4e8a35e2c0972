"""A seeded synthetic loss experience with known true frequencies, for testing calibration.

:func:`synthetic_experience` draws policy-years and claims in the schema of
:mod:`rating.calibrate.experience` from :func:`rating.synthetic.synthetic_portfolio`;
:func:`true_relativities` gives the frequency model it was drawn from, so a fitted model can
be compared with the truth. Every assumption below is illustrative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..book import RateBook, find_book
from ..book.fields import ACCIDENT_GRADES, EXPOSURE_FIELDS, WORST_GRADE_LEVELS
from ..calibrate.experience import ACCIDENT_FIELDS, TIER_FIELDS, YEAR_RANGE
from ..engine.calendar import add_months, term_months
from ..engine.columns import MISSING, categories
from ..portfolio import rate_portfolio
from .portfolio import DATE_FROM, _commission_caps, _floors, _ids, synthetic_portfolio

# --- synthetic experience: assumptions (illustrative) ---------------------------------------

LOSS_RATIO_BY_SECTOR: dict[str, float] = {
    # expected loss ratio on the book's base rates at every factor's relativity-1 level: the
    # true frequencies follow from it, so the book over-prices some sectors (metro, other)
    # and under-prices others (mines, fishery, road transport), as a calibration would find
    "non_coal_mines": 0.8, "hazardous_chemicals": 0.5, "fireworks": 0.4, "road_transport": 0.65,
    "urban_rail": 0.3, "water_transport": 0.5, "construction": 0.55, "civil_explosives": 0.45,
    "metal_smelting": 0.5, "fishery": 0.7, "other": 0.3,
}
LOSS_RATIO_DEFAULT = 0.5
"""Loss ratio of a sector not named above."""
ASSUMED_SEVERITY = 350_000
"""Yuan: the average claim used to turn loss costs into frequencies (frequency per unit =
loss ratio x base premium per unit / this). Roughly the mean incurred claim below."""

RELATIVITIES: dict[str, dict[str, float]] = {
    # factor -> level -> true frequency multiplier; levels not named are 1. Steeper than the
    # Xiamen book's illustrative tiers, so a calibration has something to correct.
    "scale": {"micro": 1.4, "small": 1.15, "medium": 1.0, "large": 0.8},
    "enterprise_type": {"general": 1.0, "major_hazard_installation": 1.35},
    "standardisation_grade": {"none": 1.0, "grade_3": 0.9, "grade_2": 0.75, "grade_1": 0.6},
    # last year's worst accident: accident-prone enterprises stay so (contagion, not frailty:
    # the multiplier is causal, so a GLM on the record recovers it)
    "worst_accident_grade": {"none": 1.0, "general": 1.6, "larger": 2.2, "major": 2.8,
                             "especially_major": 3.5},
}

GRADE_SHARES = {"general": 0.975, "larger": 0.02, "major": 0.004, "especially_major": 0.001}
"""Share of claims by accident grade: almost all claims are general accidents."""
DEATHS_BY_GRADE = {"general": (0, 3), "larger": (3, 10), "major": (10, 30),
                   "especially_major": (30, 61)}
"""Deaths per accident, uniform on [low, high): the grade thresholds of 国务院令第493号."""
DEATH_SHARE_GENERAL = 0.1
"""Share of general accidents that kill someone (1 death, 2 in a fifth of them); most claims
are injuries."""
DISABLED_MEAN = {"general": 0.3, "larger": 3.0, "major": 10.0, "especially_major": 30.0}
INJURED_MEAN = {"general": 1.0, "larger": 5.0, "major": 20.0, "especially_major": 50.0}
"""Poisson means of the disabled and the injured per accident (at least one victim)."""

SEVERITY: dict[str, tuple[float, float]] = {
    # amount owed (yuan) -> (median, sigma of log), lognormal, before the sector multiplier
    "death": (1_200_000, 0.35),      # ~ 20 x urban income (work-injury death subsidy) + damages
    "disability": (120_000, 1.0),    # per disabled victim, across grades 1-10
    "medical": (20_000, 1.1),        # per disabled or injured victim
    "other": (15_000, 1.5),          # per accident: property, rescue, aid, appraisal, legal
}
OTHER_BY_GRADE = {"general": 1.0, "larger": 5.0, "major": 20.0, "especially_major": 50.0}
"""Multiplier of the per-accident ``other`` costs by grade."""
SEVERITY_BY_SECTOR: dict[str, float] = {
    "non_coal_mines": 1.3, "hazardous_chemicals": 1.3, "fireworks": 1.2, "road_transport": 1.0,
    "urban_rail": 1.2, "water_transport": 1.1, "construction": 1.1, "civil_explosives": 1.3,
    "metal_smelting": 1.2, "fishery": 0.9, "other": 0.8,
}
OPEN_SHARE = (0.6, 0.25, 0.08)
"""Share of claims still open in the last experience year, the one before, and the one before
that; 2% of older claims."""
OPEN_PAID = (0.1, 0.7)
"""An open claim has paid a uniform share in this range of its final amount; the case reserve
is the rest (reserves are exact: no development)."""
ENTERED_AT_START = 0.7
"""Share of enterprises insured from the first experience year; the others enter in a later
year (uniformly) and none leave."""
SYNTHETIC_FACTORS = ("rating_unit", *TIER_FIELDS, "standardisation_grade", "honour",
                     "worst_accident_grade")
"""Level columns a true relativity may be given for."""
LAST_YEAR = 2025
"""``years=k`` means the k underwriting years ending with this one."""


def true_relativities(relativities: Mapping[str, Mapping[str, float]] | None = None,
                      book: RateBook | None = None) -> dict[str, pd.Series]:
    """The true frequency model of :func:`synthetic_experience`.

    Parameters
    ----------
    relativities : mapping, optional
        Overrides, factor -> level -> multiplier (see :func:`synthetic_experience`).
    book : RateBook, optional
        Default: the shipped Xiamen book.

    Returns
    -------
    dict of Series
        ``rating_unit``: claims per basis unit of exposure (per person-year, vehicle-year...,
        per yuan of a project's contract value) at every other factor's relativity-1 level;
        its ratios are the rating units' relativities. Every other key: a factor column of
        the policy-years, the multiplier of each of its levels (levels not listed, and
        blanks, multiply by 1). Compare a fitted relativity with ``s[level] /
        s[base_level]``, with the model's base levels where the truth is 1 for factors that
        are blank on some rows (blanks share the base level's coefficient).
    """
    book = book or _default_book()
    units = _units(book)
    base = pd.Series(
        [LOSS_RATIO_BY_SECTOR.get(s, LOSS_RATIO_DEFAULT) * _base_premium(book, s, ss)
         / ASSUMED_SEVERITY for s, ss, _ in units],
        index=[f"{s}.{ss}" for s, ss, _ in units], name="rating_unit")
    out = {"rating_unit": base}
    for factor, levels in RELATIVITIES.items():
        known = _factor_levels(book, factor)
        out[factor] = pd.Series({lvl: float(levels.get(lvl, 1.0)) for lvl in known},
                                name=factor)
    for factor, given in (relativities or {}).items():
        known = list(out[factor].index) if factor in out else _factor_levels(book, factor)
        if factor not in SYNTHETIC_FACTORS or not known:
            raise ValueError(f"relativities: {factor!r} is not a level column of the "
                             "experience (rating_unit, a tier or floating level variable)")
        for level, value in given.items():
            if level not in known:
                raise ValueError(f"relativities: {level!r} is not a level of {factor}; use "
                                 "one of: " + ", ".join(known))
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"relativities: {factor}[{level}] must be a positive number")
        series = out.get(factor, pd.Series(1.0, index=known, name=factor)).copy()
        series.loc[list(given)] = [float(v) for v in given.values()]
        out[factor] = series
    return out


def synthetic_experience(n_policies: int, years: int | Sequence[int] = 3, seed: int = 0,
                         relativities: Mapping[str, Mapping[str, float]] | None = None, *,
                         book: RateBook | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded synthetic experience: policy-years and claims with known true frequencies.

    Parameters
    ----------
    n_policies : int
        Enterprises (construction: contractors, one project a year), drawn by
        :func:`rating.synthetic.synthetic_portfolio` with the same seed.
    years : int or sequence of int
        Underwriting years: a count (the years ending with ``LAST_YEAR``, 2025) or the
        calendar years themselves (consecutive, ascending).
    seed : int
        Same ``(n_policies, years, seed, relativities, book)``, same frames (same numpy).
    relativities : mapping, optional
        Overrides of the true frequency multipliers, factor -> level -> multiplier. Factors:
        ``rating_unit`` (claims per basis unit per year, replacing the default), the defaults
        in ``RELATIVITIES`` (scale, enterprise_type, standardisation_grade,
        worst_accident_grade) or any other level column (product, project_type,
        production_mode, honour). :func:`true_relativities` gives the result.
    book : RateBook, optional
        Default: the shipped Xiamen book; premiums are rated on it whatever the year.

    Returns
    -------
    policy_years, claims : DataFrame
        As in the module docstring: one row per policy-year (sorted by policy and year; level
        columns categorical in the book's level order, dates ``datetime64``), one per claim
        (sorted by policy, year and accident date).

    Notes
    -----
    Everything is **illustrative** (constants at the top of the module's synthetic section):

    - **Portfolio**: the enterprises, exposure measures, tiers, standardisation grade, honour,
      blacklist, limit choice, extensions and commission of ``synthetic_portfolio``; level
      blanks within a table's sectors are filled with its default. Exposure measures stay
      the same every year; 70% of enterprises are insured from the first year, the rest
      enter in a later year; none leave.
    - **Periods**: each year's policy incepts on the portfolio's day of the year and runs its
      term (12 months; seasonal short terms; construction projects 6-36 months, possibly past
      the last year: the data are complete, every accident of every period is in).
    - **Frequency**: claim counts are Poisson with mean = earned exposure x the rating unit's
      frequency per unit x the multipliers of ``true_relativities`` (``RELATIVITIES``: scale
      micro 1.4 ... large 0.8, a major hazard installation 1.35, standardisation grade 1 0.6
      ... none 1, last year's worst accident none 1 ... especially major 3.5). A unit's
      frequency per unit is ``LOSS_RATIO_BY_SECTOR`` (0.3 metro and other sectors ... 0.8
      mines) x the book's base premium per unit / ``ASSUMED_SEVERITY`` (350,000 yuan), so the
      book misprices some sectors; overall about 5% of policy-years have a claim and the
      loss ratio is about 0.6. Last year's accidents (the record fields of the next
      policy-year) come from the claims, so ``worst_accident_grade`` acts causally. No
      other heterogeneity (a Poisson GLM on these factors is correctly specified), no trend,
      no IBNR.
    - **Claims**: one claim per accident; grade general 97.5%, larger 2%, major 0.4%,
      especially major 0.1%; deaths uniform within the grade's range (general: 10% fatal);
      disabled and injured Poisson by grade; at least one victim.
    - **Severity**: lognormal amounts owed (``SEVERITY``: death median 1.2m yuan, sigma 0.35;
      disability 120k, 1.0; medical per victim 20k, 1.1; other costs per accident 15k, 1.5,
      x5/x20/x50 for larger/major/especially major) times a sector multiplier (0.8 other
      sectors ... 1.3 mines and chemicals). **Limits**: each death and disability is capped at
      the policy's per-person limit (as rated: the chosen limit, else the statutory floor in
      force), medical costs at the medical sub-limit per person, other costs at the sum of
      their sub-limits, and the accident's total at the per-accident limit (pro rata). The
      annual aggregate is not applied.
    - **Development**: 60% / 25% / 8% of the last three years' claims are open (2% older),
      having paid 10-70% of their final amount; the case reserve is exactly the rest.
    - **Premium**: ``earned_premium`` is the premium the package's engine charges for the
      policy-year's profile on ``book`` (commission clipped to the cap in force, a chosen
      limit below that year's floor replaced by the floor).
    """
    if n_policies < 0:
        raise ValueError("n_policies must not be negative")
    book = book or _default_book()
    year_list = _year_list(years)
    truth = true_relativities(relativities, book)
    rng = np.random.default_rng([seed, 5])  # a stream apart from the portfolio's
    port = synthetic_portfolio(n_policies, seed=seed, book=book)
    n, n_years = len(port), len(year_list)

    units = _units(book)
    unit_names = [f"{s}.{ss}" for s, ss, _ in units]
    unit = _unit_codes(port, book, units)
    sector_of_unit = np.array([list(book.sectors).index(s) for s, _, _ in units])
    basis_of_unit = np.array([list(EXPOSURE_FIELDS).index(b) for _, _, b in units])
    project_unit = np.array([book.sectors[s].subsectors[ss].term == "project"
                             for s, ss, _ in units])
    levels = _level_columns(port, book, sector_of_unit[unit])

    # the term in months and the earned exposure (constant over the years)
    start0 = pd.to_datetime(port["inception_date"]).to_numpy().astype("datetime64[D]")
    end0 = pd.to_datetime(port["expiry_date"]).to_numpy().astype("datetime64[D]")
    months = np.where(np.isnat(end0), 12, term_months(start0, end0))
    basis_code = basis_of_unit[unit]
    measure = np.full(n, np.nan)
    for b, field_name in enumerate(EXPOSURE_FIELDS.values()):
        measure = np.where(basis_code == b, port[field_name].to_numpy(dtype=float), measure)
    project = project_unit[unit]
    exposure = np.where(project, measure, measure * months / 12)

    # true frequency per policy, without the record (which changes year by year)
    per_unit = truth["rating_unit"].reindex(unit_names).to_numpy()
    static = per_unit[unit] * exposure
    for factor, series in truth.items():
        if factor in ("rating_unit", "worst_accident_grade"):
            continue
        codes, names = levels[factor]
        mult = np.append(series.reindex(names).fillna(1.0).to_numpy(), 1.0)  # blank: 1
        static = static * mult[codes]
    record_mult = truth["worst_accident_grade"].reindex(WORST_GRADE_LEVELS).fillna(1.0) \
        .to_numpy()

    # entry year, then the years one by one: each year's record is last year's claims
    later = rng.integers(1, n_years, size=n) if n_years > 1 else np.zeros(n, dtype=np.int64)
    entry = np.where(rng.random(n) < ENTERED_AT_START, 0, later)
    accidents = np.stack([port[f].to_numpy(dtype=np.int64) for f in ACCIDENT_FIELDS], axis=1)
    deaths = port["deaths"].to_numpy(dtype=np.int64, copy=True)
    claim_free = port["claim_free_years"].to_numpy(dtype=np.int64, copy=True)
    py_parts, claim_parts = [], []
    for k in range(n_years):
        idx = np.flatnonzero(entry <= k)
        worst = _worst_grade(accidents[idx])
        count = rng.poisson(static[idx] * record_mult[worst])
        py_parts.append((idx, np.full(len(idx), k), accidents[idx].copy(), deaths[idx].copy(),
                         claim_free[idx].copy(), worst, count))
        owner = np.repeat(np.arange(len(idx)), count)  # position in idx of each claim
        grade = rng.choice(len(ACCIDENT_GRADES), size=len(owner),
                           p=list(GRADE_SHARES.values()))
        killed = _draw_deaths(rng, grade)
        claim_parts.append((idx[owner], np.full(len(owner), k), grade, killed))
        new = np.zeros((len(idx), len(ACCIDENT_GRADES)), dtype=np.int64)
        for g in range(len(ACCIDENT_GRADES)):
            new[:, g] = np.bincount(owner[grade == g], minlength=len(idx))
        accidents[idx] = new
        deaths[idx] = np.bincount(owner, weights=killed, minlength=len(idx)).astype(np.int64)
        claim_free[idx] = np.where(count > 0, 0, claim_free[idx] + 1)

    pol, yk, acc, dead, free, worst, count = (np.concatenate(a) for a in zip(*py_parts))
    order = np.lexsort((yk, pol))  # by policy, then year
    pol, yk, acc, dead, free, worst, count = (a[order] for a in
                                              (pol, yk, acc, dead, free, worst, count))
    year = np.asarray(year_list, dtype=np.int64)[yk]
    start, end = _periods(start0[pol], months[pol], year)
    policy_years = _policy_year_frame(port, book, pol, year, start, end, unit, unit_names,
                                      levels, exposure, acc, dead, free, worst)
    rated = _rate(policy_years, port, book, pol)
    policy_years["earned_premium"] = rated["premium"].to_numpy()
    policy_years["per_person_limit"] = rated["per_person_limit"].to_numpy()
    policy_years = policy_years[_policy_year_order(policy_years)]

    # claims: back to the policy-year rows, then victims and amounts
    c_pol, c_yk, c_grade, c_deaths = (np.concatenate(a) for a in zip(*claim_parts))
    row_of = pd.Index(pol * n_years + yk).get_indexer(c_pol * n_years + c_yk)
    claims = _claim_frame(rng, policy_years, rated, row_of, c_grade, c_deaths,
                          book, sector_of_unit[unit][c_pol], n_years - 1 - c_yk)
    return policy_years, claims


def _default_book() -> RateBook:
    return find_book("CN-FJ-XM", DATE_FROM)


def _year_list(years: int | Sequence[int]) -> list[int]:
    if isinstance(years, (int, np.integer)):
        if years < 1:
            raise ValueError("years must be at least 1")
        return list(range(LAST_YEAR - int(years) + 1, LAST_YEAR + 1))
    out = [int(y) for y in years]
    if not out or out != list(range(out[0], out[0] + len(out))):
        raise ValueError("years must be consecutive ascending calendar years")
    if not YEAR_RANGE[0] <= out[0] <= out[-1] <= YEAR_RANGE[1]:
        raise ValueError(f"years must be from {YEAR_RANGE[0]} to {YEAR_RANGE[1]}")
    return out


def _units(book: RateBook) -> list[tuple[str, str, str]]:
    """(sector, sub-sector, basis) of every rating unit, in book order."""
    return [(s, ss, sub.basis) for s, sec in book.sectors.items()
            for ss, sub in sec.subsectors.items()]


def _base_premium(book: RateBook, sector: str, subsector: str) -> float:
    """Yuan of base premium per basis unit (per person, per yuan of contract value...)."""
    sub = book.sectors[sector].subsectors[subsector]
    if sub.base_rate is None:
        raise ValueError(f"{sector}.{subsector} is rated on a rate grid: the synthetic "
                         "experience needs one base rate per rating unit")
    return sub.base_rate / sub.per_unit


def _factor_levels(book: RateBook, factor: str) -> list[str]:
    """Levels of a level column, in book order (empty if the book has no such column)."""
    if factor == "rating_unit":
        return [f"{s}.{ss}" for s, ss, _ in _units(book)]
    if factor == "worst_accident_grade":
        return list(WORST_GRADE_LEVELS)
    tables = list(book.tiers.values()) + [t for g in book.floating_rules.groups.values()
                                          for t in g.factors.values()]
    levels = [lvl for t in tables if t.variable == factor and t.levels for lvl in t.levels]
    return list(dict.fromkeys(levels))


def _unit_codes(port: pd.DataFrame, book: RateBook, units) -> np.ndarray:
    """The rating unit of each portfolio row (a blank sub-sector: the sector's only one)."""
    sectors = list(book.sectors)
    names = sorted({ss for _, ss, _ in units})
    s = categories(port["sector"], "sector", sectors, None, n=len(port))
    ss = categories(port["subsector"], "subsector", names, None, n=len(port))
    table = np.full((len(sectors), len(names) + 1), -1, dtype=np.int64)
    for u, (sec, sub, _) in enumerate(units):
        table[sectors.index(sec), names.index(sub)] = u
        if len(book.sectors[sec].subsectors) == 1:
            table[sectors.index(sec), -1] = u  # ss == MISSING indexes the last column
    return table[s, ss]


def _level_columns(port: pd.DataFrame, book: RateBook,
                   sector: np.ndarray) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Codes (-1 blank) and levels of each level column, defaults filled where a table with a
    default applies (a blank there means the default, not 'does not apply')."""
    sectors = list(book.sectors)
    tables = list(book.tiers.values()) + [t for g in book.floating_rules.groups.values()
                                          for t in g.factors.values()]
    out: dict[str, tuple[np.ndarray, list[str]]] = {}
    for name in dict.fromkeys(t.variable for t in tables if t.levels):
        if name not in port.columns or port[name].dtype == bool:
            continue
        names = _factor_levels(book, name)
        codes = categories(port[name], name, names, None, n=len(port))
        for t in tables:
            if t.variable == name and t.levels and t.default is not None:
                applies = np.ones(len(port), dtype=bool) if t.sectors is None else \
                    np.isin(sector, [sectors.index(s) for s in t.sectors])
                codes = np.where(applies & (codes == MISSING), names.index(t.default), codes)
        out[name] = (codes, names)
    return out


def _periods(start0: np.ndarray, months: np.ndarray, year: np.ndarray):
    """Each policy-year's period: the portfolio's day of the year, in ``year``, for the same
    number of months."""
    jan1_0 = start0.astype("datetime64[Y]").astype("datetime64[D]")
    day = np.minimum((start0 - jan1_0).astype(np.int64), 364)  # 31 Dec of a leap year: 30 Dec
    jan1 = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    pol_start = jan1 + day
    return pol_start, add_months(pol_start, months) - np.timedelta64(1, "D")


def _worst_grade(accidents: np.ndarray) -> np.ndarray:
    """Code in WORST_GRADE_LEVELS of the worst grade with a non-zero count (0: none)."""
    any_ = accidents > 0
    last = len(ACCIDENT_GRADES) - np.argmax(any_[:, ::-1], axis=1)
    return np.where(any_.any(axis=1), last, 0)


def _draw_deaths(rng: np.random.Generator, grade: np.ndarray) -> np.ndarray:
    low = np.array([DEATHS_BY_GRADE[g][0] for g in ACCIDENT_GRADES])[grade]
    high = np.array([DEATHS_BY_GRADE[g][1] for g in ACCIDENT_GRADES])[grade]
    killed = low + np.floor(rng.random(len(grade)) * (high - low)).astype(np.int64)
    general = grade == 0
    fatal = rng.random(len(grade)) < DEATH_SHARE_GENERAL
    two = rng.random(len(grade)) < 0.2
    return np.where(general, np.where(fatal, 1 + two, 0), killed)


def _categorical(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(np.where(codes < 0, -1, codes), categories=names)


def _policy_year_frame(port, book, pol, year, start, end, unit, unit_names, levels, exposure,
                       acc, dead, free, worst) -> pd.DataFrame:
    sectors = list(book.sectors)
    units = _units(book)
    u = unit[pol]
    sector_of_unit = np.array([sectors.index(s) for s, _, _ in units])
    subs = sorted({ss for _, ss, _ in units})
    sub_of_unit = np.array([subs.index(ss) for _, ss, _ in units])
    cols: dict[str, object] = {
        "policy_id": port["id"].to_numpy()[pol],
        "year": year,
        "jurisdiction": port["jurisdiction"].to_numpy()[pol],
        "sector": _categorical(sector_of_unit[u], sectors),
        "subsector": _categorical(sub_of_unit[u], subs),
        "rating_unit": _categorical(u, unit_names),
        "basis": _categorical(np.array([list(EXPOSURE_FIELDS).index(b)
                                        for _, _, b in units])[u], list(EXPOSURE_FIELDS)),
        "exposure": exposure[pol],
        "inception_date": start.astype("datetime64[s]"),
        "expiry_date": end.astype("datetime64[s]"),
    }
    for name in EXPOSURE_FIELDS.values():
        cols[name] = port[name].to_numpy(dtype=float)[pol]
    for name, (codes, names) in levels.items():
        cols[name] = _categorical(codes[pol], names)
    for g, name in enumerate(ACCIDENT_FIELDS):
        cols[name] = acc[:, g]
    cols["deaths"] = dead
    cols["major_hazards_unrectified"] = port["major_hazards_unrectified"].to_numpy()[pol]
    cols["claim_free_years"] = free
    cols["worst_accident_grade"] = _categorical(worst, list(WORST_GRADE_LEVELS))
    cols["blacklisted"] = port["blacklisted"].to_numpy()[pol]
    for name in ("per_person_limit", "extensions", "commission_rate", "prevention_share"):
        cols[name] = port[name].to_numpy()[pol]
    return pd.DataFrame(cols)


def _policy_year_order(frame: pd.DataFrame) -> list[str]:
    head = ["policy_id", "year", "jurisdiction", "sector", "subsector", "rating_unit", "basis",
            "exposure", "earned_premium", "inception_date", "expiry_date"]
    return head + [c for c in frame.columns if c not in head]


def _rate(policy_years: pd.DataFrame, port: pd.DataFrame, book: RateBook,
          pol: np.ndarray) -> pd.DataFrame:
    """The engine's premium and limits for each policy-year's profile."""
    start = policy_years["inception_date"].to_numpy().astype("datetime64[D]")
    profile = policy_years.drop(columns=["policy_id", "year", "rating_unit", "basis",
                                         "exposure", "worst_accident_grade"])
    # the portfolio's choices were valid at its own inception date; keep them valid in the
    # experience years: a chosen limit under that year's floor takes the floor, commission
    # at most the cap in force
    floors = _floors(book, start)
    limit = profile["per_person_limit"].to_numpy(dtype=float)
    profile["per_person_limit"] = np.where(limit >= floors, limit, np.nan)
    cap = _commission_caps(book, start)
    commission = profile["commission_rate"].to_numpy(dtype=float)
    profile["commission_rate"] = np.where(np.isfinite(cap), np.minimum(commission, cap),
                                          commission)
    profile["subsector"] = port["subsector"].to_numpy()[pol]  # blank where the sector has one
    profile["inception_date"] = start
    profile["expiry_date"] = policy_years["expiry_date"].to_numpy().astype("datetime64[D]")
    return rate_portfolio(profile, book=book)


def _claim_frame(rng, policy_years: pd.DataFrame, rated: pd.DataFrame, row: np.ndarray,
                 grade: np.ndarray, killed: np.ndarray, book: RateBook, sector: np.ndarray,
                 age: np.ndarray) -> pd.DataFrame:
    """Claims of the policy-year rows ``row``: date, victims, amounts after limits."""
    m = len(row)
    start = policy_years["inception_date"].to_numpy().astype("datetime64[D]")[row]
    end = policy_years["expiry_date"].to_numpy().astype("datetime64[D]")[row]
    days = (end - start).astype(np.int64) + 1
    when = start + np.floor(rng.random(m) * days).astype(np.int64)
    disabled = rng.poisson(np.array(list(DISABLED_MEAN.values()))[grade])
    injured = rng.poisson(np.array(list(INJURED_MEAN.values()))[grade])
    injured = np.where(killed + disabled + injured == 0, 1, injured)

    sectors = list(book.sectors)
    sev = np.array([SEVERITY_BY_SECTOR.get(s, 1.0) for s in sectors])[sector]
    per_person = rated["per_person_limit"].to_numpy(dtype=float)[row]
    medical_cap = rated["limit_medical_per_person"].to_numpy(dtype=float)[row]
    other_cap = sum(rated[f"limit_{k}"].to_numpy(dtype=float)
                    for k in ("third_party_property", "rescue", "medical_aid", "appraisal",
                              "legal"))[row]
    per_accident = rated["limit_per_accident"].to_numpy(dtype=float)[row]

    def victims(kind: str, counts: np.ndarray, cap: np.ndarray) -> np.ndarray:
        # one lognormal draw per victim, capped per person, summed back to the claim
        owner = np.repeat(np.arange(m), counts)
        median, sigma = SEVERITY[kind]
        owed = sev[owner] * median * np.exp(sigma * rng.standard_normal(len(owner)))
        return np.bincount(owner, weights=np.minimum(owed, cap[owner]), minlength=m)

    paid = {
        "paid_death": victims("death", killed, per_person),
        "paid_disability": victims("disability", disabled, per_person),
        "paid_medical": victims("medical", disabled + injured, medical_cap),
    }
    median, sigma = SEVERITY["other"]
    other = sev * np.array(list(OTHER_BY_GRADE.values()))[grade] * median * \
        np.exp(sigma * rng.standard_normal(m))
    paid["paid_other"] = np.minimum(other, other_cap)
    total = sum(paid.values())
    # the per-accident limit: every line reduced in proportion (as rating.settlement settles)
    ratio = np.where(total > per_accident, per_accident / np.maximum(total, 1e-9), 1.0)
    share_open = np.array(OPEN_SHARE + (0.02,))[np.minimum(age, len(OPEN_SHARE))]
    is_open = rng.random(m) < share_open
    paid_share = np.where(is_open, rng.uniform(*OPEN_PAID, size=m), 1.0)
    final = {k: np.round(v * ratio * 100) / 100 for k, v in paid.items()}
    out_paid = {k: np.round(v * paid_share * 100) / 100 for k, v in final.items()}
    reserved = np.round((sum(final.values()) - sum(out_paid.values())) * 100) / 100

    py = policy_years
    frame = pd.DataFrame({
        "policy_id": py["policy_id"].to_numpy()[row],
        "year": py["year"].to_numpy()[row],
        "accident_date": when.astype("datetime64[s]"),
        "accident_grade": _categorical(grade, list(ACCIDENT_GRADES)),
        "deaths": killed,
        "disabled": disabled,
        "injured": injured,
        **out_paid,
        "reserved": np.maximum(reserved, 0.0),
    })
    order = np.lexsort((when, row))
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "claim_id", _ids("C", m))
    return frame
