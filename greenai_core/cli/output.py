"""Shared CLI output: plain tables and JSON to a file (atomically) or stdout."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from greenai_core.io import atomic_write_text

#: What a table shows in place of a figure that is not a finite, non-negative number.
INVALID = "invalid"


def table(rows: Sequence[Sequence[str]], header: Sequence[str], out: TextIO | None = None) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    stream = out or sys.stdout
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=stream)


def write_json(data: Any, destination: str) -> None:
    """``destination`` "-" prints to stdout; anything else is a path written by ``atomic_write_text``'s rules.

    A non-finite number (which no figure should be) is written as null: the output stays valid JSON.
    """
    text = json.dumps(_finite(data), indent=2, sort_keys=False, allow_nan=False) + "\n"
    if destination == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        atomic_write_text(destination, text)


def _finite(data: Any) -> Any:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def is_valid_figure(value: float) -> bool:
    """A figure a table may print: finite and not negative."""
    return isinstance(value, (int, float)) and math.isfinite(value) and value >= 0


def joules(value: float) -> str:
    """``value`` in J, mJ or kJ; never prints a negative, NaN or infinite figure."""
    if not is_valid_figure(value):
        return INVALID
    if value >= 1e3:
        return f"{value / 1e3:.4g} kJ"
    if value >= 1 or value == 0:
        return f"{value:.4g} J"
    return f"{value * 1e3:.4g} mJ"


def watts(value: float) -> str:
    return f"{value:.3g} W" if is_valid_figure(value) else INVALID
