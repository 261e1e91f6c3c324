"""``Meter(sync=...)``: device work queued before a window stays out of it, work queued inside it stays in."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from fake_backends import FakeCounterBackend

from greenai_core import Meter, measure, measured
from greenai_core.errors import UsageError
from greenai_core.testing import fake_clock


class QueuedWork:
    """A sync that, like ``torch.cuda.synchronize``, returns once queued work has finished (and drawn its energy)."""

    def __init__(self, fake: FakeCounterBackend, pending: list[int]) -> None:
        self.fake, self.pending, self.calls = fake, pending, 0

    def __call__(self) -> None:
        self.calls += 1
        self.fake.advance("gpu-0", self.pending.pop(0))


def gpu_fake() -> FakeCounterBackend:
    return FakeCounterBackend(["gpu-0"], component="gpu")


def test_sync_is_called_before_the_start_read_and_before_the_stop_read() -> None:
    fake = gpu_fake()
    sync = QueuedWork(fake, [100, 20])  # 100 J finishing before the window, 20 J of its own at the end
    with Meter([fake], sync=sync) as meter:
        fake.advance("gpu-0", 5)
    assert sync.calls == 2 and meter.result is not None
    assert meter.result.energy_j == 25 and meter.result.warnings == ()


def test_each_start_and_stop_syncs_again() -> None:
    fake = gpu_fake()
    sync = QueuedWork(fake, [1, 2, 4, 8])
    meter = Meter([fake], sync=sync)
    first = meter.call(lambda: None)[1]
    second = meter.call(lambda: None)[1]
    assert (first.energy_j, second.energy_j, sync.calls) == (2, 8, 4)


@pytest.mark.parametrize(("fail_at", "risk"), [
    (1, "sync at the window's start raised RuntimeError: CUDA error: an illegal memory access was encountered; "
        "device work queued before the window may be counted in it"),
    (2, "sync at the window's stop raised RuntimeError: CUDA error: an illegal memory access was encountered; "
        "device work queued in the window may be missing from it"),
])
def test_a_sync_that_raises_is_a_warning_and_the_window_is_still_measured(fail_at: int, risk: str) -> None:
    fake = gpu_fake()
    calls = []

    def sync() -> None:
        calls.append(len(calls) + 1)
        if len(calls) == fail_at:
            raise RuntimeError("CUDA error: an illegal memory access\nwas encountered")

    with fake_clock() as clock, Meter([fake], sync=sync) as meter:
        fake.advance("gpu-0", 7)
        clock.advance(1.0)
    assert meter.result is not None and meter.result.energy_j == 7
    assert meter.result.warnings == (risk,)


def test_measure_and_measured_pass_sync_through() -> None:
    fake = gpu_fake()
    sync = QueuedWork(fake, [0, 3, 0, 3])
    with measure([fake], sync=sync) as meter:
        pass
    assert meter.result is not None and meter.result.energy_j == 3

    @measured([fake], sync=sync)
    def step() -> str:
        return "done"

    assert step() == "done" and step.last_measurement.energy_j == 3  # type: ignore[attr-defined]
    assert sync.calls == 4


@pytest.mark.parametrize("sync", ["torch.cuda.synchronize", 3])
def test_a_sync_that_is_not_callable_is_a_usage_error(sync: object) -> None:
    with pytest.raises(UsageError, match="sync must be a callable"):
        Meter(sync=sync)  # type: ignore[arg-type]


def test_no_sync_reads_as_before() -> None:
    fake = gpu_fake()
    with Meter([fake]) as meter:
        fake.advance("gpu-0", 4)
    result = meter.result
    assert result is not None and result.energy_j == 4
    assert isinstance(result.domains, Mapping) and result.warnings == ()
