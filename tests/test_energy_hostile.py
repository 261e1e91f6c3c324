"""A hostile plugin or file against the core: odd readings, invalid counter specs, abandoned meters, bad JSON.

Each is refused or contained with a clear warning or a one-line ``GreenAIError``; never a crash,
a NaN, a negative figure or a poller that runs for ever.
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import pytest
from fake_backends import Clock, FakeCounterBackend

from greenai_core import Meter
from greenai_core.energy import CounterSpec, Measurement, counters
from greenai_core.energy.estimate import EstimateBackend, watts_per_cpu
from greenai_core.energy.poller import get_poller
from greenai_core.energy.selection import tracker_for
from greenai_core.errors import UsageError


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(counters, "_now", fake)
    yield fake


class NumpyLike(float):
    """A float subclass, as numpy's float64 is."""


@pytest.mark.parametrize("value", [10**400, -(10**400), Decimal("5"), b"5", [5], {"v": 5}, complex(5, 0)])
def test_a_reading_no_float_can_hold_is_a_broken_chain_not_a_crash(clock: Clock, value: object) -> None:
    fake = FakeCounterBackend(["package-0", "dram-0"])
    meter = Meter([fake]).start()
    clock.t += 1
    fake.set("package-0", value)
    fake.set("dram-0", 7)
    m = meter.stop()
    assert m.energy_j == 7.0 and m.domains == {"package-0": 0.0, "dram-0": 7.0}
    assert m.unreadable_domains == ("package-0",)
    assert all(len(w) < 400 for w in m.warnings)  # a 400-digit reading is not copied into the warning


def test_real_numbers_of_other_types_are_readings(clock: Clock) -> None:
    from fractions import Fraction

    fake = FakeCounterBackend(["a", "b"])
    meter = Meter([fake]).start()
    clock.t += 1
    fake.set("a", NumpyLike(2.5))
    fake.set("b", Fraction(7, 2))
    m = meter.stop()
    assert m.domains == {"a": 2.5, "b": 3.5} and m.partial_domains == ()


class OneSpec(FakeCounterBackend):
    def __init__(self, specs: Sequence[Any]) -> None:
        super().__init__(["package-0"], name="odd")
        self._odd_specs = list(specs)

    def counters(self) -> Sequence[CounterSpec]:
        return self._odd_specs


@pytest.mark.parametrize(("spec", "complaint"), [
    (CounterSpec("package-0", True), "joules_per_unit=True"),
    (CounterSpec("package-0", 1e-320), "joules_per_unit=1e-320"),
    (CounterSpec("package-0", 1.0, wrap_range=10**400), "wrap_range=1000000000000000000000000000000000000..."),
    (CounterSpec("package-0", 1.0, wrap_range="10"), "wrap_range='10'"),  # type: ignore[arg-type]
    (CounterSpec("package-0", 1.0, wrap_range=float("nan")), "wrap_range=nan"),
    (CounterSpec("package-0", 1.0, max_power_w=-1.0), "max_power_w=-1.0"),
    (CounterSpec("package-0", 1.0, resolution_j="x"), "resolution_j='x'"),  # type: ignore[arg-type]
    (CounterSpec("package-0", 1.0, update_period_s=-0.5), "update_period_s=-0.5"),
    (CounterSpec("package-0", 1.0, counted="no"), "counted='no'"),  # type: ignore[arg-type]
    (CounterSpec("package-0", 1.0, component=None), "component=None"),  # type: ignore[arg-type]
    (CounterSpec("package-0", 1.0, component="c p u"), "component='c p u'"),
    (CounterSpec("package-0", 1.0, scope="galaxy"), "scope='galaxy'"),
    (CounterSpec("p\x1b[2J", 1.0), "a domain name that is not 100 printable characters"),
    (CounterSpec("p" * 101, 1.0), "a domain name that is not 100 printable characters"),
    ({"domain": "package-0"}, "counters() gave {'domain': 'package-0'}, not a CounterSpec"),
])
def test_an_invalid_counter_spec_is_refused_with_a_clear_reason(spec: Any, complaint: str) -> None:
    good = FakeCounterBackend(["dram-0"], name="good")
    meter = Meter([good, OneSpec([spec])]).start()
    good.advance("dram-0", 3)
    m = meter.stop()
    report = {b.name: b for b in m.backends}["odd"]
    assert report.error.startswith("counters() failed: SensorError: energy backend 'odd': ")
    assert complaint in report.error and len(report.error) < 300
    assert m.energy_j == 3.0 and m.domains == {"dram-0": 3.0}


def test_a_domain_reported_twice_is_named() -> None:
    meter = Meter([OneSpec([CounterSpec("x", 1.0), CounterSpec("y", 1.0), CounterSpec("x", 2.0)])]).start()
    assert meter.stop().backends[0].error.endswith("reports a domain twice: x")


class BadMaxPower(FakeCounterBackend):
    def __init__(self, answer: object) -> None:
        super().__init__(["package-0"], name="odd")
        self.answer = answer

    def max_power_w(self) -> float:
        return self.answer  # type: ignore[return-value]


@pytest.mark.parametrize("answer", ["lots", 10**400, float("inf"), 0, None])
def test_a_backend_max_power_that_is_no_power_is_refused(answer: object) -> None:
    m = Meter([BadMaxPower(answer)]).start().stop()
    assert "max_power_w() = " in m.backends[0].error and "must be finite and positive" in m.backends[0].error


def test_a_meter_dropped_while_running_leaves_the_poller_and_its_trackers() -> None:
    poller = get_poller()
    before = poller.active
    fake = FakeCounterBackend(["package-0"], wrap_range=1000, max_power_w=10.0)
    for _ in range(50):
        Meter([fake], timeline=True).start()  # never stopped, never kept
    gc.collect()
    assert poller.active == before
    tracker = tracker_for(fake)
    tracker.record_failure("boom")  # with no window open, nothing is logged
    assert tracker.events_between(0, 10**9) == []
    with Meter([fake]) as meter:  # and the backend still measures
        fake.advance("package-0", 4)
    assert meter.result is not None and meter.result.energy_j == 4.0


@pytest.mark.parametrize(("change", "complaint"), [
    ({"energy_j": float("nan")}, "energy_j is nan"),
    ({"energy_j": -1}, "energy_j is -1.0"),
    ({"energy_j": "12"}, "energy_j is '12', not a number"),
    ({"energy_j": True}, "energy_j is 'True', not a number"),
    ({"duration_s": 10**400}, "duration_s is inf"),
    ({"domains": {"cpu": float("inf")}}, "domains['cpu'] is inf"),
    ({"domains": [1, 2]}, "domains is not an object of figures"),
    ({"timeline": [{"t_s": 1.0, "watts": {"cpu": -3.0}}]}, "watts['cpu'] is -3.0"),
    ({"method": None, "energy_j": None}, "energy_j is 'None', not a number"),
    ({"backends": [{"name": "x"}]}, "missing 'domains'"),
    ({"backends": [{"evil": 1}]}, "not a greenai measurement"),
])
def test_from_dict_refuses_what_is_not_a_measurement(change: dict[str, Any], complaint: str) -> None:
    good = json.loads(Meter([FakeCounterBackend()]).start().stop().to_json())
    with pytest.raises(UsageError, match="^not a greenai measurement: ") as info:
        Measurement.from_dict({**good, **change})
    assert complaint in str(info.value) and len(str(info.value).splitlines()) == 1


@pytest.mark.parametrize("data", [[1], "measurement", None, {}])
def test_from_dict_refuses_what_is_not_even_an_object(data: Any) -> None:
    with pytest.raises(UsageError, match="^not a greenai measurement: "):
        Measurement.from_dict(data)


@pytest.mark.parametrize("setting", ["1e-320", "1e-7", "1e308", "2e6"])
def test_watts_beyond_any_real_cpu_are_refused_before_they_underflow_or_overflow(
        setting: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENAI_CPU_WATTS", setting)
    with pytest.raises(UsageError, match=r"must be between 1e-06 and 1e\+06 watts per logical CPU"):
        watts_per_cpu()
    assert not EstimateBackend().probe().available
    with pytest.raises(UsageError, match="between"):
        EstimateBackend(float(setting))


@pytest.mark.parametrize(("setting", "watts"), [(" 5 ", 5.0), ("1e-6", 1e-6), ("1e6", 1e6)])
def test_watts_in_range_are_taken(setting: str, watts: float, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENAI_CPU_WATTS", setting)
    assert watts_per_cpu()[0] == watts
    spec = EstimateBackend().counters()[0]
    assert spec.joules_per_unit == watts and math.isfinite(spec.max_power_w or math.inf)
