"""Shared CLI output: plain tables and JSON to a file (atomically) or stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from greenai_core.io import atomic_write_text


def table(rows: Sequence[Sequence[str]], header: Sequence[str], out: TextIO | None = None) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    stream = out or sys.stdout
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=stream)


def write_json(data: Any, destination: str) -> None:
    """``destination`` "-" prints to stdout; anything else is a path written atomically."""
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    if destination == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        atomic_write_text(destination, text)


def joules(value: float) -> str:
    if abs(value) >= 1e3:
        return f"{value / 1e3:.4g} kJ"
    if abs(value) >= 1 or value == 0:
        return f"{value:.4g} J"
    return f"{value * 1e3:.4g} mJ"
