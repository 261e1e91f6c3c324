"""The original greenAI profiler API, through greenai_core.compat."""

from __future__ import annotations

import time

import pytest
from fake_backends import FakeCounterBackend

from greenai_core.compat import EnergyProfiler
from greenai_core.errors import UsageError


def fib(n: int, show_every_step: bool = False) -> int:
    a = 1
    b = 1
    while n > 1:
        a = a + b
        b = a - b
        n = n - 1
    return a


def test_original_readme_example_runs() -> None:
    # The original README's example, with only the import and class name changed.
    delay_between_measures = 0.1  # in seconds
    profiler = EnergyProfiler(delay_between_measures)
    n = 10**5
    total_time, energy_consumed, result = profiler.evaluate(fib, n, show_every_step=True)
    assert result == fib(n)
    assert total_time > 0 and energy_consumed >= 0 and profiler.get_unit() == "J"
    assert profiler.last_measurement is not None


def test_stop_does_not_wait_for_the_delay() -> None:
    profiler = EnergyProfiler(5.0, backends=[FakeCounterBackend(["package-0"])])
    profiler.start()
    began = time.perf_counter()
    profiler.stop()
    assert time.perf_counter() - began < 1.0  # the original waited for the next 5 s tick


def test_start_stop_and_with_form() -> None:
    fake = FakeCounterBackend(["package-0"])
    profiler = EnergyProfiler(backends=[fake])
    profiler.start()
    fake.advance("package-0", 4)
    assert profiler.stop() == 4.0
    with profiler:
        fake.advance("package-0", 6)
    assert profiler.get_energy() == 6.0
    with pytest.raises(UsageError):
        profiler.stop()
    with pytest.raises(UsageError):
        EnergyProfiler(0)
