"""The built-in estimate: energy = CPU time of the measured process tree x watts per logical CPU.

Used for every component no hardware sensor covers (it covers ``cpu``). The model, stated in
every result's assumptions and summary:

* CPU time, at the kernel's resolution rather than the 10 ms clock tick: this process's
  own CPU clock (all its threads, nanoseconds), its waited-for children from
  ``getrusage(RUSAGE_CHILDREN)`` (microseconds), and its live descendants from
  ``/proc/<pid>/task/<tid>/schedstat`` (nanoseconds per thread), never below their
  ``/proc/<pid>/stat`` total (clock ticks; it also holds their exited threads and, with
  cutime/cstime, their own waited-for children).
* Each CPU-second costs ``watts_per_cpu`` joules: the option, else ``GREENAI_CPU_WATTS``,
  else a row of ``CPU_FAMILY_WATTS`` matched against ``/proc/cpuinfo``'s model name
  (roughly TDP / hardware threads of typical parts), else ``DEFAULT_WATTS_PER_CPU``. The
  setting must be a finite number between ``MIN_WATTS_PER_CPU`` (1e-6)
  and ``MAX_WATTS_PER_CPU`` (1e6). It is read at each window's start; a window
  keeps the value it started with, in its figure and in its assumptions alike.
* Scope: the measured process tree only. Not included: idle/static power, DRAM, GPU,
  other processes, turbo and frequency.

No network, no subprocess and no CPU-identification library: one file read, once.
"""

from __future__ import annotations

import math
import os
import re
import resource
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar

from greenai_core.energy.backend import CPU, ESTIMATED, SCOPE_PROCESS, CounterSpec, EnergyBackend, ProbeResult
from greenai_core.errors import UsageError
from greenai_core.hookspecs import hookimpl

WATTS_ENV = "GREENAI_CPU_WATTS"
DEFAULT_WATTS_PER_CPU = 3.0
EXCLUDES = "idle power, DRAM, GPU, other processes"
#: (pattern on the model name, watts per logical CPU, what the figure stands for)
CPU_FAMILY_WATTS: tuple[tuple[str, float, str], ...] = (
    (r"EPYC", 2.2, "AMD EPYC server (e.g. 7763: 280 W / 128 threads)"),
    (r"Threadripper", 3.0, "AMD Threadripper workstation (e.g. 3970X: 280 W / 64 threads)"),
    (r"Ryzen", 3.3, "AMD Ryzen desktop (e.g. 5950X: 105 W / 32 threads)"),
    (r"Xeon", 3.5, "Intel Xeon server (e.g. Gold 6248: 150 W / 40 threads)"),
    (r"Core\(TM\) i\d-\d+[A-Z]*[UHP]\b|Core\(TM\) Ultra", 2.0, "Intel Core mobile (e.g. i7-12700H: 45 W / 20 threads)"),
    (r"Core\(TM\)", 3.5, "Intel Core desktop (e.g. i7-12700K: 125 W / 20 threads)"),
    (r"Neoverse|Graviton|Ampere|ARM|aarch64", 1.6, "Arm server (e.g. Graviton3: ~100 W / 64 cores)"),
)


@lru_cache(maxsize=1)
def cpu_model_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "cpu model"):
                    return value.strip()
    except OSError:
        pass
    return ""


def watts_per_cpu(option: float | None = None) -> tuple[float, str]:
    """The watts per logical CPU and where the figure came from (UsageError for a bad setting)."""
    if option is not None:
        return _positive(option, "option watts_per_cpu"), "option watts_per_cpu"
    env = os.environ.get(WATTS_ENV)
    if env:
        try:
            value = float(env)
        except ValueError:
            raise UsageError(f"{WATTS_ENV}={env!r} is not a number of watts") from None
        return _positive(value, f"{WATTS_ENV}={env!r}"), f"environment variable {WATTS_ENV}"
    return _family_watts(cpu_model_name())


@lru_cache(maxsize=4)
def _family_watts(model: str) -> tuple[float, str]:
    for pattern, watts, label in CPU_FAMILY_WATTS:
        if re.search(pattern, model):
            return watts, f"CPU family table: {label}; /proc/cpuinfo model name {model!r}"
    return DEFAULT_WATTS_PER_CPU, f"default (CPU model {model or 'unknown'!r} not in the family table)"


#: The watts per logical CPU accepted: any real part is far inside; outside, a typo (or a
#: value so small or large that the arithmetic underflows or overflows).
MIN_WATTS_PER_CPU = 1e-6
MAX_WATTS_PER_CPU = 1e6


def _positive(value: object, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{source} must be a finite positive number of watts, got {value!r}")
    try:
        watts = float(value)
    except OverflowError:
        watts = math.inf
    if not (math.isfinite(watts) and watts > 0):
        raise UsageError(f"{source} must be a finite positive number of watts, got {value!r}")
    if not MIN_WATTS_PER_CPU <= watts <= MAX_WATTS_PER_CPU:
        raise UsageError(f"{source} must be between {MIN_WATTS_PER_CPU:g} and {MAX_WATTS_PER_CPU:g} watts per "
                         f"logical CPU, got {value!r}")
    return watts


_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
#: The kernel adds a thread running on another CPU its CPU time at its scheduler tick (HZ >= 100:
#: 10 ms at most), so a multi-threaded process's clock can step by up to a tick per running
#: thread between two close reads: the jump check allows that much (torch's training threads
#: showed 6 mJ steps in 0.2 ms, twice the plausible power, in every run).
ACCOUNTING_LAG_S = 0.01
#: getrusage's unit, the coarsest of the clocks always read.
RESOLUTION_S = 1e-6
#: The most CPUs the process tree can keep busy at once (its highest plausible power is this x watts).
LOGICAL_CPUS = os.cpu_count() or 1


def _own_cpu_seconds() -> float:
    try:
        return time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)
    except (AttributeError, OSError):  # pragma: no cover - systems without the clock
        return time.process_time()


def _waited_children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(4096)


def _descendant(pid: int) -> tuple[float, list[int]]:
    """CPU seconds of one live descendant (and its waited-for children), and its own children."""
    stat = _read(f"/proc/{pid}/stat").rsplit(b")", 1)[1].split()
    ticks_own = (int(stat[11]) + int(stat[12])) * _TICK_S
    ticks_waited = (int(stat[13]) + int(stat[14])) * _TICK_S
    threads_ns = 0
    kids: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        tids = []
    for tid in tids:
        try:
            threads_ns += int(_read(f"/proc/{pid}/task/{tid}/schedstat").split()[0])
        except (OSError, IndexError, ValueError):
            pass  # no schedstat here, or the thread ended: the stat total below still holds it
        try:
            kids += [int(x) for x in _read(f"/proc/{pid}/task/{tid}/children").split()]
        except (OSError, ValueError):
            pass
    # The per-thread clocks are exact but miss exited threads; the stat total holds them, in ticks.
    return max(threads_ns / 1e9, ticks_own) + ticks_waited, kids


def own_children() -> list[int]:
    """The pids of this process's children (zombies included: they stay listed until reaped)."""
    kids: list[int] = []
    try:
        for tid in os.listdir("/proc/self/task"):
            try:
                kids += [int(x) for x in _read(f"/proc/self/task/{tid}/children").split()]
            except (OSError, ValueError):
                continue  # the thread ended meanwhile
    except OSError:
        pass
    return kids


def process_tree_cpu_seconds() -> float:
    """CPU seconds of this process, its waited-for children and its live descendants."""
    total = _own_cpu_seconds() + _waited_children_cpu_seconds()
    if sys.platform.startswith("linux"):
        stack = own_children()
        seen: set[int] = set()
        while stack:
            pid = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                seconds, kids = _descendant(pid)
            except (OSError, IndexError, ValueError):
                continue  # it ended between the listing and the read: its time moved to its parent
            total += seconds
            stack += kids
    else:  # pragma: no cover - other systems
        import psutil

        for child in psutil.Process().children(recursive=True):
            try:
                t = child.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                continue
    return total


class EstimateBackend(EnergyBackend):
    """CPU-time x watts estimate; honest about being one (``method == "estimated"``, scope "process")."""

    name: ClassVar[str] = "estimate"
    method: ClassVar[str] = ESTIMATED
    total_rule: ClassVar[str] = "total = cpu (estimated from CPU time)"

    def __init__(self, watts_per_cpu: float | None = None) -> None:
        if watts_per_cpu is not None:
            _positive(watts_per_cpu, "option watts_per_cpu")
        self._option = watts_per_cpu
        self._current: tuple[float, str] | None = None  # the setting the latest counters() used
        self._lock = threading.Lock()
        self._last_cpu_s = 0.0

    @property
    def version(self) -> str:
        from greenai_core import __version__

        return __version__

    def watts(self) -> tuple[float, str]:
        """The watts per logical CPU now and where they come from; UsageError for a bad setting."""
        return watts_per_cpu(self._option)

    def _setting(self) -> tuple[float, str]:
        return self._current or self.watts()

    def probe(self) -> ProbeResult:
        try:
            watts, source = self.watts()
        except UsageError as exc:
            return ProbeResult.unavailable(str(exc))
        return ProbeResult.ok(f"{watts:g} W per logical CPU ({source.split(';')[0]})")

    def counters(self) -> Sequence[CounterSpec]:
        watts, source = self._current = self.watts()
        return [CounterSpec("cpu", joules_per_unit=watts, resolution_j=watts * RESOLUTION_S, update_period_s=0.0,
                            component=CPU, scope=SCOPE_PROCESS, max_power_w=watts * LOGICAL_CPUS,
                            lag_s=ACCOUNTING_LAG_S)]

    def read(self) -> Mapping[str, float]:
        cpu_s = process_tree_cpu_seconds()
        with self._lock:
            # A live descendant's time moves to its parent's tick-counted total when it is
            # reaped, which can dip by under a tick: CPU time never decreases, so neither does this.
            self._last_cpu_s = max(self._last_cpu_s, cpu_s)
            return {"cpu": self._last_cpu_s}

    def assumptions(self) -> dict[str, Any]:
        watts, source = self._setting()
        return {
            "model": "energy = CPU seconds of the measured process tree x watts per logical CPU",
            "watts_per_cpu": watts,
            "watts_source": source,
            "cpu_time_resolution_s": RESOLUTION_S,
            "cpu_time_sources": "own CPU clock (ns); waited-for children: getrusage (us); live descendants: "
                                f"/proc schedstat (ns), /proc stat ({_TICK_S:g} s ticks) as a floor",
            "scope": "the measured process tree",
            "excludes": EXCLUDES,
        }

    def summary(self) -> str:
        watts, source = self._setting()
        return (f"CPU time of the measured process tree x {watts:g} W per logical CPU "
                f"({source}); excludes {EXCLUDES}")

    def max_power_w(self) -> float:
        return self._setting()[0] * LOGICAL_CPUS


@hookimpl
def register_energy_backends(register: Any) -> None:
    register(EstimateBackend)
