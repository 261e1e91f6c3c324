"""``greenai measure --grade``: the options, the idle window and the printed grade (logic: ``command_grade``)."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from greenai_core import command_grade
from greenai_core.energy.measurement import Measurement
from greenai_core.errors import UsageError

if TYPE_CHECKING:
    from greenai_core.grading.reference import Reference
    from greenai_core.grading.result import Grade

USAGE = ("greenai measure [--backend NAME]... [--json PATH|-] [--grade [--scheme greenidcard|relative] "
         "[--reference REF.json] [--idle S] [--pue P] [--max-power W]] -- CMD [ARGS...]")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--grade", action="store_true",
                   help="grade the command offline, as the original greenAI's webconnection.py did: measure idle "
                        "power first (--idle), then the command")
    p.add_argument("--scheme", choices=command_grade.SCHEMES,
                   help="greenidcard (default: the original's legacy scale, from active power) or relative (the "
                        "command's energy against --reference)")
    p.add_argument("--reference", metavar="REF.json",
                   help="a reference of command_energy_j for --scheme relative (see the README)")
    p.add_argument("--idle", type=float, metavar="S",
                   help=f"seconds of idle power measured before the command (default {command_grade.DEFAULT_IDLE_S:g}; "
                        "0 skips it)")
    p.add_argument("--pue", type=float, metavar="P",
                   help="power usage effectiveness for greenidcard (default 1.0; the original assumed 2)")
    p.add_argument("--max-power", type=float, metavar="W", dest="max_power",
                   help="maximum power in watts for greenidcard's second metric (default: the sum of the read "
                        "domains' plausible maximum powers, DRAM as the original's 0.3725 W per GB of memory)")


@dataclass
class GradeSettings:
    scheme: str
    idle_s: float
    pue: float
    max_power_w: float | None
    reference: Reference | None

    def measure_idle(self, backends: Any, stop: Callable[[], bool] | None = None) -> Measurement | None:
        """The idle window (None with --idle 0); it ends early once ``stop()`` is true (a signal came)."""
        if self.idle_s == 0:
            return None
        print(f"greenai: measuring idle power for {self.idle_s:g} s before the command (--idle 0 skips it)",
              file=sys.stderr)
        return command_grade.measure_idle(self.idle_s, backends, stop)

    def grade(self, measurement: Measurement, idle: Measurement | None, backends: Any, exit_code: int = 0,
              interrupted: str | None = None) -> Grade:
        return command_grade.grade_command(measurement, idle, scheme=self.scheme, reference=self.reference,
                                           pue=self.pue, max_power_w=self.max_power_w, backends=backends,
                                           exit_code=exit_code, interrupted=interrupted)


def prepare(args: argparse.Namespace) -> GradeSettings | None:
    """The grade settings, checked (and the reference read) before anything runs; None without --grade."""
    given = [flag for flag, value in (("--scheme", args.scheme), ("--reference", args.reference),
                                      ("--idle", args.idle), ("--pue", args.pue), ("--max-power", args.max_power))
             if value is not None]
    if not args.grade:
        if given:
            raise UsageError(f"{given[0]} needs --grade")
        return None
    scheme = args.scheme or command_grade.GREENIDCARD
    if scheme == command_grade.GREENIDCARD and args.reference is not None:
        raise UsageError("--reference is for --scheme relative (greenidcard needs no reference)")
    if scheme == command_grade.RELATIVE:
        for flag, value in (("--pue", args.pue), ("--max-power", args.max_power)):
            if value is not None:
                raise UsageError(f"{flag} is for --scheme greenidcard")
    idle_s = command_grade.DEFAULT_IDLE_S if args.idle is None else args.idle
    if not (math.isfinite(idle_s) and idle_s >= 0):
        raise UsageError(f"--idle must be a finite number of seconds >= 0, not {idle_s!r}")
    pue = command_grade.check_pue(1.0 if args.pue is None else args.pue)
    max_w = None if args.max_power is None else command_grade.check_watts(args.max_power, "--max-power")
    reference = command_grade.load_reference(args.reference) if scheme == command_grade.RELATIVE else None
    return GradeSettings(scheme, idle_s, pue, max_w, reference)


def print_grade(graded: Grade, out: Any = None) -> None:
    out = out or sys.stderr
    print(f"grade: {graded.describe()}", file=out)
    details = graded.details
    if graded.scheme == command_grade.GREENIDCARD:
        max_w = details.get("max_power_w")
        print(f"  active power {details['active_power_w']:.4g} W = command {details['command_power_w']:.4g} W - idle "
              f"{details['idle_power_w']:.4g} W; PUE {details['pue']:g}; maximum power "
              f"{'unknown' if max_w is None else f'{max_w:.4g} W'} ({details['max_power_source']})", file=out)
        for name, metric in (details.get("metrics") or {}).items():
            if isinstance(metric, dict):
                print(f"  {name} = {metric['value']:.4g} {metric.get('unit', '')}".rstrip()
                      + f": {metric['letter']}", file=out)
    for w in graded.warnings:
        print(f"grade warning: {w}", file=out)
