"""The meter: one engine behind ``Meter``, ``measure()``, ``@measured`` and ``measure_call``.

Counters are read at ``start`` and at ``stop`` in the caller's thread, so ``stop`` returns
as soon as the last read is done; the shared poller only keeps wrapping counters honest
(and records timelines) while windows are open. Windows nest and overlap freely.

Work queued on a device (CUDA kernels) runs after the call that queued it returns: a
``sync`` callable (``torch.cuda.synchronize``, ``Model.sync``) is called right before the
start read and right before the stop read, so the window holds exactly the work inside it.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from greenai_core.energy import counters
from greenai_core.energy.backend import EnergyBackend
from greenai_core.energy.compose import assign_keys, build, open_edge, timeline_point
from greenai_core.energy.counters import CounterTracker, Snapshot
from greenai_core.energy.measurement import Measurement, TimelinePoint
from greenai_core.energy.poller import get_poller
from greenai_core.energy.selection import BackendSpec, resolve, tracker_for
from greenai_core.errors import UsageError, one_line

P = ParamSpec("P")
R = TypeVar("R")


class Meter:
    """Measures the energy between ``start()`` and ``stop()``; also a context manager.

    The backends are chosen once, at the first ``start()``, and kept for every later
    window of this meter. A backend that fails (raises in ``read()``, loses a domain,
    answers nonsense) never makes ``start()`` or ``stop()`` raise: its figures are marked
    partial or unreadable in the result, with warnings, and the other backends still count.

    >>> with Meter() as meter:          # doctest: +SKIP
    ...     work()
    >>> meter.result.energy_j            # doctest: +SKIP

    ``sync``: called (no arguments) right before the start read and right before the stop
    read, to wait for work queued on a device; if it raises, the window is still measured
    and the result carries a warning saying which edge may be off.
    """

    def __init__(
        self,
        backends: BackendSpec = None,
        *,
        timeline: bool = False,
        timeline_period_s: float = 0.1,
        sync: Callable[[], object] | None = None,
    ):
        if not timeline_period_s > 0 or timeline_period_s == float("inf"):
            raise UsageError("timeline_period_s must be a positive number of seconds")
        if sync is not None and not callable(sync):
            raise UsageError(f"sync must be a callable taking no arguments (or None), not {type(sync).__name__}")
        self._sync = sync
        self._sync_warnings: list[str] = []
        self._spec = backends
        self._timeline = timeline
        self._timeline_period_s = timeline_period_s
        self._lock = threading.Lock()
        self._running = False
        self._chosen: tuple[list[EnergyBackend], list[str]] | None = None
        self.result: Measurement | None = None

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> Meter:
        with self._lock:
            if self._running:
                raise UsageError("this meter is already running; use another Meter for a nested window")
            if self._chosen is None:
                self._chosen = resolve(self._spec)
            backends = self._chosen[0]
            edges = [open_edge(b, tracker_for) for b in backends]
            assign_keys(edges)
            self._edges = edges
            self._points: list[TimelinePoint] = []
            self._started_at = datetime.now(timezone.utc).isoformat()
            self._sync_warnings = self._synced("start", "device work queued before the window may be counted in it")
            self._t0 = counters._now()
            for edge in edges:
                if edge.tracker is not None:
                    edge.start = edge.tracker.start_window()
            self._tokens = self._subscribe()
            # A meter dropped while running must not leave the poller reading (and its timeline
            # growing) for ever: when it is collected, its window leaves the poller and its trackers.
            opened = [e.tracker for e in edges if e.tracker is not None and e.start is not None]
            self._abandon = weakref.finalize(self, _abandon, self._tokens, opened)
            self._running = True
            self.result = None
        return self

    def _subscribe(self) -> list[int]:
        poller = get_poller()
        tokens = []
        self._last_seen: dict[int, Snapshot] = {}
        for i, edge in enumerate(self._edges):
            if edge.tracker is None or edge.start is None:
                continue
            period = edge.tracker.poll_period_s()
            if self._timeline:
                self._last_seen[i] = edge.start  # the first point covers start -> first poll
                period = min(period or self._timeline_period_s, self._timeline_period_s)
                tokens.append(poller.subscribe(edge.tracker, period, self._timeline_recorder(i)))
            elif period is not None:
                tokens.append(poller.subscribe(edge.tracker, period))
        return tokens

    def _timeline_recorder(self, index: int) -> Callable[[Snapshot], None]:
        edge = self._edges[index]
        points, last_seen, t0 = self._points, self._last_seen, self._t0

        def record(snap: Snapshot) -> None:
            before = last_seen.get(index)
            if before is None or snap.time <= before.time:
                return
            last_seen[index] = snap
            point = timeline_point(edge, before, snap, t0)
            if point is not None:
                points.append(point)

        return record

    def stop(self) -> Measurement:
        with self._lock:
            if not self._running:
                raise UsageError("this meter was not started")
            try:
                self._sync_warnings += self._synced("stop", "device work queued in the window may be missing "
                                                    "from it")
                stops = [e.tracker.stop_window() if e.tracker is not None and e.start is not None else None
                         for e in self._edges]
            finally:  # the window always leaves the poller
                self._abandon.detach()
                poller = get_poller()
                for token in self._tokens:
                    poller.unsubscribe(token)
                self._running = False
            t1 = counters._now()
            if self._timeline:  # the last point covers the last poll -> stop
                for i, snap in enumerate(stops):
                    before = self._last_seen.get(i)
                    if snap is not None and before is not None:
                        point = timeline_point(self._edges[i], before, snap, self._t0)
                        if point is not None:
                            self._points.append(point)
                self._last_seen = {}
            starts = [e.start.time for e in self._edges if e.start is not None]
            ends = [s.time for s in stops if s is not None]
            duration = (max(ends) - min(starts)) if starts and ends else t1 - self._t0
            assert self._chosen is not None
            self.result = build(self._edges, stops, self._chosen[1] + self._sync_warnings,
                                started_at=self._started_at,
                                duration_s=duration, timeline=list(self._points))
            return self.result

    def _synced(self, edge: str, risk: str) -> list[str]:
        """Call ``sync`` before one edge's read; a fault there is a warning, never a lost window."""
        if self._sync is None:
            return []
        try:
            self._sync()
        except Exception as exc:
            return [f"sync at the window's {edge} raised {type(exc).__name__}: {one_line(exc)}; {risk}"]
        return []

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


def _abandon(tokens: list[int], trackers: list[CounterTracker]) -> None:
    """The end of a window whose meter was collected while running (it references no meter)."""
    poller = get_poller()
    for token in tokens:
        poller.unsubscribe(token)
    for tracker in trackers:
        tracker.abandon_window()


def measure(backends: BackendSpec = None, **options: Any) -> Meter:
    """``with measure() as m: ...`` then ``m.result``; options as ``Meter``'s (``timeline``, ``sync``...)."""
    return Meter(backends, **options)


def measure_call(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> tuple[R, Measurement]:
    """Call ``func(*args, **kwargs)`` under the default backends: ``(its result, Measurement)``.

    For other backends or a device sync use ``Meter(backends, sync=...).call(func, ...)``: every
    keyword here goes to ``func`` (a keyword-only ``sync`` would take one of ``func``'s own).
    """
    return Meter().call(func, *args, **kwargs)


def measured(
    backends: BackendSpec | Callable[..., Any] = None,
    *,
    on_result: Callable[[Measurement], None] | None = None,
    **options: Any,
) -> Any:
    """Decorator: each call is measured; the latest ``Measurement`` is ``func.last_measurement``.

    Usable bare (``@measured``) or with arguments (``@measured(["rapl"], on_result=log)``);
    other options go to each call's ``Meter`` (``@measured(sync=torch.cuda.synchronize)``).
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
