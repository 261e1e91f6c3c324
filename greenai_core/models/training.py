"""Framework-free training data and results, shared by every format that can train.

``data`` (and ``validation``) is one of:

- an image folder: one subfolder per class, classes in sorted name order, images inside;
  preprocessing is exactly ``Model.prepare``, the one inference uses, one batch at a time;
- one ``(images, labels)`` tuple, ``images`` a numpy array shaped for the model with the
  batch first: the core cuts it into batches of ``batch_size``;
- an iterable of ``(images, labels)`` pairs: each pair is one batch, taken as it is (a
  one-shot iterator is kept in memory so that every epoch sees the same data).

Labels are class indices: integers (whole-valued floats are accepted), not negative.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.errors import GreenAIError, UsageError

if TYPE_CHECKING:
    import numpy as np

    from greenai_core.models.model import Model

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


class DatasetError(GreenAIError):
    """Training data that cannot be used (empty folder, no classes, mismatched arrays, bad labels)."""


@dataclass(frozen=True)
class StepInfo:
    """What ``on_step`` receives after each optimisation step.

    ``step`` counts from 1 within the epoch; ``samples``, ``loss`` and ``correct`` are this
    step's batch size, mean loss and correctly ranked samples.
    """

    epoch: int
    step: int
    samples: int
    loss: float
    correct: int


@dataclass(frozen=True)
class EpochResult:
    """One epoch: mean loss and accuracy over its samples; ``complete`` is False for an epoch stopped early.

    ``val_accuracy``/``val_samples`` are set when ``validation`` data was given.
    """

    epoch: int
    loss: float
    accuracy: float
    samples: int
    steps: int
    seconds: float
    complete: bool = True
    val_accuracy: float | None = None
    val_samples: int | None = None


@dataclass
class TrainingResult:
    """Per-epoch loss and accuracy, and the step and sample counts (for energy per step/sample/epoch)."""

    epochs: list[EpochResult] = field(default_factory=list)
    classes: list[str] | None = None
    saved_to: str | None = None
    #: True when a callback raised StopTraining.
    stopped_early: bool = False

    @property
    def steps(self) -> int:
        return sum(e.steps for e in self.epochs)

    @property
    def samples(self) -> int:
        return sum(e.samples for e in self.epochs)

    @property
    def losses(self) -> list[float]:
        return [e.loss for e in self.epochs]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "steps": self.steps, "samples": self.samples}


class StopTraining(Exception):  # noqa: N818 - a signal, not an error
    """Raise from ``on_step`` or ``on_epoch`` to end training after the current step or epoch.

    ``train`` then returns normally: the result holds what was done (a partial epoch with
    ``complete=False``), ``stopped_early`` is True, and ``save_to`` is still written.
    """


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (``KeyboardInterrupt``) during ``train``: still a KeyboardInterrupt, carrying what was done.

    ``result`` holds the epochs finished before the interrupt. The model keeps every step taken,
    the interrupted epoch's included; ``save_to`` is not written (``model.save(path)`` keeps it).
    """

    def __init__(self, message: str, result: TrainingResult) -> None:
        super().__init__(message)
        self.result = result


class TrainingDivergedError(GreenAIError):
    """The loss became NaN or infinite; ``result`` holds the epochs finished before it (nothing is saved)."""

    def __init__(self, message: str, result: TrainingResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class ImageFolder:
    """A folder with one subfolder per class; classes in sorted name order."""

    root: Path
    classes: list[str]
    samples: list[tuple[Path, int]]

    @classmethod
    def scan(cls, root: str | os.PathLike[str]) -> ImageFolder:
        path = Path(root)
        if not path.is_dir():
            raise DatasetError(f"{path}: not a folder of class subfolders")
        classes = sorted(d.name for d in path.iterdir() if d.is_dir() and not d.name.startswith("."))
        if not classes:
            raise DatasetError(f"{path}: no class subfolders (expected one folder per class with images inside)")
        samples = [
            (f, label)
            for label, name in enumerate(classes)
            for f in sorted((path / name).rglob("*"))
            if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
        ]
        if not samples:
            raise DatasetError(f"{path}: the class folders {', '.join(classes)} hold no images")
        return cls(path, classes, samples)


def integer_labels(labels: Any, where: str) -> np.ndarray:
    """Labels as an int64 vector; non-integers, negatives and non-numbers are a DatasetError."""
    import numpy as np

    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise DatasetError(f"{where}: labels must be a vector of class indices, not shape {list(arr.shape)}")
    whole = arr.dtype.kind == "f" and bool(np.all(np.isfinite(arr))) and bool(np.all(arr == np.round(arr)))
    if arr.dtype.kind not in "iu" and not whole:
        raise DatasetError(f"{where}: labels must be integer class indices, not {arr.dtype} values")
    if arr.size and arr.dtype.kind in "uf" and float(arr.max()) >= 2.0**63:  # would wrap around in int64
        raise DatasetError(f"{where}: label {float(arr.max()):g} is not a plausible class index")
    out: np.ndarray = arr.astype(np.int64)
    if out.size and int(out.min()) < 0:
        raise DatasetError(f"{where}: labels must not be negative (found {int(out.min())})")
    return out


@dataclass
class TrainingData:
    """Batches for training, the same every epoch (shuffled per epoch if asked).

    Every array is checked when this is built, before any training step.
    """

    model: Model
    batch_size: int
    folder: ImageFolder | None = None
    pairs: list[tuple[np.ndarray, np.ndarray]] | None = None
    #: One (images, labels) pair given whole: cut into batches here, shuffled per sample.
    arrays: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def of(cls, data: Any, model: Model, batch_size: int, what: str = "training data") -> TrainingData:
        import numpy as np

        if isinstance(data, (str, os.PathLike)):
            return cls(model, batch_size, folder=ImageFolder.scan(data))
        if isinstance(data, ImageFolder):
            return cls(model, batch_size, folder=data)
        if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], np.ndarray):  # one (images, labels)
            return cls(model, batch_size, arrays=cls._checked(model, data, f"{what} arrays"))
        if not isinstance(data, Iterable) or isinstance(data, (bytes, np.ndarray)):
            raise UsageError(f"{what} must be an image folder or (images, labels) arrays, not {type(data).__name__}")
        pairs = [cls._checked(model, pair, f"{what} item {i}") for i, pair in enumerate(data)]
        if not pairs:
            raise DatasetError(f"{what} is empty")
        return cls(model, batch_size, pairs=pairs)

    @staticmethod
    def _checked(model: Model, pair: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        try:
            images, labels = pair
        except (TypeError, ValueError):
            raise DatasetError(f"{where} is not an (images, labels) pair") from None
        images = np.asarray(images)
        vector = integer_labels(labels, where)
        if images.ndim < 1 or images.shape[0] != vector.shape[0]:
            count = images.shape[0] if images.ndim else 0
            raise DatasetError(f"{where}: {count} images but {vector.shape[0]} labels")
        if not vector.size:
            raise DatasetError(f"{where} holds no images")
        model.check_array(images)
        return images, vector

    @property
    def classes(self) -> list[str] | None:
        return self.folder.classes if self.folder else None

    def max_label(self) -> int:
        """The largest class index in the data."""
        if self.folder is not None:
            return len(self.folder.classes) - 1
        if self.arrays is not None:
            return int(self.arrays[1].max())
        assert self.pairs is not None
        return max(int(labels.max()) for _, labels in self.pairs)

    def first_images(self, count: int) -> np.ndarray:
        """Up to ``count`` images of the first batch (decoded), e.g. to learn the output size with one forward."""
        count = min(count, self.batch_size)
        if self.folder is not None:
            return self.model.prepare([p for p, _ in self.folder.samples[:count]])
        if self.arrays is not None:
            return self.arrays[0][:count]
        assert self.pairs is not None
        return self.pairs[0][0][:count]

    def batches(self, rng: np.random.Generator | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        import numpy as np

        if self.folder is not None:
            order = np.arange(len(self.folder.samples))
            if rng is not None:
                rng.shuffle(order)
            for start in range(0, len(order), self.batch_size):
                chunk = [self.folder.samples[i] for i in order[start:start + self.batch_size]]
                images = self.model.prepare([p for p, _ in chunk])
                yield images, np.asarray([label for _, label in chunk], dtype=np.int64)
            return
        if self.arrays is not None:  # one dataset cut into batches: shuffle the samples
            images, labels = self.arrays
            shuffled = rng.permutation(len(labels)) if rng is not None else None
            for start in range(0, len(labels), self.batch_size):
                if shuffled is None:
                    yield images[start:start + self.batch_size], labels[start:start + self.batch_size]
                else:
                    take = shuffled[start:start + self.batch_size]
                    yield images[take], labels[take]
            return
        assert self.pairs is not None
        order = np.arange(len(self.pairs))
        if rng is not None:  # the caller's batches: shuffle their order
            rng.shuffle(order)
        for i in order:
            yield self.pairs[i]
