"""NVML failing: at start (probe reasons), mid-window (a lost GPU, an Xid), and once per process init."""

from __future__ import annotations

import pytest
from fake_pynvml import FakeGpu, Install, real
from greenai_nvml.backend import NvmlBackend
from greenai_nvml.library import LIBRARY

import greenai_core
from greenai_core.testing import fake_clock, poll_now


@pytest.mark.parametrize(("code", "reason"), [
    (real.NVML_ERROR_LIBRARY_NOT_FOUND, "the NVML library (libnvidia-ml.so.1) was not found: no NVIDIA driver is "
                                        "installed here"),
    (real.NVML_ERROR_DRIVER_NOT_LOADED, "the NVIDIA driver is not loaded (no NVIDIA GPU, or the kernel module "
                                        "failed)"),
    (real.NVML_ERROR_NO_PERMISSION, "permission denied opening the NVIDIA device files (/dev/nvidia*): add the user "
                                    "to their group (often 'video') or run with access to them"),
    (real.NVML_ERROR_FUNCTION_NOT_FOUND, "the NVIDIA driver is too old for this NVML function"),
    (real.NVML_ERROR_UNKNOWN, "NVML could not start (NVMLError_Unknown: Unknown Error)"),
])
def test_probe_says_in_one_line_why_nvml_cannot_start(install_nvml: Install, code: int, reason: str) -> None:
    install_nvml([FakeGpu()], init_code=code)
    probe = NvmlBackend().probe()
    assert (probe.available, probe.reason) == (False, reason)


def test_no_gpu_is_unavailable(install_nvml: Install) -> None:
    install_nvml([])
    probe = NvmlBackend().probe()
    assert (probe.available, probe.reason) == (False, "no NVIDIA GPU to read (NVML lists none)")


def test_nvml_is_initialised_once_per_process_and_shut_down_once(install_nvml: Install) -> None:
    fake = install_nvml([FakeGpu()])
    for _ in range(3):
        backend = NvmlBackend()
        assert backend.probe().available
        with greenai_core.Meter([backend]):
            pass
    assert fake.calls.count("nvmlInit") == 1
    LIBRARY.shutdown()  # what atexit runs
    LIBRARY.shutdown()
    assert fake.calls.count("nvmlShutdown") == 1
    assert not NvmlBackend().probe().available  # no second start while the interpreter exits


def test_a_gpu_lost_mid_window_keeps_what_was_read_with_a_warning(install_nvml: Install) -> None:
    gpus = [FakeGpu(uuid="GPU-0", energy_mj=0, power_mw=100_000), FakeGpu(uuid="GPU-1", energy_mj=0,
                                                                           power_mw=100_000)]
    install_nvml(gpus)
    backend = NvmlBackend()
    with fake_clock() as clock:
        meter = greenai_core.Meter([backend]).start()
        gpus[0].energy_mj += 10_000
        gpus[1].energy_mj += 10_000
        clock.advance(0.5)
        poll_now(backend)  # both read: 10 J each
        gpus[0].fail_code = real.NVML_ERROR_GPU_IS_LOST  # an Xid 79: the GPU fell off the bus
        gpus[1].energy_mj += 20_000
        clock.advance(0.5)
        poll_now(backend)
        poll_now(backend)  # still lost: said once
        gpus[1].energy_mj += 5_000
        clock.advance(0.5)
        result = meter.stop()
    assert result.domains == {"gpu-0": pytest.approx(10.0), "gpu-1": pytest.approx(35.0)}
    assert result.partial_domains == ("gpu-0",) and result.unreadable_domains == ()
    assert result.energy_j == pytest.approx(45.0)
    assert result.warnings == (
        "nvml: gpu-0 vanished (missing from read()); its figure is partial",
        "nvml: gpu-0 could not be read: NVMLError_GpuIsLost: GPU is lost (a lost GPU or an Xid error? see nvidia-smi "
        "and the kernel log); figure partial",
    )


def test_a_gpu_failing_from_the_start_is_unreadable_not_zero(install_nvml: Install) -> None:
    gpus = [FakeGpu(uuid="GPU-0", energy_mj=0), FakeGpu(uuid="GPU-1", energy_mj=0)]
    install_nvml(gpus)
    backend = NvmlBackend()
    backend.probe()
    gpus[1].fail_code = real.NVML_ERROR_UNKNOWN
    with fake_clock() as clock:
        meter = greenai_core.Meter([backend]).start()
        gpus[0].energy_mj += 7_000
        clock.advance(1.0)
        result = meter.stop()
    assert result.domains == {"gpu-0": pytest.approx(7.0), "gpu-1": 0.0}
    assert result.unreadable_domains == ("gpu-1",) and result.counted_domains == ("gpu-0",)
    assert result.energy_j == pytest.approx(7.0)
    assert any("gpu-1 could not be read during this window" in w for w in result.warnings)


def test_a_non_nvml_exception_in_a_read_is_contained(install_nvml: Install) -> None:
    fake = install_nvml([FakeGpu(energy_mj=0)])
    backend = NvmlBackend()
    backend.probe()

    def broken(handle: object) -> int:
        raise RuntimeError("driver\nexploded")

    with fake_clock() as clock:
        meter = greenai_core.Meter([backend]).start()
        fake.module.nvmlDeviceGetTotalEnergyConsumption = broken
        clock.advance(1.0)
        result = meter.stop()
    assert result.method == "none" and result.unreadable_domains == ("gpu-0",)
    assert any("read() raised RuntimeError: driver exploded" in w for w in result.warnings)


def test_a_gpu_that_comes_back_counts_again_from_its_return(install_nvml: Install) -> None:
    gpu = FakeGpu(has_counter=False, power_mw=100_000)
    install_nvml([gpu])
    backend = NvmlBackend()
    with fake_clock() as clock:
        meter = greenai_core.Meter([backend]).start()
        clock.advance(0.5)
        poll_now(backend)  # 50 J
        gpu.fail_code = real.NVML_ERROR_UNKNOWN
        clock.advance(0.5)
        poll_now(backend)  # missing: nothing integrated across the outage
        gpu.fail_code = None
        clock.advance(0.5)
        poll_now(backend)  # back: the chain restarts here
        clock.advance(0.5)
        result = meter.stop()  # 50 J more
    assert result.domains == {"gpu-0": pytest.approx(100.0)}
    assert result.partial_domains == ("gpu-0",)
