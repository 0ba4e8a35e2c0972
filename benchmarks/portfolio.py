"""Portfolio rating: rows per second and peak memory, beside the analyst's ``apply`` baseline.

Run: ``python benchmarks/portfolio.py [--rows N] [--baseline-rows M] [--seed S] [--repeat R]``.

1. Generates ``N`` synthetic profiles (:func:`rating.synthetic.synthetic_portfolio`), writes
   them to CSV in memory and reads them back with ``pd.read_csv``, so the columns are what a
   user's file gives (plain ``str`` columns, not categoricals).
2. Times ``rating.rate_portfolio(frame)`` (best of ``R`` runs) and measures one more run's
   memory: the tracemalloc peak (Python and numpy allocations; Arrow's pool is not traced)
   and the growth of the resident set, sampled from ``/proc/self/statm``.
3. Times the way an analyst would do it without the package, ``DataFrame.apply(axis=1)``
   with a hand-written per-row function reading the same book, on the first ``M`` rows in
   the same process, and checks that its premiums equal the package's to 0.01 yuan, so the
   ratio compares equal work and does not depend on the machine.
4. Times single ``rating.quote`` calls (median of 200).

Only the public API is used (``rating.rate_portfolio``, ``rating.quote``, ``rating.books``,
``rating.per_person_floor``), plus the generator. The last line printed is one JSON object
(``rows_per_second``, ``baseline_ratio``, ``peak_memory_mb``, ``quote_latency_ms`` and more).
Memory figures (``*_mb``) are MiB (2**20 bytes); the 1 GB target is read as 1024 MiB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gc
import io
import json
import math
import os
import platform
import resource
import statistics
import threading
import time
import tracemalloc

import numpy as np
import pandas as pd
from _timing import best_time  # a sibling module of the benchmark scripts

import rating
from rating.synthetic import synthetic_portfolio

TARGETS = {"rows_per_second": 5_000_000, "baseline_ratio": 100, "peak_memory_mb": 1024,
           "quote_latency_ms": 1.0}
"""Issue 4, section 3: throughput on one core, ratio to ``apply``, memory for 1m rows,
single-quote latency."""
QUOTES = 200
TOLERANCE = 0.01 + 1e-6
"""Largest premium difference (yuan) allowed between the baseline and the package: the
baseline rounds a float half-up, the package settles half-fen cases exactly."""
MB = 1024 * 1024


# --- input -------------------------------------------------------------------------------------

def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as ``pd.read_csv`` returns it after a round trip through CSV text."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    buffer.seek(0)
    return pd.read_csv(buffer)


# --- measuring ---------------------------------------------------------------------------------

def _rss_bytes() -> int | None:
    """Current resident set (Linux), None where /proc is not available."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


class RssSampler:
    """Highest resident set seen while the block runs, sampled every ``interval`` seconds
    (``ru_maxrss`` alone cannot tell: the CSV round trip before the run may set the
    process high-water mark)."""

    def __init__(self, interval: float = 0.002):
        self.interval, self.peak, self.start = interval, 0, 0
        self._stop = threading.Event()

    def __enter__(self):
        self.start = self.peak = _rss_bytes() or 0
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, _rss_bytes() or 0)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes() or 0)

    @property
    def growth_mb(self) -> float | None:
        return (self.peak - self.start) / MB if self.start else None


def memory_run(frame: pd.DataFrame) -> dict[str, float | None]:
    """One rating run under tracemalloc and the RSS sampler."""
    gc.collect()
    with RssSampler() as rss:
        tracemalloc.start()
        result = rating.rate_portfolio(frame)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    del result
    return {"peak_memory_mb": peak / MB, "rss_growth_mb": rss.growth_mb,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def quote_latency(frame: pd.DataFrame, calls: int = QUOTES) -> float:
    """Median milliseconds of one ``rating.quote`` over ``calls`` profiles of the portfolio."""
    records = frame.head(calls).to_dict(orient="records")
    profiles = [{k: v for k, v in r.items() if not _blank(v)} for r in records]
    for p in profiles[:20]:  # warm-up: book loading, first-call caches
        rating.quote(p)
    times = []
    for i in range(calls):
        p = profiles[i % len(profiles)]
        start = time.perf_counter()
        rating.quote(p)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


# --- the analyst's baseline --------------------------------------------------------------------

def _blank(value) -> bool:
    """Missing in a CSV row: NaN/None or empty text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return isinstance(value, str) and not value.strip()


def analyst_premium(book):
    """A per-row premium function written by hand from the book's tables, the way an analyst
    without the package would: one row (a Series from ``DataFrame.apply(axis=1)``) in, the
    premium in yuan out, following the rating manual (tables/README.md, section 4)."""
    per_mille = {"contract_value", "payroll", "revenue"}  # base rates in ‰ of money
    field_of = {"persons": "headcount"}                   # other bases name their field
    grades = ["general", "larger", "major", "especially_major"]
    zero_if_missing = {f"accidents_{g}" for g in grades} | {
        "deaths", "major_hazards_unrectified", "claim_free_years"}
    scale = book.term.short_term_scale

    @functools.cache
    def floor(day: dt.date) -> float:
        return rating.per_person_floor(book, day).amount

    def get(row, name):
        value = row.get(name)
        return None if _blank(value) else value

    def band(bands, closed, x):
        for i, b in enumerate(bands):
            above = x >= b.lower if (closed == "left" or i == 0) else x > b.lower
            below = b.upper is None or (x < b.upper if closed == "left" else x <= b.upper)
            if above and below:
                return b.factor
        raise ValueError(f"{x} is outside the bands")

    def lookup(table, row):
        if table.levels is None:
            value = get(row, table.variable)
            if value is None and table.variable in zero_if_missing:
                value = 0
            return band(table.bands, table.closed or "left", float(value))
        if table.variable == "worst_accident_grade":
            value = "none"
            for g in grades:
                if (get(row, f"accidents_{g}") or 0) > 0:
                    value = g
        else:
            value = get(row, table.variable)
            if isinstance(value, (bool, np.bool_)):
                value = "true" if value else "false"
            if value is None:
                value = table.default
        return table.levels[str(value)].factor

    def applies(table, sector):
        return table.sectors is None or sector in table.sectors

    def months(start: dt.date, end: dt.date) -> int:
        m = (end.year - start.year) * 12 + end.month - start.month
        return m + (end.day >= start.day)

    def premium(row) -> float:
        sector = row["sector"]
        subs = book.sectors[sector].subsectors
        sub = subs[get(row, "subsector") or next(iter(subs))]
        exposure = float(row[field_of.get(sub.basis, sub.basis)])
        p = exposure * sub.base_rate / (1000 if sub.basis in per_mille else 1)
        start = dt.date.fromisoformat(row["inception_date"])
        limit = get(row, "per_person_limit") or floor(start)
        p *= band(book.limit_factors.bands, book.limit_factors.closed, limit)
        for table in book.tiers.values():
            if applies(table, sector):
                p *= lookup(table, row)
        fl = book.floating
        groups = []
        for group in fl.groups.values():
            fs = [lookup(t, row) for t in group.factors.values() if applies(t, sector)]
            if group.rule == "product":
                groups.append(math.prod(fs))
            elif group.rule == "additive":
                groups.append(1 + sum(f - 1 for f in fs))
            elif fs:
                groups.append(max(fs) if group.rule == "highest" else min(fs))
            else:
                groups.append(1.0)
        floated = math.prod(groups) if fl.combine == "product" else \
            1 + sum(g - 1 for g in groups)
        p *= min(max(floated, fl.floor), fl.cap)
        for key in (get(row, "extensions") or "").split(";"):
            if key.strip():
                p *= book.loadings[key.strip()].factor
        expiry = get(row, "expiry_date")
        if sub.term == "annual" and expiry:
            p *= scale[months(start, dt.date.fromisoformat(expiry)) - 1]
        p = max(p, sub.minimum_premium)
        return math.floor(p * 100 + 0.5) / 100

    return premium


# --- main --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    book = rating.books()[0]

    start = time.perf_counter()
    generated = synthetic_portfolio(args.rows, seed=args.seed, book=book)
    generate_s = time.perf_counter() - start
    start = time.perf_counter()
    frame = csv_frame(generated)
    csv_s = time.perf_counter() - start
    profiles = generated.head(QUOTES)
    del generated  # the rating runs should not pay for the generator's copy
    print(f"portfolio: {args.rows:,} rows generated in {generate_s:.2f} s, CSV round trip "
          f"{csv_s:.2f} s, {frame.memory_usage(deep=True).sum() / MB:,.0f} MB as read")

    seconds, result = best_time(lambda: rating.rate_portfolio(frame), args.repeat)
    rows_per_second = args.rows / seconds
    print(f"rate_portfolio: best of {args.repeat}: {seconds:.3f} s, "
          f"{rows_per_second:,.0f} rows/s")

    sample = frame.head(args.baseline_rows)
    expected = result["premium"].head(args.baseline_rows).to_numpy()
    del result
    row_premium = analyst_premium(book)
    base_s, baseline = best_time(lambda: sample.apply(row_premium, axis=1), args.repeat)
    gap = np.abs(baseline.to_numpy(dtype=float) - expected)
    diff = float(gap.max()) if len(gap) else 0.0
    assert diff <= TOLERANCE, f"baseline premiums differ from rate_portfolio by {diff} yuan"
    base_rps = len(sample) / base_s
    print(f"apply baseline: {len(sample):,} rows in {base_s:.3f} s, {base_rps:,.0f} rows/s, "
          f"{int((gap > 0.005).sum())} differ by a fen (float rounding); "
          f"ratio {rows_per_second / base_rps:,.0f}")

    memory = memory_run(frame)
    print(f"memory: tracemalloc peak {memory['peak_memory_mb']:,.0f} MB during one run; "
          f"resident set +{memory['rss_growth_mb'] or float('nan'):,.0f} MB; "
          f"process max RSS {memory['max_rss_mb']:,.0f} MB")

    latency = quote_latency(profiles)
    print(f"quote: median {latency:.3f} ms over {QUOTES} calls")

    figures = {
        "rows": args.rows,
        "rows_per_second": round(rows_per_second),
        "rate_seconds": round(seconds, 4),
        "baseline_rows": len(sample),
        "baseline_rows_per_second": round(base_rps),
        "baseline_ratio": round(rows_per_second / base_rps, 1),
        "baseline_max_diff_yuan": round(diff, 6),
        "baseline_fen_differences": int((gap > 0.005).sum()),
        "peak_memory_mb": round(memory["peak_memory_mb"], 1),
        "rss_growth_mb": None if memory["rss_growth_mb"] is None
        else round(memory["rss_growth_mb"], 1),
        "max_rss_mb": round(memory["max_rss_mb"], 1),
        "input_frame_mb": round(frame.memory_usage(deep=True).sum() / MB, 1),
        "quote_latency_ms": round(latency, 3),
        "generate_seconds": round(generate_s, 2),
        "csv_roundtrip_seconds": round(csv_s, 2),
        "seed": args.seed,
        "repeat": args.repeat,
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(), "numpy": np.__version__,
        "pandas": pd.__version__,
    }
    figures["targets_met"] = {
        "rows_per_second": figures["rows_per_second"] >= TARGETS["rows_per_second"],
        "baseline_ratio": figures["baseline_ratio"] >= TARGETS["baseline_ratio"],
        "peak_memory_mb": figures["peak_memory_mb"] < TARGETS["peak_memory_mb"],
        "quote_latency_ms": figures["quote_latency_ms"] < TARGETS["quote_latency_ms"],
    }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
