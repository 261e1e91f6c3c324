"""The meter: one engine behind ``Meter``, ``measure()``, ``@measured`` and ``measure_call``.

Counters are read at ``start`` and at ``stop`` in the caller's thread, so ``stop`` returns
as soon as the last read is done; the shared poller only keeps wrapping counters honest
(and records timelines) while windows are open. Windows nest and overlap freely.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from greenai_core.energy.backend import ESTIMATED, MEASURED, MIXED, EnergyBackend
from greenai_core.energy.counters import CounterTracker, Snapshot
from greenai_core.energy.measurement import BackendReport, Measurement, TimelinePoint
from greenai_core.energy.poller import get_poller
from greenai_core.energy.selection import BackendSpec, resolve, tracker_for
from greenai_core.errors import UsageError

P = ParamSpec("P")
R = TypeVar("R")

#: A window shorter than this many sensor update periods gets a "coarse" warning.
SHORT_WINDOW_PERIODS = 3


class Meter:
    """Measures the energy between ``start()`` and ``stop()``; also a context manager.

    >>> with Meter() as meter:          # doctest: +SKIP
    ...     work()
    >>> meter.result.energy_j            # doctest: +SKIP
    """

    def __init__(self, backends: BackendSpec = None, *, timeline: bool = False, timeline_period_s: float = 0.1):
        if timeline_period_s <= 0:
            raise UsageError("timeline_period_s must be positive")
        self._spec = backends
        self._timeline = timeline
        self._timeline_period_s = timeline_period_s
        self._lock = threading.Lock()
        self._running = False
        self.result: Measurement | None = None

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> Meter:
        with self._lock:
            if self._running:
                raise UsageError("this meter is already running; use another Meter for a nested window")
            backends, warnings = resolve(self._spec)
            self._backends = backends
            self._warnings = warnings
            self._trackers = [tracker_for(b) for b in backends]
            self._points: list[TimelinePoint] = []
            self._started_at = datetime.now(timezone.utc).isoformat()
            self._starts = [t.sample() for t in self._trackers]
            self._tokens = self._subscribe()
            self._running = True
            self.result = None
        return self

    def _subscribe(self) -> list[int]:
        poller = get_poller()
        tokens = []
        for tracker in self._trackers:
            period = tracker.poll_period_s()
            if self._timeline:
                period = min(period or self._timeline_period_s, self._timeline_period_s)
                tokens.append(poller.subscribe(tracker, period, self._timeline_recorder(tracker)))
            elif period is not None:
                tokens.append(poller.subscribe(tracker, period))
        return tokens

    def _timeline_recorder(self, tracker: CounterTracker) -> Callable[[Snapshot], None]:
        previous: list[Snapshot] = []
        t0 = time.perf_counter()

        def record(snap: Snapshot) -> None:
            before = previous[0] if previous else None
            previous[:] = [snap]
            if before is None or snap.time <= before.time:
                return
            dt = snap.time - before.time
            watts = {d: (snap.totals_j[d] - before.totals_j[d]) / dt for d in snap.totals_j}
            self._points.append(TimelinePoint(snap.time - t0, watts))

        return record

    def stop(self) -> Measurement:
        with self._lock:
            if not self._running:
                raise UsageError("this meter was not started")
            try:
                stops = [t.sample() for t in self._trackers]
            finally:  # even if a sensor fails now, the window must leave the poller
                poller = get_poller()
                for token in self._tokens:
                    poller.unsubscribe(token)
                self._running = False
            self.result = self._build(stops)
            return self.result

    def _build(self, stops: list[Snapshot]) -> Measurement:
        duration = max(s.time for s in stops) - min(s.time for s in self._starts)
        warnings = list(self._warnings)
        measured_components = {
            spec.component
            for b, t in zip(self._backends, self._trackers, strict=True)
            if b.method == MEASURED
            for spec in t.specs.values()
            if spec.counted
        }
        domains: dict[str, float] = {}
        counted: list[str] = []
        methods: set[str] = set()
        resolution = 0.0
        reports = []
        for backend, tracker, s0, s1 in zip(self._backends, self._trackers, self._starts, stops, strict=True):
            warnings += backend.warnings()
            warnings += tracker.events_between(s0.event_seq, s1.event_seq)
            warnings += [f"{backend.name}: domain {d} was unreadable for this window" for d in sorted(s0.lost)]
            names, own_counted, own_resolution, period = [], [], 0.0, 0.0
            for domain, spec in tracker.specs.items():
                key = domain if domain not in domains else f"{backend.name}:{domain}"
                domains[key] = s1.totals_j[domain] - s0.totals_j[domain]
                names.append(key)
                period = max(period, spec.update_period_s)
                if not spec.counted:
                    continue
                if backend.method == ESTIMATED and spec.component in measured_components:
                    warnings.append(
                        f"{backend.name}: {key} is not added to the total ({spec.component} is measured by a sensor)"
                    )
                    continue
                own_counted.append(key)
                own_resolution += spec.resolution_j
                methods.add(backend.method)
            if period and duration < SHORT_WINDOW_PERIODS * period:
                warnings.append(
                    f"{backend.name}: the window ({duration * 1e3:.3g} ms) is shorter than {SHORT_WINDOW_PERIODS} "
                    f"sensor update periods ({period * 1e3:.3g} ms each); the figure is coarse"
                )
            counted += own_counted
            resolution += own_resolution
            reports.append(BackendReport(
                name=backend.name, version=backend.version, method=backend.method,
                total_rule=backend.total_rule, domains=tuple(names), counted_domains=tuple(own_counted),
                resolution_j=own_resolution, update_period_s=period, assumptions=backend.assumptions(),
            ))
        return Measurement(
            energy_j=sum(domains[k] for k in counted),
            duration_s=duration,
            domains=domains,
            method=methods.pop() if len(methods) == 1 else MIXED if methods else ESTIMATED,
            backends=tuple(reports),
            resolution_j=resolution,
            warnings=tuple(warnings),
            counted_domains=tuple(counted),
            started_at=self._started_at,
            timeline=tuple(self._points),
        )

    def call(self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> tuple[R, Measurement]:
        """Run ``func`` inside this meter's window: ``(func's result, Measurement)``."""
        self.start()
        try:
            result = func(*args, **kwargs)
        finally:
            measurement = self.stop()
        return result, measurement

    def __enter__(self) -> Meter:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def measure(backends: BackendSpec = None, **options: Any) -> Meter:
    """``with measure() as m: ...`` then ``m.result``."""
    return Meter(backends, **options)


def measure_call(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> tuple[R, Measurement]:
    """Call ``func(*args, **kwargs)`` under the default backends: ``(its result, Measurement)``.

    For other backends use ``Meter(backends).call(func, ...)``.
    """
    return Meter().call(func, *args, **kwargs)


def measured(
    backends: BackendSpec | Callable[..., Any] = None,
    *,
    on_result: Callable[[Measurement], None] | None = None,
    **options: Any,
) -> Any:
    """Decorator: each call is measured; the latest ``Measurement`` is ``func.last_measurement``.

    Usable bare (``@measured``) or with arguments (``@measured(["rapl"], on_result=log)``).
    """
    if callable(backends) and not isinstance(backends, (str, EnergyBackend)):
        return measured()(backends)

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            result, measurement = Meter(backends, **options).call(func, *args, **kwargs)
            wrapper.last_measurement = measurement  # type: ignore[attr-defined]
            if on_result is not None:
                on_result(measurement)
            return result

        wrapper.last_measurement = None  # type: ignore[attr-defined]
        return wrapper

    return decorate
