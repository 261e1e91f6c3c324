"""In-test "rapl" and "nvml" backends of known power, for the original greenAI profiler names.

``PowerWorld`` holds each domain's power and integrates it into energy: over a fake clock
(``advance(seconds)``: exact joules) or, with no clock, over real time at each read (for code
that runs real work, such as the seed README's fib example). The backends register under the
names the profilers look for, so ``PyJoulesProfiler(0.1)`` picks "rapl" exactly as it would
with greenai-rapl installed.
"""

from __future__ import annotations

import time
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from greenai_core import hookimpl
from greenai_core.energy import CPU, DRAM, GPU, CounterSpec, EnergyBackend, ProbeResult
from greenai_core.plugins import Registry
from greenai_core.testing import FakeClock

#: Watts per (backend, domain) unless a test says otherwise.
DEFAULT_WATTS = {("rapl", "package-0"): 10.0, ("rapl", "core-0"): 6.0, ("rapl", "dram-0"): 2.5,
                 ("nvml", "gpu-0"): 100.0}
PACKAGE_MAX_W, DRAM_MAX_W, GPU_MAX_W = 65.0, 15.0, 250.0
GPU_NAME = "Test GPU 9000"


@dataclass
class PowerWorld:
    clock: FakeClock | None
    watts: dict[tuple[str, str], float] = field(default_factory=lambda: dict(DEFAULT_WATTS))
    energy: dict[tuple[str, str], float] = field(default_factory=lambda: dict.fromkeys(DEFAULT_WATTS, 0.0))
    #: backend name -> why it is unavailable (absent: available)
    unavailable: dict[str, str] = field(default_factory=dict)
    _last: float = field(default_factory=time.perf_counter)

    def advance(self, seconds: float, **watts: float) -> None:
        """Move the fake clock by ``seconds`` at the current watts (``package_0=40`` sets rapl's package-0 first)."""
        assert self.clock is not None
        for key, value in watts.items():
            self.watts[next(k for k in self.watts if k[1] == key.replace("_", "-"))] = value
        self.clock.advance(seconds)
        self._integrate(seconds)

    def _integrate(self, seconds: float) -> None:
        for key, w in self.watts.items():
            self.energy[key] += w * seconds

    def read(self, backend: str) -> dict[str, float]:
        if self.clock is None:  # real time: integrate what passed since the last read
            now = time.perf_counter()
            self._integrate(now - self._last)
            self._last = now
        return {d: e for (b, d), e in self.energy.items() if b == backend}


class _WorldBackend(EnergyBackend):
    world: ClassVar[PowerWorld | None] = None
    precedence: ClassVar[int] = 100

    def probe(self) -> ProbeResult:
        assert self.world is not None
        why = self.world.unavailable.get(self.name)
        return ProbeResult.unavailable(why) if why else ProbeResult.ok("in-test counters")

    def read(self) -> Mapping[str, float]:
        assert self.world is not None
        return self.world.read(self.name)


class RaplLike(_WorldBackend):
    name: ClassVar[str] = "rapl"

    def counters(self) -> Sequence[CounterSpec]:
        return [CounterSpec("core-0", 1.0, counted=False, component=CPU, max_power_w=PACKAGE_MAX_W),
                CounterSpec("dram-0", 1.0, component=DRAM, max_power_w=DRAM_MAX_W),
                CounterSpec("package-0", 1.0, component=CPU, max_power_w=PACKAGE_MAX_W)]


class NvmlLike(_WorldBackend):
    name: ClassVar[str] = "nvml"

    def counters(self) -> Sequence[CounterSpec]:
        return [CounterSpec("gpu-0", 1.0, component=GPU, max_power_w=GPU_MAX_W)]

    def assumptions(self) -> dict[str, Any]:
        return {"gpus": {"gpu-0": {"name": GPU_NAME, "max_power_w": GPU_MAX_W}}}


def install_world(registry: Registry, world: PowerWorld) -> None:
    """Register the "rapl" and "nvml" test backends, reading ``world``."""
    _WorldBackend.world = world
    plugin = types.SimpleNamespace(
        register_energy_backends=hookimpl(lambda register: [register(RaplLike), register(NvmlLike)]))
    record = registry.add_plugin(plugin, name="compat-test-sensors")
    assert record.status == "loaded", record.error
