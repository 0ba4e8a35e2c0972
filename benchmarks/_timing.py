"""Timing shared by the benchmark scripts."""

from __future__ import annotations

import gc
import math
import time


def best_time(run, repeat: int) -> tuple[float, object]:
    """Fastest wall time (seconds) of ``repeat`` calls of ``run()``, and the last result.

    The previous result is freed and garbage collected before each call, so one run's
    memory does not slow the next.
    """
    best, result = math.inf, None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result
