"""Regenerate examples/experience/ (policy_years.csv, claims.csv), byte for byte.

The folder is a small seeded synthetic experience (250 enterprises over the underwriting
years 2023-2025: 637 policy-years and 62 claims) drawn by
:func:`rating.synthetic.synthetic_experience`; it is what
``rating calibrate examples/experience ...`` in the README reads. Everything in it is
illustrative, not market data. Run from anywhere:

    python examples/make_experience.py [FOLDER]

The same package version and numpy give the same bytes (tests/test_examples.py checks it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from rating.synthetic import synthetic_experience

N_POLICIES = 250
YEARS = 3
SEED = 1
FOLDER = Path(__file__).resolve().parent / "experience"


def write(folder: Path = FOLDER) -> list[Path]:
    """Write ``policy_years.csv`` and ``claims.csv`` into ``folder``; return their paths."""
    policy_years, claims = synthetic_experience(N_POLICIES, years=YEARS, seed=SEED)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in (("policy_years", policy_years), ("claims", claims)):
        path = folder / f"{name}.csv"
        # fixed line endings and float format: the bytes do not depend on the platform
        path.write_text(frame.to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d"),
                        encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER):
        print(written)
