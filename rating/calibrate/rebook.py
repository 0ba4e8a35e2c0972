"""From experience to a new rate book: indicated base rates and tier factors, written as YAML.

Method (stated in the new book's provenance):

1. Base rates, by the loss-ratio method with Bühlmann–Straub credibility: each rating unit's
   (sector.sub-sector) yearly loss ratios, weighted by earned premium, are blended with the
   collective loss ratio; the indicated change is
   ``(credibility loss ratio + fixed expense ratio) / (1 - proportional loads)`` and the new
   base rate is the old one times that change. A unit without experience keeps its rate.
2. Tier and floating factors keyed on the config's ``tiers`` variables (categorical tables
   by level, banded tables by band), by a Poisson frequency GLM (log link, exposure offset)
   times a Gamma severity GLM (log link) over the rating unit and those variables
   (``relativities: frequency`` uses the frequency alone). Each variable is blank outside
   its table's sectors and anchored on the book's neutral level (factor nearest 1). A
   level's indicated factor is the old factor of that base level times the fitted
   relativity, blended with the old factor by limited-fluctuation credibility
   Z = sqrt(claims / full_credibility_claims) (1,082 by default: the classic standard for
   frequency within 5% with 90% probability) and rounded to 2 decimals; levels with fewer
   than ``min_claims`` claims (at least 1) keep their factor; factors of an adverse record
   (accident grade...) are made non-decreasing and those of a favourable one (claim-free
   years) non-increasing, as the book's rules require; floating factors stay
   inside the float band. Each unit's base rate is then scaled by its off-balance,
   sum(EP) / sum(EP × new / old factors) over its experience, so the table changes alone do
   not move the unit's premium (the limit factors' changes included, when they are refitted:
   the loss-ratio indication already prices the limits the experience had).

   **Levels without claims** (a rating unit, or a level of a refitted table, with exposure
   but not one claim) are left out of the GLMs: their rows are not fitted, and the
   provenance lists them. The maximum-likelihood coefficient of such a level is -inf (the
   fit would chase it until the iterations run out, and report nothing estimable); its
   rows' fitted claims then tend to 0 and drop out of the score equations of every other
   coefficient, so leaving the rows out gives the other levels exactly the relativities the
   full fit tends to, and a fit that converges. Pooling the level with a neighbour instead
   would assume it shares the neighbour's frequency: for a rating unit, a control variable
   here whose rate comes from step 1, that would mix units measured in different exposure
   bases (persons, yuan, vehicles) and move the tier relativities on no evidence. Nothing
   is lost for the book: a unit's base rate comes from step 1, and a tier level without
   claims is below ``min_claims`` and keeps its factor. Each column is anchored on the
   neutral level among those the fits see (with a claim, and an amount above 0 for the
   severity GLM); a column with no claim at all is not fitted. The same holds for a
   claim-free *combination* of levels whose fitted claims tend to 0 (e.g. a unit whose only
   claim is at one scale): the frequency GLM finds such cells by a linear programme and
   leaves their rows out (``separated='drop'``). A level the experience then cannot
   separate from others (aliased, e.g. a scale seen with claims in one unit only) has no
   relativity and keeps its factor; the provenance lists these too. Should a fit still not
   converge, the warning names the config key to change (``tiers``, or ``relativities``).
3. Everything else is carried over. Changed objects get ``source: calibration`` with a note
   of their old values; the book gets a new id, ``status: draft`` and a ``calibration``
   source recording the data span, method and loads.
4. With ``limit_severity: lognorm``, the limit factors from a censored lognormal fit of the
   per-person death losses and its limited expected values (see :func:`_limit_factors`).

Not done: earned premium is taken at the base book's rate level (no on-levelling, trend or
IBNR).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import yaml
from scipy import optimize, stats

from ..book import load_book, national_rules
from ..book.fields import ADVERSE, CLEAN_RECORD, FAVOURABLE, WORST_GRADE_LEVELS
from ..book.model import MONEY_BASES, FactorTable, LimitFactors, RateBook
from ..book.reference import value_at
from ..book.schema import POSITIVE, Reader, Share, as_data
from ..book.yamlsafe import load_yaml_file
from ..errors import RatingError
from ..files import read_table
from ..risk.increased_limits import limited_expected_value
from .credibility import BuhlmannStraub
from .experience import claims_with, validate_experience, with_claims
from .glm import FrequencyGLM, SeverityGLM
from .indicate import Loads, check_loads, gross_rates, pure_risk_loss_rates

__all__ = ["Calibration", "CalibrationConfig", "LoadsSpec", "calibrate", "load_config",
           "read_experience"]


@dataclass(frozen=True, kw_only=True)
class LoadsSpec:
    prevention_share: Share
    commission: Share
    variable_expense: Share = 0.0
    profit_load: Share = 0.0
    fixed_expense_ratio: Share = 0.0


@dataclass(frozen=True, kw_only=True)
class CalibrationConfig:
    """A calibration config file (YAML; see ``examples/calibration.yaml``)."""

    id: str
    effective_from: dt.date
    loads: LoadsSpec
    tiers: list[str] = field(default_factory=list)
    min_claims: Annotated[int, POSITIVE] = 30
    full_credibility_claims: Annotated[float, POSITIVE] = 1082.0
    limit_severity: Literal["lognorm"] | None = None
    relativities: Literal["pure_premium", "frequency"] = "pure_premium"


def read_experience(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read ``policy_years`` and ``claims`` from a folder (``.csv`` or ``.parquet`` each)."""
    folder = Path(folder)
    frames = []
    for name in ("policy_years", "claims"):
        csv, parquet = folder / f"{name}.csv", folder / f"{name}.parquet"
        if parquet.exists():
            frames.append(read_table(parquet))
        elif csv.exists():
            frames.append(read_table(csv, dtype={"policy_id": str, "claim_id": str}))
        else:
            raise RatingError(f"{folder}: no {name}.csv or {name}.parquet")
    return frames[0], frames[1]


def load_config(path: str | Path) -> CalibrationConfig:
    """Read a calibration config strictly (errors name file, line and key)."""
    data, lines = load_yaml_file(path)
    return Reader(lines, str(path)).read(CalibrationConfig, data, ())


@dataclass(frozen=True)
class Calibration:
    """The new book (as a document and loaded) and what changed.

    Attributes
    ----------
    document : dict
        The new rate book, ready to write as YAML.
    book : RateBook
        The same, validated.
    changes : DataFrame
        One row per changed value: ``path``, ``old``, ``new``, ``basis`` (credibility Z or
        claims behind it).
    limit_severity : scipy.stats frozen distribution or None
        The per-person death-loss distribution fitted for the limit factors, when asked for.
    indication : DataFrame
        Per rating unit: the pure risk loss rate (纯风险损失率, yuan per unit of exposure, with
        its confidence interval, see :func:`rating.calibrate.indicate.pure_risk_loss_rates`),
        the gross rate the loads give on it, the loss ratio and its credibility.
    """

    document: dict
    book: RateBook
    changes: pd.DataFrame
    indication: pd.DataFrame
    limit_severity: Any = None

    def to_yaml(self) -> str:
        """The new book as YAML text, headed by a comment listing the changed values."""
        head = ["# Calibrated rate book; changed values:"]
        head += [f"#   {r.path}: {r.old!r} -> {r.new!r}" for r in self.changes.itertuples()]
        body = yaml.dump(self.document, Dumper=_PlainDumper, sort_keys=False,
                         allow_unicode=True, width=100)
        return "\n".join(head) + "\n" + body


class _PlainDumper(yaml.SafeDumper):
    """Safe YAML without anchors and aliases: a rate book reads top to bottom."""

    def ignore_aliases(self, data) -> bool:
        return True


def calibrate(base_book: RateBook | str | Path, policy_years: pd.DataFrame,
              claims: pd.DataFrame, config: CalibrationConfig) -> Calibration:
    """Calibrate a new rate book from experience (see the module docstring for the method).

    Parameters
    ----------
    base_book : RateBook or path
        The base rate book (or its YAML file); its structure is kept.
    policy_years, claims : DataFrame
        Experience (:mod:`rating.calibrate.experience` schema).
    config : CalibrationConfig
        Id and date of the new edition, loads, tier variables to refit.

    Raises
    ------
    RatingError
        For invalid experience or loads, or a result that is not a valid book.
    """
    if isinstance(base_book, RateBook):
        base, document = base_book, as_data(base_book)
    else:
        base = load_book(base_book)
        document, _ = load_yaml_file(base_book)
    document = copy.deepcopy(document)
    validate_experience(policy_years, claims, book=base)
    loads = check_loads(Loads(config.loads.prevention_share, config.loads.commission,
                              config.loads.variable_expense, config.loads.profit_load),
                        base, config.effective_from)
    for column in ("rating_unit", "earned_premium", "exposure"):
        if column not in policy_years.columns:
            raise RatingError(f"policy_years: calibration needs the column {column!r}")
    data = with_claims(policy_years, claims)
    _check_units(data, base)
    if data["claim_count"].sum() == 0:
        raise RatingError("the experience has no claims: nothing to calibrate from")
    # a book calibrated before keeps the source of its earlier round; this round gets its own
    source = next(key for key in (SOURCE, *(f"{SOURCE}_{i}" for i in range(2, 1000)))
                  if key not in document["sources"])
    changes, cred = _base_rates(document, base, data, loads, config, source)
    try:
        tier_changes, refits, fitted_data, left_out, not_separable = _tier_factors(
            document, base, data, claims, config, source)
    except ValueError as exc:  # e.g. levels the data cannot separate
        raise RatingError(f"cannot fit the GLMs of tiers {', '.join(config.tiers)}: {exc}; "
                          "refit fewer tables (config key 'tiers')") from None
    severity, limit_changes, limit_ratio = None, [], None
    if config.limit_severity is not None:
        severity, limit_changes = _limit_factors(document, base, policy_years, claims, config,
                                                 source)
        limit_ratio = _limit_ratio(fitted_data, base.limit_factors,
                                   [b["factor"] for b in document["limit_factors"]["bands"]])
    changes = (_rebalance(document, fitted_data, refits, changes, source, limit_ratio)
               + tier_changes + limit_changes)
    years = sorted(int(y) for y in pd.unique(data["year"]))
    document["sources"][source] = {
        "title": f"Calibration of {base.id} from experience {years[0]}-{years[-1]}",
        "date": config.effective_from,
        "note": (f"{len(data):,} policy-years, {int(data['claim_count'].sum()):,} claims; "
                 "base rates by the loss-ratio method with Bühlmann-Straub credibility, tier "
                 "factors by a Poisson frequency GLM (rating.calibrate.rebook)"
                 f"{_left_out(left_out, not_separable)}; loads: "
                 f"prevention {loads.prevention_share:g}, commission {loads.commission:g}, "
                 f"variable expense {loads.variable_expense:g}, profit {loads.profit_load:g}, "
                 f"fixed expense ratio {config.loads.fixed_expense_ratio:g}"),
    }
    document.update(id=config.id, effective_from=config.effective_from, effective_to=None,
                    status="draft")
    if not document["title"]["en"].endswith(" (calibrated)"):
        document["title"] = {"zh": document["title"]["zh"] + "（经验校准）",
                             "en": document["title"]["en"] + " (calibrated)"}
    try:
        book = load_book(document)
    except RatingError as exc:
        raise RatingError(f"the calibrated book is not valid: {exc}") from None
    return Calibration(document, book, pd.DataFrame(
        changes, columns=["path", "old", "new", "basis"]),
        _indication(data, claims, policy_years, loads, cred, config.loads.fixed_expense_ratio),
        severity)


def _indication(data: pd.DataFrame, claims: pd.DataFrame, policy_years: pd.DataFrame,
                loads: Loads, cred: BuhlmannStraub, fixed_ratio: float) -> pd.DataFrame:
    exposure = data.groupby("rating_unit", observed=True)["exposure"].sum()
    exposure = exposure[exposure > 0]
    per_claim = claims_with(policy_years, claims, ["rating_unit"])
    losses = pd.DataFrame({"group": per_claim["rating_unit"], "amount": per_claim["incurred"]})
    out = pure_risk_loss_rates(exposure, losses[losses["group"].isin(exposure.index)])
    # the fixed expense ratio is a share of today's premium: per unit of exposure it is
    # that share of the unit's earned premium per unit
    premium = data.groupby("rating_unit", observed=True)["earned_premium"].sum()
    fixed = fixed_ratio * premium.reindex(out.index) / out["exposure"]
    out["gross_rate"] = gross_rates(out, dataclasses.replace(loads, fixed_expense=0.0)) + \
        fixed / (1 - loads.proportional)
    basis = data.groupby("rating_unit", observed=True)["basis"].first().reindex(out.index)
    out.insert(0, "basis", basis)
    per_mille = basis.isin(list(MONEY_BASES)).to_numpy()
    out.insert(1, "book_unit", np.where(per_mille, "‰", "yuan per unit"))
    out["gross_rate_in_book_unit"] = np.where(per_mille, out["gross_rate"] * 1000,
                                              out["gross_rate"])
    out["loss_ratio"] = cred.risk_mean_.reindex(out.index)
    out["credibility"] = cred.z_.reindex(out.index)
    out["credibility_loss_ratio"] = cred.premium_.reindex(out.index)
    out.index.name = "rating_unit"
    return out


SOURCE = "calibration"


def _check_units(data: pd.DataFrame, book: RateBook) -> None:
    """Every rating unit must be a sub-sector of the book and agree with sector/subsector."""
    units = {f"{s}.{ss}" for s, sec in book.sectors.items() for ss in sec.subsectors}
    seen = pd.unique(data["rating_unit"].astype(str))
    unknown = sorted(set(seen) - units)
    if unknown:
        raise RatingError(f"policy_years: rating_unit {unknown[0]!r} is not a sub-sector of "
                          f"{book.id}; write it sector.subsector, e.g. "
                          f"{next(iter(sorted(units)))}")
    if {"sector", "subsector"} <= set(data.columns):
        said = data["sector"].astype(str) + "." + data["subsector"].astype(str)
        clash = said.ne(data["rating_unit"].astype(str)) & data["subsector"].notna()
        if clash.any():
            row = data.index[clash.to_numpy()][0]
            row = row.item() if isinstance(row, np.generic) else row
            raise RatingError(f"policy_years: row {row!r}: rating_unit "
                              f"{data.loc[row, 'rating_unit']!r} disagrees with "
                              f"sector/subsector {said.loc[row]!r}")


def _base_rates(document: dict, base: RateBook, data: pd.DataFrame, loads: Loads,
                config: CalibrationConfig, source: str):
    by_unit = data.groupby(["rating_unit", "year"], as_index=False, observed=True)[
        ["earned_premium", "incurred"]].sum()
    no_premium = by_unit.groupby("rating_unit", observed=True)["earned_premium"].sum()
    no_premium = no_premium[no_premium <= 0]
    if len(no_premium):
        raise RatingError(f"rating unit {no_premium.index[0]!r} has losses but no earned "
                          "premium; the loss-ratio method needs premium for every unit")
    by_unit = by_unit[by_unit["earned_premium"] > 0]
    if by_unit["rating_unit"].nunique() < 2:
        raise RatingError("experience covers fewer than two rating units; credibility needs "
                          "at least two")
    cred = BuhlmannStraub(group="rating_unit", period="year", exposure="earned_premium",
                          loss="incurred").fit(by_unit)
    change = (cred.premium_ + config.loads.fixed_expense_ratio) / (1 - loads.proportional)
    out = []
    for unit, factor in change.items():
        sector, sub = str(unit).split(".", 1)
        node = document["sectors"][sector]["subsectors"][sub]
        old = float(node["base_rate"])
        new = float(np.round(old * factor, 4))
        if new <= 0 or new == old:
            continue
        node["base_rate"] = new
        _mark(node, f"base rate was {old:g}; loss ratio {cred.risk_mean_[unit]:.4f}, "
                    f"credibility Z {cred.z_[unit]:.3f}", source)
        out.append((f"sectors.{sector}.subsectors.{sub}.base_rate", old, new,
                    f"Z={cred.z_[unit]:.3f}"))
    return out, cred


@dataclass(frozen=True)
class _View:
    """A categorical or banded factor table seen as named levels, for refitting.

    Bands become levels ``band0``, ``band1``... of a column of band labels."""

    path: tuple
    table: Any
    column: str               # the data column the GLM fits
    old: dict[str, float]     # level -> old factor, in the table's natural order
    default: str | None       # the level of a missing value

    def key(self, level: str) -> str:
        if self.table.levels is not None:
            return ".".join(self.path) + f".levels.{level}.factor"
        return ".".join(self.path) + f".bands[{level[4:]}].factor"

    def write(self, node: dict, level: str, value: float) -> None:
        if self.table.levels is not None:
            node["levels"][level]["factor"] = value
        else:
            node["bands"][int(level[4:])]["factor"] = value


def _views(base: RateBook, data: pd.DataFrame, config: CalibrationConfig):
    """The tables keyed on ``config.tiers`` as views, and the data with band columns."""
    tables: list[tuple[tuple[str, ...], FactorTable]] = [
        (("tiers", name), t) for name, t in base.tiers.items()]
    tables += [(("floating", "groups", g, "factors", name), t)
               for g, group in base.floating_rules.groups.items()
               for name, t in group.factors.items()]
    data = data.copy()
    views = []
    for path, table in tables:
        if table.variable not in config.tiers or table.variable not in data:
            continue
        if table.levels is not None:
            order = list(WORST_GRADE_LEVELS) if table.variable == "worst_accident_grade" \
                else list(table.levels)
            old = {lv: table.levels[lv].factor for lv in order}
            default = table.default
            views.append(_View(path, table, table.variable, old, default))
            continue
        column = f"{table.variable}__{path[-1]}"
        values = pd.to_numeric(data[table.variable], errors="coerce").to_numpy(float)
        if table.variable in CLEAN_RECORD:
            values = np.where(np.isnan(values), 0.0, values)  # no record means none
        bands = table.bands
        assert bands is not None  # a table has bands where it has no levels
        idx = np.zeros(len(values), dtype=int)
        for band in bands[1:]:
            idx += (values >= band.lower) if (table.closed or "left") == "left" \
                else (values > band.lower)
        labels = np.array([f"band{i}" for i in range(len(bands))] + [None], dtype=object)
        data[column] = labels[np.where(np.isnan(values), len(bands), idx)]
        old = {f"band{i}": b.factor for i, b in enumerate(bands)}
        views.append(_View(path, table, column, old, None))
    return views, data


def _tier_factors(document: dict, base: RateBook, data: pd.DataFrame, claims: pd.DataFrame,
                  config: CalibrationConfig, source: str):
    """Refit the tables (tiers and floating factors, categorical or banded) keyed on
    ``config.tiers``. Returns the changes, the refitted views with their new factors, the
    data with the fitted columns (every row, for the off-balance) and what the fit left out
    (factor -> levels without claims; see the module docstring, step 2)."""
    views, fit_data = _views(base, data, config)
    columns = sorted({v.column for v in views})
    if not columns:
        return [], [], data, {}, {}
    # a table answers only for its sectors: elsewhere its column is blank ("does not
    # apply"), so rows of other sectors do not pull its relativities
    sectors = fit_data["rating_unit"].astype(str).str.split(".").str[0]
    for column in columns:
        scopes = [v.table.sectors for v in views if v.column == column]
        if all(scope is not None for scope in scopes):
            allowed = {s for scope in scopes for s in scope}
            fit_data[column] = fit_data[column].astype(object).where(sectors.isin(allowed), None)
    # the rows the GLMs fit: positive exposure, and no level without claims (whose
    # coefficient would tend to -inf; leaving its rows out gives the other coefficients the
    # limit the full fit tends to)
    left_out = {name: _levels_without_claims(fit_data, name)
                for name in ["rating_unit", *columns]}
    keep = fit_data["exposure"].to_numpy(float) > 0
    for name, levels in left_out.items():
        keep &= ~_level_keys(fit_data[name]).isin(levels).to_numpy()
    left_out = {name: levels for name, levels in left_out.items() if levels}
    model_data = fit_data.loc[keep]
    per_claim = claims_with(model_data, claims, ["rating_unit", *columns])
    # anchor each column on the book's own neutral level (factor nearest 1), not on the
    # level with most exposure, which sums persons and yuan across units; chosen among the
    # levels the fits actually see: with claims, and with a paid or reserved amount when the
    # severity GLM is fitted too (it drops claims of 0)
    if config.relativities == "pure_premium":
        claimed = per_claim[per_claim["incurred"] > 0]
    else:
        claimed = per_claim
    base_levels = {}
    for column in columns:
        view = next(v for v in views if v.column == column)
        seen = set(_level_keys(claimed[column]).dropna())
        candidates = [lv for lv in view.old if lv in seen]
        if candidates:
            base_levels[column] = min(candidates, key=lambda lv: abs(view.old[lv] - 1.0))
    # a column none of whose levels has a claim is not fitted: its tables keep their factors
    columns = [c for c in columns if c in base_levels]
    if not columns:
        return [], [], fit_data, left_out, {}
    factors = ["rating_unit", *columns]
    # levels the experience cannot separate from others (aliased) get no relativity (NaN)
    model = _fit(lambda: FrequencyGLM(factors, base_levels=base_levels, aliased="drop",
                                      separated="drop").fit(model_data), "frequency", config)
    if model.n_separated_:
        left_out["policy-years of claim-free combinations of levels (separated)"] = [
            f"{model.n_separated_:,}"]
    rel = model.relativities_
    aliased = set(model.aliased_)
    if config.relativities == "pure_premium":
        # pure premium = frequency × severity: multiply in the Gamma GLM's mean-amount
        # relativities, fitted on the claims with the same factors and base levels (a level
        # whose claims are all 0 has no severity relativity: 1)
        sev_model = _fit(lambda: SeverityGLM(factors, base_levels=base_levels,
                                             aliased="drop").fit(per_claim), "severity", config)
        severity = sev_model.relativities_.set_index(["factor", "level"])["relativity"]
        aliased |= set(sev_model.aliased_)
        keys = pd.MultiIndex.from_frame(rel[["factor", "level"]])
        rel = rel.assign(relativity=rel["relativity"].to_numpy()
                         * severity.reindex(keys, fill_value=1.0).to_numpy())
    not_separable: dict[str, list[str]] = {}
    for term in sorted(aliased):
        name, level = term[:-1].split("[", 1)
        if name != "rating_unit":  # a unit's rate comes from the loss ratios anyway
            not_separable.setdefault(name, []).append(level)
    out, refits = [], []
    for view in views:
        if view.column not in base_levels:
            continue
        fitted = rel[rel["factor"] == view.column].set_index("level")
        base_level = model.base_levels_[view.column]
        if base_level not in view.old:
            continue
        anchor = view.old[base_level]
        new_factors = {}
        for level, old in view.old.items():
            credible = (level != base_level and level in fitted.index
                        and fitted.loc[level, "claims"] >= config.min_claims
                        and np.isfinite(fitted.loc[level, "relativity"]))
            if not credible:
                new_factors[level] = old
                continue
            # limited-fluctuation credibility: Z = sqrt(n / n_full), n_full = 1,082 claims
            # by default (frequency within 5% of its mean with 90% probability)
            z = min(1.0, float(np.sqrt(fitted.loc[level, "claims"]
                                       / config.full_credibility_claims)))
            fitted_factor = anchor * fitted.loc[level, "relativity"]
            new_factors[level] = float(np.round(z * fitted_factor + (1 - z) * old, 2))
        if view.path[0] == "floating":  # beyond the band a factor would be cut off anyway
            band = base.floating_rules
            new_factors = {k: min(max(v, band.floor), band.cap) for k, v in new_factors.items()}
        if view.table.variable in ADVERSE:  # a worse record may not lower a premium
            running = 0.0
            for level in view.old:  # natural order: best record first
                running = max(running, new_factors[level])
                new_factors[level] = running
        if view.table.variable in FAVOURABLE:  # nor a better one raise it
            running = np.inf
            for level in view.old:  # natural order: shortest record first
                running = min(running, new_factors[level])
                new_factors[level] = running
        node = document
        for key in view.path:
            node = node[key]
        notes = []
        for level, old in view.old.items():
            new = new_factors[level]
            if new <= 0 or new == old:
                continue
            view.write(node, level, new)
            notes.append(f"{level} was {old:g}")
            claims = int(fitted.loc[level, "claims"]) if level in fitted.index else 0
            out.append((view.key(level), old, new, f"{claims} claims"))
        if notes:
            _mark(node, "; ".join(notes), source)
            refits.append((view, new_factors))
    return out, refits, fit_data, left_out, not_separable


def _left_out(left_out: dict[str, list[str]], not_separable: dict[str, list[str]]) -> str:
    """The provenance note's account of the levels the tier GLMs left out or could not
    separate (each ``factor level, level; factor level``)."""
    def listed(levels: dict[str, list[str]]) -> str:
        return "; ".join(f"{name} {', '.join(lv)}" for name, lv in levels.items())

    text = ""
    if left_out:
        text += ("; levels without claims, left out of the tier GLMs (a rating unit keeps "
                 f"its loss-ratio base rate, a tier level its factor): {listed(left_out)}")
    if not_separable:
        text += ("; levels the experience cannot separate from others (aliased in a tier "
                 f"GLM), which keep their factors: {listed(not_separable)}")
    return text


def _level_keys(values: pd.Series) -> pd.Series:
    """A factor column's levels as text (blank stays blank), as the GLMs key them."""
    values = values.astype(object)
    return values.where(values.isna(), values.astype(str))


def _levels_without_claims(data: pd.DataFrame, column: str) -> list[str]:
    """Levels of ``column`` seen on rows with positive exposure, without one claim there."""
    rows = data["exposure"].to_numpy(float) > 0
    levels = _level_keys(data[column])[rows]
    counts = data.loc[rows, "claim_count"].groupby(levels.to_numpy()).sum()
    return sorted(str(lv) for lv, n in counts.items() if n == 0)


def _fit(fit, what: str, config: CalibrationConfig):
    """Run a GLM fit; its non-convergence becomes a warning a calibrate user can act on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = fit()
    hint = " or fit the frequency alone (config key 'relativities: frequency')" \
        if what == "severity" else ""
    for w in caught:
        if issubclass(w.category, RuntimeWarning) and "did not converge" in str(w.message):
            warnings.warn(f"calibrate: the {what} GLM of the tier factors did not converge "
                          f"({str(w.message).split(': ', 1)[-1]}), so its relativities are "
                          f"unreliable: the experience cannot separate the levels of tiers "
                          f"{', '.join(config.tiers)}; refit fewer of them (config key "
                          f"'tiers'){hint}", RuntimeWarning, stacklevel=3)
        else:
            warnings.warn(w.message, w.category, stacklevel=3)
    return model


def _rebalance(document: dict, data: pd.DataFrame, refits: list, changes: list[tuple],
               source: str, limit_ratio: np.ndarray | None = None) -> list[tuple]:
    """Scale each unit's base rate so that the table refits alone do not move the unit's
    premium: by sum(EP) / sum(EP × new/old factors), over the unit's experience rows
    (EP = earned premium; ``data`` holds the refitted columns; ``limit_ratio`` the rows'
    new / old limit factors, when the limit factors were refitted: the loss-ratio base
    rates already price the limits the experience had). Returns ``changes`` with the base
    rates updated."""
    if not refits and limit_ratio is None:
        return changes
    sectors = data["rating_unit"].astype(str).str.split(".").str[0].to_numpy()
    ratio = np.ones(len(data)) if limit_ratio is None else limit_ratio.copy()
    for view, new_factors in refits:
        applies = np.ones(len(data), dtype=bool) if view.table.sectors is None else \
            np.isin(sectors, view.table.sectors)
        levels = data[view.column].astype(object)
        if view.default is not None:
            levels = levels.where(levels.notna(), view.default)
        levels = levels.astype(str)
        old = levels.map(view.old).to_numpy(float)
        new = levels.map(new_factors).to_numpy(float)
        ok = applies & np.isfinite(old) & np.isfinite(new)
        ratio[ok] *= new[ok] / old[ok]
    premium = data["earned_premium"].to_numpy(float)
    frame = pd.DataFrame({"unit": data["rating_unit"].astype(str).to_numpy(),
                          "premium": premium, "moved": premium * ratio})
    sums = frame.groupby("unit")[["premium", "moved"]].sum()
    offset = (sums["premium"] / sums["moved"]).replace([np.inf], 1.0).fillna(1.0)
    by_path = {c[0]: list(c) for c in changes}
    for unit, factor in offset.items():
        if abs(factor - 1) < 1e-9:
            continue
        sector, sub = unit.split(".", 1)
        node = document["sectors"][sector]["subsectors"][sub]
        path = f"sectors.{sector}.subsectors.{sub}.base_rate"
        old = by_path[path][1] if path in by_path else float(node["base_rate"])
        new = float(np.round(float(node["base_rate"]) * factor, 4))
        node["base_rate"] = new
        if path in by_path:
            by_path[path][2] = new
            by_path[path][3] += f", off-balance {factor:.4f}"
        else:
            _mark(node, f"base rate was {old:g}; off-balance {factor:.4f}", source)
            by_path[path] = [path, old, new, f"off-balance {factor:.4f}"]
    return [tuple(v) for v in by_path.values()]


def _limit_ratio(data: pd.DataFrame, old: LimitFactors, new: list[float]) -> np.ndarray:
    """New / old limit factor of each experience row's per-person limit (1 where the row
    states none)."""
    limit = pd.to_numeric(data.get("per_person_limit", pd.Series(np.nan, index=data.index)),
                          errors="coerce").to_numpy(float)
    lowers = np.array([b.lower for b in old.bands])
    # closed left: a limit equal to a band's lower bound is in that band; right: below it
    side: Literal["left", "right"] = "right" if old.closed == "left" else "left"
    band = np.clip(np.searchsorted(lowers, np.nan_to_num(limit), side=side) - 1, 0, None)
    ratio = np.asarray(new)[band] / np.array([b.factor for b in old.bands])[band]
    return np.where(np.isnan(limit), 1.0, ratio)


def _limit_factors(document: dict, base: RateBook, policy_years: pd.DataFrame,
                   claims: pd.DataFrame, config: CalibrationConfig, source: str):
    """Refit the limit factors from the per-person death losses.

    Each claim with deaths gives a per-person amount, paid_death / deaths, censored at the
    policy's per-person limit when it reached it; a lognormal is fitted by maximum
    likelihood with that censoring, and each band's factor becomes the anchor band's factor
    times LEV(band's lower limit) / LEV(anchor's lower limit), the anchor being the band
    whose factor is closest to 1 (the first band is evaluated at the national floor, the
    lowest limit a policy may choose). Factors are rounded to 2 decimals and kept
    non-decreasing.
    """
    rows = claims_with(policy_years, claims, ["per_person_limit"])
    rows = rows[(rows["deaths"] > 0) & rows["per_person_limit"].notna()]
    if len(rows) < config.min_claims:
        raise RatingError(f"limit factors: {len(rows)} claims with deaths, fewer than "
                          f"min_claims {config.min_claims}")
    amount = (rows["paid_death"] / rows["deaths"]).to_numpy(float)
    cap = rows["per_person_limit"].to_numpy(float)
    censored = amount >= cap - 0.005
    severity = _censored_lognormal(amount, censored)
    bands = base.limit_factors.bands
    anchor = min(range(len(bands)), key=lambda i: abs(bands[i].factor - 1.0))
    in_force = value_at(national_rules().per_person_floor, config.effective_from)
    if in_force is None:
        raise RatingError(f"effective_from: no national per-person floor is in force on "
                          f"{config.effective_from}, so the lowest limit band cannot be priced")
    points = [max(b.lower, in_force.value) for b in bands]
    lev = np.asarray(limited_expected_value(severity, points))
    factors = np.maximum.accumulate(  # a higher limit never costs less
        np.round(bands[anchor].factor * lev / lev[anchor], 2))
    node = document["limit_factors"]
    out, notes = [], []
    for i, (band, factor) in enumerate(zip(bands, factors)):
        if float(factor) != band.factor:
            node["bands"][i]["factor"] = float(factor)
            notes.append(f"{band.lower:g}: was {band.factor:g}")
            out.append((f"limit_factors.bands[{i}].factor", band.factor, float(factor),
                        f"{int(censored.sum())}/{len(amount)} censored"))
    if notes:
        _mark(node, "; ".join(notes), source)
    return severity, out


def _censored_lognormal(amount: np.ndarray, censored: np.ndarray):
    """Lognormal maximum likelihood with right-censoring at the limits reached."""
    logs = np.log(amount)
    start = np.array([logs.mean(), max(logs.std(), 0.1)])

    def nll(theta):
        mu, sigma = theta[0], np.exp(theta[1])
        z = (logs - mu) / sigma
        return -(stats.norm.logpdf(z[~censored]) - np.log(sigma) - logs[~censored]).sum() \
            - stats.norm.logsf(z[censored]).sum()

    fit = optimize.minimize(nll, [start[0], np.log(start[1])], method="Nelder-Mead",
                            options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 4000})
    return stats.lognorm(s=float(np.exp(fit.x[1])), scale=float(np.exp(fit.x[0])))


def _mark(node: dict[str, Any], note: str, source: str) -> None:
    """Give a changed object the calibration as its source, keeping its earlier note."""
    node.pop("illustrative", None)
    before = node.get("note")
    node["source"] = source
    node["article"] = "rating.calibrate.rebook"
    node["note"] = "calibrated: " + note + (f" (before: {before})" if before else "")
