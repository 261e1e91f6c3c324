"""Grading odd and hostile inputs: malformed reports, broken windows, estimates and interruptions on the legacy
scale, figures that round alike, and a real profile's maximum power reaching the GreenIDCard's second metric."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from greenai_cli_runner import greenai
from profiling_fixtures import ESTIMATE, inference_report, training_report
from profiling_world import world_of

from greenai_core.errors import GradeError
from greenai_core.grading import Reference, grade
from greenai_core.plugins import Registry

METRIC_2 = "greenidcard: active power / maximum power"


def five(values: tuple[float, ...] = (1.0, 2.0, 3.0, 4.0, 5.0)) -> Reference:
    data = inference_report()
    return Reference.from_values("energy_per_inference_j", list(values), hardware=data["environment"],
                                 settings={"batch_size": 1, "method": "measured", "device": "cpu"})


@pytest.mark.parametrize("schema", [["greenai.inference-report/1"], {"a": 1}, 7, None])
def test_a_schema_that_is_not_text_is_refused_not_crashed(schema: Any) -> None:
    report = inference_report()
    report["schema"] = schema
    with pytest.raises(GradeError, match="^the report: not a greenai profiling report"):
        grade(report, five())


def test_greenidcard_says_the_energy_is_an_estimate_and_the_report_incomplete() -> None:
    report = training_report()  # an estimated training run
    report.update(complete=False, interrupted="KeyboardInterrupt")
    result = grade(report, scheme="greenidcard")
    assert result.warnings[:2] == [
        "the report is incomplete (KeyboardInterrupt): its figure covers only what finished",
        "the report's energy is an estimate, not a measurement"]


def test_greenidcard_ignores_windows_without_a_positive_duration_or_with_negative_energy() -> None:
    report = inference_report()
    good = report["repeats"][:2]
    nets = sum(r["net_energy_j"] for r in good)
    seconds = sum(r["duration_s"] for r in good)
    report["repeats"] = [*good, {**good[0], "duration_s": -1.0}, {**good[0], "duration_s": 0.0},
                         {**good[0], "energy_j": -5.0}, {**good[0], "energy_j": "x"}, {**good[0], "duration_s": True},
                         "not a window"]
    result = grade(report, scheme="greenidcard")
    assert result.details["active_power_w"] == pytest.approx(nets / seconds, rel=1e-12)


@pytest.mark.parametrize("pue", [-3, 0, "2", True])
def test_greenidcard_says_when_the_reports_pue_is_unusable(pue: Any) -> None:
    report = inference_report()
    report["carbon"]["pue"] = pue
    result = grade(report, scheme="greenidcard")
    assert result.details["pue"] == 1.0 and result.details["pue_from"] == "default"
    assert f"the report's PUE {str(pue)!r} is not a positive number: 1.0 is used" in result.warnings


def test_an_out_of_range_warning_shows_the_digits_that_differ() -> None:
    reported = inference_report()["stats"]["energy_per_inference_j"]["mean"]  # 0.476 J
    below = grade(inference_report(), five((reported * 1.0005, 1.0, 2.0, 3.0, 4.0)))
    assert below.warnings == [f"{reported * 1e3:.4g} mJ is below the reference's range "
                              f"({reported * 1.0005 * 1e3:.4g} mJ..4 J): graded as its lowest"]
    above = grade(inference_report(), five((0.1, 0.2, 0.3, 0.4, reported * 0.99999)))
    assert above.warnings == [f"{reported * 1e3:.6g} mJ is above the reference's range "
                              f"(100 mJ..{reported * 0.99999 * 1e3:.6g} mJ): graded as its highest"]


def test_the_backends_asked_for_are_not_a_difference_when_the_same_ones_measured() -> None:
    report = training_report()  # automatic backends (None), measured by the estimate
    ref = Reference.from_values("energy_per_step_j", [1.0, 3.0, 5.0, 7.0, 9.0], hardware=report["environment"],
                                settings={"batch_size": 32, "backends": ["estimate"], "method": "estimated"})
    assert grade(report, ref).warnings == ["the report's energy is an estimate, not a measurement"]
    other = {**report["environment"], "backends": [{**ESTIMATE, "method": "measured", "name": "rapl"}]}
    ref = Reference.from_values("energy_per_step_j", [1.0, 3.0, 5.0, 7.0, 9.0], hardware=other,
                                settings={"batch_size": 32, "method": "estimated"})
    assert "energy backends differ from the reference's: estimate (estimated) vs rapl (measured) in the reference" \
        in grade(report, ref).warnings


def test_a_real_profiles_maximum_power_reaches_the_second_metric(registry: Registry, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from greenai_core import profile_inference

    with world_of(registry, tmp_path, monkeypatch) as (world, model):
        world.backend._max_power_w = 25.0  # each of its two domains (package-0, dram-0): 50 W in all
        report = profile_inference(model, np.zeros((1, 3, 2, 2), np.float32), repeats=2, runs=64, warmup=1,
                                   backends=[world.backend],
                                   baseline_s=1.0, timeline=False)
    # gross 2 x 10 W while working, idle 2 x 2 W: 16 W active; 16 / 50 = 0.32 is B (16 W / 1000 = 0.016 is A)
    result = grade(report.to_dict(), scheme="greenidcard")
    assert result.details["active_power_w"] == pytest.approx(16.0, rel=1e-9)
    assert result.details["max_power_w"] == 50.0
    assert result.details["metrics"][METRIC_2]["value"] == pytest.approx(0.32, rel=1e-9)
    assert (result.letter, result.metric) == ("B", METRIC_2)
    assert result.warnings == []


@pytest.mark.parametrize("kind", ["schema list", "symlink loop", "fifo", "folder", "empty"])
def test_the_cli_refuses_odd_report_files_in_one_line(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "report.json"
    if kind == "schema list":
        path.write_text(json.dumps({**inference_report(), "schema": ["x"]}))
    elif kind == "symlink loop":
        os.symlink(tmp_path / "other", path)
        os.symlink(path, tmp_path / "other")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"")
    done = greenai("grade", str(path), "--scheme", "greenidcard")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"greenai: error: {path}: ") and done.stderr.count("\n") == 1, done.stderr


def test_real_interrupted_profiles(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from greenai_core import profile_inference
    from greenai_core.profiling import ProfilingInterrupted

    def interrupted(at: int) -> dict[str, Any]:
        with world_of(registry, tmp_path, monkeypatch) as (world, model):
            world.interrupt_at_forward = at
            with pytest.raises(ProfilingInterrupted) as caught:
                profile_inference(model, np.ones((1, 3, 2, 2), np.float32), runs=4, warmup=2, repeats=5,
                                  baseline_s=0, backends=[world.backend], timeline=False)
        return caught.value.report.to_dict()  # type: ignore[attr-defined, no-any-return]

    # two repeats of 4 forward passes finished: 2 domains x 10 W x 1/128 s = 0.15625 J per inference, graded with
    # a warning. Against 0.1 .. 0.5: boundaries 0.18 0.26 0.34 0.42 -> B from 0.18; 0.15625 is A. Against
    # 0.05 .. 0.25: boundaries 0.09 0.13 0.17 0.21 -> C; star edges 0.09 0.13 0.17 0.21 -> 3 stars.
    report = interrupted(2 + 2 * 4 + 3)
    ref = Reference.from_values("energy_per_inference_j", [0.05, 0.1, 0.15, 0.2, 0.25],
                                hardware=report["environment"], settings={"batch_size": 1, "method": "measured"})
    partial = grade(report, ref)
    assert partial.value == pytest.approx(2 * 10.0 / 128, rel=1e-9)
    assert (partial.letter, partial.stars) == ("C", 3)
    assert grade(report, five((0.1, 0.2, 0.3, 0.4, 0.5))).letter == "A"
    assert partial.warnings == ["the report is incomplete (KeyboardInterrupt): its figure covers only what finished"]
    nothing = interrupted(1)
    assert nothing["method"] == "none"  # nothing was read: but the reason to say is the interruption
    for scheme in ("relative", "greenidcard"):
        with pytest.raises(GradeError, match="^the report: holds no energy figure to grade \\(interrupted "
                                             "\\(KeyboardInterrupt\\) before anything finished\\)$"):
            grade(nothing, five(), scheme=scheme)


def test_an_estimates_maximum_power_is_said_to_be_assumed() -> None:
    from greenai_core.cli.grade_text import grade_lines

    report = training_report()  # estimated: active power (54 + 55) J / 6 s = 18.17 W; max 40 W -> 0.454, B
    report["environment"]["backends"] = [{**ESTIMATE, "max_power_w": {"cpu": 40.0}}]
    result = grade(report, scheme="greenidcard")
    assert result.details["metrics"][METRIC_2]["value"] == pytest.approx(109.0 / 6.0 / 40.0, rel=1e-12)
    assert result.letter == "B"
    assert result.warnings == ["the report's energy is an estimate, not a measurement",
                               "no idle baseline in the report: the active power is the gross power, idle included",
                               "the maximum power includes an estimate's assumed power, not a sensor's limit"]
    assert "  maximum power 40 W (the counted domains' plausible maximum power: estimate:cpu 40 W (assumed))" \
        in grade_lines(result)


def test_odd_values_in_a_reference_file_are_shown_not_crashed_on(tmp_path: Path) -> None:
    from greenai_core.cli.grade_text import reference_lines

    data = five().to_dict()
    data["hardware"] = {"backends": 5, "gpus": 7, "logical_cpus": {}, "cpu_model": ["x"]}
    data["entries"][0].update(warnings=3, parameters=True)
    data["entries"][1]["warnings"] = ["odd"]
    ref_path, report = tmp_path / "ref.json", tmp_path / "report.json"
    ref_path.write_text(json.dumps(data))
    report.write_text(json.dumps(inference_report()))
    done = greenai("grade", str(report), "--reference", str(ref_path))
    assert done.returncode == 0, done.stderr
    assert "  reference hardware: ['x'], {} logical CPUs; GPUs: 7; backends: none\n" in done.stdout
    lines = reference_lines(Reference.load(ref_path))
    assert lines[2].split()[:2] == ["entry-1", "?"] and lines[-1] == "warning: odd"
