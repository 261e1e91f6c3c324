"""The training loop, the same for every framework: ``Model.train`` calls ``train_model``.

Everything is checked before the first step, so a bad argument never costs an epoch:
epochs and batch size (positive integers), the learning rate (finite, positive), the
optimizer and loss (known names, or framework callables), the callbacks, ``save_to``
(writable, a regular file), the data (labels integer and within the model's outputs; where
the model does not say how many outputs it has, one forward pass on the first batch tells).
"""

from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.errors import UnsupportedOperationError, UsageError
from greenai_core.models.trainer import LOSSES, OPTIMIZERS, Trainer
from greenai_core.models.training import (
    DatasetError,
    EpochResult,
    StepInfo,
    StopTraining,
    TrainingData,
    TrainingDivergedError,
    TrainingInterrupted,
    TrainingResult,
)

if TYPE_CHECKING:
    import numpy as np

    from greenai_core.models.model import Model

OnStep = Callable[[StepInfo], Any]
OnEpoch = Callable[[EpochResult], Any]


def positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise UsageError(f"{name} must be a positive integer, not {value!r}")
    return int(value)


def check_lr(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise UsageError(f"lr must be a finite positive number, not {value!r}")
    return float(value)


def check_named(value: Any, name: str, known: tuple[str, ...]) -> Any:
    """A known name (case-insensitive), or a callable the framework understands."""
    if isinstance(value, str) and value.lower() in known:
        return value.lower()
    if callable(value) and not isinstance(value, str):
        return value
    raise UsageError(f"{name} must be one of {', '.join(known)} or a callable, not {value!r}")


def check_save_to(model: Model, save_to: str | os.PathLike[str]) -> Path:
    """The file ``save_to`` names, checked writable and a regular file (or new) before training;
    a folder for a model saved as one (checked empty, new, or holding the model's marker file)."""
    from greenai_core.io import check_writable

    if model.folder_marker is not None:
        from greenai_core.io_folders import check_writable_folder

        return check_writable_folder(save_to, marker=model.folder_marker)
    # regular_only: a FIFO or device (even /dev/stdout redirected) is refused now, not after training
    return check_writable(os.fspath(save_to), regular_only=True)


def _output_classes(model: Model, data: TrainingData) -> int | None:
    """The model's output count: from its output spec, else one forward pass on the first images."""
    if model.num_classes is not None:
        return model.num_classes
    fixed = model.input_spec.batch
    images = data.first_images(fixed or 1)
    if len(images) != (fixed or 1):  # a fixed batch size the data cannot fill: the trainer's step will tell
        return None
    outputs = model._run_batched(images)
    return int(outputs.shape[1]) if outputs.ndim == 2 else None


def _check_labels(model: Model, data: TrainingData, what: str) -> None:
    classes = _output_classes(model, data)
    top = data.max_label()
    if classes is not None and top >= classes:
        if data.classes is not None:
            raise DatasetError(f"{data.folder.root if data.folder else what}: {len(data.classes)} class folders "
                               f"but the model has {classes} outputs")
        raise DatasetError(f"{what}: label {top} is outside the model's {classes} outputs (0 to {classes - 1})")


def train_model(
    model: Model,
    data: Any,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    optimizer: Any = "adam",
    lr: float = 1e-3,
    loss: Any = "cross_entropy",
    shuffle: bool = True,
    seed: int | None = None,
    save_to: str | os.PathLike[str] | None = None,
    validation: Any = None,
    on_step: OnStep | None = None,
    on_epoch: OnEpoch | None = None,
    **framework_options: Any,
) -> TrainingResult:
    """See ``Model.train``."""
    import numpy as np

    if type(model)._trainer is _base_method("_trainer"):
        raise UnsupportedOperationError(f"{model.path}: training is not supported for {model.format} models")
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    lr = check_lr(lr)
    optimizer = check_named(optimizer, "optimizer", OPTIMIZERS)
    loss = check_named(loss, "loss", LOSSES)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise UsageError(f"seed must be an integer or None, not {seed!r}")
    for name, callback in (("on_step", on_step), ("on_epoch", on_epoch)):
        if callback is not None and not callable(callback):
            raise UsageError(f"{name} must be a callable or None, not {type(callback).__name__}")
    _check_framework_options(model, framework_options)
    if model.trainable_parameters == 0:
        raise UsageError(f"{model.path}: the model has no trainable parameters")
    if save_to is not None and type(model)._save is _base_method("_save"):
        raise UnsupportedOperationError(f"{model.path}: saving is not supported for {model.format} models; "
                                        "train without save_to")
    target = check_save_to(model, save_to) if save_to is not None else None
    batches = TrainingData.of(data, model, batch_size)
    _check_labels(model, batches, "training data")
    val = TrainingData.of(validation, model, batch_size, "validation data") if validation is not None else None
    if val is not None:
        _check_labels(model, val, "validation data")

    trainer = model._trainer(optimizer=optimizer, lr=lr, loss=loss, seed=None if seed is None else int(seed),
                             **framework_options)
    if not isinstance(trainer, Trainer):
        raise UnsupportedOperationError(f"{model.path}: the {model.format} format returned "
                                        f"{type(trainer).__name__}, not a Trainer")
    rng = np.random.default_rng(seed) if shuffle else None
    result = TrainingResult(classes=batches.classes)
    try:
        for epoch in range(1, epochs + 1):
            done = _run_epoch(model, trainer, batches, epoch, rng, result, on_step, lr)
            if val is not None:
                done = _with_validation(model, trainer, val, done)
            result.epochs.append(done)
            if not done.complete:
                break
            if on_epoch is not None:
                on_epoch(done)
    except StopTraining:
        result.stopped_early = True
    except KeyboardInterrupt as exc:  # Ctrl-C: still an interrupt, but the finished epochs are not lost
        if isinstance(exc, TrainingInterrupted):
            raise
        finished = len(result.epochs)
        raise TrainingInterrupted(
            f"{model.path}: training interrupted after {finished} finished epoch{'s' if finished != 1 else ''} "
            "(kept in the exception's result; the model keeps its steps, save_to was not written)", result) from exc
    finally:
        trainer.set_training(False)
    if target is not None:
        result.saved_to = str(model.save(save_to))  # type: ignore[arg-type]
    return result


def _run_epoch(model: Model, trainer: Trainer, batches: TrainingData, epoch: int, rng: np.random.Generator | None,
               result: TrainingResult, on_step: OnStep | None, lr: float) -> EpochResult:
    """One pass over the data; a StopTraining from ``on_step`` ends it early (returned with complete=False)."""
    began = time.perf_counter()
    total_loss, correct, samples, steps = 0.0, 0, 0, 0
    complete = True
    trainer.set_training(True)
    for images, labels in batches.batches(rng):
        step = trainer.step(images, labels)
        step_loss = float(step.loss)
        if not math.isfinite(step_loss):
            done = len(result.epochs)
            raise TrainingDivergedError(
                f"{model.path}: training diverged: the loss became {step_loss} at epoch {epoch}, step {steps + 1} "
                f"(try a smaller lr than {lr:g}); {done} finished epoch{'s' if done != 1 else ''} kept "
                "in the error's result, nothing saved", result)
        n = len(labels)
        total_loss += step_loss * n
        correct += int(step.correct)
        samples += n
        steps += 1
        if on_step is not None:
            try:
                on_step(StepInfo(epoch, steps, n, step_loss, int(step.correct)))
            except StopTraining:
                complete = False
                result.stopped_early = True
                break
    return EpochResult(epoch, total_loss / samples, correct / samples, samples, steps,
                       time.perf_counter() - began, complete=complete)


def _with_validation(model: Model, trainer: Trainer, val: TrainingData, done: EpochResult) -> EpochResult:
    """Accuracy on the validation data, in inference mode (the model's outputs ranked first at the label)."""
    import dataclasses

    trainer.set_training(False)
    correct, samples = 0, 0
    for images, labels in val.batches(None):
        outputs = model._run_batched(images)
        correct += int((outputs.reshape(len(labels), -1).argmax(axis=1) == labels).sum())
        samples += len(labels)
    return dataclasses.replace(done, val_accuracy=correct / samples, val_samples=samples)


def _check_framework_options(model: Model, options: Mapping[str, Any]) -> None:
    unknown = sorted(set(options) - set(model.train_options))
    if unknown:
        core = ("epochs", "batch_size", "optimizer", "lr", "loss", "shuffle", "seed", "save_to", "validation",
                "on_step", "on_epoch")
        valid = ", ".join([*core, *sorted(model.train_options)])
        raise UsageError(f"unknown training option{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(repr(k) for k in unknown)} for {model.format} models (valid: {valid})")


def _base_method(name: str) -> Any:
    """The core's default ``Model`` method: a subclass still using it cannot do that (train, save)."""
    from greenai_core.models.model import Model

    return getattr(Model, name)
