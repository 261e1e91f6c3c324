"""In-test counter backends: counters the test moves by hand, wrapping like hardware, failing on demand.

Faults are injected here, at the backend boundary, exactly as a plugin could produce them:
a ``read()`` that raises (any exception), answers a value out of range or not a number,
or omits a domain.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from greenai_core.energy import MEASURED, SCOPE_MACHINE, CounterSpec, EnergyBackend, ProbeResult

#: By default a fake has no plausible power limit: tests move it by large amounts in no time.
UNLIMITED_W = 1e15


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
        max_power_w: float = UNLIMITED_W,
        method: str = MEASURED,
        component: str = "cpu",
        components: Mapping[str, str] | None = None,
        scope: str = SCOPE_MACHINE,
        uncounted: Sequence[str] = (),
        lag_s: float = 0.0,
    ) -> None:
        self.name = name  # type: ignore[misc]
        self.method = method  # type: ignore[misc]
        comps = components or {}
        self._specs = [
            CounterSpec(d, joules_per_unit, wrap_range, joules_per_unit, update_period_s,
                        counted=d not in uncounted, component=comps.get(d, component), scope=scope, lag_s=lag_s)
            for d in domains
        ]
        self._wrap = wrap_range
        self._max_power_w = max_power_w
        self._lock = threading.Lock()
        self.values: dict[str, object] = dict.fromkeys(domains, 0)
        self.reads = 0
        #: When set, every read() raises it (the test clears it to let reads succeed again).
        self.fail_with: BaseException | None = None

    def advance(self, domain: str, units: int | float) -> None:
        with self._lock:
            value = self.values[domain] + units  # type: ignore[operator]
            self.values[domain] = value % self._wrap if self._wrap else value

    def set(self, domain: str, value: object) -> None:
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
            if self.fail_with is not None:
                raise self.fail_with
            return dict(self.values)  # type: ignore[arg-type]

    def max_power_w(self) -> float:
        return self._max_power_w


class Clock:
    """A clock for ``greenai_core.energy.counters._now``: time moves only when the test says."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class ConstantBackend(EnergyBackend):
    """A registrable backend whose one counter never moves: for registry and containment tests."""

    name = "constant"

    def probe(self) -> ProbeResult:
        return ProbeResult.ok()

    def counters(self) -> Sequence[CounterSpec]:
        return [CounterSpec("box", 1.0)]

    def read(self) -> Mapping[str, int]:
        return {"box": 42}
