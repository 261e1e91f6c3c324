"""Wrap-safe accumulation of one backend's counters, shared by every window on it.

One ``CounterTracker`` per backend instance keeps a monotonic total in joules per domain.
Each read (by a window edge or by the poller) adds the delta since the previous read, so
windows never subtract raw values and any number of nested or overlapping windows, from
any thread, stay right as long as the counter is read at least once per wrap period.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from greenai_core.energy.backend import CounterSpec, EnergyBackend
from greenai_core.errors import SensorError

#: A wrap is believed only if the energy it implies fits this multiple of the backend's
#: highest plausible power over the elapsed time; otherwise the counter went backwards.
_PLAUSIBLE_POWER_FACTOR = 4.0
#: Poll a wrapping counter at least this many times per shortest possible wrap period.
_POLLS_PER_WRAP = 4.0
MIN_POLL_PERIOD_S = 0.002
MAX_POLL_PERIOD_S = 60.0


@dataclass(frozen=True)
class Snapshot:
    """Accumulated joules per domain at one instant, plus the event-log position then."""

    time: float
    totals_j: Mapping[str, float]
    lost: frozenset[str]
    event_seq: int


class CounterTracker:
    """Accumulates one backend's counters into monotonic joules (thread-safe)."""

    def __init__(self, backend: EnergyBackend) -> None:
        self.backend = backend
        self.specs: dict[str, CounterSpec] = {c.domain: c for c in backend.counters()}
        if not self.specs:
            raise SensorError(f"energy backend {backend.name!r} reports no counters")
        self._lock = threading.Lock()
        self._totals: dict[str, float] = dict.fromkeys(self.specs, 0.0)
        self._last_raw: dict[str, float] = {}
        self._lost: set[str] = set()
        self._events: list[str] = []
        self._max_power_seen = 0.0
        self._hint_w = max(backend.max_power_w(), 1e-9)
        self._last_time = time.perf_counter()
        raw = self._read()
        for domain in self.specs:
            if domain in raw:
                self._last_raw[domain] = raw[domain]
            else:
                self._lost.add(domain)
                self._events.append(f"{backend.name}: domain {domain} could not be read")

    def _read(self) -> Mapping[str, int | float]:
        try:
            return self.backend.read()
        except OSError as exc:
            raise SensorError(f"energy backend {self.backend.name!r} could not be read: {exc}") from exc

    @property
    def wraps(self) -> bool:
        return any(s.wrap_range is not None for s in self.specs.values())

    def poll_period_s(self) -> float | None:
        """How often the poller must read so that no wrap is missed (None: no counter wraps)."""
        ranges = [s.wrap_range_j for s in self.specs.values() if s.wrap_range_j is not None]
        if not ranges:
            return None
        power = max(self._hint_w, 2.0 * self._max_power_seen)
        period = min(ranges) / power / _POLLS_PER_WRAP
        return min(max(period, MIN_POLL_PERIOD_S), MAX_POLL_PERIOD_S)

    def sample(self) -> Snapshot:
        """Read the counters now and return the accumulated totals."""
        with self._lock:
            raw = self._read()
            now = time.perf_counter()
            elapsed = max(now - self._last_time, 1e-6)
            for domain, spec in self.specs.items():
                self._accumulate(domain, spec, raw.get(domain), elapsed)
            self._last_time = now
            return Snapshot(now, dict(self._totals), frozenset(self._lost), len(self._events))

    def _accumulate(self, domain: str, spec: CounterSpec, value: int | float | None, elapsed: float) -> None:
        name = self.backend.name
        if value is None:
            if domain not in self._lost:
                self._lost.add(domain)
                self._events.append(f"{name}: domain {domain} vanished; its figure is partial")
            return
        if domain in self._lost or domain not in self._last_raw:
            # Back (or first seen): restart from here, energy in between is unknown.
            self._lost.discard(domain)
            self._last_raw[domain] = value
            return
        delta = value - self._last_raw[domain]
        if delta < 0:
            delta = self._backwards_delta(domain, spec, self._last_raw[domain], value, elapsed)
        joules = delta * spec.joules_per_unit
        self._totals[domain] += joules
        self._max_power_seen = max(self._max_power_seen, joules / elapsed)
        self._last_raw[domain] = value

    def _backwards_delta(
        self, domain: str, spec: CounterSpec, last: float, value: float, elapsed: float
    ) -> float:
        """A counter that decreased either wrapped once or went backwards (a glitch)."""
        name = self.backend.name
        if spec.wrap_range is not None:
            wrapped = spec.wrap_range - last + value
            implied_w = wrapped * spec.joules_per_unit / elapsed
            if implied_w <= _PLAUSIBLE_POWER_FACTOR * max(self._hint_w, self._max_power_seen):
                return wrapped
        self._events.append(
            f"{name}: counter {domain} went backwards ({last:g} -> {value:g}); "
            "the energy between those reads is missing, the figure is partial"
        )
        return 0.0

    def events_between(self, start_seq: int, stop_seq: int) -> list[str]:
        with self._lock:
            return list(self._events[start_seq:stop_seq])
