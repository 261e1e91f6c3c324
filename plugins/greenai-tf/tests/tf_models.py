"""Small Keras models the tests build, saved in TensorFlow's three kinds (TensorFlow imports slowly: build once)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # oneDNN's rounding differs run to run: exact comparisons

import keras  # noqa: E402
import numpy as np  # noqa: E402


def make_cnn(classes: int = 3, softmax: bool = False) -> Any:
    """A conv, batch norm (non-trainable statistics), dropout (a random-generator state) and a dense head."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 3), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.1)(x)
    outputs = keras.layers.Dense(classes, activation="softmax" if softmax else None)(x)
    return keras.Model(inputs, outputs)


@dataclass(frozen=True)
class Saved:
    model: Any
    keras: Path
    h5: Path
    savedmodel: Path

    def kinds(self) -> dict[str, Path]:
        return {"keras": self.keras, "h5": self.h5, "savedmodel": self.savedmodel}


def save_all(model: Any, folder: Path) -> Saved:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(folder / "cnn.keras")
        model.save(folder / "cnn.h5")
    model.export(str(folder / "cnn_savedmodel"), verbose=False)
    return Saved(model, folder / "cnn.keras", folder / "cnn.h5", folder / "cnn_savedmodel")


def lambda_model(marker: Path) -> Any:
    """A model whose Lambda layer writes ``marker`` whenever its code runs (Keras runs it while rebuilding)."""
    inputs = keras.Input((4, 4, 3))
    # The path is a constant of the function's code (Keras cannot restore a lambda's default arguments).
    payload = eval(f"lambda t: (open({str(marker)!r}, 'w').close(), t)[1]")  # noqa: S307 - the test's own code
    x = keras.layers.Lambda(payload)(inputs)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(2)(x))


def image_folder(root: Path, per_class: int = 8, size: int = 16) -> Path:
    """Two classes told apart by brightness: dark and bright noise."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for label, (low, high) in enumerate(((0, 90), (165, 255))):
        folder = root / f"class{label}"
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(low, high, (size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
    return root
