"""An in-test model format with no ML framework: a linear softmax classifier in numpy.

File layout: MAGIC, one JSON header line ({"shape": [C, H, W], "classes": K, "labels": [...]?}),
then W (K x C*H*W) and b (K) as little-endian float32. Training is a real gradient step of
softmax cross-entropy (SGD or Adam), so the core's loop, validation and saving are covered
without torch.
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from greenai_core import hookimpl
from greenai_core.models import InputSpec, Model, ModelFormat, TensorSpec
from greenai_core.models.devices import Device
from greenai_core.models.trainer import StepResult, Trainer
from greenai_core.plugins import Registry

MAGIC = b"GREENAI-LINEAR\n"


def write_linear(path: Path, weights: np.ndarray, bias: np.ndarray, shape: tuple[int, int, int],
                 labels: list[str] | None = None) -> Path:
    header: dict[str, Any] = {"shape": list(shape), "classes": int(weights.shape[0])}
    if labels is not None:
        header["labels"] = labels
    with open(path, "wb") as fh:
        fh.write(MAGIC + json.dumps(header).encode() + b"\n")
        fh.write(weights.astype("<f4").tobytes() + bias.astype("<f4").tobytes())
    return path


def random_linear(path: Path, shape: tuple[int, int, int] = (3, 2, 2), classes: int = 2, seed: int = 0,
                  labels: list[str] | None = None) -> Path:
    rng = np.random.default_rng(seed)
    return write_linear(path, rng.normal(0, 0.1, (classes, int(np.prod(shape)))), np.zeros(classes), shape, labels)


def separable(n: int = 32, shape: tuple[int, int, int] = (3, 2, 2), seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Two classes told apart by the sign of the mean pixel."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    images = rng.normal(0, 0.3, (n, *shape)) + np.where(labels == 1, 1.0, -1.0)[:, None, None, None]
    return images.astype(np.float32), labels


class LinearModel(Model):
    train_options: ClassVar[dict[str, str]] = {"nan_after": "make the loss NaN after this many steps (tests)"}
    #: Every step any LinearTrainer took (tests check nothing ran before a validation error).
    steps_taken: ClassVar[int] = 0

    def __init__(self, weights: np.ndarray, bias: np.ndarray, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.weights, self.bias = weights, bias
        self.forward_sizes: list[int] = []

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        self.forward_sizes.append(len(batch))
        out: np.ndarray = batch.reshape(len(batch), -1) @ self.weights.T + self.bias
        return out.astype(np.float32)

    def _trainer(self, *, optimizer: Any, lr: float, loss: Any, seed: int | None, **options: Any) -> Trainer:
        return LinearTrainer(self, optimizer, lr, **options)

    def _save(self, path: Path) -> None:
        write_linear(path, self.weights, self.bias, tuple(self.input_spec.shape[1:]),  # type: ignore[arg-type]
                     self.labels)


class LinearTrainer(Trainer):
    def __init__(self, model: LinearModel, optimizer: str, lr: float, nan_after: int | None = None) -> None:
        self.model, self.optimizer, self.lr, self.nan_after = model, optimizer, lr, nan_after
        self.moments = [(np.zeros_like(p), np.zeros_like(p)) for p in (model.weights, model.bias)]
        self.t = 0
        self.modes: list[bool] = []

    def step(self, images: np.ndarray, labels: np.ndarray) -> StepResult:
        m = self.model
        x = images.reshape(len(images), -1).astype(np.float64)
        logits = x @ m.weights.T + m.bias
        shifted = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        loss = float(-np.log(probs[np.arange(len(labels)), labels]).mean())
        correct = int((logits.argmax(axis=1) == labels).sum())
        grad = probs.copy()
        grad[np.arange(len(labels)), labels] -= 1
        grad /= len(labels)
        grads = [grad.T @ x, grad.sum(axis=0)]
        self.t += 1
        LinearModel.steps_taken += 1
        for i, (param, g) in enumerate(zip((m.weights, m.bias), grads, strict=True)):
            if self.optimizer == "sgd":
                param -= self.lr * g
            else:  # adam
                mean, var = self.moments[i]
                mean[:] = 0.9 * mean + 0.1 * g
                var[:] = 0.999 * var + 0.001 * g * g
                param -= self.lr * (mean / (1 - 0.9 ** self.t)) / (np.sqrt(var / (1 - 0.999 ** self.t)) + 1e-8)
        if self.nan_after is not None and self.t > self.nan_after:
            loss = float("nan")
        return StepResult(loss, correct)

    def set_training(self, mode: bool) -> None:
        self.modes.append(mode)


class LinearFormat(ModelFormat):
    name = "linear"
    suffixes = (".lin",)
    description = "numpy linear classifier (tests)"
    options: ClassVar[dict[str, str]] = {
        "hide_outputs": "do not tell the output size (the core must find it)",
        "fail": "raise this exception class's instance inside load (tests)",
    }
    model_class: ClassVar[type[LinearModel]] = LinearModel
    #: What the last load received: (device, trust, options).
    last_call: ClassVar[tuple[Any, bool, dict[str, Any]] | None] = None
    loads: ClassVar[int] = 0

    def sniff(self, path: Path) -> bool:
        try:
            with open(path, "rb") as fh:
                return fh.read(len(MAGIC)) == MAGIC
        except OSError:
            return False

    def load(self, path: Path, *, device: Device, trust: bool, **options: Any) -> Model:
        type(self).last_call = (device, trust, dict(options))
        type(self).loads += 1
        if options.get("fail") == "RuntimeError":
            raise RuntimeError("backend exploded\nwith a second line")
        if options.get("fail") == "TypeError":
            raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")
        if options.get("fail") == "not-a-model":
            return "oops"  # type: ignore[return-value]
        data = path.read_bytes()[len(MAGIC):]
        line, _, rest = data.partition(b"\n")
        header = json.loads(line)
        shape, classes = tuple(header["shape"]), header["classes"]
        size = int(np.prod(shape))
        params = np.frombuffer(rest, "<f4").astype(np.float64)
        weights, bias = params[: classes * size].reshape(classes, size).copy(), params[classes * size:].copy()
        output = None if options.get("hide_outputs") else TensorSpec("logits", (None, classes), "float32")
        return self.model_class(weights, bias, path=path, format=self.name, device=device,
                           input_spec=InputSpec("x", (None, *shape), "float32", "NCHW"), output_spec=output,
                           num_parameters=weights.size + bias.size, trainable_parameters=weights.size + bias.size,
                           labels=header.get("labels"))


class FrozenModel(LinearModel):
    """A model of a format that cannot train: the core's default ``_trainer``."""

    _trainer = Model._trainer  # type: ignore[assignment]
    _save = Model._save  # type: ignore[assignment]


class FrozenFormat(LinearFormat):
    """The same files under another name, loaded as models that cannot train."""

    name = "frozen"
    suffixes = (".frz",)
    model_class = FrozenModel


def install(registry: Registry, *formats: ModelFormat) -> None:
    """Register the in-test formats as a plugin named "numpy-tests"."""
    chosen = formats or (LinearFormat(),)
    plugin = types.SimpleNamespace(register_model_formats=hookimpl(lambda register: [register(f) for f in chosen]))
    record = registry.add_plugin(plugin, name="numpy-tests")
    assert record.status == "loaded", record.error
