"""``greenai grade --calibrate --training``: the options reach the calibration, the reference lands at the training
default, a training report is then graded against it by default; the refusals are one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from profiling_world import world_of
from test_grade_calibrate_training import install_formats, reference_plugin

from greenai_core.cli import main
from greenai_core.grading import calibrate as calibrate_module
from greenai_core.plugins import Registry


def test_the_cli_trains_the_references_and_grades_a_training_report_by_default(
        registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from test_grade_calibrate_training import build

    from greenai_core import load_model
    from greenai_core.grading.calibrate_training import write_training_images
    from greenai_core.profiling.training import profile_training

    monkeypatch.delenv("GREENAI_REFERENCE_TRAINING", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    real = calibrate_module.calibrate
    calls: list[dict[str, Any]] = []
    with world_of(registry, tmp_path, monkeypatch) as (world, _):
        def measured_by_the_world(**kwargs: Any) -> Any:  # the CLI's backend names would pick the machine's sensors
            calls.append(dict(kwargs))
            return real(**{**kwargs, "backends": [world.backend]})

        monkeypatch.setattr(calibrate_module, "calibrate", measured_by_the_world)
        install_formats(registry)
        registry.add_plugin(reference_plugin(), name="refs")
        assert main(["grade", "--calibrate", "--training", "--epochs", "2", "--lr", "0.01", "--optimizer", "sgd",
                     "--batch-size", "16"]) == 0
        with load_model(build(2, tmp_path), format="sized-training") as model:
            report = profile_training(model, str(write_training_images(tmp_path / "d")), batch_size=16,
                                      backends=[world.backend], baseline_s=0.0, timeline=False)
    out = tmp_path / "share" / "greenai" / "reference-training.json"
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0] == "calibrating [1/6] train-w1 (28 parameters, training)"
    assert captured.out.rstrip().endswith(f"reference written to {out}")
    assert calls == [{"out": out, "backends": None, "batch_size": 16, "baseline_s": 0.0,
                      "progress": calls[0]["progress"], "training": True, "epochs": 2, "optimizer": "sgd", "lr": 0.01}]
    saved = json.loads(out.read_text())
    assert saved["metric"] == "energy_per_step_j" and len(saved["entries"]) == 6
    assert {k: saved["settings"][k] for k in ("epochs", "batch_size", "optimizer", "lr")} == {
        "epochs": 2, "batch_size": 16, "optimizer": "sgd", "lr": 0.01}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report.to_dict()))
    assert main(["grade", str(path), "--json"]) == 0
    graded = json.loads(capsys.readouterr().out)
    # 52 parameters: exactly the 20 % boundary of 28, 52, ... 148 up to rounding: A or B, never further
    assert graded["metric"] == "energy_per_step_j" and graded["reference"]["path"] == str(out)
    assert graded["letter"] in ("A", "B") and graded["stars"] in (4, 5)


def test_training_defaults_follow_greenai_train(registry: Registry, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    class Stop(Exception):
        pass

    def spy(**kwargs: Any) -> Any:
        calls.append(kwargs)
        raise Stop

    monkeypatch.setattr(calibrate_module, "calibrate", spy)
    monkeypatch.setenv("GREENAI_REFERENCE_TRAINING", str(tmp_path / "t.json"))
    with pytest.raises(Stop):
        main(["grade", "--calibrate", "--training"])
    assert {k: calls[0][k] for k in ("out", "batch_size", "epochs", "lr", "optimizer", "baseline_s", "training")} == {
        "out": tmp_path / "t.json", "batch_size": 32, "epochs": 1, "lr": 1e-3, "optimizer": "adam",
        "baseline_s": 0.0, "training": True}
    with pytest.raises(Stop):
        main(["grade", "--calibrate", "--out", str(tmp_path / "i.json")])
    assert calls[1]["batch_size"] == 1 and "training" not in calls[1]  # inference calibration as it always was


@pytest.mark.parametrize(("args", "message"), [
    (["--calibrate", "--training", "--from", "a.json"], "--training profiles the reference architectures; --from "
                                                        "makes the reference from reports"),
    (["--calibrate", "--training", "--repeats", "3"], "--repeats applies to inference calibration only, not with "
                                                      "--training"),
    (["--calibrate", "--training", "--warmup", "3"], "--warmup applies to inference calibration only"),
    (["--calibrate", "--training", "--min-duration", "3"], "--min-duration applies to inference calibration only"),
    (["--calibrate", "--epochs", "2"], "--epochs applies to --calibrate --training only"),
    (["--calibrate", "--lr", "0.1"], "--lr applies to --calibrate --training only"),
    (["--calibrate", "--from", "a.json", "--epochs", "2"], "--epochs is a profiling option; --from takes"),
    (["r.json", "--training"], "--training applies to --calibrate only"),
    (["r.json", "--epochs", "2"], "--epochs applies to --calibrate only"),
    (["--calibrate", "--training", "--out", "{folder}"], "{folder}: is a directory"),
])
def test_cli_refusals_are_one_line(registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   args: list[str], message: str) -> None:
    assert main(["grade", *(a.format(folder=tmp_path) for a in args)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"greenai: error: {message.format(folder=tmp_path)}"), err
    assert err.count("\n") == 1


def test_training_calibration_without_greenai_torch_says_to_install_it(registry: Registry, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", "--calibrate", "--training", "--out", str(tmp_path / "ref.json")]) == 2
    assert capsys.readouterr().err == ("greenai: error: no installed plugin provides reference models that train, "
                                       "for training calibration: pip install greenai-torch\n")
    assert not (tmp_path / "ref.json").exists()
