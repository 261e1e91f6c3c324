"""Framework-free training data and results, shared by every format that can train.

``data`` is either an image folder (one subfolder per class, classes in sorted name
order, images inside; preprocessing is exactly ``Model.prepare``, the one inference uses)
or an iterable of ``(images, labels)`` array pairs already shaped for the model (a
one-shot iterator is kept in memory so that every epoch sees the same data).
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
    """Training data that cannot be used (empty folder, no classes, mismatched arrays)."""


@dataclass(frozen=True)
class EpochResult:
    epoch: int
    loss: float
    accuracy: float
    samples: int
    steps: int
    seconds: float


@dataclass
class TrainingResult:
    """Per-epoch loss and accuracy, and the step and sample counts (for energy per step/sample/epoch)."""

    epochs: list[EpochResult] = field(default_factory=list)
    classes: list[str] | None = None
    saved_to: str | None = None

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


@dataclass
class TrainingData:
    """Batches for training, the same every epoch (shuffled per epoch if asked)."""

    model: Model
    batch_size: int
    folder: ImageFolder | None = None
    pairs: list[tuple[Any, Any]] | None = None

    @classmethod
    def of(cls, data: Any, model: Model, batch_size: int) -> TrainingData:
        if batch_size < 1:
            raise UsageError("batch_size must be at least 1")
        if isinstance(data, (str, os.PathLike)):
            return cls(model, batch_size, folder=ImageFolder.scan(data))
        if isinstance(data, ImageFolder):
            return cls(model, batch_size, folder=data)
        if not isinstance(data, Iterable):
            raise UsageError(f"training data must be an image folder or (images, labels) pairs, not {type(data)!r}")
        pairs = list(data)
        if not pairs:
            raise DatasetError("training data is empty")
        return cls(model, batch_size, pairs=pairs)

    @property
    def classes(self) -> list[str] | None:
        return self.folder.classes if self.folder else None

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
        assert self.pairs is not None
        for i, pair in enumerate(self.pairs):
            try:
                images, labels = pair
            except (TypeError, ValueError):
                raise DatasetError(f"training item {i} is not an (images, labels) pair") from None
            images, labels = np.asarray(images), np.asarray(labels).astype(np.int64)
            if images.shape[0] != labels.shape[0]:
                raise DatasetError(f"training item {i}: {images.shape[0]} images but {labels.shape[0]} labels")
            self.model.check_array(images)
            yield images, labels
