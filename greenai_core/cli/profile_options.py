"""Options ``greenai profile``, ``train`` and ``demo`` share: outputs, baseline, backends, carbon.

Every output path is checked before any work starts (a model loaded, a baseline measured), so a
long profile never ends in "cannot write the report"; the reports are written from the report's
dict, atomically, to regular files (or written through an existing FIFO or device).
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from typing import Any

from greenai_core.errors import UsageError
from greenai_core.io import check_writable

#: Idle baseline measured before a profile unless --baseline says otherwise (0 skips it).
DEFAULT_BASELINE_S = 3.0
#: The report files, as (option, what the summary calls it).
OUTPUTS = (("json", "JSON"), ("csv", "CSV"), ("html", "HTML"))


def _number(text: str, what: str, ok: Callable[[float], bool]) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or not ok(value):
        raise argparse.ArgumentTypeError(f"must be {what}, not {text}")
    return value


def _integer(text: str, what: str, ok: Callable[[int], bool]) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {what}, not {text}")
    return value


def positive_int(text: str) -> int:
    return _integer(text, "at least 1", lambda v: v >= 1)


def non_negative_int(text: str) -> int:
    return _integer(text, "0 or more", lambda v: v >= 0)


def positive_float(text: str) -> float:
    return _number(text, "a finite number above 0", lambda v: v > 0)


def non_negative_float(text: str) -> float:
    return _number(text, "a finite number, 0 or more", lambda v: v >= 0)


def pue_value(text: str) -> float:
    return _number(text, "a finite number, 1 or more (1 = no facility overhead)", lambda v: v >= 1)


def add_report_arguments(p: argparse.ArgumentParser, *, baseline_s: float = DEFAULT_BASELINE_S) -> None:
    """--baseline, --backend, --json, --csv, --html, --carbon-intensity and --pue."""
    p.add_argument("--baseline", type=non_negative_float, default=baseline_s, metavar="S",
                   help=f"seconds of idle power measured first, subtracted for the net figures; 0 skips it "
                        f"(default {baseline_s:g})")
    p.add_argument("--backend", action="append", metavar="NAME",
                   help="energy backend to read (repeatable; default: every available sensor, plus the estimate "
                        "for what no sensor covers)")
    p.add_argument("--json", metavar="PATH|-", help="write the report as JSON to PATH, or to stdout with - "
                                                    "(the summary then goes to stderr)")
    p.add_argument("--csv", metavar="PATH", help="write the report as CSV rows to PATH")
    p.add_argument("--html", metavar="PATH", help="write a self-contained HTML report (summary and power chart)")
    p.add_argument("--carbon-intensity", type=non_negative_float, metavar="G_PER_KWH",
                   help="grid carbon intensity in g CO2e per kWh, for a carbon figure (yours: never looked up)")
    p.add_argument("--pue", type=pue_value, metavar="P",
                   help="data-centre power usage effectiveness applied to the carbon figure (default 1)")


def check_report_arguments(args: argparse.Namespace, *, also: dict[str, str | None] | None = None) -> None:
    """Refuse what cannot work before anything runs: bad option pairs, unwritable or clashing outputs.

    ``also`` names other files the command will write (``{"--save-to": path}``), checked the same
    way against the reports (``--save-to`` must be a regular file).
    """
    if args.pue is not None and args.carbon_intensity is None:
        raise UsageError("--pue applies to the carbon figure: give --carbon-intensity too")
    targets: dict[str, str] = {}
    named = [(f"--{option}", getattr(args, option)) for option, _ in OUTPUTS]
    for flag, path in [*named, *(also or {}).items()]:
        if path is None or (flag == "--json" and path == "-"):
            continue
        target = str(check_writable(path, regular_only=flag == "--save-to"))
        if target in targets and not _written_through(target):
            raise UsageError(f"{targets[target]} and {flag} name the same file {path}; give each its own")
        targets[target] = flag


def _written_through(path: str) -> bool:
    """An existing FIFO or device (``/dev/null``) may take several outputs; a file may not."""
    try:
        return not os.path.isfile(path) and os.path.exists(path)
    except OSError:
        return False


def carbon_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"carbon_intensity": args.carbon_intensity, "pue": args.pue}


def write_reports(report: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """Write every report asked for; return lines saying where each went."""
    from greenai_core.cli.output import write_json

    written: list[str] = []
    if args.json is not None:
        write_json(report, args.json)
        if args.json != "-":
            written.append(f"JSON report: {args.json}")
    if args.csv is not None:
        from greenai_core.profiling.csv_report import write_csv

        write_csv(report, args.csv)
        written.append(f"CSV report: {args.csv}")
    if args.html is not None:
        from greenai_core.profiling.html_report import write_html

        write_html(report, args.html)
        written.append(f"HTML report: {args.html}")
    return written
