"""The nvml backend on a fake pynvml: exact joules from the counter and from integrated power, warnings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest
from fake_pynvml import FakeGpu, Install
from greenai_nvml.backend import NvmlBackend

import greenai_core
from greenai_core.sdk import (
    CPU,
    GPU,
    SCOPE_MACHINE,
    CounterSpec,
    EnergyBackend,
    ProbeResult,
    Registry,
    UsageError,
    hookimpl,
)
from greenai_core.testing import fake_clock, poll_now

J = pytest.approx  # joules: exact up to float rounding of mJ x 1e-3


def test_counter_energy_is_exact_in_joules_per_gpu(install_nvml: Install) -> None:
    gpus = [FakeGpu(energy_mj=5_000_000, power_mw=300_000, uuid="GPU-0"),
            FakeGpu(energy_mj=9_000, power_mw=60_000, uuid="GPU-1")]
    install_nvml(gpus)
    backend = NvmlBackend()
    with fake_clock() as clock:
        meter = greenai_core.Meter([backend]).start()
        gpus[0].energy_mj += 123_456
        gpus[1].energy_mj += 60_000
        clock.advance(1.0)
        result = meter.stop()
    assert result.domains == {"gpu-0": J(123.456, abs=1e-9), "gpu-1": J(60.0, abs=1e-9)}
    assert result.energy_j == J(183.456, abs=1e-9)
    assert result.method == "measured" and result.warnings == ()
    assert result.components == {"gpu-0": GPU, "gpu-1": GPU}
    assert result.scopes == {"gpu-0": SCOPE_MACHINE, "gpu-1": SCOPE_MACHINE}
    assert result.resolution_j == J(2e-3)
    report = result.backends[0]
    assert (report.name, report.update_period_s, report.counted_domains) == ("nvml", 0.1, ("gpu-0", "gpu-1"))
    assert "gpu-0 (NVIDIA H200: energy counter)" in report.summary


def test_plausible_power_comes_from_the_power_limits_with_a_fallback(install_nvml: Install) -> None:
    install_nvml([FakeGpu(uuid="GPU-0", enforced_limit_mw=400_000, management_limit_mw=450_000),
                  FakeGpu(uuid="GPU-1", enforced_limit_mw=None, management_limit_mw=None),
                  FakeGpu(uuid="GPU-2", enforced_limit_mw=900_000_000, management_limit_mw=None)])
    specs = NvmlBackend().counters()
    assert [s.max_power_w for s in specs] == [450.0, 1000.0, 1000.0]  # none, or absurd: the 1 kW fallback
    assert all(s.wrap_range is None and s.joules_per_unit == 1e-3 and s.poll_period_s is None for s in specs)
    assert NvmlBackend(max_power_w=300).counters()[0].max_power_w == 300.0


def test_a_window_shorter_than_three_updates_is_flagged_coarse(install_nvml: Install) -> None:
    gpu = FakeGpu(energy_mj=1_000, power_mw=250_000)
    install_nvml([gpu])
    with fake_clock() as clock:
        meter = greenai_core.Meter([NvmlBackend()]).start()
        clock.advance(0.05)  # the counter has not refreshed yet: 0 J
        result = meter.stop()
    assert result.energy_j == 0
    assert result.warnings == ("nvml: the window (50 ms) is shorter than 3 sensor update periods (100 ms each); "
                               "the figure is coarse",)


@pytest.mark.parametrize("seconds", [0.001, 0.05, 0.299, 0.3, 0.31, 1.0, 60.0])
def test_a_busy_gpu_never_reads_0_joules_without_a_warning(install_nvml: Install, seconds: float) -> None:
    gpu = FakeGpu(energy_mj=1_000, power_mw=250_000)  # drawing 250 W, but the counter does not move
    install_nvml([gpu])
    with fake_clock() as clock:
        meter = greenai_core.Meter([NvmlBackend()]).start()
        clock.advance(seconds)
        result = meter.stop()
    assert result.energy_j == 0
    assert result.warnings, f"0 J over {seconds} s of a busy GPU, silently"
    if seconds > 0.3:  # long enough for the counter to have moved: a stalled counter, and a lower bound
        assert result.partial_domains == ("gpu-0",)
        assert result.warnings == (f"nvml: gpu-0 energy counter did not move in {seconds:.3g} s while the GPU drew "
                                   "250 W (it should refresh every 100 ms: a stalled counter or driver); the figure "
                                   "may be too low; figure partial",)


def test_an_idle_reading_or_a_moving_counter_raises_no_doubt(install_nvml: Install) -> None:
    gpu = FakeGpu(energy_mj=1_000, power_mw=0)
    install_nvml([gpu])
    with fake_clock() as clock:
        meter = greenai_core.Meter([NvmlBackend()]).start()
        clock.advance(0.5)
        assert meter.stop().warnings == ()
        gpu.power_mw = 200_000
        meter.start()
        for _ in range(5):
            clock.advance(0.2)
            gpu.energy_mj += 40_000
        result = meter.stop()
    assert result.energy_j == J(200.0) and result.warnings == ()


def test_without_the_counter_power_is_integrated_by_the_trapezoid_rule(install_nvml: Install) -> None:
    gpu = FakeGpu(has_counter=False, power_mw=100_000, name="Tesla P100")
    install_nvml([gpu])
    backend = NvmlBackend()
    spec = backend.counters()[0]
    assert (spec.poll_period_s, spec.update_period_s, spec.resolution_j) == (0.05, 0.05, J(5e-5))
    with fake_clock() as clock:
        meter = greenai_core.Meter([backend]).start()  # 100 W at t=0
        gpu.power_mw = 200_000
        clock.advance(0.25)
        poll_now(backend)  # (100 + 200) / 2 x 0.25 = 37.5 J
        gpu.power_mw = 300_000
        clock.advance(0.25)
        poll_now(backend)  # (200 + 300) / 2 x 0.25 = 62.5 J
        gpu.power_mw = 100_000
        clock.advance(0.5)
        result = meter.stop()  # (300 + 100) / 2 x 0.5 = 100 J
    assert result.domains == {"gpu-0": J(200.0, abs=1e-9)}
    assert result.method == "measured" and result.warnings == ()
    report = result.backends[0]
    assert report.summary == ("gpu-0 (Tesla P100: integrated power (nvmlDeviceGetPowerUsage sampled every 50 ms, "
                              "trapezoid rule; not a counter)) via NVML; whole boards, everything running on them")
    assert report.assumptions["integrated_power"]["sampling_period_s"] == 0.05
    assert report.assumptions["gpus"]["gpu-0"]["source"].startswith("integrated power")
    assert report.update_period_s == 0.05


def test_integrated_power_does_not_bridge_a_starved_poller(install_nvml: Install) -> None:
    gpu = FakeGpu(has_counter=False, power_mw=100_000)
    install_nvml([gpu])
    backend = NvmlBackend()
    with fake_clock() as clock:
        meter = greenai_core.Meter([backend]).start()
        clock.advance(0.5)
        poll_now(backend)  # 50 J
        clock.advance(3.0)  # no sample for 3 s: what the GPU drew then is unknown
        result = meter.stop()
    assert result.domains == {"gpu-0": J(50.0)}
    assert result.partial_domains == ("gpu-0",)
    assert result.warnings == ("nvml: gpu-0 power samples 3 s apart (expected every 50 ms: a starved poller?); "
                               "that interval is not integrated; figure partial",)


def test_a_gpu_with_neither_counter_nor_power_is_skipped_with_a_warning(install_nvml: Install) -> None:
    from fake_pynvml import real

    install_nvml([FakeGpu(uuid="GPU-0", energy_mj=0),
                  FakeGpu(uuid="GPU-1", has_counter=False, fail_code=real.NVML_ERROR_NOT_SUPPORTED),
                  FakeGpu(uuid="GPU-2", fail_code=real.NVML_ERROR_GPU_IS_LOST)])
    backend = NvmlBackend()
    assert backend.probe() == ProbeResult.ok("gpu-0 (NVIDIA H200, energy counter)")
    assert backend.warnings() == [
        "nvml: gpu-1 (NVIDIA H200) skipped: neither an energy counter nor a power reading (NVMLError_NotSupported: "
        "Not Supported)",
        "nvml: gpu-2 skipped: its energy counter failed (NVMLError_GpuIsLost: GPU is lost)",
    ]


def test_sync_runs_before_the_start_read_and_before_the_stop_read(install_nvml: Install) -> None:
    gpu = FakeGpu(energy_mj=0, power_mw=100_000)
    install_nvml([gpu])
    finishing = [1_000, 2_000]  # mJ the queued kernels still burn when each sync waits for them

    def sync() -> None:
        gpu.energy_mj += finishing.pop(0)

    with fake_clock() as clock:
        meter = greenai_core.Meter([NvmlBackend()], sync=sync).start()  # 1 J before the window: not in it
        gpu.energy_mj += 5_000
        clock.advance(1.0)
        result = meter.stop()  # 2 J finishing inside the window: in it
    assert finishing == [] and result.energy_j == J(7.0)


class _CpuCounter(EnergyBackend):
    """A RAPL-like CPU sensor (the real greenai-rapl is another distribution)."""

    name = "cpu-sensor"
    precedence = 100

    def __init__(self) -> None:
        self.uj = 0

    def probe(self) -> ProbeResult:
        return ProbeResult.ok("in-test")

    def counters(self) -> Sequence[CounterSpec]:
        return [CounterSpec("package-0", 1e-6, 2**32, 1e-6, 0.001, component=CPU)]

    def read(self) -> Mapping[str, int]:
        return {"package-0": self.uj}


def test_gpu_only_composes_with_the_cpu_estimate_as_mixed(install_nvml: Install, registry: Registry) -> None:
    gpu = FakeGpu(energy_mj=0, power_mw=100_000)
    install_nvml([gpu])
    with greenai_core.measure() as meter:
        gpu.energy_mj += 2_000
        sum(i * i for i in range(20_000))
    result = meter.result
    assert result is not None
    assert [b.name for b in result.backends] == ["estimate", "nvml"]
    assert result.method == "mixed"
    assert set(result.counted_domains) == {"cpu", "gpu-0"}
    assert result.components == {"cpu": CPU, "gpu-0": GPU}
    assert result.domains["gpu-0"] == J(2.0) and result.domains["cpu"] > 0
    assert result.energy_j == J(2.0 + result.domains["cpu"])


def test_gpu_and_a_cpu_sensor_are_both_measured_and_the_estimate_stays_out(
    install_nvml: Install, registry: Registry
) -> None:
    gpu = FakeGpu(energy_mj=0, power_mw=100_000)
    install_nvml([gpu])

    class CpuPlugin:
        @hookimpl
        def register_energy_backends(self, register: object) -> None:
            register(_CpuCounter)  # type: ignore[operator]

    registry.add_plugin(CpuPlugin(), name="cpu-sensor")
    cpu = registry.backend("cpu-sensor")
    assert isinstance(cpu, _CpuCounter)
    with fake_clock() as clock:
        meter = greenai_core.Meter().start()
        gpu.energy_mj += 3_000
        cpu.uj += 1_500_000
        clock.advance(1.0)
        result = meter.stop()
    assert [b.name for b in result.backends] == ["cpu-sensor", "nvml"]
    assert result.method == "measured"
    assert result.domains == {"package-0": J(1.5), "gpu-0": J(3.0)} and result.energy_j == J(4.5)


def test_gpu_watts_appear_in_the_power_timeline(install_nvml: Install) -> None:
    gpu = FakeGpu(energy_mj=0, power_mw=100_000)
    install_nvml([gpu])
    backend = NvmlBackend()
    with fake_clock() as clock:
        meter = greenai_core.Meter([backend], timeline=True, timeline_period_s=10.0).start()
        gpu.energy_mj += 50_000
        clock.advance(0.5)
        poll_now(backend)
        gpu.energy_mj += 150_000
        clock.advance(0.5)
        result = meter.stop()
    assert result.energy_j == J(200.0)
    assert [(p.t_s, p.backend) for p in result.timeline] == [(1.0, "nvml")]  # start -> stop (poll_now is no point)
    assert result.timeline[0].watts == {"gpu-0": J(200.0)}


def test_integrated_power_windows_apart_start_afresh_without_a_false_gap(install_nvml: Install) -> None:
    gpu = FakeGpu(has_counter=False, power_mw=100_000)
    install_nvml([gpu])
    backend = NvmlBackend()
    meter = greenai_core.Meter([backend])
    with fake_clock() as clock:
        meter.start()
        clock.advance(0.5)
        assert meter.stop().energy_j == J(50.0)  # (100 + 100) / 2 x 0.5
        gpu.power_mw = 300_000
        clock.advance(30.0)  # no window, no samples: nothing to integrate, nothing to doubt
        meter.start()  # 300 W here: the idle 30 s are not in this window
        gpu.power_mw = 100_000
        clock.advance(0.5)
        result = meter.stop()
    assert result.domains == {"gpu-0": J(100.0)}  # (300 + 100) / 2 x 0.5
    assert result.warnings == () and result.partial_domains == ()


@pytest.mark.parametrize("period", [0.001, 0.0, -1.0, 11.0, float("nan"), "0.05"])
def test_a_sampling_period_the_poller_cannot_keep_is_a_usage_error(period: object) -> None:
    with pytest.raises(UsageError, match=r"^nvml: sample_period_s must be between 0.002 and 10 seconds"):
        NvmlBackend(sample_period_s=period)  # type: ignore[arg-type]


def test_the_fastest_sampling_period_is_the_one_polled_and_reported(install_nvml: Install) -> None:
    install_nvml([FakeGpu(has_counter=False)])
    backend = NvmlBackend(sample_period_s=0.002)
    assert backend.counters()[0].poll_period_s == 0.002
    assert backend.assumptions()["integrated_power"]["sampling_period_s"] == 0.002
