"""``greenai measure -- CMD ARGS...``: the energy of a whole command.

The command runs without a shell; its output goes straight through (to our stderr with
``--json -``, so that stdout holds only the JSON) and its exit code becomes ours (128 + N
when a signal N ended it). The energy table goes to stderr, like ``time``.

Signals: Ctrl-C (SIGINT) and Ctrl-\\ (SIGQUIT) come from the terminal to the whole foreground
process group, the command included, so greenai only notes them; SIGTERM and SIGHUP sent to
greenai are forwarded to the command (so is a SIGINT when we are not in the terminal's
foreground group, where nobody else would deliver it). Either way greenai waits for the
command, then reports the energy up to its end, marked interrupted.

Orphans: on Linux greenai adopts the processes the command leaves behind (a child subreaper),
so the estimate still counts their CPU time; those still running when the command ends are
named in a warning (what they use afterwards is not measured).
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import os
import shutil
import signal
import subprocess
import sys
from types import FrameType, TracebackType
from typing import Any

from greenai_core.cli import measure_grade
from greenai_core.cli.output import is_valid_figure, joules, table, watts, write_json
from greenai_core.energy.backend import NO_READING
from greenai_core.energy.estimate import own_children
from greenai_core.energy.measurement import Measurement
from greenai_core.energy.meter import Meter
from greenai_core.errors import UsageError
from greenai_core.io import check_writable

EXIT_NOT_FOUND = 127
EXIT_CANNOT_RUN = 126
#: Signals the terminal delivers to the whole foreground group: the command gets them itself.
GROUP_SIGNALS = (signal.SIGINT, signal.SIGQUIT)
#: Signals sent to greenai alone: passed on to the command.
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def add_parser(subs: Any, common: argparse.ArgumentParser) -> None:
    p = subs.add_parser("measure", parents=[common], help="measure the energy of a command",
                        usage=measure_grade.USAGE)
    p.add_argument("--backend", action="append", metavar="NAME",
                   help="energy backend to read (repeatable; default: every available sensor, plus the estimate "
                        "for what no sensor covers)")
    p.add_argument("--json", metavar="PATH|-",
                   help="write the measurement as JSON to PATH, or to stdout with - (the command's stdout then "
                        "goes to stderr)")
    measure_grade.add_arguments(p)
    p.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    p.set_defaults(run=run)


class CannotStart(Exception):
    """The command could not be started: one line and the shell's exit code (126 or 127)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def run(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError("no command to measure (usage: greenai measure [options] -- CMD [ARGS...])")
    if args.json and args.json != "-":
        check_writable(args.json)  # before the command runs, not after an hour of it
    grading = measure_grade.prepare(args)  # its options and reference checked before anything runs too
    to_stdout = args.json == "-"
    meter = Meter(args.backend)
    with _SignalWatch() as signals:
        # The idle window is watched too: a signal during it ends it, and the command is not run.
        idle = grading.measure_idle(args.backend, lambda: signals.received is not None) if grading else None
        orphans = _Orphans()
        meter.start()
        try:
            if signals.received is not None:  # asked to stop before anything ran
                return _signal_exit(signals.received)
            child = _start(command, stdout=sys.stderr.fileno() if to_stdout else None)
            signals.started(child)
            status = child.wait()
        except CannotStart as exc:
            print(f"greenai: error: {exc.message}", file=sys.stderr)
            return exc.exit_code
        finally:
            running = orphans.collect()  # before the last read: the ended ones' CPU time joins ours
            measurement = meter.stop()
    if running:
        note = (f"{running} process(es) started by the command still run after it ended; energy they use from "
                "now on is not in this measurement")
        measurement = dataclasses.replace(measurement, warnings=(*measurement.warnings, note))
    code = status if status >= 0 else 128 - status
    interrupted = signal.Signals(signals.received).name if signals.received is not None else None
    graded = grading.grade(measurement, idle, args.backend, code, interrupted) if grading else None
    if not to_stdout:
        print_measurement(measurement, command, interrupted)
        if graded is not None:
            measure_grade.print_grade(graded)
    if args.json:
        data = {**measurement.to_dict(), "exit_code": code, "interrupted": interrupted}
        if graded is not None:
            data.update(grade=graded.to_dict(), idle=idle.to_dict() if idle is not None else None)
        write_json(data, args.json)
    return code


class _Orphans:
    """Keeps the command's orphaned descendants ours, so the process-tree estimate still counts them.

    A command that starts a process and exits without waiting for it (a double fork, a shell's
    ``job &``) would hand it to init, and its CPU time would be lost to the estimate. As a
    child subreaper (Linux) we inherit such orphans instead: the live ones are our
    descendants, read from /proc, and the ended ones are reaped here so their CPU time joins
    ``RUSAGE_CHILDREN``. Only processes that were not our children before the command are
    touched (a library caller's own children keep their statuses).
    """

    def __init__(self) -> None:
        self._before = set(own_children())
        self.enabled = _set_subreaper(True)

    def collect(self) -> int:
        """Reap the orphans that ended and stop adopting; return how many still run."""
        if not self.enabled:
            return 0
        _set_subreaper(False)  # greenai called as a library keeps no lasting process attribute
        running = 0
        for pid in set(own_children()) - self._before:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # reaped meanwhile (the command itself, by Popen.wait)
                continue
            running += done == 0
        return running


#: prctl(2) option: orphaned descendants are re-parented to this process, not to init.
PR_SET_CHILD_SUBREAPER = 36


def _set_subreaper(on: bool) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0)
    except (OSError, AttributeError):  # no prctl here: orphans go to init, as without greenai
        return False


def _signal_exit(signum: int) -> int:
    print(f"greenai: {signal.Signals(signum).name} received before the command started; not run", file=sys.stderr)
    return 128 + signum


def _start(command: list[str], stdout: int | None) -> subprocess.Popen[bytes]:
    """Start the command in our process group (the terminal's foreground group, for Ctrl-C)."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        # Default signal dispositions in the child: our handlers do not survive exec, and
        # restore_signals puts back SIGPIPE (which Python ignores) for `cmd | head`.
        return subprocess.Popen(command, stdout=stdout, restore_signals=True)
    except ValueError as exc:  # a NUL byte: no such file can exist, no such argument can be passed
        where = next((i for i, a in enumerate(command) if "\0" in a), None)
        if where == 0:
            raise CannotStart(f"command not found: {command[0]!r} contains a NUL byte", EXIT_NOT_FOUND) from None
        if where is not None:
            raise CannotStart(f"cannot run {command[0]}: argument {where} contains a NUL byte",
                              EXIT_CANNOT_RUN) from None
        raise CannotStart(f"cannot run {command[0]}: {exc}", EXIT_CANNOT_RUN) from None
    except OSError as exc:
        raise _start_failure(command[0], exc) from None


def _start_failure(name: str, exc: OSError) -> CannotStart:
    """The shell's convention: 127 when no such command exists, 126 when it exists but cannot run."""
    code = exc.errno
    if code == errno.ENOENT:
        found = os.path.exists(name) if os.sep in name else shutil.which(name) is not None
        if found:  # the file is there, so the kernel missed its interpreter (#! line)
            return CannotStart(f"cannot run {name}: its interpreter (the #! line) was not found", EXIT_CANNOT_RUN)
        return CannotStart(f"command not found: {name}", EXIT_NOT_FOUND)
    if code in (errno.ENOTDIR, errno.ELOOP, errno.ENAMETOOLONG):
        return CannotStart(f"command not found: {name} ({exc.strerror})", EXIT_NOT_FOUND)
    if code in (errno.EACCES, errno.EISDIR, errno.EPERM):
        what = "is a directory" if os.path.isdir(name) else "is not executable (permission denied)"
        return CannotStart(f"cannot run {name}: {what}", EXIT_CANNOT_RUN)
    if code == errno.ENOEXEC:
        return CannotStart(f"cannot run {name}: not a valid executable format (a script needs a #! line)",
                           EXIT_CANNOT_RUN)
    return CannotStart(f"cannot run {name}: {exc.strerror or exc}", EXIT_CANNOT_RUN)


class _SignalWatch:
    """Notes the first signal that asks us to stop and forwards what the command would not get.

    Handlers (not SIG_IGN) are installed, so the command starts with default dispositions
    (a handler is reset by exec, an ignored signal would be inherited). A signal that whoever
    started us set to ignored (``nohup``, a background job) stays ignored, for us and the command.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _SignalWatch:
        for signum in (*GROUP_SIGNALS, *FORWARDED_SIGNALS):
            current = signal.getsignal(signum)
            if current == signal.SIG_IGN:
                continue
            self._previous[signum] = current
            signal.signal(signum, self._handle)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def started(self, child: subprocess.Popen[bytes]) -> None:
        self._child = child
        if self.received is not None:  # arrived between our check and the start
            self._forward(self.received)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        if signum in FORWARDED_SIGNALS or not _terminal_delivers_to_us():
            self._forward(signum)

    def _forward(self, signum: int) -> None:
        child = self._child
        if child is not None and child.returncode is None:
            try:
                os.kill(child.pid, signum)
            except ProcessLookupError:  # it has just ended
                pass


def _terminal_delivers_to_us() -> bool:
    """True when our process group is a terminal's foreground group: its ^C reaches the command too."""
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:
            continue
    return False


def _figure(m: Measurement, domain: str, value: float) -> str:
    """A domain's energy as the table shows it: unreadable and partial (lower-bound) figures say so."""
    if domain in m.unreadable_domains:
        return "unreadable"
    return joules(value) + (" (partial)" if domain in m.partial_domains else "")


def print_measurement(m: Measurement, command: list[str], interrupted: str | None = None) -> None:
    out = sys.stderr
    print(f"\ngreenai: {' '.join(command)}", file=out)
    invalid = [d for d, j in m.domains.items() if not is_valid_figure(j)]
    rows = [[d, _figure(m, d, j), "yes" if d in m.counted_domains else "no"] for d, j in m.domains.items()]
    rows.append(["total", joules(m.energy_j) + (" (partial)" if m.partial else ""), ""])
    table(rows, ["domain", "energy", "in total"], out=out)
    names = ", ".join(f"{b.name} {b.version}".strip() for b in m.backends)
    duration = f"{m.duration_s:.3f} s" if is_valid_figure(m.duration_s) else "invalid duration"
    how = f"no reading from {names}" if m.method == NO_READING else f"{m.method} by {names}"
    print(f"{how}; {duration}, {watts(m.power_w)} average, resolution {joules(m.resolution_j)}", file=out)
    for b in m.backends:
        if b.summary:
            print(f"  {b.name}: {b.summary}", file=out)
    for w in m.warnings:
        print(f"warning: {w}", file=out)
    for d in invalid:
        print(f"warning: {d}: the backend gave no valid figure ({m.domains[d]!r}); shown as invalid", file=out)
    if not is_valid_figure(m.energy_j) and not invalid:
        print(f"warning: the total is no valid figure ({m.energy_j!r}); shown as invalid", file=out)
    if interrupted:
        print(f"warning: interrupted by {interrupted}: the energy covers the command until it ended", file=out)
