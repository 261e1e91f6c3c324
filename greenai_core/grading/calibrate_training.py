"""``calibrate(training=True)``: train the installed reference models that train and store their energy per step.

Every model a plugin registers with ``ReferenceModel(trains=True)`` (greenai-torch: a tiny CNN
family) is built into a temporary folder with random weights, loaded with ``load_model`` and
trained by ``profile_training`` on a labelled image folder generated here (``CLASSES`` classes of
``IMAGES_PER_CLASS`` seeded random ``IMAGE_SIZE`` x ``IMAGE_SIZE`` RGB images, each class tinted
on one channel so there is something to learn; nothing downloaded), with the settings given and
a fixed shuffling seed; a model of dynamic input size (TorchScript) takes them at their own
size (``image_size``), a fixed-size one resized as ``Model.prepare`` does. Each entry stores the
*gross* mean energy per step (``value``: what a training report is graded by, like with like),
its 95 % interval, the parameters and the mean power over the epochs. Reference models whose
format does not train (``trains=False``, e.g. greenai-onnx's) are left out.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.grading.calibrate import check_out, chosen_models, reference_entry
from greenai_core.grading.reference import Reference

if TYPE_CHECKING:
    from greenai_core.energy.selection import BackendSpec

METRIC = "energy_per_step_j"
INSTALL_HINT = "pip install greenai-torch"
#: The generated training data: a training reference model must output at least ``CLASSES`` scores.
CLASSES = 4
IMAGES_PER_CLASS = 32
IMAGE_SIZE = 32
#: Seeds the generated images and the training's shuffling, so every calibration trains on the same batches.
SEED = 0
#: How the data is described in the reference's settings.
DATA = f"generated images: {CLASSES} classes x {IMAGES_PER_CLASS}, {IMAGE_SIZE}x{IMAGE_SIZE} RGB, seed {SEED}"


def write_training_images(folder: Path) -> Path:
    """Write the calibration's labelled image folder into ``folder`` (``class-0/000.png`` ...); ``folder``."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(SEED)
    for label in range(CLASSES):
        sub = folder / f"class-{label}"
        sub.mkdir(parents=True, exist_ok=True)
        for index in range(IMAGES_PER_CLASS):
            pixels = rng.integers(0, 160, (IMAGE_SIZE, IMAGE_SIZE, 3))
            pixels[:, :, label % 3] += 32 * (1 + label // 3)  # a class tint: a learnable difference
            Image.fromarray(pixels.astype(np.uint8), "RGB").save(sub / f"{index:03d}.png")
    return folder


def calibrate_training(*, out: str | os.PathLike[str] | None = None, backends: BackendSpec = None,
                       batch_size: int = 32, epochs: int = 1, optimizer: str = "adam", lr: float = 1e-3,
                       baseline_s: float = 0.0, models: Sequence[str] | None = None,
                       progress: Callable[[str], Any] | None = None) -> Reference:
    """Train every installed reference model that trains; the reference of ``energy_per_step_j`` (saved to ``out``).

    ``epochs``, ``batch_size``, ``optimizer``, ``lr``, ``backends``, ``baseline_s``: the training
    protocol's (``profile_training``); grade training reports made with the same ones. ``models``:
    only these reference names (at least five). ``progress(line)`` is told before each model.
    ``GradeError`` when fewer than five reference models train (``pip install greenai-torch``).
    """
    from greenai_core.models.loading import load_model
    from greenai_core.profiling.training import profile_training

    check_out(out)
    available = chosen_models(trains=True, models=models, hint=INSTALL_HINT)
    entries: list[dict[str, Any]] = []
    first: Any = None
    with tempfile.TemporaryDirectory(prefix="greenai-reference-") as folder:
        data = write_training_images(Path(folder) / "data")
        built = Path(folder) / "models"
        built.mkdir()
        ordered = sorted(available.values(), key=lambda r: r.parameters)
        for index, ref in enumerate(ordered):
            if progress is not None:
                progress(f"[{index + 1}/{len(available)}] {ref.name} ({ref.parameters:,} parameters, training)")
            # a model of dynamic input size trains on the images at their own size, not the 224 x 224 default
            with load_model(ref.build(built), format=ref.format, image_size=(IMAGE_SIZE, IMAGE_SIZE)) as model:
                if index == 0:
                    # The process's one-time start-up (the framework's first calls, its thread pools, lazy
                    # imports) would otherwise fall on whichever model comes first: an epoch untimed pays it.
                    model.train(str(data), epochs=1, batch_size=batch_size, optimizer=optimizer, lr=lr, seed=SEED)
                report = profile_training(model, str(data), epochs=epochs, batch_size=batch_size,
                                          backends=backends, baseline_s=baseline_s, timeline=False,
                                          optimizer=optimizer, lr=lr, seed=SEED)
            entries.append(reference_entry(ref, report, METRIC, "epochs", "training calibration"))
            first = first or report
    methods = sorted({e["method"] for e in entries})
    settings = {
        "batch_size": batch_size, "epochs": epochs, "optimizer": optimizer, "lr": lr, "loss": "cross_entropy",
        "seed": SEED, "backends": first.settings.get("backends"),
        "method": methods[0] if len(methods) == 1 else "mixed", "device": first.model.get("device"),
        "baseline_s": baseline_s, "inputs": DATA,
    }
    reference = Reference.from_values(METRIC, entries, hardware=first.environment, settings=settings)
    if out is not None:
        reference.save(out)
    return reference
