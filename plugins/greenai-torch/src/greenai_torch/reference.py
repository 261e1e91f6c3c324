"""Reference architectures for ``greenai grade --calibrate --training``: a tiny trainable CNN family (torch.export).

One architecture at several widths ``w`` (random weights from seed 0, nothing downloaded), on
3 x 32 x 32 images (NCHW), scoring the training calibration's 4 classes::

    Conv2d 3->w 3x3 pad 1, ReLU, MaxPool 2x2 -> Conv2d w->2w 3x3 pad 1, ReLU
    -> AdaptiveAvgPool 1, Flatten -> Linear 2w->4

Parameters: conv1 27w + w, conv2 18w^2 + 2w, linear 8w + 4, so ``18 w^2 + 38 w + 4`` (444 to
76,164). Saved with ``torch.export.save`` (``.pt2``, batch dynamic, 32 x 32 fixed): it loads
without ``trust`` and trains, and runs as plain torch ops, so no model carries TorchScript's
per-model first-call compilation into its first steps. Torch is imported only when a model is built.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

#: The family's widths: 444 ... 76,164 parameters.
WIDTHS = (4, 8, 16, 24, 32, 48, 64)
IMAGE_SIZE = 32
CHANNELS = 3
#: The training calibration's classes (greenai_core.grading.calibrate_training.CLASSES).
CLASSES = 4
#: The largest batch the exported programs take.
MAX_BATCH = 65_536
FAMILY = "torch-cnn"
SEED = 0


def cnn_parameters(width: int) -> int:
    """The exact parameter count of the width-``width`` reference CNN."""
    return 18 * width * width + 38 * width + 4


def reference_name(width: int) -> str:
    return f"{FAMILY}-w{width}"


def make_cnn(width: int) -> Any:
    """The width-``width`` reference CNN as a torch module, with random weights from seed ``SEED``."""
    import torch
    from torch import nn

    with torch.random.fork_rng(devices=[]):  # a fixed seed without touching the caller's random state
        torch.manual_seed(SEED)
        return nn.Sequential(
            nn.Conv2d(CHANNELS, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, CLASSES),
        )


def build_cnn(width: int, folder: Path) -> Path:
    """Write the width-``width`` reference CNN into ``folder`` (``torch-cnn-w<width>.pt2``, exported); its path."""
    import torch

    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    example = (torch.zeros(2, CHANNELS, IMAGE_SIZE, IMAGE_SIZE),)
    program = torch.export.export(make_cnn(width), example, dynamic_shapes=({0: batch},))
    path = Path(folder) / f"{reference_name(width)}.pt2"
    torch.export.save(program, str(path))
    return path


def reference_models(make: Callable[..., Any]) -> list[Any]:
    """The family as ``make(name=, parameters=, build=, format=, family=, description=, trains=True)`` objects."""
    return [
        make(name=reference_name(w), parameters=cnn_parameters(w), build=partial(build_cnn, w), format="torch",
             family=FAMILY, trains=True,
             description=f"tiny trainable CNN, width {w}, {CHANNELS}x{IMAGE_SIZE}x{IMAGE_SIZE} input, "
                         f"{CLASSES} classes, random weights (torch.export)")
        for w in WIDTHS
    ]
