"""Composition per component, deterministic keys, scopes, timelines, and backends resolved once."""

from __future__ import annotations

import time
import types
from collections.abc import Sequence
from typing import Any

import pytest
from fake_backends import Clock, FakeCounterBackend

from greenai_core import Meter, hookimpl
from greenai_core.energy import MIXED, SCOPE_MACHINE, counters, estimate, selection
from greenai_core.energy.estimate import EstimateBackend
from greenai_core.errors import BackendUnavailableError
from greenai_core.plugins import Registry, set_registry


def sensor_class(name: str, domains: Sequence[str], component: str) -> type[FakeCounterBackend]:
    """A registrable (argument-less) fake sensor class."""

    def init(self: FakeCounterBackend) -> None:
        FakeCounterBackend.__init__(self, domains, name=name, component=component)

    return type(f"Fake_{name}", (FakeCounterBackend,), {"name": name, "__init__": init})


def counters_clock_advance(seconds: float = 10.0) -> None:
    clock = counters._now
    assert isinstance(clock, Clock)
    clock.t += seconds


def add_backends(registry: Registry, plugin: str, *classes: type[Any]) -> None:
    def register_all(register: Any) -> None:
        for cls in classes:
            register(cls)

    registry.add_plugin(types.SimpleNamespace(register_energy_backends=hookimpl(register_all)), plugin)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(counters, "_now", fake)
    return fake


@pytest.fixture
def fake_cpu(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> list[float]:
    """The estimate's CPU seconds, set by the test; each change comes with 10 s on the clock."""
    seconds = [0.0]

    def read() -> float:
        return seconds[0]

    monkeypatch.setattr(estimate, "process_tree_cpu_seconds", read)
    monkeypatch.setattr(estimate, "LOGICAL_CPUS", 1)
    monkeypatch.setenv("GREENAI_CPU_WATTS", "10")
    return seconds


def test_a_gpu_only_sensor_composes_with_the_cpu_estimate(registry: Registry, fake_cpu: list[float]) -> None:
    add_backends(registry, "gpu-plugin", sensor_class("gpu-sensor", ["gpu-0"], "gpu"))
    meter = Meter().start()
    sensor = registry.backend("gpu-sensor")
    assert isinstance(sensor, FakeCounterBackend)
    sensor.advance("gpu-0", 30)
    fake_cpu[0] += 2.0  # 2 CPU-seconds x 10 W, in 10 s
    counters_clock_advance()
    m = meter.stop()
    assert [b.name for b in m.backends] == ["estimate", "gpu-sensor"] and m.method == MIXED
    assert m.domains == {"cpu": 20.0, "gpu-0": 30.0} and m.energy_j == 50.0
    assert m.components == {"cpu": "cpu", "gpu-0": "gpu"} and m.scopes == {"cpu": "process", "gpu-0": "machine"}
    assert any(w.startswith("cpu: no sensor measures it here") and "estimated by estimate" in w for w in m.warnings)


def test_a_cpu_sensor_replaces_the_estimate(registry: Registry, fake_cpu: list[float]) -> None:
    add_backends(registry, "cpu-plugin", sensor_class("cpu-sensor", ["package-0"], "cpu"))
    m = Meter().start().stop()
    assert [b.name for b in m.backends] == ["cpu-sensor"] and m.method == "measured" and m.warnings == ()


def test_nothing_is_added_on_top_of_a_platform_meter(registry: Registry, fake_cpu: list[float]) -> None:
    add_backends(registry, "meters", sensor_class("wall", ["outlet"], "platform"),
                 sensor_class("gpu-sensor", ["gpu-0"], "gpu"))
    meter = Meter().start()
    wall, gpu = registry.backend("wall"), registry.backend("gpu-sensor")
    assert isinstance(wall, FakeCounterBackend) and isinstance(gpu, FakeCounterBackend)
    wall.advance("outlet", 100)
    gpu.advance("gpu-0", 40)  # inside the 100 J the wall saw
    counters_clock_advance()
    m = meter.stop()
    assert [b.name for b in m.backends] == ["gpu-sensor", "wall"]  # no estimate: the wall covers the CPU
    assert m.domains == {"gpu-0": 40.0, "outlet": 100.0} and m.energy_j == 100.0 and m.counted_domains == ("outlet",)
    assert any("gpu-sensor: gpu-0 is not added to the total (the platform meter outlet covers the whole machine)" in w
               for w in m.warnings)


def test_two_sensors_of_one_component_count_once(registry: Registry, fake_cpu: list[float]) -> None:
    """RAPL and a hwmon socket meter both see the CPU: its joules go into the total once."""
    add_backends(registry, "meters", sensor_class("rapl-like", ["package-0"], "cpu"),
                 sensor_class("hwmon-like", ["socket-0"], "cpu"))
    meter = Meter().start()
    rapl, hwmon = registry.backend("rapl-like"), registry.backend("hwmon-like")
    assert isinstance(rapl, FakeCounterBackend) and isinstance(hwmon, FakeCounterBackend)
    rapl.advance("package-0", 70)
    hwmon.advance("socket-0", 65)
    counters_clock_advance()
    m = meter.stop()
    assert m.domains == {"socket-0": 65.0, "package-0": 70.0}
    assert m.counted_domains == ("socket-0",) and m.energy_j == 65.0  # the first by name owns the component
    assert any("rapl-like: package-0 is not added to the total (cpu is already counted from hwmon-like)" in w
               for w in m.warnings)
    type(rapl).precedence = 100  # a direct sensor declares itself preferred
    meter = Meter().start()
    rapl.advance("package-0", 70)
    hwmon.advance("socket-0", 65)
    counters_clock_advance()
    m = meter.stop()
    assert m.counted_domains == ("package-0",) and m.energy_j == 70.0


def test_keys_are_unique_and_the_same_whatever_the_plugin_order(fake_cpu: list[float]) -> None:
    alpha = sensor_class("alpha", ["package-0", "dram-0"], "cpu")
    beta = sensor_class("beta", ["package-0", "gpu-0"], "gpu")
    results = []
    for order in ([alpha, beta], [beta, alpha]):
        reg = Registry(entry_points=False, strict=False, disabled=())
        for cls in order:
            add_backends(reg, f"plugin-{cls.name}", cls)
        set_registry(reg)
        try:
            m = Meter().start().stop()
        finally:
            set_registry(None)
        results.append((list(m.domains), [b.name for b in m.backends], [b.domains for b in m.backends]))
    assert results[0] == results[1]
    assert results[0][0] == ["alpha:package-0", "dram-0", "beta:package-0", "gpu-0"]
    a, b = alpha(), beta()
    explicit = [list(Meter(order).start().stop().domains) for order in ([a, b], [b, a])]
    assert explicit[0] == explicit[1] == results[0][0]


class Exploding(FakeCounterBackend):
    name = "exploding"

    def __init__(self) -> None:
        raise RuntimeError("constructor blew up")


class BadProbe(FakeCounterBackend):
    name = "bad-probe"

    def __init__(self) -> None:
        super().__init__(["package-0"], name="bad-probe")

    def probe(self) -> Any:
        raise ZeroDivisionError("probe blew up")


def test_backends_whose_constructor_or_probe_raises_are_skipped_with_the_reason(
    registry: Registry, fake_cpu: list[float]
) -> None:
    add_backends(registry, "broken", Exploding, BadProbe)
    m = Meter().start().stop()
    assert [b.name for b in m.backends] == ["estimate"]
    (why,) = m.warnings
    assert "bad-probe: probe failed (ZeroDivisionError: probe blew up)" in why
    assert "exploding: " in why and "RuntimeError: constructor blew up" in why
    with pytest.raises(BackendUnavailableError, match="probe failed: ZeroDivisionError: probe blew up"):
        Meter(["bad-probe"]).start()


def test_a_changed_watts_setting_never_mixes_with_another(monkeypatch: pytest.MonkeyPatch,
                                                          fake_cpu: list[float]) -> None:
    backend = EstimateBackend()
    first = Meter([backend]).start()  # 10 W per CPU
    monkeypatch.setenv("GREENAI_CPU_WATTS", "20")
    second = Meter([backend]).start()  # 20 W per CPU, a new accounting
    fake_cpu[0] += 3.0
    counters_clock_advance()
    m2, m1 = second.stop(), first.stop()
    assert (m1.energy_j, m1.backends[0].assumptions["watts_per_cpu"]) == (30.0, 10.0)
    assert (m2.energy_j, m2.backends[0].assumptions["watts_per_cpu"]) == (60.0, 20.0)
    assert "x 10 W per logical CPU" in m1.backends[0].summary and "x 20 W" in m2.backends[0].summary


def test_backends_are_resolved_once_per_meter(registry: Registry, fake_cpu: list[float]) -> None:
    meter = Meter()
    assert [b.name for b in meter.start().stop().backends] == ["estimate"]
    add_backends(registry, "late", sensor_class("cpu-sensor", ["package-0"], "cpu"))
    selection.clear_cache()
    assert [b.name for b in meter.start().stop().backends] == ["estimate"]  # the same meter keeps its choice
    assert [b.name for b in Meter().start().stop().backends] == ["cpu-sensor"]


def test_timeline_points_name_backend_and_domain_and_cover_the_whole_window() -> None:
    cpu = FakeCounterBackend(["package-0"], name="cpu-sensor", joules_per_unit=1e-3)
    gpu = FakeCounterBackend(["package-0"], name="gpu-sensor", component="gpu", joules_per_unit=1e-3)
    meter = Meter([gpu, cpu], timeline=True, timeline_period_s=0.02).start()
    cpu.advance("package-0", 500)  # before the first poll: must not be lost
    gpu.advance("package-0", 200)
    for _ in range(4):
        time.sleep(0.012)
        cpu.advance("package-0", 100)
    m = meter.stop()
    assert {p.backend for p in m.timeline} == {"cpu-sensor", "gpu-sensor"}
    cpu_points = [p for p in m.timeline if p.backend == "cpu-sensor"]
    assert all(set(p.watts) == {"cpu-sensor:package-0"} for p in cpu_points)
    assert cpu_points[0].watts["cpu-sensor:package-0"] > 0  # the first interval, start -> first poll
    # The points integrate to the window's figure: nothing before the first poll or after the last is lost.
    previous, energy = 0.0, 0.0
    for p in cpu_points:
        energy += p.watts["cpu-sensor:package-0"] * (p.t_s - previous)
        previous = p.t_s
    assert energy == pytest.approx(m.domains["cpu-sensor:package-0"], rel=0.02)
    assert m.scopes["gpu-sensor:package-0"] == SCOPE_MACHINE
