"""Quote latency and engine throughput.

Run: ``python benchmarks/quote.py [--rows N]``. The last line is one JSON object with
``quote_latency_ms`` (median of single ``rating.quote`` calls) and ``rows_per_second`` of
``rate_frame`` on a frame of N profiles of plain string columns (as ``pd.read_csv`` gives).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time

import numpy as np
import pandas as pd

import rating
from rating.premium import rate_frame

PROFILES = [
    {"sector": "hazardous_chemicals", "subsector": "production", "headcount": 120,
     "scale": "small", "product": "toxic", "accidents_general": 1,
     "standardisation_grade": "grade_2"},
    {"sector": "construction", "subsector": "building", "contract_value": 12345678.9,
     "project_type": "subway"},
    {"sector": "road_transport", "subsector": "freight", "vehicles": 25, "deaths": 2},
    {"sector": "urban_rail", "payroll": 80000000, "blacklisted": True},
    {"sector": "fishery", "subsector": "marine_fishing", "headcount": 40,
     "production_mode": "offshore", "claim_free_years": 2},
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    book = rating.books()[0]
    base = {"jurisdiction": "CN-FJ-XM", "inception_date": "2024-07-01"}

    times = []
    for i in range(300):
        profile = dict(base, **PROFILES[i % len(PROFILES)])
        start = time.perf_counter()
        rating.quote(profile)
        times.append(time.perf_counter() - start)
    latency = statistics.median(times) * 1000

    rng = np.random.default_rng(1)
    rows = [dict(base, **PROFILES[k]) for k in rng.integers(len(PROFILES), size=args.rows)]
    csv = pd.DataFrame(rows).to_csv(index=False)
    frame = pd.read_csv(io.StringIO(csv))
    start = time.perf_counter()
    rated = rate_frame(frame, book)
    elapsed = time.perf_counter() - start
    assert len(rated.premium_fen) == args.rows
    print(f"quote: median {latency:.2f} ms; rate_frame: {args.rows:,} rows in {elapsed:.2f} s")
    print(json.dumps({"quote_latency_ms": round(latency, 3),
                      "rows_per_second": round(args.rows / elapsed), "rows": args.rows}))


if __name__ == "__main__":
    main()
