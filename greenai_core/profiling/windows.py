"""What both protocols share: measured windows on one run clock, the idle baseline, net energy,
attribution by CPU time, carbon, and the report's bookkeeping (phases, timeline, warnings).

Time is the meter's own clock (``greenai_core.energy.counters._now``), so a test's
``fake_clock`` drives the protocol exactly as it drives the meter; waiting (baseline,
cool-down) goes through ``sleep`` here, which such a test replaces.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from greenai_core.energy import counters
from greenai_core.energy.backend import MIXED, NO_READING
from greenai_core.energy.measurement import Measurement
from greenai_core.energy.meter import Meter
from greenai_core.errors import UsageError

#: How the protocol waits (baseline, cool-down); tests replace it with their fake clock's ``advance``.
sleep: Callable[[float], Any] = time.sleep
PROC_STAT = "/proc/stat"
#: Seconds between power-timeline points in a profile: 8 points a 2 s repeat is enough for the chart,
#: and the poller's wake-ups (~0.1 ms of CPU each on a 2-core VM) stay a few hundredths of a percent
#: of the predict loop. Sensors that must be read faster (NVML power sampling) still are.
TIMELINE_PERIOD_S = 0.25
ATTRIBUTION_LABEL = "attribution by CPU time (as Scaphandre, PowerJoular)"
NEGATIVE_NET = "the run drew less than the idle baseline: noise; net figure 0"
CARBON_NOTE = "given by the user, never looked up"
#: Bounds that catch a unit slip (kg for g) and keep every carbon figure finite.
MAX_CARBON_INTENSITY = 10_000.0
MAX_PUE = 10.0
J_PER_KWH = 3.6e6


def now() -> float:
    return counters._now()


def process_cpu_seconds() -> float:
    """CPU seconds of this process tree (the estimate's own rule: threads, children, descendants)."""
    from greenai_core.energy.estimate import process_tree_cpu_seconds

    return process_tree_cpu_seconds()


def machine_busy_cpu_seconds() -> float | None:
    """The whole machine's busy CPU seconds from /proc/stat (user+nice+system+irq+softirq+steal); None if unreadable."""
    try:
        with open(PROC_STAT, "rb") as fh:
            first = fh.readline(4096).split()
        if not first or first[0] != b"cpu":
            return None
        ticks = [int(x) for x in first[1:9]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (ticks + [0] * 8)[:8]
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None


#: A window's start: (run seconds, process CPU seconds, machine busy CPU seconds); None where not read.
Edge = tuple[float, float | None, float | None]


@dataclass
class Window:
    """One closed window: its measurement, where it lay on the run's clock, and the CPU seconds inside."""

    measurement: Measurement
    start_s: float
    end_s: float
    cpu_time_s: float | None  # None where the window was opened with cpu=False
    machine_busy_s: float | None


@dataclass
class Run:
    """The run's clock and bookkeeping: every window's phase, timeline points and warnings, in order."""

    t0: float = field(default_factory=now)
    phases: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def open(self, meter: Meter, *, cpu: bool = True) -> Edge:
        """Start ``meter``; the edge as (run seconds, process CPU seconds, machine busy seconds).

        ``cpu=False`` skips the two CPU-time reads (/proc), for windows no attribution needs
        (a training step's: one per step, so their cost would add up)."""
        edge = (now() - self.t0, process_cpu_seconds() if cpu else None, machine_busy_cpu_seconds() if cpu else None)
        meter.start()
        return edge

    def close(self, meter: Meter, edge: Edge, phase: str | None) -> Window:
        """Stop ``meter``; record the window's phase (unless None), timeline and warnings."""
        measurement = meter.stop()
        start_s, cpu0, busy0 = edge
        cpu, busy = (process_cpu_seconds(), machine_busy_cpu_seconds()) if cpu0 is not None else (None, None)
        end_s = start_s + measurement.duration_s
        self.warn(measurement.warnings)
        if phase is not None:  # a phase's window; training's step windows are only summed, not kept
            self.measurements.append(measurement)
            self.phases.append({"name": phase, "start_s": start_s, "end_s": end_s})
            self.timeline += [{"t_s": start_s + p.t_s, "backend": p.backend, "watts": dict(p.watts)}
                              for p in measurement.timeline]
        machine = busy - busy0 if busy is not None and busy0 is not None else None
        cpu_time = max(cpu - cpu0, 0.0) if cpu is not None and cpu0 is not None else None
        return Window(measurement, start_s, end_s, cpu_time, machine)

    def abandon(self, meter: Meter) -> None:
        """Stop a window cut short (Ctrl-C): it leaves the poller; its figures are not kept."""
        if meter.running:
            meter.stop()

    def warn(self, warnings: Iterable[str]) -> None:
        for w in warnings:
            if w not in self.warnings:
                self.warnings.append(w)

    def method(self) -> str:
        methods = {m.method for m in self.measurements}
        if not methods:
            return NO_READING
        return methods.pop() if len(methods) == 1 else MIXED


def baseline(run: Run, meter: Meter, seconds: float) -> dict[str, Any] | None:
    """The idle power over ``seconds`` of doing nothing (None when 0: no baseline)."""
    if seconds == 0:
        return None
    edge = run.open(meter)
    try:
        sleep(seconds)
    except BaseException:
        run.abandon(meter)
        raise
    window = run.close(meter, edge, "baseline")
    m = window.measurement
    duration = m.duration_s
    notes = list(m.warnings)
    if m.partial:
        notes.append("the baseline window is partial: its idle power is a lower bound, net figures may be high")
    if any(m.scopes.get(d) == "process" for d in m.counted_domains):
        notes.append("the baseline counts only this process's CPU time (the estimate's scope), so it is near 0 "
                     "and net figures are close to gross ones")
    run.warn(notes[len(m.warnings):])
    return {
        "duration_s": duration,
        "power_w": m.energy_j / duration if duration > 0 else 0.0,
        "power_w_by_domain": {d: e / duration if duration > 0 else 0.0 for d, e in m.domains.items()},
        "warnings": notes,
    }


def net_energy(run: Run, gross_j: float, duration_s: float, base: dict[str, Any] | None) -> float | None:
    """Gross minus the baseline's power over the window; clamped at 0 with a warning; None without a baseline."""
    if base is None:
        return None
    net = gross_j - float(base["power_w"]) * duration_s
    if net < 0:
        run.warn([NEGATIVE_NET])
        return 0.0
    return net


def attributed_energy(window: Window, run: Run) -> float | None:
    """The process's share of a machine-scoped figure by CPU time (Scaphandre's rule), capped at the gross.

    None where a counted domain is already the process's own (the estimate) or /proc/stat told nothing.
    """
    m = window.measurement
    if not m.counted_domains or any(m.scopes.get(d) != "machine" for d in m.counted_domains):
        return None
    busy, cpu = window.machine_busy_s, window.cpu_time_s
    if busy is None or cpu is None:
        run.warn([f"no attribution: {PROC_STAT} is unreadable"])
        return None
    if busy <= 0:
        run.warn([f"no attribution: the window is shorter than {PROC_STAT}'s clock tick"])
        return None
    return m.energy_j * min(cpu / busy, 1.0)


def carbon(intensity: float | None, pue: float | None) -> dict[str, Any] | None:
    """The user's carbon intensity (g CO2e/kWh) and PUE, checked; None when no intensity is given."""
    if intensity is None:
        if pue is not None:
            raise UsageError("pue needs a carbon intensity (g CO2e per kWh) to mean anything")
        return None
    if isinstance(intensity, bool) or not isinstance(intensity, (int, float)) or not math.isfinite(intensity) \
            or not 0 <= intensity <= MAX_CARBON_INTENSITY:
        raise UsageError(f"carbon intensity must be a number of g CO2e per kWh from 0 to {MAX_CARBON_INTENSITY:g} "
                         f"(grids run from ~10 to ~1,000), not {intensity!r}")
    pue = 1.0 if pue is None else pue
    if isinstance(pue, bool) or not isinstance(pue, (int, float)) or not math.isfinite(pue) \
            or not 1 <= pue <= MAX_PUE:
        raise UsageError(f"pue must be a number from 1 to {MAX_PUE:g}, not {pue!r}")
    return {"intensity_g_per_kwh": float(intensity), "pue": float(pue), "note": CARBON_NOTE}


def grams(joules: float, carbon_settings: dict[str, Any]) -> float:
    """g CO2e for ``joules`` of energy at the user's intensity, times the PUE."""
    return joules / J_PER_KWH * float(carbon_settings["intensity_g_per_kwh"]) * float(carbon_settings["pue"])


def check_seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise UsageError(f"{name} must be a finite number of seconds >= 0, not {value!r}")
    return float(value)


def created_at() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat()
