"""Top-1 accuracy of a model on a labelled image folder (one subfolder per class, as ``greenai train --data``).

The folder is read by the training code's ``ImageFolder`` (classes in sorted name order). A
model's outputs are mapped to the folder's classes by the model's class names when it has
them (every folder class must be one of them), else by index: output k is the k-th class
in sorted order, which needs exactly as many outputs as classes. Anything else is a
``UsageError`` naming the model, raised by ``class_mapping`` before any image is run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from greenai_core.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from greenai_core.models.model import Model
    from greenai_core.models.training import ImageFolder

BY_NAMES = "model class names"
BY_INDEX = "sorted folder index"
#: Images run per predict call while counting (memory follows it, not the folder's size).
EVAL_BATCH = 32


@dataclass(frozen=True)
class ClassMapping:
    """How a model's output index maps to the folder's class index: ``target[k]`` (-1: not a folder class)."""

    how: str
    target: list[int]


@dataclass(frozen=True)
class Accuracy:
    correct: int
    evaluated: int
    mapping: str

    @property
    def value(self) -> float:
        return self.correct / self.evaluated

    def to_dict(self) -> dict[str, Any]:
        return {"accuracy": self.value, "correct": self.correct, "evaluated": self.evaluated,
                "class_mapping": self.mapping}


def read_folder(path: Any) -> ImageFolder:
    """The labelled folder, by the training code's reader; a ``UsageError`` naming it when unusable."""
    from greenai_core.models.training import DatasetError, ImageFolder

    try:
        return ImageFolder.scan(path)
    except DatasetError as exc:
        raise UsageError(f"--data {exc}") from None


def output_count(model: Model, folder: ImageFolder) -> int:
    """How many class scores the model gives: its output spec's, else one forward pass on the first image."""
    if model.num_classes is not None:
        return model.num_classes
    outputs = _scores(model, [folder.samples[0][0]])
    return int(outputs.shape[1])


def class_mapping(model: Model, folder: ImageFolder) -> ClassMapping:
    """The mapping used for ``model`` (module docstring); a ``UsageError`` naming the model when none fits."""
    classes = folder.classes
    count = output_count(model, folder)
    if model.labels is not None:
        names = list(model.labels)[:count]
        missing = [c for c in classes if c not in names]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise UsageError(f"{model.path}: the model's class names do not include the data's class "
                             f"folder{'s' if len(missing) > 1 else ''} {shown} (from {folder.root}); "
                             "give a folder whose subfolders are named as the model's classes")
        index = {name: i for i, name in enumerate(classes)}
        # Outputs past the names (a labels list shorter than the outputs) are no folder class: -1, never a hit.
        return ClassMapping(BY_NAMES, [index.get(name, -1) for name in names] + [-1] * (count - len(names)))
    if count != len(classes):
        raise UsageError(f"{model.path}: the model gives {count} class scores but {folder.root} has "
                         f"{len(classes)} class folders, and the model carries no class names to match them by; "
                         "give it its names (a labels file) or a folder with one subfolder per output")
    return ClassMapping(BY_INDEX, list(range(count)))


def top1_accuracy(model: Model, folder: ImageFolder, mapping: ClassMapping) -> Accuracy:
    """Run every image of ``folder`` through ``model`` (``EVAL_BATCH`` at a time) and count top-1 hits."""
    import numpy as np

    correct = 0
    samples = folder.samples
    for start in range(0, len(samples), EVAL_BATCH):
        chunk = samples[start:start + EVAL_BATCH]
        scores = _scores(model, [path for path, _ in chunk])
        if scores.shape[1] != len(mapping.target):
            raise UsageError(f"{model.path}: the model gave {scores.shape[1]} class scores per image where it declares "
                             f"{len(mapping.target)}: cannot measure its accuracy")
        predicted = np.asarray(mapping.target)[np.argmax(scores, axis=1)]
        truth = np.asarray([label for _, label in chunk])
        correct += int((predicted == truth).sum())
    return Accuracy(correct, len(samples), mapping.how)


def _scores(model: Model, paths: list[Any]) -> np.ndarray:
    """Class scores [N, K] for ``paths``; a model with a fixed batch size gets the list padded to fit."""
    import numpy as np

    fixed = model.input_spec.batch
    wanted = len(paths)
    if fixed is not None and wanted % fixed:
        paths = paths + [paths[-1]] * (fixed - wanted % fixed)  # padding rows, dropped below
    outputs = np.asarray(model.predict(paths, batch_size=max(EVAL_BATCH, fixed or 1)))
    if outputs.ndim != 2 or outputs.shape[0] != len(paths) or outputs.shape[1] < 1:
        raise UsageError(f"{model.path}: outputs of shape {list(outputs.shape)} are not one row of class scores per "
                         "image: cannot measure its accuracy")
    if not bool(np.all(np.isfinite(outputs[:wanted]))):
        raise UsageError(f"{model.path}: the model gave NaN or infinite class scores: cannot measure its accuracy")
    return outputs[:wanted]
