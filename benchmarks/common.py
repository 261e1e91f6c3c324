"""Helpers for benchmarks: fresh processes, medians, and the result row."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass


@dataclass
class Row:
    section: str
    name: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None
    note: str = ""


def run_python(code: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall time of a fresh interpreter running ``code``, and what it printed."""
    began = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return time.perf_counter() - began, out.stdout


def median_process_time(code: str, runs: int, env: dict[str, str] | None = None) -> float:
    return statistics.median(run_python(code, env)[0] for _ in range(runs))


def json_from(code: str, env: dict[str, str] | None = None) -> dict[str, float]:
    return dict(json.loads(run_python(code, env)[1].strip().splitlines()[-1]))
