"""Scenario runs: policies per second and peak memory of ``rating.scenarios.rate_scenarios``.

Run: ``python benchmarks/scenarios.py [--rows N] [--seed S] [--repeat R]``.

Rates a seeded synthetic book (``rating.synthetic.synthetic_portfolio``) under the baseline
and three scenarios that exercise every part of a scenario: a book change (construction base
rates +10%), a float band with a prevention share, and a year on with income growth,
headcount growth and more accidents. Reports the best wall time of ``R`` runs, policy-
scenarios per second (rows of the result), the time beside four plain ``rate_portfolio``
calls on the same rows (what the scenario machinery adds) and the tracemalloc peak of one
run. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc

from _timing import best_time  # a sibling module of the benchmark scripts

import rating
from rating import scenarios
from rating.synthetic import synthetic_portfolio

MB = 1024 * 1024
SCENARIOS = [
    {"name": "construction_up", "book": {"base_rate": {"construction": 1.1}}},
    {"name": "band", "book": {"float_floor": 0.9, "float_cap": 1.1, "prevention_share": 0.25}},
    {"name": "next_year", "portfolio": {
        "years_forward": 1, "exposure_growth": {"headcount": 0.05},
        "record_shift": [{"field": "accidents_general", "add": 1, "share": 0.05}]},
     "statistics": {"income_growth": {"first_year": 2024, "rates": [0.05, 0.05, 0.05, 0.05]}}},
]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    frame = synthetic_portfolio(args.rows, seed=args.seed)
    print(f"book: {args.rows:,} synthetic policies, {len(SCENARIOS)} scenarios + baseline")

    seconds, policies = best_time(lambda: scenarios.rate_scenarios(frame, SCENARIOS),
                                  args.repeat)
    rows = len(policies)
    del policies
    plain, _ = best_time(lambda: [rating.rate_portfolio(frame) for _ in range(4)], args.repeat)
    print(f"rate_scenarios: best of {args.repeat}: {seconds:.2f} s, {rows / seconds:,.0f} "
          f"policy-scenarios/s; four plain rate_portfolio calls {plain:.2f} s "
          f"(scenario overhead x{seconds / plain:.2f})")

    tracemalloc.start()
    start = time.perf_counter()
    scenarios.rate_scenarios(frame, SCENARIOS)
    traced_s = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / MB
    tracemalloc.stop()
    print(f"memory: tracemalloc peak {peak:,.0f} MB ({traced_s:.1f} s under tracing)")

    figures = {"rows": args.rows, "scenarios": len(SCENARIOS), "result_rows": rows,
               "seconds": round(seconds, 3),
               "policy_scenarios_per_second": round(rows / seconds),
               "plain_rate_portfolio_x4_seconds": round(plain, 3),
               "overhead_ratio": round(seconds / plain, 2),
               "peak_memory_mb": round(peak, 1)}
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
