"""The "tf" model format: Keras 3 ``.keras`` zips, legacy Keras HDF5 files and SavedModel folders."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.sdk import ModelFormat

if TYPE_CHECKING:  # discovery imports this module: kinds (zip helpers) loads at the first sniff, TF at load
    from greenai_core.sdk import Device, Model


class TFFormat(ModelFormat):
    name = "tf"
    suffixes = (".keras", ".h5", ".hdf5", "/")
    description = "TensorFlow / Keras: .keras (Keras 3), legacy .h5, SavedModel folders; training"
    device_kinds = ("cpu", "cuda")

    def sniff(self, path: Path) -> bool:
        from greenai_tf.kinds import detect_kind

        return detect_kind(path) is not None

    def explain(self, path: Path) -> str:
        from greenai_tf.kinds import explain

        return explain(path)

    def load(self, path: Path, *, device: Device, trust: bool, **options: Any) -> Model:
        from greenai_tf.loading import load_tf

        return load_tf(path, device=device, trust=trust)
