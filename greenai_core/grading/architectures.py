"""``ReferenceModel``: one reference architecture a plugin offers for calibration (hook ``register_reference_models``).

The core has no ML framework, so the models a reference is calibrated on come from plugins: each
registers named builders that write a model file, generated locally with random weights (nothing
is downloaded). ``calibrate`` builds each into a temporary folder, loads it with ``load_model`` and
profiles it on the bundled sample image (inference references) or trains it on generated images
(training references, ``trains=True``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ReferenceModel:
    """A reference architecture: ``build(folder)`` writes the model into ``folder`` and returns its path.

    ``name``: unique among every plugin's (e.g. ``"onnx-cnn-w24"``); ``parameters``: the exact
    parameter count of what ``build`` writes; ``format``: the model format to load it with (None:
    detected); ``family`` and ``description``: for people (``greenai plugins``, the reference file).
    ``trains``: False (default), an inference reference, profiled by ``calibrate()``; True, a training
    reference, trained by ``calibrate(training=True)`` on generated images of
    ``greenai_core.grading.calibrate_training.CLASSES`` classes (so it must output at least that many),
    and left out of inference calibration (whose reference stays the family it always was).
    """

    name: str
    parameters: int
    build: Callable[[Path], Path]
    format: str | None = None
    family: str = ""
    description: str = ""
    trains: bool = False
