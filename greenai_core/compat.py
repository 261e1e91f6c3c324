"""The original greenAI API as a thin layer over greenai_core.

The original README's profiler example runs with only its import and class name changed::

    from greenai_core.compat import EnergyProfiler
    profiler = EnergyProfiler(delay_between_measures)
    total_time, energy_consumed, result = profiler.evaluate(fib, n, show_every_step=True)
    print(..., energy_consumed, profiler.get_unit())

Unlike the original, stopping never waits for a sampling tick: counters are read at the
edges. ``delay_between_measures``, when given, only sets the period of the power timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from greenai_core.energy.backend import EnergyBackend
from greenai_core.energy.measurement import Measurement
from greenai_core.energy.meter import Meter
from greenai_core.errors import UsageError


class EnergyProfiler:
    """Energy of a function call or of a start/stop span, in joules."""

    def __init__(
        self,
        delay_between_measures: float | None = None,
        backends: Sequence[str | EnergyBackend] | str | None = None,
    ) -> None:
        if delay_between_measures is not None and delay_between_measures <= 0:
            raise UsageError("delay_between_measures must be a positive number of seconds")
        self.delay_between_measures = delay_between_measures
        self.backends = backends
        self.last_measurement: Measurement | None = None
        self._meter: Meter | None = None

    def _new_meter(self) -> Meter:
        if self.delay_between_measures is None:
            return Meter(self.backends)
        return Meter(self.backends, timeline=True, timeline_period_s=self.delay_between_measures)

    def evaluate(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, float, Any]:
        """Run ``func(*args, **kwargs)``: ``(total_time_s, energy_j, result)``."""
        result, measurement = self._new_meter().call(func, *args, **kwargs)
        self.last_measurement = measurement
        return measurement.duration_s, measurement.energy_j, result

    def get_unit(self) -> str:
        return "J"

    def start(self) -> None:
        if self._meter is not None:
            raise UsageError("this profiler is already measuring; call stop() first")
        self._meter = self._new_meter().start()

    def stop(self) -> float:
        """Stop measuring; returns the energy in joules (details in ``last_measurement``)."""
        if self._meter is None:
            raise UsageError("this profiler was not started")
        meter, self._meter = self._meter, None
        self.last_measurement = meter.stop()
        return self.last_measurement.energy_j

    def get_energy(self) -> float:
        if self.last_measurement is None:
            raise UsageError("nothing measured yet")
        return self.last_measurement.energy_j

    def __enter__(self) -> EnergyProfiler:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
