"""Helpers for plugin authors' tests (public): time that moves only when the test says, a poll now.

The core judges every counter step against the time since the previous read (plausible
power, wraps, late polls), so a backend's fault tests need exact time::

    from greenai_core.testing import fake_clock, poll_now

    with fake_clock() as clock:
        meter = Meter([backend]).start()
        tree.advance(...)          # move the sensor's counters
        clock.advance(2.0)         # two seconds pass, exactly
        result = meter.stop()

Nothing here is used by greenai itself; it imports no test framework.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from greenai_core.energy import counters, selection
from greenai_core.energy.backend import EnergyBackend


class FakeClock:
    """A ``perf_counter`` stand-in: ``t`` seconds, moved by ``advance``."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        self.t += seconds
        return self.t


@contextmanager
def fake_clock(start: float = 1000.0) -> Iterator[FakeClock]:
    """Replace the meter's clock for the ``with`` block (windows started inside use it)."""
    clock = FakeClock(start)
    previous = counters._now
    counters._now = clock
    try:
        yield clock
    finally:
        counters._now = previous


def poll_now(backend: EnergyBackend) -> None:
    """Read ``backend``'s counters now, as the shared poller would between two window edges."""
    selection.tracker_for(backend).sample()


def forget_default_selection() -> None:
    """Make the next default ``Meter()`` probe the installed backends again (after a test changed them)."""
    selection.clear_cache()
