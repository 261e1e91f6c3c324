"""One shared background thread that reads wrapping counters and records power timelines.

Windows subscribe while they are open and unsubscribe at stop without waiting for a
tick: the poller never sits between a window and its result. Subscriptions are grouped
by tracker: one read per tracker per tick, at the shortest period any of its windows
needs, so a thousand open windows on one backend cost one schedule entry. It sleeps on a
condition when nobody needs it and is woken only when a read falls due earlier.

A failed read never kills the thread: the tracker records it (every open window on that
backend gets the warning), and a poll that comes late is caught by the tracker itself.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from greenai_core.energy.counters import CounterTracker, Snapshot
from greenai_core.errors import one_line

SampleCallback = Callable[[Snapshot], None]
#: How many unexpected poller errors are kept for inspection (the windows get theirs as warnings).
ERRORS_KEPT = 64


@dataclass
class _Entry:
    tracker: CounterTracker
    period_s: float
    next_due: float
    periods: dict[float, int] = field(default_factory=dict)  # period -> subscriptions asking for it
    callbacks: dict[int, SampleCallback] = field(default_factory=dict)


class Poller:
    """Reads subscribed trackers on time; starts its daemon thread on first subscription."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._entries: dict[int, _Entry] = {}  # id(tracker) -> its schedule
        self._tokens: dict[int, tuple[int, float]] = {}  # token -> (id(tracker), period)
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self.errors: deque[str] = deque(maxlen=ERRORS_KEPT)

    def subscribe(self, tracker: CounterTracker, period_s: float, callback: SampleCallback | None = None) -> int:
        now = time.perf_counter()
        with self._cond:
            token = next(self._ids)
            key = id(tracker)
            entry = self._entries.get(key)
            wake = entry is None
            if entry is None:
                entry = self._entries[key] = _Entry(tracker, period_s, now + period_s)
            elif period_s < entry.period_s:
                entry.period_s = period_s
                if now + period_s < entry.next_due:
                    entry.next_due, wake = now + period_s, True
            entry.periods[period_s] = entry.periods.get(period_s, 0) + 1
            if callback is not None:
                entry.callbacks[token] = callback
            self._tokens[token] = (key, period_s)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="greenai-poller", daemon=True)
                self._thread.start()
            if wake:
                self._cond.notify()
            return token

    def unsubscribe(self, token: int) -> None:
        with self._cond:
            found = self._tokens.pop(token, None)
            if found is None:
                return
            key, period = found
            entry = self._entries[key]
            entry.callbacks.pop(token, None)
            left = entry.periods[period] - 1
            if left:
                entry.periods[period] = left
            else:
                del entry.periods[period]
            if entry.periods:
                entry.period_s = min(entry.periods)
            else:
                del self._entries[key]

    @property
    def active(self) -> int:
        """Open subscriptions (windows that need polling)."""
        with self._cond:
            return len(self._tokens)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._entries:
                    self._cond.wait()
                now = time.perf_counter()
                wait = min(e.next_due for e in self._entries.values()) - now
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                due = [e for e in self._entries.values() if e.next_due <= now]
                work = []
                for entry in due:
                    entry.next_due = now + entry.period_s
                    work.append((entry.tracker, list(entry.callbacks.values())))
            for tracker, callbacks in work:
                self._sample(tracker, callbacks)

    def _sample(self, tracker: CounterTracker, callbacks: list[SampleCallback]) -> None:
        try:
            snap = tracker.sample()
        except Exception as exc:  # sample() contains read faults; anything else must not kill the thread
            what = f"the poller's read failed: {type(exc).__name__}: {one_line(exc)}"
            self.errors.append(f"{tracker.name}: {what}")
            tracker.record_failure(what)
            return
        for callback in callbacks:
            try:
                callback(snap)
            except Exception as exc:
                self.errors.append(f"{tracker.name}: timeline callback failed: {type(exc).__name__}: {one_line(exc)}")


_POLLER: Poller | None = None
_POLLER_LOCK = threading.Lock()


def get_poller() -> Poller:
    global _POLLER
    if _POLLER is None:
        with _POLLER_LOCK:
            if _POLLER is None:
                _POLLER = Poller()
    return _POLLER
