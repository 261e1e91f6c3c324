"""Grading a whole command offline: the original greenAI's ``webconnection.py`` flow on greenai's meter.

The original measured idle power for a moment, ran ``python3 script.py [args]`` under
likwid-powermeter and nvidia-smi, and sent two figures to a web service that no longer exists:

- efficiency = active power x PUE / 1000, active power = the script's mean power minus idle power;
- optimisation = active power / maximum power (CPU package limit + GPU power limit + 0.3725 W per GB of RAM).

``greenai measure --grade -- CMD`` does the same offline with ``legacy_grade`` (the GreenIDCard scale,
``greenai_core.grading``): an idle window (``measure_idle``), the command, then ``grade_command``. The
maximum power is, unless given, the sum of the plausible maximum powers of the domains counted in
the command's measurement (``compat_devices.domain_max_power``: RAPL's power-limit constraints,
NVML's board limits, or the watts x CPUs the estimate assumes), except that DRAM counts as the
original's 0.3725 W per GB of memory (a DRAM zone often has no power limit, and greenai-rapl's
500 W stand-in would make the second metric tiny). The PUE defaults to 1.0 (the original assumed
2). ``scheme="relative"`` grades the command's energy against a reference of the metric
``command_energy_j``, made from earlier ``greenai measure --json`` outputs by ``command_reference``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from greenai_core import compat_devices
from greenai_core.energy.backend import DRAM, MEASURED
from greenai_core.energy.measurement import Measurement
from greenai_core.energy.meter import Meter
from greenai_core.energy.selection import BackendSpec, resolve
from greenai_core.errors import GradeError, SensorError, UsageError

if TYPE_CHECKING:
    from greenai_core.grading.reference import Reference
    from greenai_core.grading.result import Grade

#: Seconds of idle measured before the command (the original waited 1 s, then measured 1 s).
DEFAULT_IDLE_S = 3.0
COMMAND_METRIC = "command_energy_j"
GREENIDCARD, RELATIVE = "greenidcard", "relative"
SCHEMES = (GREENIDCARD, RELATIVE)

#: Where each first-party backend's maximum power comes from (``CounterSpec.max_power_w``).
MAX_POWER_SOURCES = {
    "rapl": "each zone's highest power-limit constraint, else 500 W",
    "nvml": "each board's power limit",
    "estimate": "the watts per logical CPU it assumes x logical CPUs",
}

#: The original's assumed power of main memory at full use, per GB (webconnection.py's POWER_PER_GIGA_OF_RAM).
POWER_PER_GB_OF_RAM_W = 0.3725
#: The key of that assumed maximum in ``max_power_by_domain``.
RAM_MAX_KEY = "ram"
#: How often the idle wait looks whether it was asked to stop (a signal handler cannot cut a sleep short).
IDLE_POLL_S = 0.05


def _wait(seconds: float, stop: Callable[[], bool] | None = None) -> None:
    """Sleep ``seconds``, or less once ``stop()`` says so (checked every ``IDLE_POLL_S``)."""
    end = time.monotonic() + seconds
    while stop is None or not stop():
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, IDLE_POLL_S) if stop is not None else left)


#: The idle wait (a test replaces it with a clock that moves).
_sleep = _wait


def measure_idle(seconds: float, backends: BackendSpec = None, stop: Callable[[], bool] | None = None) -> Measurement:
    """The energy of ``seconds`` of doing nothing, read from ``backends`` (the command's choice).

    ``stop``: polled during the wait; when it turns true the window ends early (a signal arrived:
    the caller then runs nothing and says so).
    """
    meter = Meter(backends).start()
    try:
        _sleep(seconds, stop)
    finally:
        idle = meter.stop()
    return idle


def check_pue(pue: Any) -> float:
    if isinstance(pue, bool) or not isinstance(pue, (int, float)) or not math.isfinite(pue) or pue < 1:
        raise UsageError(f"pue must be a finite number >= 1, not {pue!r}")
    return float(pue)


def check_watts(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise UsageError(f"{what} must be a finite number of watts above 0, not {value!r}")
    return float(value)


def load_reference(reference: Reference | str | os.PathLike[str] | None) -> Reference:
    """The reference for ``scheme="relative"``: it must hold ``command_energy_j``; GradeError otherwise."""
    from greenai_core.grading.reference import Reference

    if reference is None:
        raise GradeError(f"grading a command on the relative scheme needs a reference of {COMMAND_METRIC} "
                         "(--reference REF.json); make one from earlier `greenai measure --json` outputs with "
                         "greenai_core.command_grade.command_reference(paths).save(REF.json)")
    ref = reference if isinstance(reference, Reference) else Reference.load(reference)
    if ref.metric != COMMAND_METRIC:
        raise GradeError(f"{ref.path or 'the reference'} holds {ref.metric!r}, not {COMMAND_METRIC!r}: a command is "
                         "graded against earlier commands' energies (command_reference)")
    return ref


def grade_command(measurement: Measurement, idle: Measurement | None = None, *, scheme: str = GREENIDCARD,
                  reference: Reference | str | os.PathLike[str] | None = None, pue: float = 1.0,
                  max_power_w: float | None = None, backends: BackendSpec = None, exit_code: int = 0,
                  interrupted: str | None = None) -> Grade:
    """The grade of a measured command (``idle``: the idle window measured before it, or None).

    greenidcard: ``legacy_grade(active power, maximum power, pue)``; ``details`` add the command's,
    idle and active power, the PUE and the maximum power with where it comes from (per domain).
    ``backends``: those the measurement read (for their maximum powers). relative: the command's
    energy (``energy_j``, gross, as ``greenai measure --json`` writes it) against ``reference``.
    ``exit_code`` (non-zero: the command failed) and ``interrupted`` (the signal's name) add a
    warning: such a grade covers a run that did not do its whole work.
    """
    if not math.isfinite(measurement.power_w) or not math.isfinite(measurement.energy_j):
        raise GradeError(f"the command's energy ({measurement.energy_j!r} J) is no valid figure: no grade")
    notes = _notes(measurement, idle)
    if interrupted:
        notes.append(f"the command was interrupted by {interrupted}: this grade covers only the part that ran")
    elif exit_code != 0:
        notes.append(f"the command failed (exit code {exit_code}): this grade covers a failed run")
    if scheme == RELATIVE:
        from greenai_core.grading.relative import relative_grade

        ref = load_reference(reference)
        graded = relative_grade(measurement.energy_j, ref, metric=COMMAND_METRIC)
        return dataclasses.replace(graded, warnings=[*graded.warnings, *notes])
    if scheme != GREENIDCARD:
        raise UsageError(f"unknown grade scheme {scheme!r} (known: {', '.join(SCHEMES)})")
    from greenai_core.grading.legacy import legacy_grade

    pue = check_pue(pue)
    idle_w = idle.power_w if idle is not None else 0.0
    active_w = measurement.power_w - idle_w
    if active_w < 0:
        notes.append(f"the command's mean power ({measurement.power_w:.4g} W) is below the idle power "
                     f"({idle_w:.4g} W): active power taken as 0 W")
        active_w = 0.0
    limits: dict[str, float] = {}
    if max_power_w is not None:
        max_w: float | None = check_watts(max_power_w, "the maximum power")
        source = "given"
    else:
        from greenai_core.compat_devices import domain_max_power

        chosen = resolve(backends)[0]
        limits = domain_max_power(chosen, counted=measurement.counted_domains)
        used = [b.name for b in chosen if any(k == d or k.startswith(f"{b.name}:") for k in limits
                                              for d in (s.domain for s in b.counters()))]
        source = "sum of the read domains' plausible maximum powers: " + ", ".join(
            f"{b} ({MAX_POWER_SOURCES.get(b, 'its plausible maximum')})" for b in used)
        source += _ram_as_the_original(limits, measurement, notes)
        max_w = sum(limits.values()) or None
        if measurement.method != MEASURED and limits:
            notes.append("the maximum power includes the estimate's assumed CPU power, not a sensor's limit")
    graded = legacy_grade(active_w, max_w, pue)
    details = {**graded.details, "command_power_w": measurement.power_w, "idle_power_w": idle_w,
               "idle_s": idle.duration_s if idle is not None else 0.0, "active_power_w": active_w, "pue": pue,
               "max_power_w": max_w, "max_power_source": source, "max_power_by_domain": limits}
    return dataclasses.replace(graded, warnings=[*graded.warnings, *notes], details=details)


def _ram_as_the_original(limits: dict[str, float], measurement: Measurement, notes: list[str]) -> str:
    """Replace the DRAM domains' limits in ``limits`` by the original's 0.3725 W per GB of memory.

    Returns what to add to the source text ("" when no DRAM domain is counted).
    """
    ram = [k for k in limits if measurement.components.get(k) == DRAM]
    if not ram:
        return ""
    try:
        size_gb = compat_devices.ram_size_gb()
    except SensorError as exc:
        notes.append(f"DRAM's maximum power is its domains' plausible maximum: {exc}")
        return ""
    for key in ram:
        del limits[key]
    limits[RAM_MAX_KEY] = size_gb * POWER_PER_GB_OF_RAM_W
    return f"; DRAM as the original: {POWER_PER_GB_OF_RAM_W} W per GB x {size_gb:.4g} GB of memory"


def _notes(measurement: Measurement, idle: Measurement | None) -> list[str]:
    notes = []
    if measurement.method == "none":
        notes.append("nothing could be read during the command: its 0 J is no measurement")
    elif measurement.method != MEASURED:
        notes.append(f"the command's energy is {measurement.method} (not only hardware counters): see its warnings")
    if measurement.partial:
        notes.append("the command's energy is partial (a lower bound): see its warnings")
    if idle is None:
        notes.append("no idle window: the active power is the command's whole mean power")
    elif idle.partial or idle.method == "none":
        notes.append("the idle window's energy is partial or unread: the idle power may be low")
    return notes


def command_reference(paths: Sequence[str | os.PathLike[str]], *, hardware: Mapping[str, Any] | None = None,
                      settings: Mapping[str, Any] | None = None) -> Reference:
    """A ``command_energy_j`` reference from earlier ``greenai measure --json`` outputs (at least 5).

    Each entry: the file's name, its ``energy_j`` (the value graded), ``power_w``, ``duration_s`` and
    ``method``. ``hardware`` defaults to this machine's CPU model and the backends the files name.
    Save it with ``.save(path)``; a file without energy (``method`` "none", 0 J) is refused.
    """
    from greenai_core.energy.estimate import cpu_model_name
    from greenai_core.grading.files import read_json
    from greenai_core.grading.reference import Reference

    entries: list[dict[str, Any]] = []
    backends: set[str] = set()
    for path in paths:
        shown = os.fspath(path)
        data = read_json(shown, "a `greenai measure --json` output")
        if not isinstance(data, Mapping) or not isinstance(data.get("backends"), list):
            raise GradeError(f"{shown}: not a `greenai measure --json` output (no energy_j and backends)")
        energy = data.get("energy_j")
        if isinstance(energy, bool) or not isinstance(energy, (int, float)) or not math.isfinite(energy) \
                or energy <= 0 or data.get("method") == "none":
            raise GradeError(f"{shown}: holds no energy to build a reference from (energy_j {str(energy)[:30]}, "
                             f"method {str(data.get('method'))[:20]})")
        entries.append({"name": os.path.basename(shown), "value": float(energy), "power_w": data.get("power_w"),
                        "duration_s": data.get("duration_s"), "method": data.get("method")})
        backends.update(f"{b.get('name')} ({b.get('method')})" for b in data["backends"] if isinstance(b, Mapping))
    return Reference.from_values(
        COMMAND_METRIC, entries,
        hardware=hardware if hardware is not None else {"cpu": cpu_model_name(), "backends": sorted(backends)},
        settings=settings if settings is not None else {"source": "greenai measure --json"})
