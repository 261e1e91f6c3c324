"""Telling TensorFlow's model kinds apart by content, without importing TensorFlow or h5py.

- Keras 3 ``.keras``: a zip archive with ``config.json`` at its root (and ``model.weights.h5``);
  only the zip's end record and central directory are read (the SDK's bounded zip helpers).
- Legacy HDF5 (``.h5``, ``.hdf5``): the HDF5 signature (at offset 0, or after a user block of
  512, 1024 or 2048 bytes) and Keras's ``model_config`` root attribute, which ``model.save``
  writes before any weight, so it sits in the file's first :data:`HDF5_HEAD` bytes. Any other
  HDF5 file (weights only, data) is not a model.
- SavedModel: a folder holding ``saved_model.pb``.
"""

from __future__ import annotations

from pathlib import Path

from greenai_core.sdk import is_zip, read_head, zip_names, zip_problem

KERAS, H5, SAVEDMODEL = "keras", "h5", "savedmodel"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
#: Where the HDF5 signature may start (HDF5 allows a user block of 512 bytes times a power of two).
HDF5_OFFSETS = (0, 512, 1024, 2048)
#: How much of an HDF5 file is searched for Keras's ``model_config`` attribute.
HDF5_HEAD = 1024 * 1024
SAVED_MODEL_PB = "saved_model.pb"


def is_hdf5(path: Path) -> bool:
    head = read_head(path, HDF5_OFFSETS[-1] + len(HDF5_MAGIC))
    return any(head[o:o + len(HDF5_MAGIC)] == HDF5_MAGIC for o in HDF5_OFFSETS)


def detect_kind(path: Path) -> str | None:
    """KERAS, H5 or SAVEDMODEL, or None when this is no TensorFlow model greenai can load."""
    if path.is_dir():
        return SAVEDMODEL if (path / SAVED_MODEL_PB).is_file() else None
    if is_zip(path):
        return KERAS if "config.json" in zip_names(path) else None
    if is_hdf5(path) and b"model_config" in read_head(path, HDF5_HEAD):
        return H5
    return None


def explain(path: Path) -> str:
    """Why :func:`detect_kind` said no, in a few words."""
    if detect_kind(path) is not None:
        return ""
    if path.is_dir():
        if (path / "saved_model.pbtxt").exists():
            return "a SavedModel in text form (saved_model.pbtxt), which greenai does not load; save it as binary"
        return f"a folder without {SAVED_MODEL_PB} (not a SavedModel)"
    problem = zip_problem(path)
    if problem is not None:
        return f"the zip archive is corrupt, truncated or refused ({problem})"
    if is_zip(path):
        return "a zip archive without config.json (not a Keras 3 .keras file)"
    if is_hdf5(path):
        return ("an HDF5 file without a Keras model in it (no model_config attribute: weights only, "
                "or data not written by Keras's model.save)")
    return "neither a Keras zip (.keras), a Keras HDF5 file (.h5) nor a SavedModel folder"
