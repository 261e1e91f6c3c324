"""The meter engine against in-test counters: exact, nested, concurrent, wrap-safe, never waiting."""

from __future__ import annotations

import threading
import time

import pytest
from fake_backends import FakeCounterBackend

from greenai_core import Meter, measure, measure_call, measured
from greenai_core.energy import ESTIMATED, EnergyBackend, ProbeResult
from greenai_core.energy.poller import get_poller
from greenai_core.errors import BackendUnavailableError, UsageError
from greenai_core.plugins import Registry


def test_window_reads_exact_deltas_per_domain() -> None:
    fake = FakeCounterBackend(["package-0", "dram-0"], joules_per_unit=1e-6)
    with Meter([fake]) as meter:
        fake.advance("package-0", 2_500_000)
        fake.advance("dram-0", 300_000)
    m = meter.result
    assert m is not None
    assert m.domains == pytest.approx({"package-0": 2.5, "dram-0": 0.3})
    assert m.energy_j == pytest.approx(2.8) and m.method == "measured"
    assert m.resolution_j == pytest.approx(2e-6)
    assert m.backends[0].name == "fake" and m.backends[0].counted_domains == ("package-0", "dram-0")


def test_nested_and_overlapping_windows_from_8_threads_are_each_exact() -> None:
    """Phase k adds 2**k units; thread i's outer window spans phases i..i+7, its inner i+2..i+4."""
    fake = FakeCounterBackend(["package-0"])
    n_threads, n_phases = 8, 16
    barrier = threading.Barrier(n_threads + 1)
    results: dict[int, tuple[float, float]] = {}
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            outer, inner = Meter([fake]), Meter([fake])
            for k in range(n_phases):
                if k == i:
                    outer.start()
                if k == i + 2:
                    inner.start()
                barrier.wait()  # main adds phase k
                barrier.wait()
                if k == i + 4:
                    inner.stop()
                if k == i + 7:
                    outer.stop()
            assert outer.result is not None and inner.result is not None
            results[i] = (outer.result.energy_j, inner.result.energy_j)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for k in range(n_phases):
        barrier.wait()
        fake.advance("package-0", 2**k)
        barrier.wait()
    for t in threads:
        t.join()
    assert not errors, errors
    for i in range(n_threads):
        assert results[i] == (sum(2**k for k in range(i, i + 8)), sum(2**k for k in range(i + 2, i + 5)))


def test_stop_does_not_wait_for_a_poller_tick() -> None:
    # Range 240 J at 1 W hint -> the poller would only read every 60 s.
    fake = FakeCounterBackend(["package-0"], wrap_range=240_000_000, joules_per_unit=1e-6, max_power_w=1.0)
    meter = Meter([fake]).start()
    assert get_poller().active >= 1  # a wrapping counter is watched while the window is open
    time.sleep(0.05)
    began = time.perf_counter()
    meter.stop()
    assert time.perf_counter() - began < 0.5  # far below the 60 s tick


def test_wrapping_counter_over_a_long_window_is_exact() -> None:
    """10 J range, ~100 W written for ~1 s (0.5 J steps every 5 ms): about ten wraps, each counted by the poller."""
    fake = FakeCounterBackend(["package-0"], wrap_range=10_000_000, joules_per_unit=1e-6, max_power_w=150.0,
                              update_period_s=0.005)
    step_uj, steps = 500_000, 200
    with Meter([fake]) as meter:
        for _ in range(steps):
            fake.advance("package-0", step_uj)
            time.sleep(0.005)
    assert meter.result is not None
    assert meter.result.energy_j == pytest.approx(step_uj * steps * 1e-6, abs=1e-6)
    assert not [w for w in meter.result.warnings if "backwards" in w or "jumped" in w]


def test_counter_going_backwards_gives_a_partial_figure_and_a_warning() -> None:
    fake = FakeCounterBackend(["package-0"], wrap_range=262_143_328_850, joules_per_unit=1e-6, max_power_w=500.0,
                              update_period_s=0.01)  # it moves in 10 ms steps: 2 J at once is plausible
    fake.set("package-0", 5_000_000)
    with Meter([fake]) as meter:
        fake.advance("package-0", 1_000_000)
        Meter([fake]).start().stop()  # a read while the counter is at 6 J
        fake.set("package-0", 5_500_000)  # back by 0.5 J: far too little for a wrap
        Meter([fake]).start().stop()  # the read that sees it
        fake.advance("package-0", 2_000_000)
    m = meter.result
    assert m is not None
    assert m.energy_j == pytest.approx(3.0)  # 1 J before the glitch + 2 J after, never negative
    assert any("package-0 went backwards" in w and "reset" in w and "partial" in w for w in m.warnings)
    assert m.partial_domains == ("package-0",) and m.unreadable_domains == ()


def test_vanished_domain_keeps_its_partial_figure_with_a_warning() -> None:
    fake = FakeCounterBackend(["package-0", "dram-0"])
    with Meter([fake]) as meter:
        fake.advance("dram-0", 7)
        Meter([fake]).start().stop()
        fake.remove("dram-0")
        fake.advance("package-0", 3)
    m = meter.result
    assert m is not None and m.domains == {"package-0": 3.0, "dram-0": 7.0}
    assert any("dram-0 vanished" in w for w in m.warnings) and m.partial_domains == ("dram-0",)


def test_uncounted_domains_are_reported_but_not_added() -> None:
    fake = FakeCounterBackend(["package-0", "core-0"], uncounted=["core-0"])
    with Meter([fake]) as meter:
        fake.advance("package-0", 10)
        fake.advance("core-0", 6)
    assert meter.result is not None
    assert meter.result.domains == {"package-0": 10.0, "core-0": 6.0} and meter.result.energy_j == 10.0


def test_estimate_is_not_added_where_a_sensor_measures_the_same_component() -> None:
    cpu = FakeCounterBackend(["package-0"], name="cpu-sensor")
    gpu = FakeCounterBackend(["gpu-0"], name="gpu-sensor", component="gpu")
    guess = FakeCounterBackend(["cpu"], name="guess", method=ESTIMATED)
    with Meter([cpu, guess]) as both:
        cpu.advance("package-0", 5)
        guess.advance("cpu", 4)
    assert both.result is not None
    assert both.result.energy_j == 5.0 and both.result.method == "measured"
    assert any("guess: cpu is not added" in w for w in both.result.warnings)
    with Meter([gpu, guess]) as mixed:
        gpu.advance("gpu-0", 5)
        guess.advance("cpu", 4)
    assert mixed.result is not None and mixed.result.energy_j == 9.0 and mixed.result.method == "mixed"


def test_short_window_is_flagged_as_coarse() -> None:
    fake = FakeCounterBackend(["package-0"], update_period_s=0.5)
    with Meter([fake]) as meter:
        pass
    assert meter.result is not None
    assert any("shorter than 3 sensor update periods" in w for w in meter.result.warnings)


class Missing(EnergyBackend):
    name = "missing"

    def probe(self) -> ProbeResult:
        return ProbeResult.unavailable("no /sys/missing here; load the driver")

    def counters(self):  # type: ignore[no-untyped-def]
        return []

    def read(self):  # type: ignore[no-untyped-def]
        return {}


def test_named_unavailable_backend_raises_with_its_probe_reason(registry: Registry) -> None:
    with pytest.raises(BackendUnavailableError, match="no /sys/missing here; load the driver"):
        Meter([Missing()]).start()
    with pytest.raises(UsageError, match="unknown energy backend 'nvml'"):
        Meter(["nvml"]).start()


def test_default_falls_back_to_the_estimate_with_the_reasons(registry: Registry) -> None:
    import types

    from greenai_core import hookimpl

    registry.add_plugin(types.SimpleNamespace(register_energy_backends=hookimpl(lambda register: register(Missing))),
                        "missing-plugin")
    with measure() as meter:
        sum(range(100_000))
    m = meter.result
    assert m is not None and m.method == "estimated" and [b.name for b in m.backends] == ["estimate"]
    assert any("missing: no /sys/missing here" in w for w in m.warnings)


def test_decorator_measure_call_and_meter_misuse() -> None:
    fake = FakeCounterBackend(["package-0"])

    @measured([fake])
    def work(n: int) -> int:
        fake.advance("package-0", n)
        return n * 2

    assert work(5) == 10 and work.last_measurement.energy_j == 5.0  # type: ignore[attr-defined]

    @measured
    def bare() -> str:
        return "ok"

    assert bare() == "ok" and bare.last_measurement is not None  # type: ignore[attr-defined]
    result, m = measure_call(sum, [1, 2, 3])
    assert result == 6 and m.duration_s >= 0
    meter = Meter([fake])
    with pytest.raises(UsageError, match="not started"):
        meter.stop()
    meter.start()
    with pytest.raises(UsageError, match="already running"):
        meter.start()
    meter.stop()


def test_window_closed_when_the_measured_code_raises() -> None:
    fake = FakeCounterBackend(["package-0"])
    meter = Meter([fake])
    with pytest.raises(ZeroDivisionError):
        with meter:
            fake.advance("package-0", 3)
            raise ZeroDivisionError("in the measured code")
    assert meter.result is not None and meter.result.energy_j == 3.0 and not meter.running


def test_timeline_records_power_per_domain() -> None:
    fake = FakeCounterBackend(["package-0"], joules_per_unit=1e-6)
    with Meter([fake], timeline=True, timeline_period_s=0.02) as meter:
        for _ in range(20):
            fake.advance("package-0", 100_000)  # 0.1 J every ~10 ms: ~10 W
            time.sleep(0.01)
    m = meter.result
    assert m is not None and len(m.timeline) >= 3
    assert all(p.watts["package-0"] >= 0 for p in m.timeline)
    assert 2 < sum(p.watts["package-0"] for p in m.timeline) / len(m.timeline) < 50


def test_measurement_round_trips_through_json() -> None:
    import json

    from greenai_core.energy import Measurement

    fake = FakeCounterBackend(["package-0"])
    with Meter([fake]) as meter:
        fake.advance("package-0", 1)
    assert meter.result is not None
    again = Measurement.from_dict(json.loads(meter.result.to_json()))
    assert again == meter.result


def test_a_sensor_failing_at_stop_is_a_warning_and_still_releases_the_poller() -> None:
    fake = FakeCounterBackend(["package-0"], wrap_range=10**9)
    before = get_poller().active
    meter = Meter([fake]).start()
    assert get_poller().active == before + 1
    fake.fail_with = OSError("sensor unplugged")
    m = meter.stop()  # never raises for a sensor's fault
    assert get_poller().active == before and not meter.running
    assert m.unreadable_domains == ("package-0",) and m.counted_domains == () and m.energy_j == 0.0
    assert any("read() raised OSError: sensor unplugged" in w for w in m.warnings)


def test_trackers_go_with_their_backend() -> None:
    import gc
    import weakref

    fake = FakeCounterBackend(["package-0"])
    with Meter([fake]):
        pass
    ref = weakref.ref(fake)
    del fake
    gc.collect()
    assert ref() is None
