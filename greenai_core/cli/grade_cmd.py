"""``greenai grade REPORT.json`` (an offline energy label) and ``greenai grade --calibrate`` (make the reference).

Grading prints the letter, the stars, the graded figure, which reference was used (file, when, on
what hardware) and every warning; ``--json`` prints the grade as JSON (schema ``greenai.grade/1``).
Calibrating profiles the installed reference architectures with the protocol options given and
writes the reference (default: ``$GREENAI_REFERENCE``, else ``~/.local/share/greenai/reference.json``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from greenai_core.cli.profile_options import (
    non_negative_float,
    positive_float,
    positive_int,
    pue_value,
)
from greenai_core.errors import UsageError


def add_parser(subs: Any, common: argparse.ArgumentParser) -> None:
    p = subs.add_parser(
        "grade", parents=[common], help="an offline energy label (A-E, 1-5 stars) for a profiling report",
        usage="greenai grade REPORT.json [--reference REF.json] [--scheme relative|greenidcard] [--pue P] [--json]\n"
              "       greenai grade --calibrate [--out REF.json] [--backend NAME]... [--batch-size B] [--repeats R] "
              "[--min-duration S] [--warmup W] [--baseline S]\n"
              "       greenai grade --calibrate --from REPORT.json... [--out REF.json]")
    p.add_argument("report", nargs="?", metavar="REPORT.json",
                   help="a report written by `greenai profile --json` or `greenai train --json`")
    p.add_argument("--reference", metavar="REF.json",
                   help="the reference to grade against (default: $GREENAI_REFERENCE, else "
                        "~/.local/share/greenai/reference.json)")
    p.add_argument("--scheme", choices=("relative", "greenidcard"), default="relative",
                   help="relative (default): against the reference's quantiles; greenidcard: the original greenAI's "
                        "legacy GreenIDCard scale")
    p.add_argument("--pue", type=pue_value, metavar="P",
                   help="power usage effectiveness for the greenidcard scheme (default: the report's, else 1)")
    p.add_argument("--json", action="store_true", help="print the grade (or the reference) as JSON on stdout")
    cal = p.add_argument_group("calibration (--calibrate)")
    cal.add_argument("--calibrate", action="store_true",
                     help="profile the installed reference architectures (random weights, generated locally) and "
                          "write their energies as the reference")
    cal.add_argument("--from", dest="from_reports", nargs="+", metavar="REPORT.json",
                     help="with --calibrate: make the reference from these profiling reports (at least 5, one kind; "
                          "e.g. training reports, graded per step) instead of profiling the reference architectures")
    cal.add_argument("--out", metavar="REF.json", help="where the reference goes (default: the default reference)")
    for flag, kwargs in _PROTOCOL.items():
        cal.add_argument(flag, **kwargs)
    p.set_defaults(run=run)


#: The protocol options of --calibrate, with their defaults (None in argparse, to tell "given" from "default").
_PROTOCOL: dict[str, dict[str, Any]] = {
    "--backend": {"action": "append", "metavar": "NAME", "help": "energy backend to read (repeatable)"},
    "--batch-size": {"type": positive_int, "metavar": "B", "help": "inferences per call (default 1)"},
    "--repeats": {"type": positive_int, "metavar": "R", "help": "repeats per model (default 5)"},
    "--min-duration": {"type": positive_float, "metavar": "S",
                       "help": "seconds each repeat lasts at least (default 1)"},
    "--warmup": {"type": positive_int, "metavar": "W",
                 "help": "predict calls before the repeats, at least 1: their timing sets each repeat's calls "
                         "(default 10)"},
    "--baseline": {"type": non_negative_float, "metavar": "S",
                   "help": "idle seconds measured first per model; adds net figures, not the graded ones (default 0)"},
}
_DEFAULTS = {"batch_size": 1, "repeats": 5, "min_duration": 1.0, "warmup": 10, "baseline": 0.0}
_CALIBRATION_ONLY = ("out", "backend", "from_reports", *_DEFAULTS)


def _flag(name: str) -> str:
    return "--from" if name == "from_reports" else "--" + name.replace("_", "-")


def run(args: argparse.Namespace) -> int:
    if args.calibrate:
        if args.report is not None:
            raise UsageError("give either REPORT.json to grade or --calibrate, not both")
        return _calibrate(args)
    if args.report is None:
        raise UsageError("give a REPORT.json to grade (or --calibrate to make a reference)")
    given = [_flag(name) for name in _CALIBRATION_ONLY if getattr(args, name) is not None]
    if given:
        raise UsageError(f"{given[0]} applies to --calibrate only")
    if args.pue is not None and args.scheme != "greenidcard":
        raise UsageError("--pue applies to --scheme greenidcard only")
    if args.reference is not None and args.scheme == "greenidcard":
        raise UsageError("--reference applies to --scheme relative only (greenidcard grades on a fixed scale)")
    from greenai_core.grading.grading import grade

    result = grade(args.report, args.reference, scheme=args.scheme, pue=args.pue)
    if args.json:
        from greenai_core.cli.output import write_json

        write_json(result.to_dict(), "-")
    else:
        from greenai_core.cli.grade_text import grade_lines

        print("\n".join(grade_lines(result)))
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from greenai_core.grading.calibrate import calibrate
    from greenai_core.grading.reference import default_reference_path
    from greenai_core.io import check_writable

    if args.reference is not None:
        raise UsageError("--reference names a reference to grade against; with --calibrate use --out")
    if args.from_reports is not None:
        protocol = [_flag(name) for name in ("backend", *_DEFAULTS) if getattr(args, name) is not None]
        if protocol:
            raise UsageError(f"{protocol[0]} is a profiling option; --from takes the reports' own settings")
    for name, default in _DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    out = Path(args.out) if args.out is not None else default_reference_path()
    if args.out is None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"{out.parent}: cannot create the reference's folder ({exc.strerror or exc})") from None
    check_writable(str(out), regular_only=True)

    def progress(line: str) -> None:
        print(f"calibrating {line}", file=sys.stderr, flush=True)

    if args.from_reports is not None:
        from greenai_core.grading.collect import reference_from_reports

        reference = reference_from_reports(args.from_reports)
        reference.save(out)
    else:
        reference = calibrate(out=out, backends=args.backend, batch_size=args.batch_size, repeats=args.repeats,
                              min_duration_s=args.min_duration, warmup=args.warmup, baseline_s=args.baseline,
                              progress=progress)
    if args.json:
        from greenai_core.cli.output import write_json

        write_json(reference.to_dict(), "-")
        print(f"reference written to {out}", file=sys.stderr)
    else:
        from greenai_core.cli.grade_text import reference_lines

        print("\n".join(reference_lines(reference)))
        print(f"reference written to {out}")
    return 0
