"""The original greenAI profiler names (greenai_core.compat): sensors, units by hand, fallbacks, extra methods."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from compat_backends import GPU_NAME, PowerWorld, _WorldBackend, install_world

from greenai_core import compat
from greenai_core.compat import (
    CodecarbonProfiler,
    EnergyUsageProfiler,
    LikwidProfiler,
    NvidiaProfiler,
    PerfProfiler,
    PyJoulesProfiler,
)
from greenai_core.compat_devices import ram_size_gb
from greenai_core.energy.estimate import cpu_model_name
from greenai_core.errors import BackendUnavailableError, SensorError, UsageError
from greenai_core.plugins import Registry
from greenai_core.testing import fake_clock

#: The seed README's Energy Profiler example. Only changed: the import line, and n (10**8 takes
#: seconds of pure Python per profiler; the example's logic is untouched).
SEED_PROFILER_EXAMPLE = """
from greenai_core.compat import PyJoulesProfiler

def fib(n,show_every_step=False):
    a = 1
    b = 1
    while n > 1 :
        a = a+b
        b = a-b
        n = n-1
    return a

delay_between_measures = 0.1  # in seconds
profiler = PyJoulesProfiler(delay_between_measures)
n = 10**4
total_time, energy_consumed, result = profiler.evaluate(fib,n,show_every_step=True)
print("The result is",result,", it took",total_time,"seconds and consumed",energy_consumed,profiler.get_unit())
"""

NAMES = ["PyJoulesProfiler", "PerfProfiler", "LikwidProfiler", "NvidiaProfiler", "EnergyUsageProfiler",
         "CodecarbonProfiler"]
UNITS = {"PyJoulesProfiler": "uJ", "PerfProfiler": "J", "LikwidProfiler": "J", "NvidiaProfiler": "J",
         "EnergyUsageProfiler": "kWh", "CodecarbonProfiler": "kgCO2eq"}


@pytest.fixture
def world(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Iterator[PowerWorld]:
    """Exact world: a fake clock; rapl package-0 10 W, core-0 6 W (inside the package), dram-0 2.5 W; nvml 100 W."""
    with fake_clock() as clock:
        w = PowerWorld(clock)
        install_world(registry, w)
        yield w
    _WorldBackend.world = None


def fib(n: int) -> int:
    a = b = 1
    while n > 1:
        a, b, n = a + b, a, n - 1
    return a


@pytest.mark.parametrize("name", NAMES)
def test_the_seed_example_runs_under_each_profiler_name(
        name: str, registry: Registry, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    install_world(registry, PowerWorld(clock=None))  # real time: the example's fib really runs
    monkeypatch.setenv("GREENAI_CARBON_INTENSITY", "400")  # CodecarbonProfiler's intensity, with the code unchanged
    namespace: dict[str, object] = {}
    try:
        exec(SEED_PROFILER_EXAMPLE.replace("PyJoulesProfiler", name), namespace)  # noqa: S102 - our own text
    finally:
        _WorldBackend.world = None
    profiler = namespace["profiler"]
    assert isinstance(profiler, getattr(compat, name))
    assert namespace["result"] == fib(10**4)
    m = profiler.last_measurement
    assert m is not None and m.method == "measured" and m.energy_j > 0
    # The figure is the measurement's total in the profiler's unit, exactly.
    assert namespace["energy_consumed"] == profiler.in_unit(m.energy_j) > 0
    assert namespace["total_time"] == m.duration_s
    expected = {"NvidiaProfiler": {"gpu-0"}, "EnergyUsageProfiler": {"package-0", "dram-0", "gpu-0"},
                "CodecarbonProfiler": {"package-0", "dram-0", "gpu-0"}}.get(name, {"package-0", "dram-0"})
    assert set(m.counted_domains) == expected
    assert capsys.readouterr().out.rstrip().endswith(f"consumed {namespace['energy_consumed']} {UNITS[name]}")
    assert profiler.get_unit() == UNITS[name]


def test_units_and_conversions_by_hand(world: PowerWorld) -> None:
    # 2 s: package-0 20 J + dram-0 5 J = 25 J from RAPL (core-0's 12 J is inside the package); gpu-0 200 J.
    profilers = {
        "pyjoules": PyJoulesProfiler(0.1), "perf": PerfProfiler(0.1), "likwid": LikwidProfiler(0.1),
        "nvidia": NvidiaProfiler(0.1), "energyusage": EnergyUsageProfiler(0.1),
        "codecarbon": CodecarbonProfiler(0.1, carbon_intensity=400, pue=1.5),
    }
    for p in profilers.values():
        p.start()
    world.advance(2.0)
    got = {name: p.stop() for name, p in profilers.items()}
    assert got["pyjoules"] == 25_000_000.0  # µJ
    assert got["perf"] == got["likwid"] == 25.0
    assert got["nvidia"] == 200.0
    assert got["energyusage"] == pytest.approx(6.25e-5, rel=1e-12)  # 225 J / 3.6e6 J per kWh
    assert got["codecarbon"] == pytest.approx(3.75e-5, rel=1e-12)  # 6.25e-5 kWh x 1.5 x 400 g/kWh = 0.0375 g
    assert profilers["pyjoules"].get_energy_ram() == 5_000_000.0
    assert profilers["perf"].get_energy_ram() == 5.0
    assert profilers["energyusage"].get_energy_ram() == pytest.approx(5 / 3.6e6, rel=1e-12)
    for p in profilers.values():
        assert p.get_energy() == got[next(k for k, v in profilers.items() if v is p)]
        assert p.fallback is None and p.last_measurement is not None and not p.last_measurement.warnings


def test_evaluate_and_the_with_form_give_the_same_units(world: PowerWorld) -> None:
    profiler = PyJoulesProfiler(0.5)
    seconds, energy, result = profiler.evaluate(lambda: world.advance(4.0) or "done")
    assert (seconds, energy, result) == (4.0, 50_000_000.0, "done")
    with LikwidProfiler(1) as likwid:
        world.advance(1.0)
    assert likwid.get_energy() == 12.5


def test_pyjoules_domain_lists(world: PowerWorld) -> None:
    only_package = PyJoulesProfiler(0.1, cpu_domains=[0], ram_domains=[])
    with only_package:
        world.advance(1.0)
    assert only_package.get_energy() == 10_000_000.0
    with_uncore = PyJoulesProfiler(0.1, gpu_domains=[0])
    with with_uncore:
        world.advance(1.0)
    assert with_uncore.get_energy() == 12_500_000.0
    assert any("gpu_domains (uncore) lie inside their package" in w for w in with_uncore.last_measurement.warnings)
    with pytest.raises(UsageError, match=r"no package-1, dram-1 domain here \(read: core-0, dram-0, package-0\)"):
        PyJoulesProfiler(0.1, cpu_domains=[1], ram_domains=[1])


def test_extra_methods_answer_from_the_sensor(world: PowerWorld, tmp_path: Path) -> None:
    nvidia = NvidiaProfiler(0.1, power_cap=300)
    assert nvidia.get_device_name() == GPU_NAME
    assert nvidia.get_max_power() == 250.0  # the board's limit, not power_cap (accepted, unused)
    assert nvidia.power_cap == 300
    likwid = LikwidProfiler(0.1)
    assert likwid.get_max_power() == 65.0  # package-0's limit; core-0 is inside it
    assert likwid.get_device_name() == cpu_model_name() != ""
    assert EnergyUsageProfiler(0.1).get_max_power() == 65.0 + 15.0 + 250.0
    assert likwid.get_ram_size() == ram_size_gb() > 0
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemFree:  1 kB\nMemTotal:       16384000 kB\n")
    assert ram_size_gb(str(meminfo)) == 16384000 * 1024 / 1e9
    with nvidia:
        world.advance(1.0)
    with pytest.raises(SensorError, match=r"get_energy_ram: no DRAM counter was read \(domains: gpu-0\)"):
        nvidia.get_energy_ram()
    with pytest.raises(UsageError, match="nothing measured yet"):
        likwid.get_energy_ram()


def test_an_unavailable_sensor_falls_back_to_the_estimate_with_a_warning(world: PowerWorld) -> None:
    world.unavailable.update(rapl="no powercap folder at /nowhere", nvml="no NVIDIA driver")
    with pytest.warns(RuntimeWarning, match=r"PyJoulesProfiler: the rapl sensor cannot be read here \(no powercap "
                                            r"folder at /nowhere\); figures are the estimate"):
        profiler = PyJoulesProfiler(0.1, cpu_domains=[0], ram_domains=[0])
    assert profiler.backends == ["estimate"] and profiler.fallback == "no powercap folder at /nowhere"
    with profiler:
        sum(range(20_000))
        world.advance(1.0)  # the estimate counts this process's real CPU time over the window's (fake) second
    m = profiler.last_measurement
    assert m is not None and m.method == "estimated" and list(m.domains) == ["cpu"]
    assert profiler.get_energy() == m.energy_j * 1e6
    assert any("rapl sensor cannot be read here" in w for w in m.warnings)
    with pytest.raises(SensorError, match="get_energy_ram: no DRAM counter was read"):
        profiler.get_energy_ram()
    with pytest.warns(RuntimeWarning, match="nvml sensor cannot be read here"):
        nvidia = NvidiaProfiler(0.1)
    with pytest.raises(SensorError, match=r"get_device_name: no GPU is read here \(nvml: no NVIDIA driver\)"):
        nvidia.get_device_name()
    with pytest.raises(SensorError, match="get_max_power: no measured domain gives a maximum power here"):
        nvidia.get_max_power()
    with pytest.warns(RuntimeWarning, match="rapl sensor cannot be read here"):
        perf = PerfProfiler(0.1)
    with pytest.warns(RuntimeWarning, match="maximum the estimate assumes"):
        assert perf.get_max_power() > 0


def test_strict_mode_makes_the_fallback_an_error(world: PowerWorld, registry: Registry) -> None:
    world.unavailable["rapl"] = "permission denied"
    with pytest.raises(BackendUnavailableError, match=r"'rapl' is unavailable: PerfProfiler\(strict=True\) reads "
                                                      r"only it: permission denied"):
        PerfProfiler(0.1, strict=True)
    assert NvidiaProfiler(0.1, strict=True).backends == ["nvml"]
    world.unavailable["nvml"] = "no NVIDIA driver"
    with pytest.raises(BackendUnavailableError, match="EnergyUsageProfiler.strict=True.: no hardware energy sensor"):
        EnergyUsageProfiler(0.1, strict=True)


def test_a_sensor_plugin_not_installed_falls_back_or_fails_strictly(registry: Registry) -> None:
    with pytest.warns(RuntimeWarning, match=r"rapl sensor cannot be read here \(unknown energy backend 'rapl'"):
        assert LikwidProfiler(0.1).backends == ["estimate"]
    with pytest.raises(BackendUnavailableError, match="unknown energy backend 'nvml'"):
        NvidiaProfiler(1, strict=True)


def test_codecarbon_needs_a_carbon_intensity_never_looked_up(registry: Registry,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GREENAI_CARBON_INTENSITY", raising=False)
    with pytest.raises(UsageError, match="CodecarbonProfiler needs a carbon intensity in g CO2e per kWh"):
        CodecarbonProfiler(0.1)
    monkeypatch.setenv("GREENAI_CARBON_INTENSITY", "lots")
    with pytest.raises(UsageError, match="GREENAI_CARBON_INTENSITY='lots' is not a number"):
        CodecarbonProfiler(0.1)
    monkeypatch.setenv("GREENAI_CARBON_INTENSITY", "250")
    profiler = CodecarbonProfiler(0.1, backends=["estimate"])
    assert (profiler.carbon_intensity, profiler.pue) == (250.0, 1.0)
    assert profiler.in_unit(3.6e6) == 0.25  # 1 kWh x 250 g/kWh = 0.25 kg
    with pytest.raises(UsageError, match="pue must be a number from 1 to 10, not 0.5"):
        CodecarbonProfiler(0.1, carbon_intensity=100, pue=0.5)
    with pytest.warns(RuntimeWarning, match="save_to_file is not supported"):
        CodecarbonProfiler(0.1, True, carbon_intensity=100, backends=["estimate"])


@pytest.mark.parametrize("delay", [0, -1, math.inf, math.nan, "1"])
def test_the_delay_is_checked_as_the_original_did(registry: Registry, delay: object) -> None:
    with pytest.raises(UsageError, match="delay must be a positive number of seconds"):
        PerfProfiler(delay)  # type: ignore[arg-type]


def test_a_pyjoules_list_left_out_means_every_socket_so_dram_is_never_dropped(world: PowerWorld) -> None:
    # The original's cpu_domains=[0] with ram_domains at its default still meant DRAM 0 (then dropped it).
    for kwargs in ({"cpu_domains": [0]}, {"ram_domains": [0]}, {"cpu_domains": [0], "ram_domains": [0]}):
        profiler = PyJoulesProfiler(0.1, **kwargs)
        assert profiler.domains == ["package-0", "dram-0"], kwargs
        with profiler:
            world.advance(1.0)
        assert profiler.get_energy() == 12_500_000.0, kwargs  # package-0 10 J + dram-0 2.5 J, in µJ
    only_ram = PyJoulesProfiler(0.1, cpu_domains=[], ram_domains=[0])
    with only_ram:
        world.advance(2.0)
    assert only_ram.get_energy() == 5_000_000.0


def test_one_profiler_measures_one_span_at_a_time(world: PowerWorld) -> None:
    profiler = PerfProfiler(0.1)
    with pytest.raises(UsageError, match="this PerfProfiler was not started"):
        profiler.stop()
    with profiler:
        with pytest.raises(UsageError, match="this PerfProfiler is already measuring; call stop"):
            profiler.start()
        with LikwidProfiler(0.1) as inner:  # nesting two profilers is fine
            world.advance(1.0)
        world.advance(1.0)
    assert (inner.get_energy(), profiler.get_energy()) == (12.5, 25.0)
    with pytest.raises(UsageError, match="was not started"):
        profiler.stop()
    # used again: a fresh span, the same exact units
    assert profiler.evaluate(lambda: world.advance(2.0))[1] == 25.0
    with profiler:
        world.advance(4.0)
    assert profiler.get_energy() == 50.0


def test_two_threads_cannot_both_start_one_profiler(world: PowerWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    profiler = PerfProfiler(0.1)
    made: list[object] = []
    inside, go = threading.Event(), threading.Event()
    real_new_meter = profiler._new_meter

    def slow_new_meter() -> object:  # the first start() lingers while the second thread tries
        made.append(None)
        inside.set()
        go.wait(5)
        return real_new_meter()

    monkeypatch.setattr(profiler, "_new_meter", slow_new_meter)
    outcomes: list[str] = []

    def start() -> None:
        try:
            profiler.start()
            outcomes.append("started")
        except UsageError as exc:
            outcomes.append(str(exc))

    first = threading.Thread(target=start)
    first.start()
    assert inside.wait(5)
    second = threading.Thread(target=start)
    second.start()
    time.sleep(0.2)  # lets the second thread reach start(): not an assertion on time
    go.set()
    first.join(5)
    second.join(5)
    assert len(made) == 1 and len(outcomes) == 2 and outcomes.count("started") == 1
    assert any("already measuring" in o for o in outcomes)
    world.advance(1.0)
    assert profiler.stop() == 12.5  # the one window started is the one stopped


def test_energy_usage_with_no_hardware_sensor_says_it_is_the_estimate(world: PowerWorld) -> None:
    world.unavailable.update(rapl="no powercap folder", nvml="no NVIDIA driver")
    with pytest.warns(RuntimeWarning, match="EnergyUsageProfiler: no hardware energy sensor can be read here; "
                                            "figures are the estimate"):
        profiler = EnergyUsageProfiler(0.1)
    with profiler:
        world.advance(1.0)
    m = profiler.last_measurement
    assert m is not None and m.method == "estimated"
    assert any("EnergyUsageProfiler: no hardware energy sensor" in w for w in m.warnings)
    with pytest.warns(RuntimeWarning, match="no hardware sensor is read here; this is the maximum the estimate"):
        assert profiler.get_max_power() > 0


def test_a_figure_that_is_partial_or_no_reading_is_never_a_silent_number(
        world: PowerWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    from compat_backends import RaplLike

    def broken(self: RaplLike) -> dict[str, float]:
        raise OSError("the powercap file vanished")

    perf, usage = PerfProfiler(0.1), EnergyUsageProfiler(0.1)
    perf.start()
    world.advance(1.0)
    monkeypatch.setattr(RaplLike, "read", broken)
    # PerfProfiler reads only RAPL: nothing at all was read
    with pytest.warns(RuntimeWarning, match=r"PerfProfiler: nothing could be read: the 0 is no measurement "
                                            r"\(rapl: read\(\) raised OSError: the powercap file vanished"):
        assert perf.stop() == 0.0
    assert perf.last_measurement is not None and perf.last_measurement.method == "none"
    # EnergyUsageProfiler still has the GPU's 100 J: a lower bound, said so
    monkeypatch.undo()
    usage.start()
    world.advance(1.0)
    monkeypatch.setattr(RaplLike, "read", broken)
    with pytest.warns(RuntimeWarning, match=r"EnergyUsageProfiler: the figure is partial \(a lower bound\)"):
        assert usage.stop() == pytest.approx(100 / 3.6e6, rel=1e-12)
    assert usage.last_measurement is not None and usage.last_measurement.partial
