"""Faults injected at the backend boundary: every case gives an exact figure or a warning, never a wrong one.

Most cases run on a fake clock (``counters._now``), so time between reads, and with it what
is plausible, is exact; the poller cases use the real one.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Mapping, Sequence

import pytest
from fake_backends import Clock, FakeCounterBackend

from greenai_core import Meter
from greenai_core.energy import CounterSpec, EnergyBackend, Measurement, counters
from greenai_core.energy.poller import ERRORS_KEPT, Poller
from greenai_core.energy.selection import tracker_for


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(counters, "_now", fake)
    yield fake


def read_now(backend: EnergyBackend) -> None:
    """One read between the window edges, as the poller or another window's edge would make."""
    tracker_for(backend).sample()


def sane(m: Measurement) -> Measurement:
    """Never negative, NaN or infinite, anywhere; and the JSON is strict and round-trips."""
    for value in [m.energy_j, m.duration_s, m.power_w, m.resolution_j, *m.domains.values()]:
        assert math.isfinite(value) and value >= 0, m
    for point in m.timeline:
        assert all(math.isfinite(w) and w >= 0 for w in point.watts.values())
    assert Measurement.from_dict(json.loads(m.to_json())) == m
    assert set(m.unreadable_domains) <= set(m.partial_domains)
    assert not set(m.unreadable_domains) & set(m.counted_domains)
    return m


def counter(**kw: object) -> FakeCounterBackend:
    """A 1000 J counter (1 J units) that can plausibly draw 10 W: it can wrap every 100 s."""
    options: dict[str, object] = {"wrap_range": 1000, "max_power_w": 10.0, **kw}
    return FakeCounterBackend(["package-0"], **options)  # type: ignore[arg-type]


def window(fake: FakeCounterBackend, clock: Clock, steps: Sequence[tuple[float, object]]) -> Measurement:
    """A window over ``steps``: (seconds later, counter value) each, read one by one."""
    meter = Meter([fake]).start()
    for i, (seconds, value) in enumerate(steps):
        clock.t += seconds
        fake.set("package-0", value)
        if i < len(steps) - 1:
            read_now(fake)
    return sane(meter.stop())


def test_a_wrap_at_plausible_power_is_counted_exactly(clock: Clock) -> None:
    fake = counter()
    fake.set("package-0", 950)
    m = window(fake, clock, [(10.0, 50)])  # 100 J in 10 s: 10 W, within the plausible 10 W
    assert m.energy_j == 100.0 and m.warnings == () and not m.partial


def test_wrap_or_reset_ambiguous_says_so_and_counts_only_what_is_vouched(clock: Clock) -> None:
    fake = counter()
    fake.set("package-0", 950)
    m = window(fake, clock, [(4.0, 50), (1.0, 60)])  # a wrap would be 25 W: above 10 W, under 4 x 10 W
    assert m.energy_j == 10.0 and m.partial_domains == ("package-0",)
    assert any("package-0 went backwards (950 -> 50): a wrap (100 J in 4 s, above the usual 10 W) or a reset, "
               "cannot tell which; that step is not counted (100 J missing if it was a wrap, an unknown amount if a "
               "reset), figure partial" in w for w in m.warnings)


def test_a_step_back_too_fast_for_a_wrap_is_a_reset(clock: Clock) -> None:
    fake = counter()
    fake.set("package-0", 950)
    m = window(fake, clock, [(1.0, 900), (1.0, 907)])  # wrapping would be 950 J in 1 s
    assert m.energy_j == 7.0 and m.partial_domains == ("package-0",)
    assert any("package-0 went backwards (950 -> 900): not a wrap" in w and "so a reset" in w for w in m.warnings)
    never_wraps = FakeCounterBackend(["package-0"], max_power_w=10.0, name="plain")
    never_wraps.set("package-0", 500)
    m = window(never_wraps, clock, [(60.0, 400), (1.0, 403)])
    assert m.energy_j == 3.0 and any("(500 -> 400) and cannot wrap: a reset" in w for w in m.warnings)


def test_a_forward_jump_beyond_plausible_power_is_not_counted(clock: Clock) -> None:
    fake = counter()
    m = window(fake, clock, [(1.0, 5), (1.0, 605), (1.0, 611)])  # 600 J in 1 s: 600 W, over 40 W
    assert m.energy_j == 11.0 and m.partial_domains == ("package-0",)
    assert any("package-0 jumped forward 600 J in 1 s" in w and "not counted" in w for w in m.warnings)


def test_a_counter_that_lags_may_step_by_its_lag_without_being_called_a_jump(clock: Clock) -> None:
    # 10 W plausible; 30 J in 0.01 s is a jump (ceiling 4 x (10 W x 0.01 s + 1 J) = 4.4 J) unless the
    # counter can lag 1 s behind (ceiling 4 x (10 W x 1.01 s + 1 J) = 44.4 J): counted, no warning.
    def at_100(**kw: object) -> FakeCounterBackend:
        fake = counter(**kw)
        fake.set("package-0", 100)
        return fake

    steps = [(1.0, 105), (0.01, 135), (1.0, 140)]
    eager = window(at_100(), clock, steps)
    assert eager.energy_j == 10.0 and any("jumped forward 30 J in 0.01 s" in w for w in eager.warnings)
    lagging = window(at_100(lag_s=1.0), clock, steps)
    assert lagging.energy_j == 40.0 and lagging.warnings == () and not lagging.partial
    beyond = window(at_100(lag_s=1.0), clock, [(1.0, 105), (0.01, 155), (1.0, 160)])  # 50 J: still a jump
    assert beyond.energy_j == 10.0 and beyond.partial


def test_the_estimate_allows_a_scheduler_tick_of_lag() -> None:
    from greenai_core.energy.estimate import ACCOUNTING_LAG_S, EstimateBackend

    (spec,) = EstimateBackend().counters()
    assert spec.lag_s == ACCOUNTING_LAG_S == 0.01 and spec.update_period_s == 0.0


@pytest.mark.parametrize("lag", [-1.0, float("nan"), "1"])
def test_a_bad_lag_is_refused_naming_the_backend(lag: object) -> None:
    with pytest.raises(Exception, match=r"energy backend 'fake': counter 'package-0' has lag_s="):
        tracker_for(counter(lag_s=lag))


@pytest.mark.parametrize("garbage", [1001, -5, float("nan"), float("inf"), "12", None, True])
def test_a_reading_out_of_range_or_not_a_number_breaks_the_chain(clock: Clock, garbage: object) -> None:
    fake = counter()
    m = window(fake, clock, [(1.0, 4), (1.0, garbage), (1.0, 20), (1.0, 29)])
    # 4 J vouched before the bad reading, 9 J after the chain restarted at 20; 4 -> 20 is unknown.
    assert m.energy_j == 13.0 and m.partial_domains == ("package-0",) and m.unreadable_domains == ()
    assert any(f"package-0 read {garbage!r}, not a number in [0, 1000]" in w for w in m.warnings)


@pytest.mark.parametrize("garbage", [-5, -1e-9, float("nan"), float("inf"), "12", None])
def test_a_reading_outside_zero_to_infinity_breaks_the_chain_of_a_counter_that_never_wraps(
    clock: Clock, garbage: object
) -> None:
    plain = FakeCounterBackend(["package-0"], max_power_w=10.0, name="plain")  # wrap_range None
    m = window(plain, clock, [(1.0, 4), (1.0, garbage), (1.0, 20), (1.0, 29)])
    assert m.energy_j == 13.0 and m.partial_domains == ("package-0",) and m.unreadable_domains == ()
    assert any(f"plain: package-0 read {garbage!r}, not a number in [0, inf); the energy until the next good "
               "reading is missing, figure partial" in w for w in m.warnings)


class HostileMapping(Mapping[str, float]):
    """What a plugin's read() might return: a mapping that fails when looked into."""

    def __getitem__(self, key: str) -> float:
        raise RuntimeError("lazy sensor value failed")

    def __iter__(self) -> Iterator[str]:
        return iter(["package-0"])

    def __len__(self) -> int:
        return 1


def test_a_mapping_that_raises_when_read_is_a_failed_read_not_a_crash(clock: Clock) -> None:
    fake = counter()
    other = counter(name="other")
    meter = Meter([fake, other]).start()
    fake.read = lambda: HostileMapping()  # type: ignore[assignment,method-assign,return-value]
    clock.t += 1
    other.set("package-0", 6)
    m = sane(meter.stop())  # no exception
    assert m.domains == {"fake:package-0": 0.0, "other:package-0": 6.0} and m.energy_j == 6.0
    assert any("fake: read() raised RuntimeError: lazy sensor value failed; package-0 unreadable" in w
               for w in m.warnings)


class Flaky(FakeCounterBackend):
    """A fake whose read() fails in a way no OSError handler would catch."""


@pytest.mark.parametrize("error", [RuntimeError("bus error"), ZeroDivisionError("division by zero"), KeyError("x")])
def test_a_read_raising_anything_at_start_makes_the_domain_unreadable_not_the_window(
    clock: Clock, error: Exception
) -> None:
    flaky = Flaky(["package-0"], name="flaky")
    other = FakeCounterBackend(["dram-0"], name="other", component="dram")
    flaky.fail_with = error
    meter = Meter([other, flaky]).start()  # no exception
    flaky.fail_with = None
    clock.t += 1
    flaky.advance("package-0", 7)
    other.advance("dram-0", 5)
    m = sane(meter.stop())
    assert m.domains == {"package-0": 0.0, "dram-0": 5.0} and m.energy_j == 5.0
    assert m.unreadable_domains == ("package-0",) and m.counted_domains == ("dram-0",)
    assert any(f"flaky: package-0 could not be read during this window (read() raised {type(error).__name__}" in w
               for w in m.warnings)


def test_a_read_failing_at_start_then_recovering_gives_what_was_read_after(clock: Clock) -> None:
    fake = counter()
    fake.fail_with = RuntimeError("bus error")
    meter = Meter([fake]).start()
    fake.fail_with = None
    fake.set("package-0", 100)
    clock.t += 1
    read_now(fake)  # the chain restarts here
    clock.t += 1
    fake.set("package-0", 105)
    m = sane(meter.stop())
    assert m.energy_j == 5.0 and m.partial_domains == ("package-0",) and m.unreadable_domains == ()
    assert any("package-0 was not readable at the start of this window (read() raised RuntimeError: bus error)" in w
               for w in m.warnings)


def test_a_read_failing_at_stop_keeps_what_was_vouched_for(clock: Clock) -> None:
    fake = counter()
    meter = Meter([fake]).start()
    clock.t += 1
    fake.set("package-0", 3)
    read_now(fake)
    fake.set("package-0", 9)
    fake.fail_with = RuntimeError("unplugged")
    m = sane(meter.stop())
    assert m.energy_j == 3.0 and m.partial_domains == ("package-0",) and m.counted_domains == ("package-0",)
    assert any("fake: read() raised RuntimeError: unplugged; package-0 unreadable until the next good read" in w
               for w in m.warnings)


def test_a_read_that_answers_no_mapping_is_a_failed_read(clock: Clock) -> None:
    fake = counter()
    meter = Meter([fake]).start()
    fake.read = lambda: None  # type: ignore[assignment,method-assign,return-value]
    m = sane(meter.stop())
    assert m.unreadable_domains == ("package-0",)
    assert any("read() raised TypeError: read() returned NoneType, not a mapping" in w for w in m.warnings)


def test_a_late_read_past_a_possible_wrap_warns_every_open_window(clock: Clock) -> None:
    """A starved poller: 150 s between reads of a counter that can wrap every 100 s."""
    fake = counter()
    outer = Meter([fake]).start()
    inner = Meter([fake]).start()
    clock.t += 150
    fake.set("package-0", 40)
    read_now(fake)  # the late read (by the poller, say): both windows were open
    clock.t += 1
    fake.set("package-0", 45)
    m_inner, m_outer = sane(inner.stop()), sane(outer.stop())
    for m in (m_inner, m_outer):
        assert m.energy_j == 45.0 and m.partial_domains == ("package-0",)  # what can be vouched for
        assert any("package-0 read 150 s after the previous read, but it can wrap every 100 s at its plausible 10 W"
                   in w and "whole wraps may be missing" in w for w in m.warnings)
    after = Meter([fake]).start()
    clock.t += 1
    fake.set("package-0", 46)
    assert sane(after.stop()).warnings == ()  # a later window is not blamed


def test_a_counter_wrapping_faster_than_the_poller_can_read_is_flagged() -> None:
    """1 mJ range at up to 1 kW: it can wrap every microsecond, so no read can be sure."""
    fake = FakeCounterBackend(["package-0"], wrap_range=1000, joules_per_unit=1e-6, max_power_w=1000.0)
    meter = Meter([fake]).start()
    time.sleep(0.02)
    m = sane(meter.stop())
    assert m.partial_domains == ("package-0",) and any("whole wraps may be missing" in w for w in m.warnings)


def test_poller_read_failures_reach_every_open_window_of_that_backend() -> None:
    fake = FakeCounterBackend(["package-0"], wrap_range=10**6, joules_per_unit=1e-6, max_power_w=50.0)
    other = FakeCounterBackend(["gpu-0"], name="other", component="gpu")
    first, second, bystander = Meter([fake]).start(), Meter([fake]).start(), Meter([other]).start()
    fake.fail_with = RuntimeError("i2c timeout")
    reads = fake.reads
    deadline = time.monotonic() + 10
    while fake.reads < reads + 2 and time.monotonic() < deadline:  # the poller reads every 2.5 ms
        time.sleep(0.005)
    assert fake.reads >= reads + 2
    fake.fail_with = None
    results = [sane(first.stop()), sane(second.stop()), sane(bystander.stop())]
    for m in results[:2]:
        assert m.partial_domains == ("package-0",)
        assert any("fake: read() raised RuntimeError: i2c timeout" in w for w in m.warnings)
    assert results[2].warnings == () and not results[2].partial


def test_poller_failures_outside_read_reach_the_open_windows_and_its_error_store_is_bounded() -> None:
    fake = counter()
    before = Meter([fake]).start().stop()  # a window closed before the failures: not blamed
    meter = Meter([fake]).start()
    tracker = tracker_for(fake)
    poller = Poller()  # its own, not the shared one: only this test's errors in it
    failures = iter(range(10**6))

    def broken_sample() -> None:
        raise RuntimeError(f"bug {next(failures)}")

    def broken_callback(snap: object) -> None:
        raise ValueError("timeline store full")

    tracker.sample = broken_sample  # type: ignore[assignment,method-assign]
    for _ in range(3 * ERRORS_KEPT):
        poller._sample(tracker, [])
    del tracker.sample  # the class's own again
    for _ in range(3 * ERRORS_KEPT):
        poller._sample(tracker, [broken_callback])
    assert len(poller.errors) == ERRORS_KEPT  # bounded: the latest are kept
    assert poller.errors[0] == "fake: timeline callback failed: ValueError: timeline store full"
    m = sane(meter.stop())
    assert "fake: the poller's read failed: RuntimeError: bug 0" in m.warnings
    assert f"fake: the poller's read failed: RuntimeError: bug {3 * ERRORS_KEPT - 1}" in m.warnings
    assert before.warnings == () and sane(Meter([fake]).start().stop()).warnings == ()  # nor one opened after


def test_the_event_store_is_bounded_and_a_window_says_when_it_lost_some(clock: Clock) -> None:
    fake = counter(max_power_w=1.0, wrap_range=10**9)
    meter = Meter([fake]).start()
    value = 0
    for i in range(600):  # 600 distinct jumps, each its own warning
        clock.t += 1
        value += 10 + i
        fake.set("package-0", value)
        read_now(fake)
    m = sane(meter.stop())
    assert len(m.warnings) <= 300 and any("some warnings of this window were dropped" in w for w in m.warnings)
    assert m.partial_domains == ("package-0",)


def test_repeated_identical_failures_are_one_warning_with_a_count(clock: Clock) -> None:
    fake = counter()
    other = counter(name="other")
    meter = Meter([fake, other]).start()
    clock.t += 1
    read_now(fake)
    fake.fail_with = RuntimeError("gone")
    for _ in range(50):
        read_now(fake)
    for _ in range(3):
        tracker_for(fake).record_failure("the poller's read failed: boom")
    m = sane(meter.stop())
    assert sum("RuntimeError: gone" in w for w in m.warnings) == 1
    assert "fake: the poller's read failed: boom (seen 3 times)" in m.warnings


class BrokenReports(FakeCounterBackend):
    def assumptions(self) -> dict[str, object]:
        raise RuntimeError("no assumptions today")

    def summary(self) -> str:
        raise ValueError("no summary")


class NoCounters(FakeCounterBackend):
    def counters(self) -> Sequence[CounterSpec]:
        raise RuntimeError("driver gone")


class BadSpec(FakeCounterBackend):
    def counters(self) -> Sequence[CounterSpec]:
        return [CounterSpec("package-0", joules_per_unit=float("nan"))]


def test_plugin_faults_outside_read_are_contained_too() -> None:
    broken = BrokenReports(["package-0"], name="broken")
    gone = NoCounters(["x"], name="gone")
    bad = BadSpec(["x"], name="bad")
    meter = Meter([broken, gone, bad]).start()
    broken.advance("package-0", 4)
    m = sane(meter.stop())
    assert m.energy_j == 4.0 and m.domains == {"package-0": 4.0}
    reports = {b.name: b for b in m.backends}
    assert reports["gone"].error == "counters() failed: RuntimeError: driver gone" and reports["gone"].domains == ()
    assert "joules_per_unit=nan" in reports["bad"].error
    assert any("broken: assumptions() raised RuntimeError: no assumptions today" in w for w in m.warnings)
    assert any("gone: not read in this window (counters() failed: RuntimeError: driver gone)" in w
               for w in m.warnings)


def test_a_window_where_nothing_could_be_read_says_so_instead_of_measured() -> None:
    gone = NoCounters(["x"], name="gone")
    m = sane(Meter([gone]).start().stop())
    assert m.energy_j == 0.0 and m.method == "none" and m.counted_domains == ()
    assert any("no energy figure could be read in this window" in w for w in m.warnings)
    fake = FakeCounterBackend(["package-0"])  # beside a working sensor, the method is that sensor's
    assert sane(Meter([gone, fake]).start().stop()).method == "measured"


def test_vanished_domain_that_comes_back_restarts_from_its_new_value(clock: Clock) -> None:
    fake = FakeCounterBackend(["package-0", "dram-0"])
    meter = Meter([fake]).start()
    clock.t += 1
    fake.advance("dram-0", 2)
    read_now(fake)
    fake.remove("dram-0")
    clock.t += 1
    read_now(fake)
    fake.set("dram-0", 500)  # back, from another value (a driver reload)
    clock.t += 1
    read_now(fake)
    fake.advance("dram-0", 3)
    fake.advance("package-0", 1)
    m = sane(meter.stop())
    assert m.domains == {"package-0": 1.0, "dram-0": 5.0} and m.partial_domains == ("dram-0",)
    assert sum("dram-0 vanished" in w for w in m.warnings) == 1
