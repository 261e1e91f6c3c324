"""A bounded, sequence-numbered log of what went wrong with one backend's counters.

Every read that finds a fault adds a line; a window takes the lines numbered between its
start and its stop, so a fault seen by the poller reaches every window open at the time.
Identical consecutive lines are merged (a sensor failing at every poll is one line, with a
count), and only the latest ``capacity`` lines are kept: a window that lost some says so.
Not thread-safe by itself: its tracker holds the lock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

DEFAULT_CAPACITY = 256


@dataclass
class _Event:
    first_seq: int
    last_seq: int
    count: int
    message: str


class EventLog:
    def __init__(self, prefix: str, capacity: int = DEFAULT_CAPACITY) -> None:
        self._prefix = prefix
        self._events: deque[_Event] = deque(maxlen=capacity)
        self.seq = 0
        self._dropped_through = 0  # the highest sequence number no longer kept

    def add(self, message: str) -> None:
        self.seq += 1
        if self._events and self._events[-1].message == message:
            last = self._events[-1]
            last.last_seq, last.count = self.seq, last.count + 1
            return
        if len(self._events) == self._events.maxlen:
            self._dropped_through = self._events[0].last_seq
        self._events.append(_Event(self.seq, self.seq, 1, message))

    def between(self, start_seq: int, stop_seq: int) -> list[str]:
        """The lines numbered in ``(start_seq, stop_seq]``, with a note when some were dropped."""
        if stop_seq <= start_seq:
            return []
        lines = []
        if self._dropped_through > start_seq:
            lines.append(f"{self._prefix}: some warnings of this window were dropped (only the latest "
                         f"{self._events.maxlen} are kept); its partial figures are still marked")
        for event in self._events:
            if event.last_seq <= start_seq or event.first_seq > stop_seq:
                continue
            lines.append(event.message if event.count == 1 else f"{event.message} (seen {event.count} times)")
        return lines
