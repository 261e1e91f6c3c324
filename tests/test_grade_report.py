"""Grading reports: exact letters and stars against injected references, refusals, warnings, greenidcard."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from profiling_fixtures import ESTIMATE, RAPL, inference_report, training_report

from greenai_core import InferenceReport, TrainingReport
from greenai_core.errors import GradeError, UsageError
from greenai_core.grading import Grade, Reference, grade, relative_grade

# inference_report(): gross energy per inference = mean of (94 + 0.6 i) / 200 for i in 0..4 = 0.476 J
PER_INFERENCE = sum((94.0 + 0.6 * i) / 200 for i in range(5)) / 5
#: the same figure exactly as the report's statistics hold it (summed in another order: it may differ in the last bit)
REPORTED = inference_report()["stats"]["energy_per_inference_j"]["mean"]
# training_report(): energy per step = mean of 5.4 + 0.01 k for k in 0..19 = 5.495 J
PER_STEP = sum(5.4 + 0.01 * k for k in range(20)) / 20


def reference(values: list[float], metric: str = "energy_per_inference_j", *, hardware: dict[str, Any] | None = None,
              settings: dict[str, Any] | None = None) -> Reference:
    report = inference_report()
    hw = report["environment"] if hardware is None else hardware
    st = {"batch_size": 1, "backends": None, "method": "measured", "device": "cpu"} if settings is None else settings
    return Reference.from_values(metric, [{"name": f"r{i}", "value": v} for i, v in enumerate(values)],
                                 hardware=hw, settings=st, created_at="2026-01-01T00:00:00+00:00")


def test_exact_letter_and_stars_for_an_inference_report() -> None:
    # values 0.1 .. 0.9: boundaries at positions 8 q -> 0.26, 0.42, 0.58, 0.74; stars: edges 0.26, 0.42, 0.58, 0.74
    ref = reference([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    result = grade(inference_report(), ref)
    assert isinstance(result, Grade)
    assert result.value == pytest.approx(PER_INFERENCE, rel=1e-12)  # 0.476: between 0.42 and 0.58
    assert (result.letter, result.stars) == ("C", 3)
    assert result.metric == "energy_per_inference_j" and result.unit == "J"
    assert result.warnings == []
    assert result.details["boundaries"] == pytest.approx([0.26, 0.42, 0.58, 0.74], abs=1e-12)
    assert result.reference == ref.summary()
    assert result.describe().startswith("C (3 stars): 476 mJ per inference vs reference of 9 entries")


@pytest.mark.parametrize(("values", "letter", "stars"), [
    # the report's 0.476 J exactly on the 20 % boundary and the range's low end: B (the worse side), 5 stars
    ([REPORTED] * 2 + [1.0, 2.0, 3.0], "B", 5),
    # exactly the maximum of the reference: E and 1 star, no out-of-range warning
    ([0.1, 0.2, 0.3, 0.4, REPORTED], "E", 1),
    # all reference values equal to it: on every boundary, E; and range of one value, 5 stars
    ([REPORTED] * 5, "E", 5),
])
def test_edges(values: list[float], letter: str, stars: int) -> None:
    result = grade(inference_report(), reference(values))
    assert (result.letter, result.stars) == (letter, stars)
    assert not [w for w in result.warnings if "range" in w]
    assert [w for w in result.warnings if "same value" in w] == (
        ["every entry of the reference has the same value (476 mJ): its letters and stars cannot tell models apart"]
        if len(set(values)) == 1 else [])


def test_outside_the_reference_range_is_clamped_and_warned() -> None:
    low = grade(inference_report(), reference([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert (low.letter, low.stars) == ("A", 5)
    assert low.warnings == ["476 mJ is below the reference's range (1 J..5 J): graded as its lowest"]
    high = grade(inference_report(), reference([0.01, 0.02, 0.03, 0.04, 0.05]))
    assert (high.letter, high.stars) == ("E", 1)
    assert high.warnings == ["476 mJ is above the reference's range (10 mJ..50 mJ): graded as its highest"]


def test_report_object_dict_and_file_grade_alike(tmp_path: Path) -> None:
    ref = reference([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    data = inference_report()
    path = tmp_path / "report.json"
    path.write_text(json.dumps(data))
    as_object = InferenceReport.from_dict(data)
    results = [grade(x, ref) for x in (data, as_object, path, str(path))]
    assert {(r.letter, r.stars, r.value) for r in results} == {(results[0].letter, results[0].stars, results[0].value)}


def test_a_reference_file_is_loaded_and_named(tmp_path: Path) -> None:
    ref_path = tmp_path / "ref.json"
    reference([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]).save(ref_path)
    result = grade(inference_report(), ref_path)
    assert result.letter == "C"
    assert result.reference is not None and result.reference["path"] == str(ref_path)
    assert str(ref_path) in result.describe()


def test_the_default_reference_and_its_absence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref_path = tmp_path / "default.json"
    monkeypatch.setenv("GREENAI_REFERENCE", str(ref_path))
    with pytest.raises(GradeError, match=f"no reference at {ref_path}: make one with `greenai grade --calibrate`"):
        grade(inference_report())
    reference([0.1, 0.2, 0.3, 0.4, 0.5]).save(ref_path)
    assert grade(inference_report()).letter == "E"


def test_a_training_report_grades_energy_per_step_against_a_step_reference() -> None:
    report = training_report()
    with pytest.raises(GradeError, match="a training report is graded by energy per step, which needs a reference "
                                         "of 'energy_per_step_j'"):
        grade(report, reference([0.1, 0.2, 0.3, 0.4, 0.5]))
    steps = reference([1.0, 3.0, 5.0, 7.0, 9.0], "energy_per_step_j", hardware=report["environment"],
                      settings={"batch_size": 32, "method": "estimated"})
    result = grade(TrainingReport.from_dict(report), steps)
    # boundaries 2.6, 4.2, 5.8, 7.4: 5.495 is C; stars over 1..9 (edges 2.6, 4.2, 5.8, 7.4): 3
    assert result.value == pytest.approx(PER_STEP, rel=1e-12)
    assert (result.metric, result.letter, result.stars) == ("energy_per_step_j", "C", 3)
    assert result.warnings == ["the report's energy is an estimate, not a measurement"]
    assert "per training step" in result.describe()


def test_an_inference_report_against_a_step_reference_is_refused() -> None:
    with pytest.raises(GradeError, match="an inference report is graded by energy per inference"):
        grade(inference_report(), reference([1.0, 2.0, 3.0, 4.0, 5.0], "energy_per_step_j"))


def _without_energy(kind: str) -> dict[str, Any]:
    report = inference_report()
    if kind == "method none":
        report["method"] = "none"
    elif kind == "interrupted":
        report.update(stats=None, repeats=[], complete=False, interrupted="KeyboardInterrupt")
    elif kind == "zero":
        report["stats"]["energy_per_inference_j"]["mean"] = 0.0
    else:
        report["stats"]["energy_per_inference_j"] = None
    return report


@pytest.mark.parametrize(("kind", "match"), [
    ("method none", "holds no energy \\(method 'none': no energy backend was read\\): nothing to grade"),
    ("interrupted", "holds no energy figure to grade \\(interrupted \\(KeyboardInterrupt\\) before anything"),
    ("zero", "holds no usable energy_per_inference_j \\(found 0.0\\)"),
    ("missing stat", "holds no usable energy_per_inference_j \\(found None\\)"),
])
def test_a_report_without_energy_is_refused_in_one_line(kind: str, match: str) -> None:
    ref = reference([1.0, 2.0, 3.0, 4.0, 5.0])
    with pytest.raises(GradeError, match=match) as info:
        grade(_without_energy(kind), ref)
    assert "\n" not in str(info.value)
    if kind in ("method none", "interrupted"):  # greenidcard reads the repeats: refused as well
        with pytest.raises(GradeError):
            grade(_without_energy(kind), ref, scheme="greenidcard")


@pytest.mark.parametrize("report", [{"schema": "greenai.reference/1"}, [1, 2], "not json"])
def test_what_is_not_a_report_is_refused(tmp_path: Path, report: Any) -> None:
    path = tmp_path / "x.json"
    path.write_text(report if isinstance(report, str) else json.dumps(report))
    with pytest.raises(GradeError, match=f"^{path}: not a greenai profiling report"):
        grade(path, reference([1.0, 2.0, 3.0, 4.0, 5.0]))


def test_an_unknown_scheme_is_refused_and_grade_error_is_a_usage_error() -> None:
    with pytest.raises(GradeError, match="unknown grading scheme 'stars'"):
        grade(inference_report(), scheme="stars")
    assert issubclass(GradeError, UsageError)


def test_hardware_and_settings_that_differ_are_warned_about() -> None:
    other = copy.deepcopy(inference_report()["environment"])
    other.update(cpu_model="Other CPU", gpus=["NVIDIA H200"], backends=[dict(ESTIMATE)])
    ref = reference([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], hardware=other,
                    settings={"batch_size": 8, "backends": ["estimate"], "method": "estimated", "device": "cpu"})
    result = grade(inference_report(), ref)
    assert result.letter == "C"  # still graded: warned, never hidden
    assert result.warnings == [
        "hardware differs from the reference's: CPU Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz vs Other CPU in "
        "the reference",
        "hardware differs from the reference's: GPUs none vs NVIDIA H200 in the reference",
        "energy backends differ from the reference's: rapl (measured) vs estimate (estimated) in the reference",
        "settings differ from the reference's: batch_size 1 vs 8 in the reference",
        # the backends asked for (None vs ['estimate']) are not compared: the ones that measured are, above
        "settings differ from the reference's: method 'measured' vs 'estimated' in the reference",
    ]


def test_an_incomplete_report_is_graded_with_a_warning() -> None:
    report = inference_report()
    report.update(complete=False, interrupted="KeyboardInterrupt")
    result = grade(report, reference([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]))
    assert result.warnings == ["the report is incomplete (KeyboardInterrupt): its figure covers only what finished"]


def test_relative_grade_of_a_bare_figure() -> None:
    ref = reference([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (relative_grade(2.6, ref).letter, relative_grade(2.6, ref).stars) == ("C", 3)  # on the 40 % boundary
    with pytest.raises(GradeError, match="holds 'energy_per_inference_j', cannot grade 'command_energy_j'"):
        relative_grade(2.6, ref, metric="command_energy_j")


def test_greenidcard_on_an_inference_report() -> None:
    # net energy per repeat = (94 + 0.6 i) - 12.5 (2 + 0.01 i); active power = sum(net) / sum(duration)
    durations = [2.0 + 0.01 * i for i in range(5)]
    net = [(94.0 + 0.6 * i) - 12.5 * d for i, d in enumerate(durations)]
    watts = sum(net) / sum(durations)
    result = grade(inference_report(), scheme="greenidcard")
    assert result.legacy and result.reference is None and result.stars is None
    assert result.details["active_power_w"] == pytest.approx(watts, rel=1e-12)
    assert result.details["pue"] == 1.2 and result.details["pue_from"] == "the report's"
    assert result.value == pytest.approx(watts * 1.2 / 1000, rel=1e-12)
    assert result.letter == "A"
    assert result.details["metrics"]["greenidcard: active power / maximum power"] is None
    assert grade(inference_report(), scheme="greenidcard", pue=5.0).value == pytest.approx(watts * 5 / 1000)


def test_greenidcard_uses_the_baseline_or_says_there_was_none() -> None:
    report = inference_report()
    for r in report["repeats"]:
        r["net_energy_j"] = None
    gross = sum(r["energy_j"] for r in report["repeats"]) / sum(r["duration_s"] for r in report["repeats"])
    result = grade(report, scheme="greenidcard")
    assert result.details["active_power_w"] == pytest.approx(gross - 12.5, rel=1e-12)
    report["baseline"] = None
    bare = grade(report, scheme="greenidcard")
    assert bare.details["active_power_w"] == pytest.approx(gross, rel=1e-12)
    assert bare.warnings[0] == "no idle baseline in the report: the active power is the gross power, idle included"


def test_greenidcard_metric_two_from_the_counted_domains_max_power() -> None:
    # RAPL counts package-0 and dram-0 (core-0 is inside package-0); the estimate counts nothing (RAPL covers the
    # CPU): the maximum is 50 + 10 = 60 W. Active power 349.75 J / 10.1 s = 34.63 W: 34.63 / 60 = 0.577 is C
    # (with core-0 or the estimate's cpu added it would be 0.31 or 0.43, B).
    report = inference_report()
    report["environment"]["backends"] = [
        {**RAPL, "max_power_w": {"package-0": 50.0, "core-0": 50.0, "dram-0": 10.0}},
        {**ESTIMATE, "counted_domains": [], "max_power_w": {"cpu": 20.0}}]
    result = grade(report, scheme="greenidcard")
    metric2 = result.details["metrics"]["greenidcard: active power / maximum power"]
    assert result.details["active_power_w"] == pytest.approx(349.75 / 10.1, rel=1e-12)
    assert result.details["max_power_w"] == 60.0
    assert metric2["value"] == pytest.approx(349.75 / 10.1 / 60.0, rel=1e-12)
    assert (metric2["letter"], result.letter, result.metric) == ("C", "C", "greenidcard: active power / maximum power")
    assert result.details["max_power_from"] == ("the counted domains' plausible maximum power: rapl:package-0 50 W "
                                                "+ rapl:dram-0 10 W")
    assert result.warnings == []


@pytest.mark.parametrize(("limits", "why"), [
    (None, "the report does not record backend 'rapl''s maximum power per counted domain"),
    (42.0, "the report does not record backend 'rapl''s maximum power per counted domain"),
    ({"package-0": 50.0}, "the report records no maximum power for rapl's domain 'dram-0'"),
    ({"package-0": 50.0, "dram-0": 0.0}, "the report records no maximum power for rapl's domain 'dram-0'"),
])
def test_greenidcard_metric_two_unavailable_says_why(limits: Any, why: str) -> None:
    report = inference_report()
    report["environment"]["backends"] = [{**RAPL, "max_power_w": limits}]
    result = grade(report, scheme="greenidcard")
    assert result.details["metrics"]["greenidcard: active power / maximum power"] is None
    assert result.details["max_power_w"] is None and result.letter == "A"
    assert result.warnings == [f"no maximum power is known ({why}): the GreenIDCard's second metric (active / "
                               "maximum power) is unavailable; graded on the first only"]


def test_greenidcard_on_a_training_report_uses_epochs() -> None:
    result = grade(training_report(), scheme="greenidcard")
    assert result.details["active_power_w"] == pytest.approx((54.0 + 55.0) / 6.0, rel=1e-12)
    assert result.details["pue"] == 1.0 and result.details["pue_from"] == "default"


def test_greenai_core_grade_stays_the_function_once_the_package_is_imported() -> None:
    import greenai_core.grading.calibrate
    import greenai_core.grading.grading  # noqa: F401 - a submodule import sets the parent's attribute

    ref = reference([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    assert greenai_core.grade is greenai_core.grading.grading.grade
    assert greenai_core.grade(inference_report(), ref).letter == "C"
    assert greenai_core.calibrate is greenai_core.grading.calibrate.calibrate


def test_to_dict_is_json() -> None:
    result = grade(inference_report(), reference([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]))
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert (data["schema"], data["letter"], data["stars"], data["legacy"]) == ("greenai.grade/1", "C", 3, False)
