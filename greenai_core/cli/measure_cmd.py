"""``greenai measure -- CMD ARGS...``: the energy of a whole command.

The command runs without a shell; its output goes straight through and its exit code
becomes ours. The energy table goes to stderr (like ``time``), JSON where ``--json`` says.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from typing import Any

from greenai_core.cli.output import joules, table, write_json
from greenai_core.energy.measurement import Measurement
from greenai_core.energy.meter import Meter
from greenai_core.errors import UsageError

EXIT_NOT_FOUND = 127
EXIT_NOT_EXECUTABLE = 126


def add_parser(subs: Any, common: argparse.ArgumentParser) -> None:
    p = subs.add_parser("measure", parents=[common], help="measure the energy of a command",
                        usage="greenai measure [--backend NAME]... [--json PATH|-] -- CMD [ARGS...]")
    p.add_argument("--backend", action="append", metavar="NAME",
                   help="energy backend to read (repeatable; default: every available sensor, else the estimate)")
    p.add_argument("--json", metavar="PATH|-", help="write the measurement as JSON to PATH, or stdout with -")
    p.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError("no command to measure (usage: greenai measure [options] -- CMD [ARGS...])")
    meter = Meter(args.backend).start()
    # Ctrl-C reaches the child through the terminal; we stay to report what it used.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code = subprocess.Popen(command).wait()
    except FileNotFoundError:
        print(f"greenai: error: command not found: {command[0]}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except PermissionError:
        print(f"greenai: error: command is not executable: {command[0]}", file=sys.stderr)
        return EXIT_NOT_EXECUTABLE
    finally:
        measurement = meter.stop()
        signal.signal(signal.SIGINT, previous)
    if args.json:
        write_json(measurement.to_dict(), args.json)
    if args.json != "-":
        print_measurement(measurement, command)
    return code if code >= 0 else 128 - code


def print_measurement(m: Measurement, command: list[str]) -> None:
    out = sys.stderr
    print(f"\ngreenai: {' '.join(command)}", file=out)
    rows = [[d, joules(j), "yes" if d in m.counted_domains else "no"] for d, j in m.domains.items()]
    rows.append(["total", joules(m.energy_j), ""])
    table(rows, ["domain", "energy", "in total"], out=out)
    names = ", ".join(f"{b.name} {b.version}".strip() for b in m.backends)
    print(f"{m.method} by {names}; {m.duration_s:.3f} s, {m.power_w:.3g} W average, "
          f"resolution {joules(m.resolution_j)}", file=out)
    for b in m.backends:
        if b.method == "estimated":
            print(f"  estimate: {b.assumptions.get('model')}; {b.assumptions.get('watts_per_cpu')} W per CPU "
                  f"({b.assumptions.get('watts_source')})", file=out)
    for w in m.warnings:
        print(f"warning: {w}", file=out)
