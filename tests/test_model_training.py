"""The core's training loop with the in-test numpy format: validation first, accounting, callbacks, saving."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy_models import LinearModel, install, random_linear, separable

from greenai_core import EpochResult, StepInfo, StopTraining, TrainingDivergedError, load_model
from greenai_core.errors import GreenAIError, UsageError
from greenai_core.models.training import DatasetError
from greenai_core.plugins import Registry


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_real_gradient_step_lowers_the_loss_and_counts_are_exact(model: LinearModel, optimizer: str) -> None:
    images, labels = separable(20)
    result = model.train((images, labels), epochs=3, batch_size=8, optimizer=optimizer, lr=0.1, seed=0)
    assert [(e.epoch, e.samples, e.steps) for e in result.epochs] == [(1, 20, 3), (2, 20, 3), (3, 20, 3)]
    assert (result.steps, result.samples, result.classes, result.stopped_early) == (9, 60, None, False)
    assert result.losses[2] < result.losses[0]
    assert result.epochs[2].accuracy == 1.0
    assert (model.predict(images).argmax(axis=1) == labels).all()


def test_shuffling_is_reproducible_with_a_seed(registry: Registry, tmp_path: Path) -> None:
    install(registry)
    path = random_linear(tmp_path / "m.lin")
    data = separable(24)
    runs = [load_model(path).train(data, epochs=2, batch_size=5, optimizer="sgd", lr=0.5, seed=s).losses
            for s in (7, 7, 8)]
    assert runs[0] == runs[1] and runs[0] != runs[2]
    unshuffled = [load_model(path).train(data, epochs=1, batch_size=5, lr=0.5, shuffle=False).losses for _ in "ab"]
    assert unshuffled[0] == unshuffled[1]


def test_pairs_are_batches_as_given_and_a_folder_is_preprocessed(model: LinearModel, tmp_path: Path) -> None:
    from PIL import Image

    images, labels = separable(12)
    pairs = iter([(images[:5], labels[:5]), (images[5:], labels[5:])])  # one-shot iterator: kept for every epoch
    result = model.train(pairs, epochs=2, batch_size=100)
    assert [(e.steps, e.samples) for e in result.epochs] == [(2, 12), (2, 12)]
    for name, value in (("bright", 220), ("dark", 20)):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (5, 3), (value + i,) * 3).save(tmp_path / "data" / name / f"{i}.png")
    model.image_size = (2, 2)
    folder_result = model.train(tmp_path / "data", epochs=1, batch_size=4)
    assert folder_result.classes == ["bright", "dark"] and [e.steps for e in folder_result.epochs] == [2]


def _steps_before(model: LinearModel) -> tuple[int, np.ndarray]:
    return LinearModel.steps_taken, model.weights.copy()


BAD_ARGUMENTS: list[tuple[dict[str, Any], type[GreenAIError], str]] = [
    ({"epochs": 0}, UsageError, "epochs must be a positive integer, not 0"),
    ({"epochs": True}, UsageError, "epochs must be a positive integer, not True"),
    ({"epochs": 1.5}, UsageError, "epochs must be a positive integer, not 1.5"),
    ({"batch_size": 0}, UsageError, "batch_size must be a positive integer, not 0"),
    ({"batch_size": "8"}, UsageError, "batch_size must be a positive integer, not '8'"),
    ({"lr": 0}, UsageError, "lr must be a finite positive number, not 0"),
    ({"lr": -0.1}, UsageError, "lr must be a finite positive number"),
    ({"lr": math.nan}, UsageError, "lr must be a finite positive number, not nan"),
    ({"lr": math.inf}, UsageError, "lr must be a finite positive number, not inf"),
    ({"lr": "0.1"}, UsageError, "lr must be a finite positive number, not '0.1'"),
    ({"lr": True}, UsageError, "lr must be a finite positive number, not True"),
    ({"optimizer": "lbfgs"}, UsageError, "optimizer must be one of adam, sgd or a callable, not 'lbfgs'"),
    ({"loss": "mse"}, UsageError, "loss must be one of cross_entropy or a callable, not 'mse'"),
    ({"seed": "1"}, UsageError, "seed must be an integer or None"),
    ({"on_step": 3}, UsageError, "on_step must be a callable or None, not int"),
    ({"momentun": 0.9}, UsageError, "unknown training option 'momentun' for linear models (valid: epochs, "),
]


@pytest.mark.parametrize(("kwargs", "error", "message"), BAD_ARGUMENTS)
def test_bad_arguments_fail_before_the_first_step(model: LinearModel, kwargs: dict[str, Any],
                                                  error: type[GreenAIError], message: str) -> None:
    steps, weights = _steps_before(model)
    with pytest.raises(error) as info:
        model.train(separable(8), **kwargs)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert LinearModel.steps_taken == steps and np.array_equal(model.weights, weights)


def test_bad_labels_fail_before_the_first_step(registry: Registry, tmp_path: Path) -> None:
    install(registry)
    path = random_linear(tmp_path / "m.lin", classes=2)
    images, _ = separable(4)
    cases: list[tuple[Any, str]] = [
        ((images, np.array([0, 1, 0.5, 1])), "training data arrays: labels must be integer class indices, not float64"),
        ((images, np.array(["a", "b", "c", "d"])), "labels must be integer class indices, not <U1"),
        ((images, np.array([0, 1, -1, 1])), "labels must not be negative (found -1)"),
        ((images, np.array([0, 1, 2, 1])), "training data: label 2 is outside the model's 2 outputs (0 to 1)"),
        ([(images, np.array([0, 1, 0, 1])), (images, np.array([0, 1, 0, 5]))], "label 5 is outside the model's 2"),
        ((images, np.array([0, 1, 0])), "4 images but 3 labels"),
        ((images, np.array([[0], [1], [0], [1]])), "labels must be a vector of class indices, not shape [4, 1]"),
        ([], "training data is empty"),
        ([(images, np.array([0, 1, 0, 1])), "junk"], "training data item 1 is not an (images, labels) pair"),
    ]
    for hide in (False, True):  # output size from the spec, or from one forward pass on the first batch
        model = load_model(path, hide_outputs=hide)
        assert isinstance(model, LinearModel) and (model.num_classes is None) == hide
        for data, message in cases:
            steps, weights = _steps_before(model)
            with pytest.raises(DatasetError) as info:
                model.train(data)
            assert message in str(info.value), (hide, str(info.value))
            assert LinearModel.steps_taken == steps and np.array_equal(model.weights, weights)
    ok = model.train((images, np.array([0.0, 1.0, 0.0, 1.0])))  # whole-valued floats are class indices
    assert ok.samples == 4
    with pytest.raises(UsageError, match=r"input array has shape \[4, 12\]"):
        model.train((images.reshape(4, -1), np.array([0, 1, 0, 1])))


def test_a_folder_with_more_classes_than_outputs_fails_before_training(model: LinearModel, tmp_path: Path) -> None:
    from PIL import Image

    for name in ("a", "b", "c"):
        (tmp_path / "data" / name).mkdir(parents=True)
        Image.new("RGB", (2, 2)).save(tmp_path / "data" / name / "0.png")
    steps = LinearModel.steps_taken
    with pytest.raises(DatasetError, match="data: 3 class folders but the model has 2 outputs"):
        model.train(tmp_path / "data")
    assert LinearModel.steps_taken == steps


def test_validation_labels_are_checked_before_the_first_step(model: LinearModel) -> None:
    images, labels = separable(4)
    cases = [((images, np.array([0, 1, 2, 1])), "validation data: label 2 is outside the model's 2 outputs (0 to 1)"),
             ((images, np.array([0, 1, 0.5, 1])), "validation data arrays: labels must be integer class indices"),
             ((images, labels[:3]), "validation data arrays: 4 images but 3 labels")]
    for validation, message in cases:
        steps, weights = _steps_before(model)
        with pytest.raises(DatasetError) as info:
            model.train((images, labels), validation=validation)
        assert message in str(info.value)
        assert LinearModel.steps_taken == steps and np.array_equal(model.weights, weights)


@pytest.mark.parametrize("kind", ["missing folder", "folder", "symlink to a device", "dangling symlink", "device",
                                  "fifo", "symlink to a fifo"])
def test_save_to_is_checked_before_training(model: LinearModel, tmp_path: Path, kind: str) -> None:
    target = {"missing folder": tmp_path / "nope" / "m.lin", "folder": tmp_path, "device": Path("/dev/null"),
              "symlink to a device": tmp_path / "dev.lin", "dangling symlink": tmp_path / "dangling.lin",
              "fifo": tmp_path / "pipe.lin", "symlink to a fifo": tmp_path / "to-pipe.lin"}[kind]
    if kind == "symlink to a device":
        target.symlink_to("/dev/null")
    if kind == "dangling symlink":
        target.symlink_to(tmp_path / "gone")
    if "fifo" in kind:
        os.mkfifo(tmp_path / "pipe.lin")
        if kind == "symlink to a fifo":
            target.symlink_to(tmp_path / "pipe.lin")
    steps = LinearModel.steps_taken
    with pytest.raises(UsageError) as info:
        model.train(separable(4), save_to=target)
    assert str(target).rstrip("/") in str(info.value)
    assert LinearModel.steps_taken == steps
    assert os.path.islink(target) or not target.exists() or target.is_dir() or target.is_char_device() \
        or target.is_fifo()
    if kind.startswith("symlink"):
        assert target.is_symlink()  # never replaced by a file


def test_save_to_writes_atomically_in_the_models_kind(model: LinearModel, tmp_path: Path) -> None:
    real = tmp_path / "real.lin"
    real.write_bytes(b"old")
    link = tmp_path / "link.lin"
    link.symlink_to(real)
    result = model.train(separable(8), epochs=2, lr=0.5, save_to=link)
    assert result.saved_to == str(link)
    assert link.is_symlink() and real.read_bytes() != b"old"  # the link stays; its target was replaced
    x = separable(8)[0]
    np.testing.assert_allclose(load_model(link).predict(x), model.predict(x), rtol=1e-6)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_a_nan_loss_stops_with_the_finished_epochs_and_saves_nothing(model: LinearModel, tmp_path: Path) -> None:
    out = tmp_path / "out.lin"
    with pytest.raises(TrainingDivergedError) as info:  # 2 steps per epoch; step 6 (epoch 3, step 2) is NaN
        model.train(separable(8), epochs=5, batch_size=4, save_to=out, nan_after=5)
    message = str(info.value)
    assert "training diverged: the loss became nan at epoch 3, step 2" in message and "\n" not in message
    assert "2 finished epochs kept" in message
    result = info.value.result
    assert [e.epoch for e in result.epochs] == [1, 2] and result.steps == 4
    assert all(math.isfinite(e.loss) for e in result.epochs)
    assert not out.exists()


def test_callbacks_see_every_step_and_epoch(model: LinearModel) -> None:
    steps: list[StepInfo] = []
    epochs: list[EpochResult] = []
    result = model.train(separable(10), epochs=2, batch_size=4, on_step=steps.append, on_epoch=epochs.append)
    assert [(s.epoch, s.step, s.samples) for s in steps] == [(1, 1, 4), (1, 2, 4), (1, 3, 2),
                                                             (2, 1, 4), (2, 2, 4), (2, 3, 2)]
    assert epochs == result.epochs
    first = result.epochs[0]
    assert first.loss == pytest.approx(sum(s.loss * s.samples for s in steps[:3]) / 10)
    assert first.accuracy == sum(s.correct for s in steps[:3]) / 10


def test_stop_training_from_a_callback_keeps_what_was_done_and_saves(model: LinearModel, tmp_path: Path) -> None:
    def stop_at_step_2_of_epoch_2(info: StepInfo) -> None:
        if (info.epoch, info.step) == (2, 2):
            raise StopTraining

    out = tmp_path / "stopped.lin"
    result = model.train(separable(10), epochs=5, batch_size=4, on_step=stop_at_step_2_of_epoch_2, save_to=out)
    assert result.stopped_early and [(e.epoch, e.steps, e.samples, e.complete) for e in result.epochs] == [
        (1, 3, 10, True), (2, 2, 8, False)]
    assert out.exists() and result.saved_to == str(out)

    def stop_after_epoch(done: EpochResult) -> None:
        raise StopTraining

    result = model.train(separable(10), epochs=5, on_epoch=stop_after_epoch)
    assert result.stopped_early and len(result.epochs) == 1 and result.epochs[0].complete


def test_validation_accuracy_each_epoch_in_inference_mode(model: LinearModel) -> None:
    images, labels = separable(16)
    trainers: list[Any] = []
    real = model._trainer
    model._trainer = lambda **kw: trainers.append(real(**kw)) or trainers[-1]  # type: ignore[method-assign]
    result = model.train((images, labels), validation=(images, labels), epochs=2, lr=0.1, batch_size=4)
    expected = float((model.predict(images).argmax(axis=1) == labels).mean())
    assert result.epochs[-1].val_accuracy == expected and result.epochs[-1].val_samples == 16
    assert result.epochs[0].val_accuracy is not None
    assert trainers[0].modes == [True, False, True, False, False]  # train, validate, train, validate, done
