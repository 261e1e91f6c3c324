"""The built-in estimate: energy = CPU time of the measured process tree x watts per logical CPU.

Used when no hardware sensor can be read. The model, stated in every result's assumptions:

* CPU time is user + system time of this process (all threads), of its children it has
  waited for, and of its live descendants (read from ``/proc``), in clock ticks.
* Each CPU-second costs ``watts_per_cpu`` joules: the option, else ``GREENAI_CPU_WATTS``,
  else a row of ``CPU_FAMILY_WATTS`` matched against ``/proc/cpuinfo``'s model name
  (roughly TDP / hardware threads of typical parts), else ``DEFAULT_WATTS_PER_CPU``.
* Not included: idle/static power, DRAM, GPU, other processes, turbo and frequency.

No network, no subprocess and no CPU-identification library: one file read, once.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar

from greenai_core.energy.backend import ESTIMATED, CounterSpec, EnergyBackend, ProbeResult
from greenai_core.errors import UsageError
from greenai_core.hookspecs import hookimpl

WATTS_ENV = "GREENAI_CPU_WATTS"
DEFAULT_WATTS_PER_CPU = 3.0
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
    """The watts per logical CPU and where the figure came from."""
    if option is not None:
        return _positive(option, "option watts_per_cpu"), "option watts_per_cpu"
    env = os.environ.get(WATTS_ENV)
    if env:
        try:
            value = float(env)
        except ValueError:
            raise UsageError(f"{WATTS_ENV}={env!r} is not a number of watts") from None
        return _positive(value, WATTS_ENV), f"environment variable {WATTS_ENV}"
    model = cpu_model_name()
    for pattern, watts, label in CPU_FAMILY_WATTS:
        if re.search(pattern, model):
            return watts, f"CPU family table: {label}; /proc/cpuinfo model name {model!r}"
    return DEFAULT_WATTS_PER_CPU, f"default (CPU model {model or 'unknown'!r} not in the family table)"


def _positive(value: float, source: str) -> float:
    if not value > 0:
        raise UsageError(f"{source} must be a positive number of watts, got {value!r}")
    return float(value)


_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01


def _stat_cpu_seconds(pid: int) -> float:
    """utime + stime + cutime + cstime of one live process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", "rb") as fh:
        fields = fh.read().rsplit(b")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) * _TICK_S


def _live_children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                kids += [int(x) for x in fh.read().split()]
    except OSError:  # the process or thread ended meanwhile
        pass
    return kids


def process_tree_cpu_seconds() -> float:
    """CPU seconds of this process, its waited-for children and its live descendants."""
    own = os.times()
    total = own.user + own.system + own.children_user + own.children_system
    if sys.platform.startswith("linux"):
        stack = _live_children(os.getpid())
        while stack:
            pid = stack.pop()
            try:
                total += _stat_cpu_seconds(pid)
            except (OSError, IndexError, ValueError):
                continue  # it ended between the listing and the read: its time moved to its parent
            stack += _live_children(pid)
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
    """CPU-time x watts estimate; honest about being one (``method == "estimated"``)."""

    name: ClassVar[str] = "estimate"
    method: ClassVar[str] = ESTIMATED
    total_rule: ClassVar[str] = "total = cpu (estimated from CPU time)"

    def __init__(self, watts_per_cpu: float | None = None) -> None:
        self._option = watts_per_cpu

    @property
    def version(self) -> str:
        from greenai_core import __version__

        return __version__

    def probe(self) -> ProbeResult:
        try:
            watts, source = watts_per_cpu(self._option)
        except UsageError as exc:
            return ProbeResult.unavailable(str(exc))
        return ProbeResult.ok(f"{watts:g} W per logical CPU ({source.split(';')[0]})")

    def counters(self) -> Sequence[CounterSpec]:
        watts, _ = watts_per_cpu(self._option)
        return [CounterSpec("cpu", joules_per_unit=watts, resolution_j=watts * _TICK_S,
                            update_period_s=_TICK_S, component="cpu")]

    def read(self) -> Mapping[str, float]:
        return {"cpu": process_tree_cpu_seconds()}

    def assumptions(self) -> dict[str, Any]:
        watts, source = watts_per_cpu(self._option)
        return {
            "model": "energy = CPU seconds of the measured process tree x watts per logical CPU",
            "watts_per_cpu": watts,
            "watts_source": source,
            "cpu_time_resolution_s": _TICK_S,
            "excludes": "idle power, DRAM, GPU, other processes",
        }

    def max_power_w(self) -> float:
        return watts_per_cpu(self._option)[0] * (os.cpu_count() or 1)


@hookimpl
def register_energy_backends(register: Any) -> None:
    register(EstimateBackend)
