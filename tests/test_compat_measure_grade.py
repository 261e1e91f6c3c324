"""``greenai measure --grade``: the original webconnection.py flow, offline, with hand-computed grades.

The "rapl" test backend has a known power over a fake clock: the idle window's wait and the
command's run each move the clock (``command_grade._sleep`` and ``measure_cmd._start`` are
wrapped), so every figure below is exact.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from compat_backends import PowerWorld, _WorldBackend, install_world

from greenai_core import command_grade, compat_devices
from greenai_core.cli import main, measure_cmd
from greenai_core.command_grade import command_reference, grade_command
from greenai_core.errors import GradeError
from greenai_core.plugins import Registry
from greenai_core.testing import fake_clock

TRUE = shutil.which("true") or "/bin/true"
IDLE = {"package_0": 4.0, "core_0": 2.0, "dram_0": 1.0}  # 5 W counted (core-0 is inside the package)
#: The machine's memory in the tests: DRAM's maximum is the original's 0.3725 W per GB x 20 GB = 7.45 W.
RAM_GB = 20.0
RAM_MAX_W = 20.0 * 0.3725


@pytest.fixture
def world(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Iterator[PowerWorld]:
    """Idle at 5 W; every command runs ``world.command_s`` seconds at package-0 40 W + dram-0 5 W = 45 W."""
    with fake_clock() as clock:
        w = PowerWorld(clock)
        w.advance(0.0, **IDLE)
        install_world(registry, w)
        w.command_s = 4.0  # type: ignore[attr-defined]
        real_start = measure_cmd._start

        def start(command: list[str], stdout: int | None) -> subprocess.Popen[bytes]:
            child = real_start(command, stdout)
            child.wait()  # the real command runs; then its (fake) time passes at 45 W
            w.advance(w.command_s, package_0=40.0, core_0=30.0, dram_0=5.0)  # type: ignore[attr-defined]
            w.advance(0.0, **IDLE)
            return child

        monkeypatch.setattr(measure_cmd, "_start", start)
        monkeypatch.setattr(command_grade, "_sleep", lambda s, stop=None: w.advance(s))
        monkeypatch.setattr(compat_devices, "ram_size_gb", lambda: RAM_GB)
        yield w
    _WorldBackend.world = None


def measure(tmp_path: Path, *options: str, name: str = "m.json") -> tuple[int, dict[str, Any]]:
    out = tmp_path / name
    code = main(["measure", "--backend", "rapl", "--json", str(out), *options, "--", TRUE])
    return code, json.loads(out.read_text()) if out.exists() else {}


def test_greenidcard_grade_of_a_command_by_hand(world: PowerWorld, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, data = measure(tmp_path, "--grade", "--pue", "2")
    assert code == 0
    # idle: 3 s (the default) at 5 W = 15 J; command: 4 s at 45 W = 180 J.
    assert (data["idle"]["duration_s"], data["idle"]["energy_j"]) == (3.0, 15.0)
    assert (data["duration_s"], data["energy_j"]) == (4.0, 180.0)
    grade = data["grade"]
    d = grade["details"]
    assert (d["command_power_w"], d["idle_power_w"], d["active_power_w"], d["pue"]) == (45.0, 5.0, 40.0, 2.0)
    # maximum power: package-0's limit 65 W + RAM as the original, 0.3725 W/GB x 20 GB = 7.45 W, in place of
    # dram-0's own 15 W (core-0 is not counted)
    assert d["max_power_by_domain"] == {"package-0": 65.0, "ram": RAM_MAX_W}
    assert d["max_power_w"] == 65.0 + RAM_MAX_W == pytest.approx(72.45, rel=1e-12)
    # metric 1 = 40 W x 2 / 1000 = 0.08 -> A; metric 2 = 40 / 72.45 = 0.552 -> C (0.50 <= C < 1); the worse: C
    metrics = d["metrics"]
    assert metrics["greenidcard: active power x PUE / 1000"] == {"value": 0.08, "letter": "A", "unit": "kW"}
    assert metrics["greenidcard: active power / maximum power"] == {"value": 40 / (65.0 + RAM_MAX_W), "letter": "C",
                                                                     "unit": ""}
    assert (grade["scheme"], grade["letter"], grade["stars"], grade["legacy"], grade["value"]) == \
        ("greenidcard", "C", None, True, 40 / (65.0 + RAM_MAX_W))
    assert grade["warnings"] == []
    err = capsys.readouterr().err
    assert "greenai: measuring idle power for 3 s before the command (--idle 0 skips it)" in err
    assert "grade: C: legacy GreenIDCard scale" in err
    assert "active power 40 W = command 45 W - idle 5 W; PUE 2; maximum power 72.45 W (sum of the read domains' " \
           "plausible maximum powers: rapl (each zone's highest power-limit constraint, else 500 W); DRAM as the " \
           "original: 0.3725 W per GB x 20 GB of memory)" in err


def test_idle_window_length_max_power_and_no_idle(world: PowerWorld, tmp_path: Path) -> None:
    code, data = measure(tmp_path, "--grade", "--idle", "0.5", "--max-power", "400")
    assert code == 0 and data["idle"]["duration_s"] == 0.5
    d = data["grade"]["details"]
    # active 40 W, PUE 1.0 (the default): metric 1 = 0.04 (A), metric 2 = 40 / 400 = 0.1 (A)
    assert (d["pue"], d["max_power_w"], d["max_power_source"]) == (1.0, 400.0, "given")
    assert data["grade"]["letter"] == "A"
    code, data = measure(tmp_path, "--grade", "--idle", "0", name="no-idle.json")
    d = data["grade"]["details"]
    assert data["idle"] is None and (d["idle_power_w"], d["active_power_w"]) == (0.0, 45.0)
    assert "no idle window: the active power is the command's whole mean power" in data["grade"]["warnings"]


def test_relative_grade_against_earlier_measurements(world: PowerWorld, tmp_path: Path) -> None:
    earlier = []
    for seconds in (1, 2, 3, 4, 5):  # 45, 90, 135, 180, 225 J
        world.command_s = float(seconds)  # type: ignore[attr-defined]
        code, _ = measure(tmp_path, name=f"run{seconds}.json")
        earlier.append(tmp_path / f"run{seconds}.json")
    reference = command_reference(earlier)
    assert reference.values == [45.0, 90.0, 135.0, 180.0, 225.0] and reference.metric == "command_energy_j"
    reference.save(tmp_path / "ref.json")
    world.command_s = 4.0  # type: ignore[attr-defined]
    code, data = measure(tmp_path, "--grade", "--scheme", "relative", "--reference", str(tmp_path / "ref.json"),
                         "--idle", "0")
    grade = data["grade"]
    # boundaries (linear quantiles): 81, 117, 153, 189 J: 180 J is D; stars: bins of 36 J from 45 J: 2 stars
    assert grade["details"]["boundaries"] == pytest.approx([81.0, 117.0, 153.0, 189.0], rel=1e-12)
    assert (grade["letter"], grade["stars"], grade["value"], grade["metric"]) == ("D", 2, 180.0, "command_energy_j")
    assert grade["reference"]["count"] == 5


def test_grade_options_are_checked_before_anything_runs(world: PowerWorld, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "ran"
    for options, message in [
        (["--pue", "2"], "--pue needs --grade"),
        (["--grade", "--scheme", "relative"], "grading a command on the relative scheme needs a reference of "
                                              "command_energy_j (--reference REF.json)"),
        (["--grade", "--scheme", "relative", "--reference", str(tmp_path / "none.json")], "none.json: no such file"),
        (["--grade", "--reference", "x.json"], "--reference is for --scheme relative"),
        (["--grade", "--pue", "0.5"], "pue must be a finite number >= 1"),
        (["--grade", "--idle", "-1"], "--idle must be a finite number of seconds >= 0"),
        (["--grade", "--max-power", "0"], "--max-power must be a finite number of watts above 0"),
        (["--grade", "--max-power", "-5"], "--max-power must be a finite number of watts above 0"),
        (["--grade", "--max-power", "inf"], "--max-power must be a finite number of watts above 0"),
        (["--grade", "--pue", "nan"], "pue must be a finite number >= 1, not nan"),
        (["--grade", "--pue", "-2"], "pue must be a finite number >= 1"),
        (["--grade", "--idle", "nan"], "--idle must be a finite number of seconds >= 0, not nan"),
    ]:
        capsys.readouterr()
        assert main(["measure", *options, "--", "touch", str(marker)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, (options, err)
        assert not marker.exists()


def test_a_reference_of_another_metric_is_refused(world: PowerWorld, tmp_path: Path) -> None:
    from greenai_core.grading import Reference

    Reference.from_values("energy_per_inference_j", [1, 2, 3, 4, 5]).save(tmp_path / "ref.json")
    with pytest.raises(GradeError, match="holds 'energy_per_inference_j', not 'command_energy_j'"):
        command_grade.load_reference(tmp_path / "ref.json")
    (tmp_path / "idle.json").write_text(json.dumps({"energy_j": 0.0, "method": "none", "backends": []}))
    with pytest.raises(GradeError, match="idle.json: holds no energy to build a reference from"):
        command_reference([tmp_path / "idle.json"])


def test_grade_command_from_python(world: PowerWorld) -> None:
    from greenai_core import Meter

    idle = command_grade.measure_idle(2.0, ["rapl"])
    with Meter(["rapl"]) as meter:
        world.advance(2.0, package_0=95.0, dram_0=10.0)  # 105 W: active 100 W
    grade = grade_command(meter.result, idle, backends=["rapl"], pue=1.2)
    # metric 1 = 100 x 1.2 / 1000 = 0.12 (A); metric 2 = 100 / (65 + 7.45) = 1.380 (D)
    assert (grade.letter, grade.value) == ("D", 100 / (65.0 + RAM_MAX_W))
    below = grade_command(idle, meter.result, backends=["rapl"])  # "command" below idle: 0 W active
    assert below.details["active_power_w"] == 0.0 and below.letter == "A"
    assert any("below the idle power" in w for w in below.warnings)


def test_a_failed_or_interrupted_command_is_graded_with_a_warning(world: PowerWorld, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import signal

    out = tmp_path / "failed.json"
    code = main(["measure", "--backend", "rapl", "--json", str(out), "--grade", "--idle", "1", "--",
                 shutil.which("false") or "/bin/false"])
    grade = json.loads(out.read_text())["grade"]
    assert code == 1 and grade["letter"] == "C"
    assert "the command failed (exit code 1): this grade covers a failed run" in grade["warnings"]

    started = measure_cmd._start

    def start_then_terminated(command: list[str], stdout: int | None) -> subprocess.Popen[bytes]:
        child = started(command, stdout)
        os.kill(os.getpid(), signal.SIGTERM)  # greenai is asked to stop while the command runs
        return child

    monkeypatch.setattr(measure_cmd, "_start", start_then_terminated)
    code, data = measure(tmp_path, "--grade", "--idle", "1", name="stopped.json")
    assert (code, data["interrupted"]) == (0, "SIGTERM")  # `true` ended by itself, with 0
    assert "the command was interrupted by SIGTERM: this grade covers only the part that ran" in \
        data["grade"]["warnings"]


def test_a_signal_during_the_idle_window_ends_it_and_runs_nothing(
        world: PowerWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import os
    import signal

    seen: list[bool] = []

    def idle_then_signal(seconds: float, stop: Any) -> None:
        world.advance(seconds / 2)
        os.kill(os.getpid(), signal.SIGTERM)
        seen.append(stop())  # the idle wait is told to stop: the command must not run

    monkeypatch.setattr(command_grade, "_sleep", idle_then_signal)
    marker, out = tmp_path / "ran", tmp_path / "m.json"
    capsys.readouterr()
    code = main(["measure", "--backend", "rapl", "--json", str(out), "--grade", "--", "touch", str(marker)])
    assert (code, seen) == (128 + signal.SIGTERM, [True])
    assert not marker.exists() and not out.exists()
    assert capsys.readouterr().err.endswith("greenai: SIGTERM received before the command started; not run\n")


def test_the_idle_wait_polls_its_stop() -> None:
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) >= 3

    command_grade._wait(600.0, stop)  # returns at the third question, not after 600 s
    assert len(asked) == 3


def test_dram_maximum_without_a_memory_size_keeps_the_domain_limit(world: PowerWorld,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from greenai_core import Meter
    from greenai_core.errors import SensorError

    def unknown() -> float:
        raise SensorError("the memory size is unknown here")

    monkeypatch.setattr(compat_devices, "ram_size_gb", unknown)
    with Meter(["rapl"]) as meter:
        world.advance(2.0, package_0=45.0, dram_0=5.0)
    grade = grade_command(meter.result, None, backends=["rapl"])
    assert grade.details["max_power_by_domain"] == {"package-0": 65.0, "dram-0": 15.0}
    assert grade.value == 50 / 80  # metric 2 (C) is worse than metric 1 (0.05 kW, A)
    assert "DRAM's maximum power is its domains' plausible maximum: the memory size is unknown here" in grade.warnings


def test_no_grade_from_an_invalid_figure(world: PowerWorld) -> None:
    import dataclasses
    import math

    from greenai_core import Meter

    with Meter(["rapl"]) as meter:
        world.advance(1.0)
    for bad in (math.nan, math.inf):
        broken = dataclasses.replace(meter.result, energy_j=bad)
        with pytest.raises(GradeError, match=r"the command's energy \((nan|inf) J\) is no valid figure: no grade"):
            grade_command(broken, None, backends=["rapl"])
