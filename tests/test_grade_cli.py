"""``greenai grade``: what it prints, its JSON, its one-line errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from greenai_cli_runner import greenai
from profiling_fixtures import inference_report

from greenai_core.cli import main
from greenai_core.grading import Reference
from greenai_core.plugins import Registry


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(inference_report()))
    data = inference_report()
    ref = Reference.from_values("energy_per_inference_j", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
                                hardware=data["environment"],
                                settings={"batch_size": 1, "backends": None, "method": "measured", "device": "cpu"},
                                created_at="2026-01-01T00:00:00+00:00")
    ref_path = tmp_path / "ref.json"
    ref.save(ref_path)
    return report, ref_path


def test_grade_prints_letter_stars_figure_and_reference(files: tuple[Path, Path],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    report, ref = files
    assert main(["grade", str(report), "--reference", str(ref)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Grade: C (3 of 5 stars)"
    assert out[1] == "  energy per inference (gross mean): 476 mJ"
    assert out[2].endswith("260 mJ | 420 mJ | 580 mJ | 740 mJ")
    assert out[3] == f"  reference: {ref}, made 2026-01-01T00:00:00+00:00, 9 entries"
    assert out[4] == ("  reference hardware: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz, 2 logical CPUs; GPUs: none; "
                      "backends: rapl (measured)")
    assert len(out) == 5  # no warnings: same hardware and settings


def test_grade_json(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    report, ref = files
    assert main(["grade", str(report), "--reference", str(ref), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["schema"], data["scheme"], data["letter"], data["stars"]) == ("greenai.grade/1", "relative", "C", 3)
    assert data["reference"]["path"] == str(ref) and data["reference"]["count"] == 9


def test_grade_json_matches_its_schema(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema

    schema = json.loads((Path(__file__).parents[1] / "greenai_core/data/schemas/grade-1.json").read_text())
    report, ref = files
    for extra in (["--reference", str(ref)], ["--scheme", "greenidcard"]):
        assert main(["grade", str(report), "--json", *extra]) == 0
        jsonschema.validate(json.loads(capsys.readouterr().out), schema)


def test_greenidcard_is_labelled_legacy(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    report, _ = files
    assert main(["grade", str(report), "--scheme", "greenidcard", "--pue", "1.5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Grade: A  (legacy: the original greenAI's GreenIDCard scale;")
    assert out[2] == "  greenidcard: active power / maximum power: unavailable"
    assert out[-1].startswith("warning: no maximum power is known")


def test_warnings_are_printed(files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, _ = files
    ref = Reference.from_values("energy_per_inference_j", [1.0, 2.0, 3.0, 4.0, 5.0],
                                hardware={"cpu_model": "Other"}, settings={"batch_size": 4})
    ref.save(tmp_path / "other.json")
    assert main(["grade", str(report), "--reference", str(tmp_path / "other.json")]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        "warning: hardware differs from the reference's: CPU Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz vs Other in "
        "the reference",
        "warning: energy backends differ from the reference's: rapl (measured) vs none in the reference",
        "warning: settings differ from the reference's: batch_size 1 vs 4 in the reference",
        "warning: 476 mJ is below the reference's range (1 J..5 J): graded as its lowest",
    ]


@pytest.mark.parametrize(("args", "message"), [
    ([], "give a REPORT.json to grade (or --calibrate to make a reference)"),
    (["{report}", "--calibrate"], "give either REPORT.json to grade or --calibrate, not both"),
    (["{report}", "--out", "x.json"], "--out applies to --calibrate only"),
    (["{report}", "--pue", "1.2"], "--pue applies to --scheme greenidcard only"),
    (["{report}", "--scheme", "greenidcard", "--reference", "{ref}"], "--reference applies to --scheme relative only"),
    (["{report}", "--reference", "{missing}"], "{missing}: no such file"),
    (["{ref}", "--reference", "{ref}"], "{ref}: not a greenai profiling report (schema is 'greenai.reference/1'"),
    (["{report}", "--reference", "{report}"], "{report}: not a greenai reference file (schema is "),
    (["--calibrate", "--reference", "{ref}"], "--reference names a reference to grade against; with --calibrate use"),
    (["--calibrate", "--out", "{folder}"], "{folder}: is a directory"),
])
def test_errors_are_one_line_with_exit_code_2(files: tuple[Path, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str], args: list[str],
                                              message: str) -> None:
    report, ref = files
    names = {"report": str(report), "ref": str(ref), "missing": str(tmp_path / "missing.json"),
             "folder": str(tmp_path)}
    assert main(["grade", *(a.format(**names) for a in args)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"greenai: error: {message.format(**names)}")
    assert err.count("\n") == 1


def test_calibrate_without_a_plugin_names_the_one_to_install(registry: Registry, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", "--calibrate", "--out", str(tmp_path / "ref.json")]) == 2
    assert capsys.readouterr().err == ("greenai: error: no installed plugin provides reference models for "
                                       "calibration: pip install greenai-onnx\n")
    assert not (tmp_path / "ref.json").exists()


def test_a_real_process_without_a_reference(files: tuple[Path, Path], tmp_path: Path) -> None:
    report, _ = files
    done = greenai("grade", str(report), env={"GREENAI_REFERENCE": str(tmp_path / "none.json")})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"greenai: error: no reference at {tmp_path / 'none.json'}: make one with "
                           "`greenai grade --calibrate` (or give one with --reference REF.json)\n")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    done = greenai("grade", str(broken), "--reference", str(broken))
    assert done.returncode == 2 and done.stderr.startswith(f"greenai: error: {broken}: not a greenai profiling report")
    assert "Traceback" not in done.stderr


def test_a_measure_result_is_pointed_to_measure_grade(files: tuple[Path, Path], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    _, ref = files
    measured = tmp_path / "m.json"
    measured.write_text(json.dumps({"energy_j": 1.5, "duration_s": 1.0, "method": "estimated"}))
    assert main(["grade", str(measured), "--reference", str(ref)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"greenai: error: {measured}: not a greenai profiling report")
    assert err.rstrip().endswith("a `greenai measure --json` result is graded by `greenai measure --grade`")
