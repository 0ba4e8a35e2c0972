"""Calibration speed and accuracy: frequency GLM on cells, aggregate loss by three methods.

The GLM fit on cells is timed against a row-by-row fit; aggregate loss by Panjer, FFT and
simulation is checked against a fine-grid reference.

Run: ``python benchmarks/calibration.py [--rows N] [--uncompressed-rows M] [--source S]
[--seed S] [--repeat R] [--lam L] [--sims K] ...`` (``--help`` lists them all).

1. **Experience.** ``N`` policy-years (default 1,000,000) with five categorical rating
   factors and Poisson claim counts whose true relativities are known:

   * ``--source synthetic`` (default): the package's own generator,
     :func:`rating.calibrate.experience.synthetic_experience` (3 years, just enough
     enterprises for ``N`` policy-years; the first ``N`` rows are kept), with
     :func:`~rating.calibrate.experience.with_claims` for the counts. Factors
     ``rating_unit`` (25 levels), ``scale`` (4), ``enterprise_type`` (2),
     ``standardisation_grade`` (4) and ``worst_accident_grade`` (5), with the blanks and the
     skewed level mix of real experience; the truth is
     :func:`~rating.calibrate.experience.true_relativities`. About 8 s for 1M rows.
   * ``--source numpy``: a frame built directly with numpy (same level counts, every level
     combination present, log relativities drawn from N(0, 0.3²), lognormal exposure),
     in well under a second.

2. **GLM.** Times ``FrequencyGLM(factors).fit`` on cells (best of ``R``; from the row frame,
   so compression and input checks are included) and one ``FrequencyGLM(factors,
   compress=False).fit`` -- statsmodels on the rows with the same design, the same library
   in the same process -- on ``M`` rows (default: all, about 25 s for 1M rows on a 2-core
   machine). When ``M < N`` the row fit runs on a seeded random subsample, its time is
   scaled by ``N / M`` and the output says so; the coefficients are then compared with a
   cell fit on the same subsample. The scaled time is a **lower bound**: the arithmetic of
   IRLS on rows is linear in the rows, but its arrays outgrow the caches, and on the
   development machine the full 1M-row fit took twice the time scaled from 200,000 rows
   (26 s against 13 s). Reported: the ratio of the times, the largest coefficient and
   standard error differences, and how far the cell fit is from the true relativities
   (largest ``|z|``).

3. **Aggregate loss.** ``N ~ Poisson(λ)`` accidents a year (default λ = 50: a sector's
   yearly count), each a lognormal loss (median 150,000 yuan, σ = 1.3: mean about 350,000,
   the synthetic experience's ``ASSUMED_SEVERITY``) capped at the limit (default 730,000
   yuan, the Xiamen statutory per-person floor for 2024-2025 inceptions). Times
   :func:`~rating.risk.aggregate.panjer` and :func:`~rating.risk.aggregate.fft_aggregate`
   on a coarse lattice (h = 10,000 yuan; best of ``R``, the discretisation timed apart) and
   one seeded :func:`~rating.risk.aggregate.simulate_aggregate` run (``K`` = 1,000,000
   years, continuous severity), and compares the mean, VaR and TVaR at 99.5% with a
   reference: FFT on a fine lattice (h = 500 yuan). The reference's own mean is checked
   against the exact ``λ·E[min(X, u)]`` (closed-form limited expected value). Relative
   errors are signed, ``(method − reference) / reference``; the lattice methods' errors are
   discretisation bias, the simulation's are sampling noise (they change with the seed; its
   standard error of the mean is reported).

The last line printed is one JSON object with the figures (``glm_fit_seconds``,
``glm_speedup``, ``glm_max_coef_diff``, ``panjer_seconds``, ``fft_seconds``,
``simulation_seconds``, ``{panjer,fft,simulation}_{mean,var,tvar}_rel_error`` and more).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy
import statsmodels
from _timing import best_time  # a sibling module of the benchmark scripts
from scipy import stats

from rating.calibrate.experience import with_claims
from rating.calibrate.glm import FrequencyGLM
from rating.risk.aggregate import (
    AggregateDistribution,
    DiscreteSeverity,
    Poisson,
    discretise,
    fft_aggregate,
    panjer,
    simulate_aggregate,
)
from rating.risk.increased_limits import limited_expected_value
from rating.synthetic import synthetic_experience, true_relativities

SYNTHETIC_FACTORS = ["rating_unit", "scale", "enterprise_type", "standardisation_grade",
                     "worst_accident_grade"]
SYNTHETIC_BASE = {"scale": "medium", "enterprise_type": "general",
                  "standardisation_grade": "none", "worst_accident_grade": "none"}
"""Base levels where the true multiplier is 1: rows a factor does not apply to (blank) have
multiplier 1 and share the base level's coefficient, so the fitted relativities compare with
the truth only when the two coincide (``rating_unit`` keeps the default base)."""
YEARS = 3
POLICY_YEARS_PER_POLICY = 2.5
"""With 3 years, 70% of enterprises insured from the first and the rest entering in year 2
or 3, an enterprise gives 2.55 policy-years on average; 2.5 leaves a 2% margin."""
NUMPY_LEVELS = (25, 4, 2, 4, 5)
"""Level counts of the numpy frame's factors, those of the synthetic experience's five."""
NUMPY_BASE_FREQUENCY = 0.05
"""Claims per unit of exposure at relativity 1 (about 5% of synthetic policy-years claim)."""

SEVERITY_MEDIAN, SEVERITY_SIGMA = 150_000.0, 1.3
"""Lognormal loss per accident, yuan: mean 349,000, about the synthetic experience's
``ASSUMED_SEVERITY`` (350,000), with a tail heavy enough that 11% of losses reach the cap."""
LIMIT = 730_000.0
"""Yuan: the Xiamen statutory per-person floor for 2024-2025 inceptions (10 x 2023 urban
income 72,880, rounded up; tables/README.md), a multiple of both lattice spans."""


# --- measuring ---------------------------------------------------------------------------------

# --- experience --------------------------------------------------------------------------------

@dataclass
class Experience:
    """Policy-years to fit, with what the benchmark needs to know about them.

    Attributes
    ----------
    frame : DataFrame
        Factor columns, ``claim_count`` and ``exposure``.
    factors : list of str
        The five rating factors.
    base_levels : dict
        Base levels to fit with (see ``SYNTHETIC_BASE``); empty for the defaults.
    truth : dict of Series
        Factor -> true multiplier by level (any scale: only ratios are compared).
    note : str
        How the frame was made, for the printed lines.
    seconds : float
        Time to make it.
    """

    frame: pd.DataFrame
    factors: list[str]
    base_levels: dict[str, str]
    truth: dict[str, pd.Series]
    note: str
    seconds: float


def synthetic_frame(rows: int, seed: int) -> Experience:
    """The first ``rows`` policy-years of :func:`synthetic_experience`, with claim counts."""
    start = time.perf_counter()
    n_policies = math.ceil(rows / POLICY_YEARS_PER_POLICY) + 50
    policy_years, claims = synthetic_experience(n_policies, YEARS, seed=seed)
    if len(policy_years) < rows:
        raise SystemExit(f"synthetic_experience gave {len(policy_years):,} policy-years, "
                         f"fewer than {rows:,}; lower POLICY_YEARS_PER_POLICY")
    # rows are sorted by policy then year: the head drops only the last policies' years
    frame = with_claims(policy_years, claims).head(rows).reset_index(drop=True)
    truth = {f: s for f, s in true_relativities().items() if f in SYNTHETIC_FACTORS}
    note = (f"synthetic_experience({n_policies:,} enterprises, {YEARS} years, seed {seed}), "
            f"first {rows:,} of {len(policy_years):,} policy-years")
    return Experience(frame, SYNTHETIC_FACTORS, SYNTHETIC_BASE, truth, note,
                      time.perf_counter() - start)


def numpy_frame(rows: int, seed: int) -> Experience:
    """``rows`` policy-years drawn directly with numpy: categorical factors ``f0``..``f4``
    (``NUMPY_LEVELS``), lognormal exposure and Poisson counts with known relativities."""
    start = time.perf_counter()
    rng = np.random.default_rng([seed, 7])
    factors = [f"f{j}" for j in range(len(NUMPY_LEVELS))]
    columns, truth = {}, {}
    eta = np.zeros(rows)
    for name, k in zip(factors, NUMPY_LEVELS):
        levels = [f"l{i}" for i in range(k)]
        codes = rng.integers(0, k, rows)
        log_rel = rng.normal(0.0, 0.3, k)
        columns[name] = pd.Categorical.from_codes(codes, levels)
        truth[name] = pd.Series(np.exp(log_rel), index=levels)
        eta += log_rel[codes]
    frame = pd.DataFrame(columns)
    frame["exposure"] = rng.lognormal(0.0, 1.0, rows)
    frame["claim_count"] = rng.poisson(NUMPY_BASE_FREQUENCY * frame["exposure"] * np.exp(eta))
    note = f"numpy frame, {rows:,} rows, seed {seed}"
    return Experience(frame, factors, {}, truth, note, time.perf_counter() - start)


# --- frequency GLM -----------------------------------------------------------------------------

def fit(data: pd.DataFrame, factors: list[str], base_levels: dict[str, str],
        compress: bool) -> tuple[FrequencyGLM, list[str]]:
    """Fit a ``FrequencyGLM`` and collect its warnings (a level without claims) instead of
    letting them interrupt the printed lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = FrequencyGLM(factors, base_levels=base_levels or None,
                             compress=compress).fit(data)
    return model, [str(w.message) for w in caught]


def coefficients(model: FrequencyGLM) -> pd.Series:
    """Intercept and log relativities of the estimable levels of a fitted model.

    A level without claims has no finite estimate (its coefficient drifts towards −inf
    until IRLS stops, and the fit warns): comparing where two fits stopped, or comparing it
    with the truth, would measure the stopping rule, not the fit.
    """
    rel = model.relativities_
    keep = (~rel["base"] & (rel["claims"] > 0)).to_numpy()
    terms = [f"{f}[{lvl}]" for f, lvl in zip(rel["factor"][keep], rel["level"][keep])]
    return pd.concat([pd.Series({"intercept": model.intercept_}), model.coef_[terms]])


def against_truth(model: FrequencyGLM, truth: dict[str, pd.Series]) -> dict[str, float]:
    """Largest ``|z|`` and ``|log error|`` of the fitted relativities against the truth.

    Parameters
    ----------
    model : FrequencyGLM
        Fitted.
    truth : dict of Series
        Factor -> true multiplier by level; compared as ratios to the model's base level.

    Returns
    -------
    dict
        ``max_abs_z`` (``(log fitted − log true) / std_error``; about 3 is normal for some
        35 levels), ``max_abs_log_error`` and ``free_levels`` (non-base levels with
        claims, compared).
    """
    rel = model.relativities_
    true = np.array([truth[f][lvl] / truth[f][model.base_levels_[f]]
                     for f, lvl in zip(rel["factor"], rel["level"])])
    free = (~rel["base"] & (rel["claims"] > 0)).to_numpy()  # see coefficients()
    error = np.log(rel["relativity"].to_numpy() / true)[free]
    z = error / rel["std_error"].to_numpy()[free]
    return {"max_abs_z": float(np.abs(z).max()), "max_abs_log_error": float(np.abs(error).max()),
            "free_levels": int(free.sum())}


def uncompressed_comparison(exp: Experience, cells: FrequencyGLM, rows: int,
                            seed: int) -> dict:
    """One row-by-row fit (``compress=False``) and its agreement with the cell fit.

    Parameters
    ----------
    exp : Experience
        The data.
    cells : FrequencyGLM
        The cell fit on all of ``exp.frame``.
    rows : int
        Rows for the row-by-row fit; fewer than the frame: a seeded random subsample, the
        time scaled by ``len(frame) / rows`` (a lower bound, see the module docstring).
    seed : int
        For the subsample.

    Returns
    -------
    dict
        ``rows``, ``measured_seconds``, ``seconds`` (scaled to the full frame), ``scaled``,
        ``max_coef_diff`` and ``max_se_rel_diff`` (estimable levels, see
        :func:`coefficients`), ``iterations`` (IRLS), ``warnings``.
    """
    total = len(exp.frame)
    # the same base levels as the cell fit, so both fits have one design
    base = cells.base_levels_
    if rows >= total:
        data, reference = exp.frame, cells
    else:
        data = exp.frame.sample(n=rows, random_state=seed)
        reference, _ = fit(data, exp.factors, base, compress=True)
    gc.collect()
    start = time.perf_counter()
    direct, caught = fit(data, exp.factors, base, compress=False)
    measured = time.perf_counter() - start
    ours, theirs = coefficients(reference), coefficients(direct)
    terms = ["intercept", *ours.index[1:]]
    se_ours = pd.Series(np.asarray(reference.result_.bse),
                        index=["intercept", *reference.coef_.index])[terms]
    se_theirs = pd.Series(np.asarray(direct.result_.bse),
                          index=["intercept", *direct.coef_.index])[terms]
    return {"rows": len(data), "measured_seconds": measured,
            "seconds": measured * total / len(data), "scaled": len(data) < total,
            "max_coef_diff": float((ours - theirs[ours.index]).abs().max()),
            "max_se_rel_diff": float((se_ours / se_theirs - 1).abs().max()),
            "iterations": direct.n_iter_, "warnings": caught}


def glm_benchmark(exp: Experience, repeat: int, uncompressed_rows: int | None,
                  seed: int) -> dict:
    """Time the cell fit and one row-by-row fit, print the lines and return the figures."""
    frame = exp.frame
    claims = int(frame["claim_count"].sum())
    print(f"experience: {len(frame):,} policy-years, {claims:,} claims; {exp.note}; "
          f"made in {exp.seconds:.1f} s")
    seconds, (cells, caught) = best_time(
        lambda: fit(frame, exp.factors, exp.base_levels, compress=True), repeat)
    levels = "/".join(str(len(cells.levels_[f])) for f in exp.factors)
    params = 1 + len(cells.coef_)
    print(f"FrequencyGLM on cells: {len(exp.factors)} factors ({levels} levels), "
          f"{cells.n_cells_:,} cells, {params} parameters, {cells.n_iter_} IRLS iterations: "
          f"best of {repeat}: {seconds:.3f} s")
    for message in caught:
        print(f"  warning: {message}")
    truth = against_truth(cells, exp.truth)
    print(f"  against the true relativities: max |z| {truth['max_abs_z']:.2f} over "
          f"{truth['free_levels']} levels, max |log error| {truth['max_abs_log_error']:.3f}")

    rows = len(frame) if uncompressed_rows is None else min(uncompressed_rows, len(frame))
    direct = uncompressed_comparison(exp, cells, rows, seed)
    if direct["scaled"]:
        how = (f"on a random {direct['rows']:,}-row subsample in "
               f"{direct['measured_seconds']:.1f} s, scaled x{len(frame) / rows:.1f} to "
               f"{direct['seconds']:.1f} s for {len(frame):,} rows (linear estimate, a "
               f"lower bound: larger arrays run slower per row)")
    else:
        how = f"on all {direct['rows']:,} rows in {direct['seconds']:.1f} s (measured)"
    speedup = direct["seconds"] / seconds
    print(f"uncompressed fit (compress=False: statsmodels on the rows, same design) {how}; "
          f"cells {speedup:,.0f}x faster")
    print(f"  agreement with the cell fit: max |coef diff| {direct['max_coef_diff']:.2e}, "
          f"max standard-error relative diff {direct['max_se_rel_diff']:.2e}")
    for message in direct["warnings"]:
        print(f"  warning (uncompressed): {message}")
    return {
        "glm_source": exp.note, "glm_rows": len(frame), "glm_claims": claims,
        "glm_factors": exp.factors,
        "glm_levels": [len(cells.levels_[f]) for f in exp.factors],
        "glm_cells": cells.n_cells_, "glm_params": params,
        "glm_generate_seconds": round(exp.seconds, 2),
        "glm_fit_seconds": round(seconds, 4),
        "glm_iterations": cells.n_iter_,
        "glm_uncompressed_rows": direct["rows"],
        "glm_uncompressed_measured_seconds": round(direct["measured_seconds"], 3),
        "glm_uncompressed_seconds": round(direct["seconds"], 3),
        "glm_uncompressed_scaled": direct["scaled"],
        "glm_uncompressed_iterations": direct["iterations"],
        "glm_speedup": round(speedup, 1),
        "glm_max_coef_diff": direct["max_coef_diff"],
        "glm_max_se_rel_diff": direct["max_se_rel_diff"],
        "glm_truth_max_abs_z": round(truth["max_abs_z"], 3),
        "glm_truth_max_log_error": round(truth["max_abs_log_error"], 4),
        "glm_warnings": len(caught) + len(direct["warnings"]),
    }


# --- aggregate loss ----------------------------------------------------------------------------

def risk_figures(agg: AggregateDistribution, level: float) -> dict[str, float]:
    """Mean, VaR and TVaR at ``level`` of an aggregate distribution, yuan."""
    return {"mean": agg.mean(), "var": float(agg.value_at_risk(level)),
            "tvar": float(agg.tvar(level))}


def relative_errors(figures: dict[str, float], reference: dict[str, float]) -> dict[str, float]:
    """Signed relative errors ``(figure − reference) / reference``, by figure."""
    return {k: (figures[k] - reference[k]) / reference[k] for k in reference}


def discretised(dist, h: float, limit: float, method: str,
                repeat: int) -> tuple[float, DiscreteSeverity]:
    """The capped severity on span ``h`` (:func:`discretise`), best of ``repeat``.

    Returns
    -------
    seconds, DiscreteSeverity
    """
    return best_time(lambda: discretise(dist, h, limit=limit, method=method), repeat)


def max_pmf_diff(a: AggregateDistribution, b: AggregateDistribution) -> float:
    """Largest pointwise difference of two pmfs on the same lattice (the shorter one's
    points; each stops where its tail falls below its tolerance)."""
    n = min(a.pmf.size, b.pmf.size)
    return float(np.abs(a.pmf[:n] - b.pmf[:n]).max())


def aggregate_benchmark(args: argparse.Namespace) -> dict:
    """Panjer, FFT and simulation against the fine-grid reference; print and return figures."""
    freq = Poisson(args.lam)
    dist = stats.lognorm(s=SEVERITY_SIGMA, scale=SEVERITY_MEDIAN)
    level = args.level
    print(f"aggregate: Poisson({args.lam:g}) accidents a year, lognormal loss (median "
          f"{SEVERITY_MEDIAN:,.0f}, sigma {SEVERITY_SIGMA}, mean {dist.mean():,.0f}) capped at "
          f"{args.limit:,.0f} yuan ({dist.sf(args.limit):.1%} of losses reach it); "
          f"{args.discretisation} discretisation; VaR/TVaR at {level:.1%}")

    # the exact mean: lambda times the limited expected value, in closed form
    exact_mean = args.lam * limited_expected_value(dist, args.limit)
    # one run: it is the yardstick, not a contender
    ref_d, fine = discretised(dist, args.fine_h, args.limit, args.discretisation, 1)
    ref_s, reference = best_time(lambda: fft_aggregate(freq, fine), 1)
    ref = risk_figures(reference, level)
    ref_mean_error = (ref["mean"] - exact_mean) / exact_mean
    print(f"reference (FFT, h = {args.fine_h:,.0f}, {reference.pmf.size:,} points): "
          f"{ref_d + ref_s:.2f} s; mean {ref['mean']:,.0f} (exact {exact_mean:,.0f}, "
          f"rel. error {ref_mean_error:.1e}), VaR {ref['var']:,.0f}, TVaR {ref['tvar']:,.0f}")

    out = {"agg_lambda": args.lam, "agg_limit": args.limit,
           "agg_severity": {"dist": "lognorm", "median": SEVERITY_MEDIAN,
                            "sigma": SEVERITY_SIGMA},
           "agg_discretisation": args.discretisation, "agg_level": level,
           "agg_coarse_h": args.coarse_h, "agg_fine_h": args.fine_h,
           "exact_mean": exact_mean, "reference_seconds": round(ref_d + ref_s, 4),
           "reference_points": int(reference.pmf.size),
           "reference_mean": ref["mean"], "reference_var": ref["var"],
           "reference_tvar": ref["tvar"], "reference_mean_rel_error": ref_mean_error}

    # both lattice methods start from the same discretised severity, timed on its own
    d_s, coarse = discretised(dist, args.coarse_h, args.limit, args.discretisation,
                              args.repeat)
    print(f"severity on h = {args.coarse_h:,.0f} ({coarse.pmf.size} points): best of "
          f"{args.repeat}: {d_s * 1000:.2f} ms to discretise")
    out["discretise_seconds"] = round(d_s, 5)
    lattice = {}
    for name, method in (("panjer", panjer), ("fft", fft_aggregate)):
        seconds, agg = best_time(lambda run=method: run(freq, coarse), args.repeat)
        lattice[name] = agg
        err = relative_errors(risk_figures(agg, level), ref)
        print(f"{name} (h = {args.coarse_h:,.0f}, {agg.pmf.size:,} points): best of "
              f"{args.repeat}: {seconds * 1000:.1f} ms; rel. errors: mean {err['mean']:+.1e}, "
              f"VaR {err['var']:+.1e}, TVaR {err['tvar']:+.1e}")
        out[f"{name}_seconds"] = round(seconds, 5)
        out[f"{name}_points"] = int(agg.pmf.size)
        out.update({f"{name}_{k}_rel_error": v for k, v in err.items()})
    out["panjer_fft_max_pmf_diff"] = max_pmf_diff(lattice["panjer"], lattice["fft"])
    print(f"  panjer and fft on the same lattice: max pmf difference "
          f"{out['panjer_fft_max_pmf_diff']:.1e}")

    gc.collect()
    start = time.perf_counter()
    sim = simulate_aggregate(freq, dist, args.sims, seed=args.seed, limit=args.limit)
    seconds = time.perf_counter() - start
    err = relative_errors(risk_figures(sim, level), ref)
    se = sim.standard_error() / ref["mean"]
    print(f"simulation ({args.sims:,} years, seed {args.seed}, one run): {seconds:.2f} s; "
          f"rel. errors: mean {err['mean']:+.1e} (standard error {se:.1e}), "
          f"VaR {err['var']:+.1e}, TVaR {err['tvar']:+.1e}")
    out["simulation_seconds"] = round(seconds, 3)
    out["simulation_years"] = args.sims
    out.update({f"simulation_{k}_rel_error": v for k, v in err.items()})
    out["simulation_mean_rel_standard_error"] = se
    return out


# --- main --------------------------------------------------------------------------------------

def parse(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="policy-years for the GLM (default 1,000,000)")
    parser.add_argument("--uncompressed-rows", type=int, default=None,
                        help="rows for the compress=False fit (default: all); fewer: a "
                             "random subsample, its time scaled to --rows")
    parser.add_argument("--source", choices=("synthetic", "numpy"), default="synthetic",
                        help="synthetic_experience (default) or a frame built with numpy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="best of R for the fast timings")
    parser.add_argument("--lam", type=float, default=50.0, help="accidents a year (Poisson)")
    parser.add_argument("--limit", type=float, default=LIMIT, help="cap on each loss, yuan")
    parser.add_argument("--coarse-h", type=float, default=10_000.0)
    parser.add_argument("--fine-h", type=float, default=500.0)
    parser.add_argument("--discretisation", default="rounding",
                        choices=("rounding", "moment", "lower", "upper"))
    parser.add_argument("--sims", type=int, default=1_000_000, help="simulated years")
    parser.add_argument("--level", type=float, default=0.995, help="VaR/TVaR level")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.repeat < 1 or args.sims < 1:
        parser.error("--rows, --repeat and --sims must be >= 1")
    if args.uncompressed_rows is not None and args.uncompressed_rows < 1:
        parser.error("--uncompressed-rows must be >= 1")
    return args


def environment() -> dict:
    """Machine and library versions, for reading the timings."""
    return {
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(), "numpy": np.__version__,
        "pandas": pd.__version__, "scipy": scipy.__version__,
        "statsmodels": statsmodels.__version__,
    }


def main(argv: list[str] | None = None) -> dict:
    """Run both benchmarks; the last line printed is the JSON object returned."""
    args = parse(argv)
    start = time.perf_counter()
    make = synthetic_frame if args.source == "synthetic" else numpy_frame
    figures = glm_benchmark(make(args.rows, args.seed), args.repeat, args.uncompressed_rows,
                            args.seed)
    gc.collect()
    figures.update(aggregate_benchmark(args))
    figures.update({"seed": args.seed, "repeat": args.repeat,
                    "total_seconds": round(time.perf_counter() - start, 1)})
    figures.update(environment())
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
