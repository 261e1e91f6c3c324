"""``calibrate(training=True)`` in a world of known power: in-test reference models that train, each step taking
time in proportion to the model's size, a fake counter backend; exact energies per step, the letters and stars of a
training report against them, the default reference per metric, and the refusals."""

from __future__ import annotations

import types
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy_models import FrozenFormat, random_linear
from profiling_world import ClockedFormat, ClockedModel, ClockedTrainer, world_of

from greenai_core import calibrate, grade
from greenai_core.errors import GradeError, UsageError
from greenai_core.grading import Reference, default_reference_path
from greenai_core.grading.calibrate_training import CLASSES, IMAGES_PER_CLASS, write_training_images
from greenai_core.hookspecs import hookimpl
from greenai_core.models.trainer import StepResult, Trainer
from greenai_core.plugins import Registry
from greenai_core.profiling.training import profile_training
from greenai_core.sdk import ReferenceModel

#: A training step takes this many seconds per parameter of the model.
SECONDS_PER_PARAMETER = 1e-3
WIDTHS = (1, 2, 3, 4, 5, 6)


class SizedTrainer(ClockedTrainer):
    def step(self, images: np.ndarray, labels: np.ndarray) -> StepResult:
        world = ClockedModel.world
        assert world is not None
        world.events.append("step")
        world.advance(self.model.num_parameters * SECONDS_PER_PARAMETER, world.busy_w)
        return super(ClockedTrainer, self).step(images, labels)  # the linear model's real gradient step


class SizedTrainingModel(ClockedModel):
    def _trainer(self, *, optimizer: Any, lr: float, loss: Any, seed: int | None, **options: Any) -> Trainer:
        return SizedTrainer(self, optimizer, lr, **options)


class SizedTrainingFormat(ClockedFormat):
    name = "sized-training"
    suffixes = (".szt",)
    model_class = SizedTrainingModel


def parameters(width: int) -> int:
    return CLASSES * 3 * 2 * width + CLASSES  # input (3, 2, width), a linear layer to the data's 4 classes


def build(width: int, folder: Path) -> Path:
    return random_linear(folder / f"lin-{width}.szt", shape=(3, 2, width), classes=CLASSES)


def reference_plugin(widths: tuple[int, ...] = WIDTHS, *, trains: bool = True, fmt: str = "sized-training",
                     prefix: str = "train-w") -> Any:
    def register_reference_models(register: Any) -> None:
        for w in widths:
            register(ReferenceModel(name=f"{prefix}{w}", parameters=parameters(w), build=partial(build, w),
                                    format=fmt, family="lin", trains=trains))

    return types.SimpleNamespace(register_reference_models=hookimpl(register_reference_models))


def install_formats(registry: Registry) -> None:
    registry.add_plugin(types.SimpleNamespace(register_model_formats=hookimpl(
        lambda register: [register(SizedTrainingFormat()), register(FrozenFormat())])), name="sized")


STEPS = CLASSES * IMAGES_PER_CLASS // 32  # the default batch size 32 cuts the generated 128 images in 4 steps


def test_training_calibration_stores_each_models_gross_energy_per_step(registry: Registry, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with world_of(registry, tmp_path, monkeypatch) as (world, _):
        install_formats(registry)
        registry.add_plugin(reference_plugin(), name="refs")
        registry.add_plugin(reference_plugin((7,), trains=False, fmt="sized", prefix="infer-w"), name="inference")
        told: list[str] = []
        out = tmp_path / "ref.json"
        world.events.clear()
        ref = calibrate(out=out, backends=[world.backend], training=True, epochs=2, lr=0.01, optimizer="sgd",
                        progress=told.append)
    assert told == [f"[{i + 1}/6] train-w{w} ({parameters(w)} parameters, training)" for i, w in enumerate(WIDTHS)]
    # two epochs of four steps each, plus the untimed warm-up epoch of the first model; the inference model left out
    assert world.events.count("step") == 6 * 2 * STEPS + STEPS
    assert [e["name"] for e in ref.entries] == [f"train-w{w}" for w in WIDTHS]
    assert [e["parameters"] for e in ref.entries] == [parameters(w) for w in WIDTHS]
    for entry, width in zip(ref.entries, WIDTHS, strict=True):
        # two domains at busy_w for the step's time, whatever the batch holds
        expected = 2 * world.busy_w * parameters(width) * SECONDS_PER_PARAMETER
        assert entry["value"] == pytest.approx(expected, rel=1e-9)
        assert entry["power_w"] == pytest.approx(2 * world.busy_w, rel=1e-9)
        assert entry["ci95"] == pytest.approx([expected, expected], rel=1e-9)
        assert entry["n"] == 2 * STEPS and entry["method"] == "measured" and entry["format"] == "sized-training"
    assert ref.metric == "energy_per_step_j"
    assert ref.settings == {
        "batch_size": 32, "epochs": 2, "optimizer": "sgd", "lr": 0.01, "loss": "cross_entropy", "seed": 0,
        "backends": ["fake"], "method": "measured", "device": "cpu", "baseline_s": 0.0,
        "inputs": "generated images: 4 classes x 32, 32x32 RGB, seed 0"}
    assert [b["name"] for b in ref.hardware["backends"]] == ["fake"]
    assert Reference.load(out).to_dict() == ref.to_dict()


def test_a_training_report_grades_against_it_with_exact_letters_and_stars(registry: Registry, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from greenai_core import load_model

    data = write_training_images(tmp_path / "data")
    with world_of(registry, tmp_path, monkeypatch) as (world, _):
        install_formats(registry)
        registry.add_plugin(reference_plugin(), name="refs")
        ref = calibrate(backends=[world.backend], training=True, batch_size=16)
        graded = {}
        for width in (3, 5, 7, 9, 11, 13):  # input (3, 1, width): 12 width + 4 parameters, between the reference's
            path = random_linear(tmp_path / f"graded-{width}.szt", shape=(3, 1, width), classes=CLASSES)
            with load_model(path, format="sized-training") as model:
                graded[width] = profile_training(model, str(data), batch_size=16, backends=[world.backend],
                                                 baseline_s=0.0, timeline=False, seed=0)
    assert ref.settings["batch_size"] == 16 and ref.entries[0]["n"] == 8
    results = {width: grade(report, ref) for width, report in graded.items()}
    # the reference's values sit at parameters 28, 52, 76, 100, 124, 148 (x 0.02 J): boundaries at positions
    # 5 q = 1, 2, 3, 4 -> 52, 76, 100, 124 parameters; star edges at 28 + 24 k, the same. The graded models have
    # 40, 64, 88, 112, 136 and 160 parameters.
    assert results[3].value == pytest.approx(2 * world.busy_w * 40 * SECONDS_PER_PARAMETER, rel=1e-9)
    assert [(results[w].letter, results[w].stars) for w in (3, 5, 7, 9, 11, 13)] == [
        ("A", 5), ("B", 4), ("C", 3), ("D", 2), ("E", 1), ("E", 1)]
    assert results[3].warnings == [] and results[3].metric == "energy_per_step_j"
    assert results[11].warnings == []
    assert len(results[13].warnings) == 1 and "range" in results[13].warnings[0]  # dearer than every reference model


def test_a_report_trained_with_another_batch_size_is_warned_about(registry: Registry, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from greenai_core import load_model

    with world_of(registry, tmp_path, monkeypatch) as (world, _):
        install_formats(registry)
        registry.add_plugin(reference_plugin(), name="refs")
        ref = calibrate(backends=[world.backend], training=True)
        with load_model(build(2, tmp_path), format="sized-training") as model:
            report = profile_training(model, str(write_training_images(tmp_path / "d")), batch_size=8,
                                      backends=[world.backend], baseline_s=0.0, timeline=False)
    assert grade(report, ref).warnings == ["settings differ from the reference's: batch_size 8 vs 32 in the reference"]


def test_grade_picks_the_default_reference_of_the_reports_metric(registry: Registry, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from greenai_core import load_model

    monkeypatch.delenv("GREENAI_REFERENCE", raising=False)
    monkeypatch.delenv("GREENAI_REFERENCE_TRAINING", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    with world_of(registry, tmp_path, monkeypatch) as (world, _):
        install_formats(registry)
        with load_model(build(1, tmp_path), format="sized-training") as model:
            report = profile_training(model, str(write_training_images(tmp_path / "d")), backends=[world.backend],
                                      baseline_s=0.0, timeline=False)
    training_path = tmp_path / "share" / "greenai" / "reference-training.json"
    assert default_reference_path("energy_per_step_j") == training_path
    assert default_reference_path() == tmp_path / "share" / "greenai" / "reference.json"
    with pytest.raises(GradeError, match=f"^no reference at {training_path}: make one with "
                                         r"`greenai grade --calibrate --training` \(or give one"):
        grade(report)
    # an inference reference at the inference default is not taken for a training report
    training_path.parent.mkdir(parents=True)
    Reference.from_values("energy_per_inference_j", [1.0, 2.0, 3.0, 4.0, 5.0]).save(default_reference_path())
    with pytest.raises(GradeError, match="^no reference at .*reference-training.json"):
        grade(report)
    one = 2 * 10.0 * parameters(1) * SECONDS_PER_PARAMETER  # the report's energy per step, busy_w 10 W
    Reference.from_values("energy_per_step_j", [one * k for k in (2, 3, 4, 5, 6)]).save(training_path)
    assert (grade(report).letter, grade(report).reference["path"]) == ("A", str(training_path))
    monkeypatch.setenv("GREENAI_REFERENCE_TRAINING", str(tmp_path / "mine.json"))
    assert default_reference_path("energy_per_step_j") == tmp_path / "mine.json"
    with pytest.raises(GradeError, match=f"^no reference at {tmp_path / 'mine.json'}"):
        grade(report)
    with pytest.raises(GradeError, match="no default reference for metric 'joules'"):
        default_reference_path("joules")


def test_an_inference_reference_says_how_to_make_a_training_one() -> None:
    ref = Reference.from_values("energy_per_step_j", [1.0, 2.0, 3.0, 4.0, 5.0])
    with pytest.raises(GradeError, match="holds 'energy_per_step_j'; an inference report is graded by energy per "
                                         "inference"):
        grade(_inference_report(), ref)
    with pytest.raises(GradeError, match=r"or with `greenai grade --calibrate --training`\)$"):
        grade(_training_report(), Reference.from_values("energy_per_inference_j", [1.0, 2.0, 3.0, 4.0, 5.0]))


def _stat(mean: float) -> dict[str, Any]:
    return {"mean": mean, "n": 3, "std": 0.0, "ci95_low": mean, "ci95_high": mean, "min": mean, "max": mean}


def _inference_report() -> dict[str, Any]:
    return {"schema": "greenai.inference-report/1", "method": "measured", "complete": True, "warnings": [],
            "stats": {"energy_per_inference_j": _stat(2.5)}, "environment": {}, "settings": {}, "model": {}}


def _training_report() -> dict[str, Any]:
    return {"schema": "greenai.training-report/1", "method": "measured", "complete": True, "warnings": [],
            "stats": {"energy_per_step_j": _stat(2.5)}, "environment": {}, "settings": {}, "model": {}}


def test_models_that_do_not_train_are_left_out_and_too_few_name_greenai_torch(registry: Registry) -> None:
    registry.add_plugin(reference_plugin(trains=False, fmt="sized", prefix="infer-w"), name="inference")
    with pytest.raises(GradeError, match="^no installed plugin provides reference models that train, for training "
                                         "calibration: pip install greenai-torch$"):
        calibrate(training=True)
    registry.add_plugin(reference_plugin((1, 2, 3, 4)), name="refs")
    with pytest.raises(GradeError, match="^training calibration needs at least 5 reference models that train, 4 "
                                         "installed: pip install greenai-torch$"):
        calibrate(training=True)
    with pytest.raises(GradeError, match="^reference model 'infer-w1' is for inference calibration, not training$"):
        calibrate(training=True, models=["train-w1", "infer-w1"])
    with pytest.raises(GradeError, match="^reference model 'train-w1' is for training calibration, not inference$"):
        calibrate(models=["train-w1"])
    with pytest.raises(GradeError, match="^unknown reference model 'nope'"):
        calibrate(training=True, models=["nope"])
    with pytest.raises(GradeError, match="needs at least 5 reference models, 2 chosen"):
        calibrate(training=True, models=["train-w1", "train-w2"])


def test_options_of_the_other_kind_are_refused(registry: Registry, tmp_path: Path) -> None:
    registry.add_plugin(reference_plugin(), name="refs")
    with pytest.raises(UsageError, match="^calibration option repeats applies to inference "):
        calibrate(training=True, repeats=3)
    with pytest.raises(UsageError, match="^calibration option warmup applies to inference "):
        calibrate(training=True, warmup=1)
    with pytest.raises(UsageError, match="^calibration option epochs applies to training=True calibration only$"):
        calibrate(epochs=2)
    with pytest.raises(UsageError, match="^calibration option lr applies to training=True"):
        calibrate(lr=0.1)
    with pytest.raises(UsageError, match="is a directory"):
        calibrate(training=True, out=tmp_path)


def test_the_generated_training_images_are_the_same_every_time(tmp_path: Path) -> None:
    from PIL import Image

    first, second = write_training_images(tmp_path / "a"), write_training_images(tmp_path / "b")
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*.png"))
    assert len(names) == CLASSES * IMAGES_PER_CLASS and names[0] == "class-0/000.png"
    assert sorted(p.relative_to(second).as_posix() for p in second.rglob("*.png")) == names
    for name in names[:: 17]:
        a, b = np.asarray(Image.open(first / name)), np.asarray(Image.open(second / name))
        assert a.shape == (32, 32, 3) and np.array_equal(a, b)
    tints = [np.asarray(Image.open(first / f"class-{c}" / "000.png")).astype(float).mean(axis=(0, 1)) for c in
             range(3)]
    assert [int(np.argmax(t)) for t in tints] == [0, 1, 2]  # each class is brighter on its own channel
