"""Core support for sensors beyond plain counters: ``CounterSpec.poll_period_s``, ``doubts()``, ``meter_clock``."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

import pytest
from fake_backends import FakeCounterBackend

from greenai_core import Meter
from greenai_core.energy import CounterSpec
from greenai_core.energy.counters import CounterTracker, check_spec, meter_clock
from greenai_core.errors import SensorError
from greenai_core.sdk import meter_clock as sdk_meter_clock
from greenai_core.testing import fake_clock, poll_now


class Gauge(FakeCounterBackend):
    """A counter that asks to be polled although it cannot wrap (as an integrated power gauge does)."""

    def __init__(self, poll_period_s: float | None, wrap_range: int | None = None) -> None:
        super().__init__(["gpu-0"], component="gpu", wrap_range=wrap_range, max_power_w=100.0)
        self._specs = [CounterSpec("gpu-0", 1.0, wrap_range, 1.0, 0.05, component="gpu", poll_period_s=poll_period_s)]


def test_a_spec_asking_to_be_polled_is_polled_although_it_cannot_wrap() -> None:
    assert CounterTracker(Gauge(None)).poll_period_s() is None
    assert CounterTracker(Gauge(0.05)).poll_period_s() == 0.05
    assert CounterTracker(Gauge(0.05, wrap_range=10_000)).poll_period_s() == 0.05  # the wrap needs 12.5 s
    assert CounterTracker(Gauge(30.0, wrap_range=100)).poll_period_s() == 0.125  # the wrap needs more


def test_the_poller_reads_a_gauge_while_a_window_is_open() -> None:
    gauge = Gauge(0.002)
    give_up = time.monotonic() + 30  # the poller reads every 2 ms: this bound only stops a hang
    with Meter([gauge]):
        while gauge.reads < 4 and time.monotonic() < give_up:
            time.sleep(0.001)
    assert gauge.reads >= 5  # the start read, three polls, the stop read


@pytest.mark.parametrize("value", [0, -1.0, math.nan, math.inf, "0.1", True])
def test_a_bad_poll_period_is_refused(value: object) -> None:
    spec = CounterSpec("gpu-0", 1.0, poll_period_s=value)  # type: ignore[arg-type]
    with pytest.raises(SensorError, match=r"poll_period_s=.* \(must be None or finite and positive\)"):
        check_spec("gauge", spec)


class Doubtful(FakeCounterBackend):
    """A backend with doubts of its own about some reads."""

    def __init__(self) -> None:
        super().__init__(["gpu-0", "gpu-1"], component="gpu")
        self.pending: dict[object, object] = {}
        self.raises: Exception | None = None

    def doubts(self) -> Mapping[str, str]:
        if self.raises is not None:
            raise self.raises
        pending, self.pending = self.pending, {}
        return pending  # type: ignore[return-value]


def test_a_doubt_makes_that_domain_partial_with_the_backends_line() -> None:
    fake = Doubtful()
    with fake_clock() as clock:
        meter = Meter([fake]).start()
        fake.advance("gpu-0", 5)
        fake.advance("gpu-1", 3)
        fake.pending = {"gpu-0": "counter did not move\nwhile busy", "nope": "ignored", 3: "ignored"}
        clock.advance(1.0)
        poll_now(fake)
        fake.advance("gpu-0", 2)
        result = meter.stop()
    assert result.domains == {"gpu-0": 7, "gpu-1": 3}  # counted as read: the doubt only marks it
    assert result.partial_domains == ("gpu-0",)
    assert result.warnings == ("fake: gpu-0 counter did not move while busy; figure partial",)


def test_a_doubt_outside_any_window_reaches_none() -> None:
    fake = Doubtful()
    fake.pending = {"gpu-0": "old news"}
    poll_now(fake)
    with Meter([fake]) as meter:
        fake.advance("gpu-0", 1)
    assert meter.result is not None and meter.result.warnings == () and meter.result.partial_domains == ()


def test_doubts_that_raise_are_contained() -> None:
    fake = Doubtful()
    fake.raises = ValueError("bad\nplugin")
    with Meter([fake]) as meter:
        fake.advance("gpu-1", 4)
    assert meter.result is not None and meter.result.domains == {"gpu-0": 0, "gpu-1": 4}
    assert meter.result.warnings == ("fake: doubts() raised ValueError: bad plugin",)


def test_meter_clock_is_the_cores_clock_and_follows_fake_clock() -> None:
    assert sdk_meter_clock is meter_clock
    with fake_clock(start=50.0) as clock:
        assert meter_clock() == 50.0
        clock.advance(0.25)
        assert meter_clock() == 50.25
    assert meter_clock() != 50.25
