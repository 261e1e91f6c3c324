"""One shared background thread that reads wrapping counters and records power timelines.

Windows subscribe while they are open and unsubscribe at stop without waiting for a
tick: the poller never sits between a window and its result. It reads each tracker at
the shortest period any subscriber needs, and sleeps on a condition when nobody does.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from greenai_core.energy.counters import CounterTracker, Snapshot

SampleCallback = Callable[[Snapshot], None]


@dataclass
class _Subscription:
    tracker: CounterTracker
    period_s: float
    callback: SampleCallback | None
    next_due: float = field(default=0.0)


class Poller:
    """Reads subscribed trackers on time; starts its daemon thread on first subscription."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._subs: dict[int, _Subscription] = {}
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []

    def subscribe(self, tracker: CounterTracker, period_s: float, callback: SampleCallback | None = None) -> int:
        with self._cond:
            token = next(self._ids)
            self._subs[token] = _Subscription(tracker, period_s, callback, time.perf_counter() + period_s)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="greenai-poller", daemon=True)
                self._thread.start()
            self._cond.notify()
            return token

    def unsubscribe(self, token: int) -> None:
        with self._cond:
            self._subs.pop(token, None)
            self._cond.notify()

    @property
    def active(self) -> int:
        with self._cond:
            return len(self._subs)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._subs:
                    self._cond.wait()
                now = time.perf_counter()
                wait = min(s.next_due for s in self._subs.values()) - now
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                due = [s for s in self._subs.values() if s.next_due <= now]
                for sub in due:
                    sub.next_due = now + sub.period_s
            self._sample(due)

    def _sample(self, due: list[_Subscription]) -> None:
        # One read per tracker per tick, shared by all its due subscribers.
        snapshots: dict[int, Snapshot | None] = {}
        for sub in due:
            key = id(sub.tracker)
            if key not in snapshots:
                try:
                    snapshots[key] = sub.tracker.sample()
                except Exception as exc:  # a sensor error must not kill the shared thread
                    snapshots[key] = None
                    self.errors.append(f"{sub.tracker.backend.name}: {exc}")
            snap = snapshots[key]
            if snap is not None and sub.callback is not None:
                sub.callback(snap)


_POLLER: Poller | None = None
_POLLER_LOCK = threading.Lock()


def get_poller() -> Poller:
    global _POLLER
    if _POLLER is None:
        with _POLLER_LOCK:
            if _POLLER is None:
                _POLLER = Poller()
    return _POLLER
