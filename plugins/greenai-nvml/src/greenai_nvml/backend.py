"""The "nvml" energy backend: NVIDIA GPU energy, one ``gpu-N`` domain per GPU (a whole board).

Where the GPU has it (Volta and newer), the figure is NVML's energy counter,
``nvmlDeviceGetTotalEnergyConsumption`` (millijoules since the driver loaded, 64 bits: it
does not wrap), read at the window's edges. Where it does not (``NVMLError_NotSupported``,
or a driver without the function), the backend integrates ``nvmlDeviceGetPowerUsage``
samples (milliwatts) by the trapezoid rule into an energy of its own, which the core's
shared poller samples every ``sample_period_s`` while a window is open: the result says
"integrated power", with the sampling period, never "counter".

The core does the accounting (units, plausibility, faults, composition with the CPU's
sensor or estimate). This backend adds what only it can see, as ``doubts()``: a counter
that did not move while the GPU drew power (a busy GPU never reads 0 J without a
warning) and the NVML error behind a GPU that stopped answering (lost, an Xid error).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from greenai_core.sdk import GPU, SCOPE_MACHINE, CounterSpec, EnergyBackend, ProbeResult, UsageError, meter_clock
from greenai_nvml import __version__
from greenai_nvml.library import LIBRARY, NvmlLibrary, NvmlUnavailable, describe_error
from greenai_nvml.visible import (
    CUDA_ENV,
    GPUS_ENV,
    Gpu,
    Selection,
    all_gpus,
    from_choice,
    from_cuda_visible,
    parse_choice,
)

#: NVML's energy counter refreshes about every 20 to 100 ms; windows under 3 periods are flagged coarse.
UPDATE_PERIOD_S = 0.1
#: How often power is sampled on a GPU without an energy counter.
POWER_SAMPLE_PERIOD_S = 0.05
UNIT_J = 1e-3  # the counter is in mJ; power in mW
POWER_RESOLUTION_W = 1e-3
#: A counter that has not moved for this many update periods while the GPU draws power is stalled.
STALL_PERIODS = 3
#: Power samples further apart than this many sampling periods (and 1 s) are not integrated across.
GAP_PERIODS = 20
DEFAULT_MAX_POWER_W = 1000.0
MAX_LIMIT_W = 5000.0  # a "limit" above this is no real board's: the default applies
TOTAL_RULE = "total = every GPU read (each domain is a whole board)"
COUNTER, POWER = "energy counter", "integrated power"


@dataclass
class _Reading:
    """One GPU's state between reads (guarded by the backend's lock)."""

    gpu: Gpu
    mode: str
    max_power_w: float
    last_raw: int | None = None  # counter mode: last value, and when it last moved
    moved_at: float = 0.0
    last_mw: float | None = None  # power mode: the previous sample, when, and the integral so far
    sampled_at: float = 0.0
    energy_mj: float = 0.0
    failing: bool = False  # an NVML error already reported for the current outage


class NvmlBackend(EnergyBackend):
    """Energy of NVIDIA GPUs through NVML (``nvidia-ml-py``)."""

    name: ClassVar[str] = "nvml"
    total_rule: ClassVar[str] = TOTAL_RULE
    precedence: ClassVar[int] = 100  # the GPU's own counter

    def __init__(
        self,
        gpus: str | Sequence[int | str] | None = None,
        *,
        sample_period_s: float = POWER_SAMPLE_PERIOD_S,
        max_power_w: float | None = None,
        library: NvmlLibrary | None = None,
    ) -> None:
        # 2 ms is the shared poller's fastest period: a shorter one would be reported but not kept
        if not (isinstance(sample_period_s, (int, float)) and 0.002 <= sample_period_s <= 10):
            raise UsageError(f"nvml: sample_period_s must be between 0.002 and 10 seconds, not {sample_period_s!r}")
        if max_power_w is not None and not (isinstance(max_power_w, (int, float)) and 0 < max_power_w < 1e6):
            raise UsageError(f"nvml: max_power_w must be a positive number of watts, not {max_power_w!r}")
        if gpus is not None:
            try:
                parse_choice(gpus)
            except ValueError as exc:
                raise UsageError(f"nvml: gpus={gpus!r}: {exc}") from None
        self._gpus_option = gpus
        self.sample_period_s = float(sample_period_s)
        self._max_power_option = max_power_w
        self._library = library or LIBRARY
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._selection: Selection | None = None
        self._readings: list[_Reading] = []
        self._standing: list[str] = []
        self._specs: list[CounterSpec] = []
        self._doubts: dict[str, str] = {}

    @property
    def version(self) -> str:
        return __version__

    # -- which GPUs, and how each is read ------------------------------------------------
    def _inputs(self) -> tuple[object, ...]:
        option = self._gpus_option
        return (tuple(option) if isinstance(option, list) else option, os.environ.get(GPUS_ENV),
                os.environ.get(CUDA_ENV))

    def _discover(self) -> list[_Reading]:
        """The GPUs to read (again when the choice's inputs changed); raises ``NvmlUnavailable``."""
        key = self._inputs()
        with self._lock:
            if self._key == key and self._selection is not None:
                return self._readings
            nv = self._library.get()
            gpus, skipped = all_gpus(nv)
            option, env_choice, cuda = key
            if option is not None or env_choice is not None:
                chosen = option if option is not None else env_choice
                source = "gpus=" if option is not None else f"{GPUS_ENV}="
                try:
                    entries = parse_choice(chosen)  # type: ignore[arg-type]
                except ValueError as exc:
                    raise NvmlUnavailable(f"{source}{chosen!r}: {exc}") from None
                label = f"{source}{chosen!r}"
                selection = from_choice(nv, gpus, entries, label) if entries is not None else Selection(gpus, label)
            elif cuda is not None:
                selection = from_cuda_visible(nv, gpus, str(cuda))
            else:
                selection = Selection(gpus, "all GPUs")
            readings = []
            for gpu in selection.gpus:
                mode = self._mode(nv, gpu, skipped)
                if mode is not None:
                    readings.append(_Reading(gpu, mode, self._max_power(nv, gpu)))
            self._selection, self._readings, self._key = selection, readings, key
            self._standing = skipped + selection.warnings
            self._specs = [self._spec(r) for r in readings]
            self._doubts = {}
            return readings

    def _mode(self, nv: Any, gpu: Gpu, skipped: list[str]) -> str | None:
        """How this GPU is read: its energy counter, else integrated power, else not at all."""
        try:
            nv.nvmlDeviceGetTotalEnergyConsumption(gpu.handle)
            return COUNTER
        except (nv.NVMLError_NotSupported, nv.NVMLError_FunctionNotFound):
            pass
        except nv.NVMLError as exc:
            skipped.append(f"nvml: {gpu.domain} skipped: its energy counter failed ({describe_error(exc)})")
            return None
        try:
            nv.nvmlDeviceGetPowerUsage(gpu.handle)
            return POWER
        except nv.NVMLError as exc:
            skipped.append(f"nvml: {gpu.domain} ({gpu.name}) skipped: neither an energy counter nor a power "
                           f"reading ({describe_error(exc)})")
            return None

    def _max_power(self, nv: Any, gpu: Gpu) -> float:
        if self._max_power_option is not None:
            return float(self._max_power_option)
        limits = []
        for query in (nv.nvmlDeviceGetEnforcedPowerLimit, nv.nvmlDeviceGetPowerManagementLimit):
            try:
                milliwatts = query(gpu.handle)
            except nv.NVMLError:
                continue
            if isinstance(milliwatts, int) and 0 < milliwatts <= MAX_LIMIT_W * 1000:
                limits.append(milliwatts / 1000)
        return max(limits) if limits else DEFAULT_MAX_POWER_W

    def _spec(self, r: _Reading) -> CounterSpec:
        if r.mode == COUNTER:
            return CounterSpec(r.gpu.domain, UNIT_J, None, resolution_j=UNIT_J, update_period_s=UPDATE_PERIOD_S,
                               component=GPU, scope=SCOPE_MACHINE, max_power_w=r.max_power_w)
        period = self.sample_period_s
        return CounterSpec(r.gpu.domain, UNIT_J, None, resolution_j=POWER_RESOLUTION_W * period,
                           update_period_s=period, component=GPU, scope=SCOPE_MACHINE, max_power_w=r.max_power_w,
                           poll_period_s=period)

    # -- the backend contract ------------------------------------------------------------
    def probe(self) -> ProbeResult:
        try:
            readings = self._discover()
        except NvmlUnavailable as exc:
            return ProbeResult.unavailable(str(exc))
        if not readings:
            assert self._selection is not None
            why = "; ".join(self._standing) if self._standing else "NVML lists none"
            where = "" if self._selection.source == "all GPUs" else f" selected by {self._selection.source}"
            return ProbeResult.unavailable(f"no NVIDIA GPU to read{where} ({why})")
        return ProbeResult.ok(", ".join(f"{r.gpu.domain} ({r.gpu.name}, {r.mode})" for r in readings))

    def counters(self) -> Sequence[CounterSpec]:
        self._discover()
        return self._specs

    def read(self) -> Mapping[str, int | float]:
        readings = self._discover()
        nv = self._library.get()
        values: dict[str, int | float] = {}
        with self._lock:
            now = meter_clock()
            for r in readings:
                try:
                    values[r.gpu.domain] = self._read_counter(nv, r, now) if r.mode == COUNTER \
                        else self._read_power(nv, r, now)
                except nv.NVMLError as exc:  # left out: the core marks it partial; the doubt says why
                    r.last_mw = None  # never integrate across the outage
                    if not r.failing:
                        r.failing = True
                        self._doubts[r.gpu.domain] = (f"could not be read: {describe_error(exc)} (a lost GPU or "
                                                      "an Xid error? see nvidia-smi and the kernel log)")
                    continue
                r.failing = False
        return values

    def _read_counter(self, nv: Any, r: _Reading, now: float) -> int:
        raw = int(nv.nvmlDeviceGetTotalEnergyConsumption(r.gpu.handle))
        if raw != r.last_raw:
            r.last_raw, r.moved_at = raw, now
            return raw
        still = now - r.moved_at
        if still >= STALL_PERIODS * UPDATE_PERIOD_S:
            r.moved_at = now  # one doubt per stalled stretch of this length, not one per read
            try:
                milliwatts = int(nv.nvmlDeviceGetPowerUsage(r.gpu.handle))
            except nv.NVMLError:
                return raw
            if milliwatts > 0:
                self._doubts[r.gpu.domain] = (
                    f"energy counter did not move in {still:.3g} s while the GPU drew {milliwatts / 1000:.4g} W "
                    f"(it should refresh every {UPDATE_PERIOD_S * 1e3:.3g} ms: a stalled counter or driver); the "
                    f"figure may be too low")
        return raw

    def _read_power(self, nv: Any, r: _Reading, now: float) -> float:
        milliwatts = float(nv.nvmlDeviceGetPowerUsage(r.gpu.handle))
        dt = now - r.sampled_at
        if r.last_mw is not None and dt == 0:
            return r.energy_mj  # a second read at the same instant (two readers): the first sample stands
        previous, r.last_mw, r.sampled_at = r.last_mw, milliwatts, now
        if previous is None or dt < 0:
            return r.energy_mj  # the first sample (or a clock that went back): integration starts here
        gap = max(GAP_PERIODS * self.sample_period_s, 1.0)
        if dt > gap:
            self._doubts[r.gpu.domain] = (f"power samples {dt:.3g} s apart (expected every "
                                          f"{self.sample_period_s * 1e3:.3g} ms: a starved poller?); that interval "
                                          "is not integrated")
            return r.energy_mj
        r.energy_mj += (previous + milliwatts) / 2 * dt  # mW x s = mJ
        return r.energy_mj

    def doubts(self) -> Mapping[str, str]:
        with self._lock:
            doubts, self._doubts = self._doubts, {}
        return doubts

    def max_power_w(self) -> float:
        if self._max_power_option is not None:
            return float(self._max_power_option)
        powers = [r.max_power_w for r in self._readings]
        return max(powers) if powers else DEFAULT_MAX_POWER_W

    def warnings(self) -> list[str]:
        self._discover()
        return list(self._standing)

    def _how(self, r: _Reading) -> str:
        if r.mode == COUNTER:
            return COUNTER
        return (f"{POWER} (nvmlDeviceGetPowerUsage sampled every {self.sample_period_s * 1e3:.3g} ms, trapezoid "
                "rule; not a counter)")

    def summary(self) -> str:
        readings = self._discover()
        gpus = ", ".join(f"{r.gpu.domain} ({r.gpu.name}: {self._how(r)})" for r in readings) or "no GPU"
        return f"{gpus} via NVML; whole boards, everything running on them"

    def assumptions(self) -> dict[str, Any]:
        readings = self._discover()
        assert self._selection is not None
        return {
            "selected_by": self._selection.source,
            "domains": "gpu-N: N is the NVML index (as nvidia-smi numbers GPUs), each a whole board",
            "gpus": {
                r.gpu.domain: {"name": r.gpu.name, "uuid": r.gpu.uuid, "source": self._how(r),
                               "max_power_w": r.max_power_w}
                for r in readings
            },
            "counter": {"function": "nvmlDeviceGetTotalEnergyConsumption", "unit_j": UNIT_J,
                        "update_period_s": UPDATE_PERIOD_S},
            "integrated_power": {"function": "nvmlDeviceGetPowerUsage", "sampling_period_s": self.sample_period_s,
                                 "power_resolution_w": POWER_RESOLUTION_W,
                                 "note": "power assumed to vary linearly between samples (trapezoid rule); some "
                                         "GPUs report power averaged over up to 1 s"},
        }
