"""Format ``example-linear``: a linear softmax classifier that loads, predicts, trains and saves.

The model computes ``softmax(x.reshape(n, -1) @ W + b)`` on NCHW float32 batches, in numpy.
Small on purpose: replace the file layout (``linear_file.py``) and the maths with your
framework's, and keep the shape of the code: a bounded ``sniff`` that never raises, errors
that name the file, numpy imported inside functions so that discovering the plugin stays
cheap, and only the framework's parts here (the core owns devices, options such as
``normalize`` and ``labels``, preprocessing, batching, the training loop and atomic saving).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.sdk import (
    NCHW,
    OPTIMIZERS,
    Device,
    InputSpec,
    Model,
    ModelFormat,
    StepResult,
    TensorSpec,
    Trainer,
    UnsupportedOperationError,
    read_head,
)
from greenai_example.linear_file import FORMAT_NAME, MAGIC, read_linear_file, save_example_model

if TYPE_CHECKING:
    import numpy as np


class LinearFormat(ModelFormat):
    name = FORMAT_NAME
    suffixes = (".glin",)
    description = "template format: a linear softmax classifier in a self-describing file (numpy)"
    # No ``options`` of its own (the default): the core's normalize, image_size, layout and labels
    # still apply, and anything else is refused by the core. The CPU only (the default, spelled out):
    # the core refuses "cuda" before ``load`` is called.
    device_kinds = ("cpu",)

    def sniff(self, path: Path) -> bool:
        # Bounded: the magic bytes only. read_head answers b"" for folders and unreadable paths.
        return read_head(path, len(MAGIC)) == MAGIC

    def explain(self, path: Path) -> str:
        return f"does not start with the {self.name} magic bytes"

    def load(self, path: Path, *, device: Device, trust: bool = False, **options: Any) -> Model:
        # Nothing in this file can run code, so ``trust`` changes nothing.
        header, weights, bias = read_linear_file(path)
        channels, height, width = header["input_shape"]
        return LinearModel(path, weights, bias, (channels, height, width), header.get("labels"), device)


class LinearModel(Model):
    """What ``load`` returns: the core's ``Model`` with the weights, a forward pass, a trainer and saving."""

    def __init__(self, path: Path, weights: np.ndarray, bias: np.ndarray, input_shape: tuple[int, int, int],
                 labels: list[str] | None, device: Device) -> None:
        channels, height, width = input_shape
        classes = int(bias.shape[0])
        super().__init__(
            path=path, format=FORMAT_NAME, device=device,
            input_spec=InputSpec("image", (None, channels, height, width), "float32", NCHW),
            output_spec=TensorSpec("probabilities", (None, classes), "float32"),
            num_parameters=int(weights.size + bias.size), trainable_parameters=int(weights.size + bias.size),
            labels=labels,
        )
        self.weights = weights
        self.bias = bias
        self.input_shape = (channels, height, width)  # as the file has it, whatever layout the user declares

    def _logits(self, batch: np.ndarray) -> np.ndarray:
        logits: np.ndarray = batch.reshape(batch.shape[0], -1) @ self.weights + self.bias
        return logits

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        return softmax(self._logits(batch))

    def _trainer(self, *, optimizer: Any, lr: float, loss: Any, seed: int | None, **framework_options: Any) -> Trainer:
        if optimizer not in OPTIMIZERS or loss != "cross_entropy":
            raise UnsupportedOperationError(f"{self.path}: the {self.format} format trains only with the named "
                                            f"optimizers ({', '.join(OPTIMIZERS)}) and loss (cross_entropy)")
        return LinearTrainer(self, optimizer, lr)  # no random initialisation or dropout: ``seed`` changes nothing

    def _save(self, path: Path) -> None:
        save_example_model(path, input_shape=self.input_shape, classes=int(self.bias.shape[0]),
                           weights=self.weights, bias=self.bias, labels=self.labels)


class LinearTrainer(Trainer):
    """One step of plain or Adam gradient descent on the mean cross-entropy of a batch."""

    BETAS, EPSILON = (0.9, 0.999), 1e-8

    def __init__(self, model: LinearModel, optimizer: str, lr: float) -> None:
        import numpy as np

        self.model, self.optimizer, self.lr = model, optimizer, lr
        self.moments = [(np.zeros_like(p), np.zeros_like(p)) for p in (model.weights, model.bias)]
        self.steps = 0

    def step(self, images: np.ndarray, labels: np.ndarray) -> StepResult:
        import numpy as np

        m = self.model
        x = images.reshape(images.shape[0], -1)
        logits = m._logits(images)
        probs = softmax(logits)
        rows = np.arange(len(labels))
        loss = float(-np.log(np.maximum(probs[rows, labels], np.finfo(np.float32).tiny)).mean())
        correct = int((logits.argmax(axis=1) == labels).sum())  # before the step, as the contract says
        grad = probs
        grad[rows, labels] -= 1.0
        grad /= len(labels)
        self.steps += 1
        for param, g, moments in zip((m.weights, m.bias), (x.T @ grad, grad.sum(axis=0)), self.moments, strict=True):
            param -= (self.lr * self._direction(g, moments)).astype(param.dtype)
        return StepResult(loss, correct)

    def _direction(self, grad: np.ndarray, moments: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        if self.optimizer == "sgd":
            return grad
        (b1, b2), (first, second) = self.BETAS, moments
        first *= b1
        first += (1 - b1) * grad
        second *= b2
        second += (1 - b2) * grad * grad
        corrected = first / (1 - b1 ** self.steps), second / (1 - b2 ** self.steps)
        return corrected[0] / (corrected[1] ** 0.5 + self.EPSILON)


def softmax(logits: np.ndarray) -> np.ndarray:
    import numpy as np

    shifted = logits - logits.max(axis=1, keepdims=True)  # exp() of the largest is 1: no overflow
    exp = np.exp(shifted)
    probs: np.ndarray = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32, copy=False)
    return probs
