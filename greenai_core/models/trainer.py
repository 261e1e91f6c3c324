"""What a format plugin provides for training: a ``Trainer``, the framework's primitives only.

The core's training loop (``greenai_core.models.train_loop``) owns everything else: data,
preprocessing (the one inference uses), shuffling, batching, epochs, validation of every
argument before the first step, accounting, callbacks, divergence and atomic saving.

A plugin's ``Model`` subclass implements ``_trainer(...)`` returning a ``Trainer``::

    class MyModel(Model):
        def _trainer(self, *, optimizer, lr, loss, seed, **framework_options) -> Trainer:
            return MyTrainer(self, optimizer, lr, loss, seed, **framework_options)

``optimizer`` is one of ``OPTIMIZERS`` or a framework-specific callable the plugin
documents; ``loss`` one of ``LOSSES`` or such a callable; ``lr`` a finite positive float;
``seed`` an int or None (seed the framework's generators with it when given).
``framework_options`` are the names the model declares in ``Model.train_options``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

#: Optimizers every training format understands by name.
OPTIMIZERS = ("adam", "sgd")
#: Losses every training format understands by name (cross-entropy on the model's outputs as logits).
LOSSES = ("cross_entropy",)


@dataclass(frozen=True)
class StepResult:
    """What one optimisation step on one batch gives back.

    ``loss``: the batch's mean loss, as a Python float (NaN or infinite when training diverged:
    the core stops and reports it); ``correct``: how many of the batch's samples the model's
    outputs (before the step) ranked first at their label.
    """

    loss: float
    correct: int


class Trainer(ABC):
    """The framework's training primitives for one ``Model.train`` call.

    ``step`` may raise a ``GreenAIError`` for input the framework refuses; anything else it
    raises ends training and reaches the caller as it is.
    """

    @abstractmethod
    def step(self, images: np.ndarray, labels: np.ndarray) -> StepResult:
        """One optimisation step on one batch.

        ``images``: a batch prepared for the model (its input spec's layout and dtype);
        ``labels``: int64 class indices, one per image, already checked to be within the outputs.
        """

    def set_training(self, mode: bool) -> None:  # noqa: B027 - optional: frameworks without modes ignore it
        """Switch the model into training mode (True, before the first step) or back to inference (False)."""
