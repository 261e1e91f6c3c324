"""The original greenAI profiler classes, by their names, as thin layers over greenai's meter.

The original ``energyprofiler.py`` ran an external tool per class (pyJoules, perf, likwid-powermeter,
nvidia-smi, CodeCarbon, energyusage) in a thread woken every ``delay`` seconds. Here each name picks
a greenai backend and keeps the original constructor arguments and ``get_unit()``:

=====================  ==========================  ===========  ============================================
class                  original arguments          unit         reads
=====================  ==========================  ===========  ============================================
PyJoulesProfiler       delay, cpu_domains,         ``"uJ"``     RAPL (``rapl``): packages and DRAM
                       ram_domains, gpu_domains
PerfProfiler           delay                       ``"J"``      RAPL: packages and DRAM (perf's energy-pkg
                                                                + energy-ram)
LikwidProfiler         delay                       ``"J"``      RAPL: packages and DRAM (likwid's PKG + DRAM)
NvidiaProfiler         delay, power_cap=75         ``"J"``      NVML (``nvml``): every visible GPU board
EnergyUsageProfiler    delay                       ``"kWh"``    every available sensor, plus the estimate
CodecarbonProfiler     delay, save_to_file=False   ``"kgCO2eq"``  the same, times the carbon intensity *you*
                                                                give (never looked up online)
=====================  ==========================  ===========  ============================================

Where the named sensor cannot be read, the profiler uses the estimate (CPU time x watts) and says
so in a ``RuntimeWarning`` and in every measurement's warnings; ``strict=True`` makes that an
error instead. ``backends=`` overrides the choice. ``stop()`` never waits for a sampling tick:
counters are read at the edges, ``delay`` only sets the period of the power timeline.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, ClassVar

from greenai_core.compat_devices import cpu_name, domain_max_power, gpu_names, ram_size_gb
from greenai_core.energy.backend import CPU, DRAM, GPU, MEASURED, NO_READING, EnergyBackend
from greenai_core.energy.measurement import Measurement
from greenai_core.energy.meter import Meter
from greenai_core.errors import BackendUnavailableError, GreenAIError, SensorError, UsageError

J_PER_KWH = 3.6e6
ESTIMATE = "estimate"
#: The carbon intensity for ``CodecarbonProfiler`` when code written for the original gives none (g CO2e/kWh).
CARBON_INTENSITY_ENV = "GREENAI_CARBON_INTENSITY"


def _user_level() -> int:
    """``warnings.warn``'s stacklevel of the first caller outside this module (the user's line, whatever
    chain of profiler constructors and methods led here)."""
    frame, level = sys._getframe(1), 1  # the function about to warn
    while frame.f_back is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    return level


class EnergyProfiler:
    """Energy of a function call or of a start/stop span, in joules (``get_unit()``: ``"J"``)."""

    def __init__(
        self,
        delay_between_measures: float | None = None,
        backends: Sequence[str | EnergyBackend] | str | None = None,
    ) -> None:
        if delay_between_measures is not None and not (0 < delay_between_measures < float("inf")):
            raise UsageError("delay_between_measures must be a positive number of seconds")
        self.delay_between_measures = delay_between_measures
        self.backends = backends
        self.last_measurement: Measurement | None = None
        self._meter: Meter | None = None
        #: Guards ``_meter``: two threads calling start() at once must not both start one (the loser's
        #: window would never be stopped, its poller registration leaked).
        self._state = threading.Lock()
        #: Lines added to every measurement's warnings (a fallback to the estimate, say).
        self._notes: list[str] = []

    def _new_meter(self) -> Meter:
        if self.delay_between_measures is None:
            return Meter(self.backends)
        return Meter(self.backends, timeline=True, timeline_period_s=self.delay_between_measures)

    def evaluate(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, float, Any]:
        """Run ``func(*args, **kwargs)``: ``(total_time_s, energy in get_unit(), result)``."""
        result, measurement = self._new_meter().call(func, *args, **kwargs)
        return measurement.duration_s, self._keep(measurement), result

    def get_unit(self) -> str:
        return "J"

    def in_unit(self, joules: float) -> float:
        """``joules`` in this profiler's unit (``get_unit()``)."""
        return joules

    def start(self) -> None:
        """Start measuring; a profiler measures one span at a time (nest two profilers, not one)."""
        with self._state:
            if self._meter is not None:
                raise UsageError(f"this {type(self).__name__} is already measuring; call stop() first (use "
                                 "another profiler for a nested or concurrent span)")
            self._meter = self._new_meter().start()

    def stop(self) -> float:
        """Stop measuring; returns the energy in ``get_unit()`` (details in ``last_measurement``)."""
        with self._state:
            if self._meter is None:
                raise UsageError(f"this {type(self).__name__} was not started")
            meter, self._meter = self._meter, None
        return self._keep(meter.stop())

    def get_energy(self) -> float:
        """The last measured energy, in ``get_unit()``."""
        return self.in_unit(self._joules(self._last()))

    def _last(self) -> Measurement:
        if self.last_measurement is None:
            raise UsageError("nothing measured yet")
        return self.last_measurement

    def _keep(self, measurement: Measurement) -> float:
        if self._notes:
            measurement = dataclasses.replace(measurement, warnings=(*measurement.warnings, *self._notes))
        self.last_measurement = measurement
        # The original API returns a bare number: a figure that is no figure, or only a lower
        # bound, must not pass silently.
        if measurement.method == NO_READING:
            warnings.warn(f"{type(self).__name__}: nothing could be read: the 0 is no measurement "
                          f"({'; '.join(measurement.warnings)[:300]})", RuntimeWarning, stacklevel=_user_level())
        elif measurement.partial:
            warnings.warn(f"{type(self).__name__}: the figure is partial (a lower bound): see last_measurement."
                          f"warnings ({'; '.join(measurement.warnings)[:300]})", RuntimeWarning,
                          stacklevel=_user_level())
        return self.in_unit(self._joules(measurement))

    def _joules(self, measurement: Measurement) -> float:
        return measurement.energy_j

    def __enter__(self) -> EnergyProfiler:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class SensorProfiler(EnergyProfiler):
    """An original profiler name: a sensor choice, a unit and the original extra methods."""

    #: The backend the original tool read; None: every available sensor, plus the estimate.
    sensor: ClassVar[str | None] = None
    unit: ClassVar[str] = "J"
    #: The components ``get_max_power``/``get_device_name`` describe (None: every counted domain).
    described: ClassVar[tuple[str, ...] | None] = (CPU,)

    def __init__(self, delay: float, *, backends: Sequence[str | EnergyBackend] | str | None = None,
                 strict: bool = False) -> None:
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 < delay < float("inf"):
            raise UsageError(f"{type(self).__name__}: delay must be a positive number of seconds, not {delay!r}")
        super().__init__(delay, backends)
        self.strict = strict
        #: Why the named sensor is not read (None when it is, or when ``backends`` was given).
        self.fallback: str | None = None
        if backends is None:
            self.backends = self._choose()

    def _choose(self) -> list[str] | None:
        from greenai_core.energy.selection import resolve

        name = type(self).__name__
        if self.sensor is None:
            chosen, _ = resolve(None)
            if not any(b.method == MEASURED for b in chosen):
                if self.strict:
                    raise BackendUnavailableError("sensor", f"{name}(strict=True): no hardware energy sensor can "
                                                            "be read here, only the estimate")
                self.fallback = "no hardware energy sensor can be read here"
                self._warn(f"{name}: no hardware energy sensor can be read here; figures are the estimate (CPU "
                           "time of this process tree x watts per CPU); pass strict=True to make this an error")
            return None
        try:
            resolve([self.sensor])
            return [self.sensor]
        except GreenAIError as exc:  # not installed (UsageError) or not readable here (BackendUnavailableError)
            reason = exc.reason if isinstance(exc, BackendUnavailableError) else str(exc)
            if self.strict:
                raise BackendUnavailableError(self.sensor, f"{name}(strict=True) reads only it: {reason}") from None
        self.fallback = reason
        self._warn(f"{name}: the {self.sensor} sensor cannot be read here ({reason}); figures are the estimate "
                   f"(CPU time of this process tree x watts per CPU) instead; pass strict=True to make this an error")
        return [ESTIMATE]

    def _warn(self, note: str) -> None:
        """A fallback: said once now (to the constructor's caller) and in every measurement's warnings."""
        self._notes.append(note)
        warnings.warn(note, RuntimeWarning, stacklevel=_user_level())

    def get_unit(self) -> str:
        return self.unit

    # -- the original extra methods --------------------------------------------------------------
    def _backends(self) -> list[EnergyBackend]:
        from greenai_core.energy.selection import resolve

        return resolve(self.backends)[0]

    def get_device_name(self) -> str:
        """The measured device's model name: the CPU's (/proc/cpuinfo), or the GPUs' (NVML) for NvidiaProfiler."""
        if self.described is not None and GPU in self.described:
            names = [n for b in self._backends() for n in gpu_names(b)]
            if not names:
                why = f" ({self.sensor}: {self.fallback})" if self.fallback else ""
                raise SensorError(f"{type(self).__name__}.get_device_name: no GPU is read here{why}")
            return ", ".join(names)
        return cpu_name()

    def get_max_power(self) -> float:
        """The measured devices' plausible maximum power in watts (the sum over their domains).

        RAPL: each package's highest power-limit constraint (else greenai-rapl's 500 W default);
        NVML: each board's power limit; the estimate: the watts per CPU it assumes x logical CPUs.
        """
        limits = domain_max_power(self._backends(), components=self.described)
        if not limits:
            why = f" ({self.sensor} is not read: {self.fallback})" if self.fallback else ""
            raise SensorError(f"{type(self).__name__}.get_max_power: no measured domain gives a maximum power "
                              f"here{why}")
        if self.fallback is not None:
            unread = f"{self.sensor} is not read here" if self.sensor else "no hardware sensor is read here"
            warnings.warn(f"{type(self).__name__}.get_max_power: {unread}; this is the maximum the estimate "
                          "assumes, not a sensor's", RuntimeWarning,
                          stacklevel=_user_level())
        return sum(limits.values())

    def get_energy_ram(self) -> float:
        """Energy of main memory (the DRAM domains) in the last measurement, in ``get_unit()``."""
        m = self._last()
        ram = [d for d, comp in m.components.items() if comp == DRAM and d in m.counted_domains]
        if not ram:
            read = ", ".join(m.domains) or "none"
            raise SensorError(f"{type(self).__name__}.get_energy_ram: no DRAM counter was read (domains: {read})")
        return self.in_unit(sum(m.domains[d] for d in ram))

    def get_ram_size(self) -> float:
        """Main memory in gigabytes (10^9 bytes), from /proc/meminfo."""
        return ram_size_gb()


class _RaplProfiler(SensorProfiler):
    sensor = "rapl"


class PerfProfiler(_RaplProfiler):
    """``perf stat -e power/energy-pkg/,power/energy-ram/``, as RAPL's packages + DRAM; joules."""


class LikwidProfiler(_RaplProfiler):
    """``likwid-powermeter``'s PKG + DRAM domains, as RAPL's packages + DRAM; joules."""


class PyJoulesProfiler(_RaplProfiler):
    """pyJoules' RAPL domains, in microjoules (``get_unit()``: ``"uJ"``, as the original).

    ``cpu_domains``/``ram_domains``: sockets whose ``package-N``/``dram-N`` count; a list left out
    (None) means every socket's, so ``cpu_domains=[0]`` alone still counts the DRAM (the original's
    default ``[0]`` measured socket 0 only, and it kept only the first domain's column, silently
    dropping the DRAM); ``[]`` counts none of that kind. ``gpu_domains``: pyJoules' uncore
    (integrated GPU) domains; they lie inside their package, so they are reported in
    ``last_measurement`` but not added again.
    """

    unit = "uJ"

    def __init__(self, delay: float, cpu_domains: Iterable[int] | None = None,
                 ram_domains: Iterable[int] | None = None, gpu_domains: Iterable[int] | None = None, *,
                 backends: Sequence[str | EnergyBackend] | str | None = None, strict: bool = False) -> None:
        super().__init__(delay, backends=backends, strict=strict)
        picked = cpu_domains is not None or ram_domains is not None
        self.domains: list[str] | None = None
        if picked and self.fallback is None:
            present = {s.domain for b in self._backends() for s in b.counters()}
            self.domains = [*_sockets("package", cpu_domains, present), *_sockets("dram", ram_domains, present)]
            missing = [d for d in self.domains if d not in present]
            if missing:
                raise UsageError(f"PyJoulesProfiler: no {', '.join(missing)} domain here "
                                 f"(read: {', '.join(sorted(present)) or 'none'})")
        if gpu_domains:
            self._notes.append("PyJoulesProfiler: gpu_domains (uncore) lie inside their package: reported, not "
                               "added again")

    def in_unit(self, joules: float) -> float:
        return joules * 1e6

    def _joules(self, measurement: Measurement) -> float:
        if self.domains is None:
            return measurement.energy_j
        return sum(measurement.domains.get(d, 0.0) for d in self.domains)


def _sockets(kind: str, sockets: Iterable[int] | None, present: set[str]) -> list[str]:
    """``kind-N`` for each socket N given; None: every ``kind-N`` domain the sensor reads."""
    if sockets is None:
        return sorted(d for d in present if d.startswith(f"{kind}-") and d[len(kind) + 1:].isdigit())
    return [f"{kind}-{i}" for i in sockets]


class NvidiaProfiler(SensorProfiler):
    """nvidia-smi's power draw, as NVML's energy counter (or integrated power) of every visible GPU; joules.

    ``power_cap`` is accepted and unused: the original used it to turn a utilisation percentage
    into watts where nvidia-smi had no power reading, and as ``get_max_power()`` where nvidia-smi
    had no power limit; NVML reads energy or power, and the board's limit, directly. Unlike the
    original (the first GPU only), every visible board is read.
    """

    sensor = "nvml"
    described = (GPU,)

    def __init__(self, delay: float, power_cap: float = 75, *,
                 backends: Sequence[str | EnergyBackend] | str | None = None, strict: bool = False) -> None:
        super().__init__(delay, backends=backends, strict=strict)
        self.power_cap = power_cap


class EnergyUsageProfiler(SensorProfiler):
    """energyusage's figure, in kilowatt-hours: every available sensor, plus the estimate for the rest."""

    unit = "kWh"
    described = None

    def in_unit(self, joules: float) -> float:
        return joules / J_PER_KWH


class CodecarbonProfiler(SensorProfiler):
    """CodeCarbon's figure, in kg CO2eq: the energy (as EnergyUsageProfiler) x PUE x your carbon intensity.

    ``carbon_intensity`` in g CO2e per kWh, else ``$GREENAI_CARBON_INTENSITY``; never looked up
    online (a ``UsageError`` when neither is given). ``pue`` defaults to 1.0 (CodeCarbon's default).
    ``save_to_file`` is accepted; no emissions.csv is written (``last_measurement.to_json()`` holds it all).
    """

    unit = "kgCO2eq"
    described = None

    def __init__(self, delay: float, save_to_file: bool = False, *, carbon_intensity: float | None = None,
                 pue: float | None = None, backends: Sequence[str | EnergyBackend] | str | None = None,
                 strict: bool = False) -> None:
        from greenai_core.profiling.windows import carbon

        if carbon_intensity is None:
            env = os.environ.get(CARBON_INTENSITY_ENV)
            if not env:
                raise UsageError(f"CodecarbonProfiler needs a carbon intensity in g CO2e per kWh: pass "
                                 f"carbon_intensity=... or set {CARBON_INTENSITY_ENV} (greenai never looks it up "
                                 "online)")
            try:
                carbon_intensity = float(env)
            except ValueError:
                raise UsageError(f"{CARBON_INTENSITY_ENV}={env[:40]!r} is not a number of g CO2e per kWh") from None
        settings = carbon(carbon_intensity, pue)
        assert settings is not None
        self.carbon_intensity: float = settings["intensity_g_per_kwh"]
        self.pue: float = settings["pue"]
        super().__init__(delay, backends=backends, strict=strict)
        self.save_to_file = save_to_file
        if save_to_file:
            warnings.warn("CodecarbonProfiler: save_to_file is not supported (no emissions.csv is written); "
                          "write last_measurement.to_json() instead", RuntimeWarning, stacklevel=_user_level())

    def in_unit(self, joules: float) -> float:
        return joules / J_PER_KWH * self.pue * self.carbon_intensity / 1000.0
