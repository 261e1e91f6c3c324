"""``greenai grade REPORT.json`` (an offline energy label) and ``greenai grade --calibrate`` (make the reference).

Grading prints the letter, the stars, the graded figure, which reference was used (file, when, on
what hardware) and every warning; ``--json`` prints the grade as JSON (schema ``greenai.grade/1``).
Calibrating profiles the installed reference architectures with the protocol options given and
writes the reference (default: ``$GREENAI_REFERENCE``, else ``~/.local/share/greenai/reference.json``);
``--calibrate --training`` trains the reference architectures that train (greenai-torch) and writes a
reference of energy per step (default: ``$GREENAI_REFERENCE_TRAINING``, else
``~/.local/share/greenai/reference-training.json``), which training reports are graded against.
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
              "       greenai grade --calibrate --training [--out REF.json] [--epochs E] [--batch-size B] [--lr LR] "
              "[--optimizer adam|sgd] [--backend NAME]... [--baseline S]\n"
              "       greenai grade --calibrate --from REPORT.json... [--out REF.json]")
    p.add_argument("report", nargs="?", metavar="REPORT.json",
                   help="a report written by `greenai profile --json` or `greenai train --json`")
    p.add_argument("--reference", metavar="REF.json",
                   help="the reference to grade against (default: $GREENAI_REFERENCE, else "
                        "~/.local/share/greenai/reference.json; for a training report $GREENAI_REFERENCE_TRAINING, "
                        "else ~/.local/share/greenai/reference-training.json)")
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
    cal.add_argument("--training", action="store_true",
                     help="with --calibrate: train the reference architectures that train (greenai-torch) on "
                          "generated images and store their energy per step, to grade training reports by")
    cal.add_argument("--out", metavar="REF.json", help="where the reference goes (default: the default reference)")
    for flag, kwargs in _PROTOCOL.items():
        cal.add_argument(flag, **kwargs)
    for flag, kwargs in _TRAINING.items():
        cal.add_argument(flag, **kwargs)
    p.set_defaults(run=run)


#: The protocol options of --calibrate, with their defaults (None in argparse, to tell "given" from "default").
_PROTOCOL: dict[str, dict[str, Any]] = {
    "--backend": {"action": "append", "metavar": "NAME", "help": "energy backend to read (repeatable)"},
    "--batch-size": {"type": positive_int, "metavar": "B",
                     "help": "inferences per call (default 1); with --training images per step (default 32)"},
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
#: The training options of --calibrate --training (defaults as `greenai train`'s).
_TRAINING: dict[str, dict[str, Any]] = {
    "--epochs": {"type": positive_int, "metavar": "E", "help": "with --training: passes over the data (default 1)"},
    "--lr": {"type": positive_float, "metavar": "LR", "help": "with --training: learning rate (default 0.001)"},
    "--optimizer": {"choices": ("adam", "sgd"), "help": "with --training: adam or sgd (default adam)"},
}
_TRAINING_DEFAULTS = {"batch_size": 32, "epochs": 1, "lr": 1e-3, "optimizer": "adam", "baseline": 0.0}
_INFERENCE_ONLY = ("repeats", "min_duration", "warmup")
_CALIBRATION_ONLY = ("out", "backend", "from_reports", *_DEFAULTS, "epochs", "lr", "optimizer")


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
    if args.training:
        given.insert(0, "--training")
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
        if args.training:
            raise UsageError("--training profiles the reference architectures; --from makes the reference from "
                             "reports (training reports give a training reference): give one of them")
        protocol = [_flag(name) for name in ("backend", *_DEFAULTS, "epochs", "lr", "optimizer")
                    if getattr(args, name) is not None]
        if protocol:
            raise UsageError(f"{protocol[0]} is a profiling option; --from takes the reports' own settings")
    if args.from_reports is None:
        _check_kind_options(args)
    for name, default in (_TRAINING_DEFAULTS if args.training else _DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    metric = "energy_per_step_j" if args.training else "energy_per_inference_j"
    out = Path(args.out) if args.out is not None else default_reference_path(metric)
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
    elif args.training:
        reference = calibrate(out=out, backends=args.backend, batch_size=args.batch_size, baseline_s=args.baseline,
                              progress=progress, training=True, epochs=args.epochs, optimizer=args.optimizer,
                              lr=args.lr)
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


def _check_kind_options(args: argparse.Namespace) -> None:
    """Refuse an option of the other calibration kind (inference: repeats...; training: epochs...)."""
    if args.training:
        wrong = [_flag(name) for name in _INFERENCE_ONLY if getattr(args, name) is not None]
        if wrong:
            raise UsageError(f"{wrong[0]} applies to inference calibration only, not with --training")
    else:
        wrong = [_flag(name) for name in ("epochs", "lr", "optimizer") if getattr(args, name) is not None]
        if wrong:
            raise UsageError(f"{wrong[0]} applies to --calibrate --training only")
