"""An in-test counter backend: counters the test moves by hand, wrapping like hardware."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from greenai_core.energy import MEASURED, CounterSpec, EnergyBackend, ProbeResult


class FakeCounterBackend(EnergyBackend):
    """Counters the test moves by hand, wrapping like hardware at ``wrap_range`` raw units."""

    name = "fake"

    def __init__(
        self,
        domains: Sequence[str] = ("package-0",),
        *,
        name: str = "fake",
        wrap_range: int | None = None,
        joules_per_unit: float = 1.0,
        update_period_s: float = 0.0,
        max_power_w: float = 500.0,
        method: str = MEASURED,
        component: str = "cpu",
        uncounted: Sequence[str] = (),
    ) -> None:
        self.name = name  # type: ignore[misc]
        self.method = method  # type: ignore[misc]
        self._specs = [
            CounterSpec(d, joules_per_unit, wrap_range, joules_per_unit, update_period_s,
                        counted=d not in uncounted, component=component)
            for d in domains
        ]
        self._wrap = wrap_range
        self._max_power_w = max_power_w
        self._lock = threading.Lock()
        self.values: dict[str, int | float] = dict.fromkeys(domains, 0)
        self.reads = 0

    def advance(self, domain: str, units: int | float) -> None:
        with self._lock:
            value = self.values[domain] + units
            self.values[domain] = value % self._wrap if self._wrap else value

    def set(self, domain: str, value: int | float) -> None:
        with self._lock:
            self.values[domain] = value

    def remove(self, domain: str) -> None:
        with self._lock:
            self.values.pop(domain, None)

    def probe(self) -> ProbeResult:
        return ProbeResult.ok("in-test counters")

    def counters(self) -> Sequence[CounterSpec]:
        return self._specs

    def read(self) -> Mapping[str, int | float]:
        with self._lock:
            self.reads += 1
            return dict(self.values)

    def max_power_w(self) -> float:
        return self._max_power_w
