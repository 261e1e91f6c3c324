"""A reference made of profiling reports (``reference_from_reports``, ``greenai grade --calibrate --from``): how a
training report gets a relative grade, exact figures, what differs between the reports, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from profiling_fixtures import inference_report, training_report

from greenai_core.cli import main
from greenai_core.errors import GradeError
from greenai_core.grading import Reference, grade, reference_from_reports

STEP_VALUES = (1.0, 3.0, 5.0, 7.0, 9.0)


def trained(value: float, name: str) -> dict[str, Any]:
    report = training_report()
    report["stats"]["energy_per_step_j"]["mean"] = value
    report["model"]["path"] = f"/models/{name}.pt"
    return report


def step_reports(tmp_path: Path) -> list[Path]:
    paths = []
    for index, value in enumerate(STEP_VALUES):
        path = tmp_path / f"train{index}.json"
        path.write_text(json.dumps(trained(value, f"net{index}")))
        paths.append(path)
    return paths


def test_training_reports_make_a_step_reference_that_grades_a_training_report(tmp_path: Path) -> None:
    paths = step_reports(tmp_path)
    ref = reference_from_reports(paths)
    assert ref.metric == "energy_per_step_j" and ref.values == list(STEP_VALUES)
    assert [e["name"] for e in ref.entries] == [f"net{i}.pt" for i in range(5)]
    assert [e["report"] for e in ref.entries] == [str(p) for p in paths]
    first = ref.entries[0]
    assert first["parameters"] == 1234 and first["format"] == "torch" and first["method"] == "estimated"
    assert first["power_w"] == (54.0 + 55.0) / 6.0  # gross energy / duration over the two epochs
    assert first["warnings"] == ["the report's energy is an estimate, not a measurement"]
    assert ref.hardware == training_report()["environment"]
    assert ref.settings == {"batch_size": 32, "backends": None, "method": "estimated", "device": "cpu",
                            "optimizer": "sgd", "inputs": "profiling reports", "reports": [str(p) for p in paths]}
    ref.save(tmp_path / "ref.json")
    assert Reference.load(tmp_path / "ref.json").to_dict() == ref.to_dict()
    # 5.495 J per step against 1, 3, 5, 7, 9: boundaries 2.6 4.2 5.8 7.4 -> C; star edges the same -> 3 stars
    result = grade(training_report(), tmp_path / "ref.json")
    assert (result.metric, result.letter, result.stars) == ("energy_per_step_j", "C", 3)
    assert result.warnings == ["the report's energy is an estimate, not a measurement"]  # measured alike


def test_a_report_measured_otherwise_keeps_its_entry_with_what_differs() -> None:
    other = trained(2.0, "other")
    other["environment"]["cpu_model"] = "Other CPU"
    other["settings"]["batch_size"] = 8
    ref = reference_from_reports([trained(v, f"n{v}") for v in (1.0, 3.0, 5.0, 7.0)] + [other])
    assert ref.entries[4]["warnings"] == [
        "the report's energy is an estimate, not a measurement",
        "hardware differs from the reference's: CPU Other CPU vs Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz in the "
        "reference",
        "settings differ from the reference's: batch_size 8 vs 32 in the reference"]


def test_refusals_name_the_report(tmp_path: Path) -> None:
    paths = step_reports(tmp_path)
    with pytest.raises(GradeError, match="^a reference from reports needs at least 5 reports, 4 given$"):
        reference_from_reports(paths[:4])
    inference = tmp_path / "inference.json"
    inference.write_text(json.dumps(inference_report()))
    with pytest.raises(GradeError, match=f"^{inference}: a greenai.inference-report/1 report, not a "
                                         "greenai.training-report/1 like the first"):
        reference_from_reports([*paths[:4], inference])
    empty = trained(1.0, "x")
    empty["method"] = "none"
    with pytest.raises(GradeError, match="^report 5: holds no energy"):
        reference_from_reports([trained(v, "y") for v in STEP_VALUES[:4]] + [empty])
    with pytest.raises(GradeError, match="needs a list of reports"):
        reference_from_reports(str(paths[0]))  # type: ignore[arg-type]


def test_a_training_report_against_an_inference_reference_says_how_to_make_one() -> None:
    ref = Reference.from_values("energy_per_inference_j", [1.0, 2.0, 3.0, 4.0, 5.0])
    with pytest.raises(GradeError, match="make one from at least 5 training reports: `greenai grade --calibrate "
                                         "--from R1.json ...`"):
        grade(training_report(), ref)


def test_the_cli_makes_the_reference_from_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = [str(p) for p in step_reports(tmp_path)]
    out = tmp_path / "steps.json"
    assert main(["grade", "--calibrate", "--from", *paths, "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["model", "parameters", "energy/step", "power"]
    assert printed[2].split() == ["net0.pt", "1,234", "1", "J", "18.2", "W"]
    assert printed[-1] == f"reference written to {out}"
    assert Reference.load(out).values == list(STEP_VALUES)
    report = tmp_path / "graded.json"
    report.write_text(json.dumps(training_report()))
    assert main(["grade", str(report), "--reference", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "Grade: C (3 of 5 stars)"


@pytest.mark.parametrize(("args", "message"), [
    (["--calibrate", "--from", "{r}", "--repeats", "3"], "--repeats is a profiling option; --from takes the reports'"),
    (["--calibrate", "--from", "{r}", "--backend", "rapl"], "--backend is a profiling option"),
    (["{r}", "--from", "{r}"], "--from applies to --calibrate only"),
    (["{r}", "--warmup", "3"], "--warmup applies to --calibrate only"),
])
def test_cli_option_mistakes_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                          message: str) -> None:
    report = str(step_reports(tmp_path)[0])
    assert main(["grade", *(a.format(r=report) for a in args), "--out" if "--calibrate" in args else "--json",
                 *([str(tmp_path / "o.json")] if "--calibrate" in args else [])]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"greenai: error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "o.json").exists()


def test_the_reference_file_matches_its_schema_even_from_odd_reports(tmp_path: Path) -> None:
    import jsonschema

    schema = json.loads((Path(__file__).parents[1] / "greenai_core/data/schemas/reference-1.json").read_text())
    odd = trained(2.0, "odd")
    odd["model"] = {"path": 5, "num_parameters": "many", "format": 3}
    odd["stats"]["energy_per_step_j"].update(n="two", ci95_low=None)
    odd["epochs"] = []
    ref = reference_from_reports([*(trained(v, f"n{v}") for v in STEP_VALUES[:4]), odd])
    assert ref.entries[4] == {"name": "report 5", "report": "report 5", "value": 2.0, "method": "estimated",
                              "warnings": ["the report's energy is an estimate, not a measurement",
                                           "settings differ from the reference's: device None vs 'cpu' in the "
                                           "reference"]}
    assert ref.entries[0]["ci95"] == [training_report()["stats"]["energy_per_step_j"]["ci95_low"],
                                      training_report()["stats"]["energy_per_step_j"]["ci95_high"]]
    jsonschema.validate(ref.to_dict(), schema)


def test_a_training_report_made_with_another_optimizer_is_warned_about(tmp_path: Path) -> None:
    ref = reference_from_reports(step_reports(tmp_path))
    report = training_report()
    report["settings"]["optimizer"] = "adam"
    result = grade(report, ref)
    assert "settings differ from the reference's: optimizer 'adam' vs 'sgd' in the reference" in result.warnings
