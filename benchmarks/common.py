"""Shared benchmark helpers: timing (warmup, median and IQR), environment, JSON results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
SHARED_DATA = Path(os.environ.get("TRIPOSE_SHARED_DATA",
                                  Path(__file__).resolve().parents[2] / "shared" / "data"))


def timeit(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> dict:
    """Run ``fn`` ``warmup`` times untimed then ``repeats`` times; median and IQR seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    q1, med, q3 = np.percentile(times, [25, 50, 75])
    return {"median_s": float(med), "iqr_s": float(q3 - q1), "runs": len(times),
            "all_s": [float(t) for t in times]}


def environment() -> dict:
    """Commit, versions and CPU, recorded with every result."""
    import cv2
    import scipy

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        commit = "unknown"
    try:
        import aniposelib

        anipose = getattr(aniposelib, "__version__", "installed")
    except ImportError:
        anipose = None
    return {"commit": commit, "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "opencv": cv2.__version__, "aniposelib": anipose,
            "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d")}


def save_result(name: str, result: dict) -> Path:
    """Write ``benchmarks/results/<name>.json`` with the environment."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"environment": environment(), **result}, indent=2) + "\n")
    return path
