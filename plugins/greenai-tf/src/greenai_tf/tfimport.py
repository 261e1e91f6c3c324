"""Importing TensorFlow and Keras on first use, quietly, and mapping greenai devices to TF's."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from greenai_core.sdk import Device, DeviceError, GreenAIError

INSTALL_HINT = "pip install 'greenai-tf[cpu]' (or 'greenai-tf[gpu]' for NVIDIA GPUs)"
#: Loggers TensorFlow and Keras talk through (absl: "You are saving your model as an HDF5 file...").
_CHATTY = ("tensorflow", "absl", "h5py")


def import_tf(path: Path | None = None) -> tuple[Any, Any]:
    """``(tensorflow, keras)``, imported with their C++ and Python logging quieted.

    TensorFlow is not a hard dependency of greenai-tf: when it is missing, one line says how to
    install it. Keras must run on its TensorFlow backend (``KERAS_BACKEND``), since training and
    inference use TensorFlow's tape and devices.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before the first import: no oneDNN/CUDA banners
    where = f"{path}: " if path is not None else ""
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise GreenAIError(f"{where}TensorFlow is not installed ({exc}); {INSTALL_HINT}") from None
    try:
        import keras
    except ImportError as exc:
        raise GreenAIError(f"{where}Keras is not installed ({exc}); {INSTALL_HINT}") from None
    major = int(str(keras.__version__).split(".")[0])
    if major < 3:
        raise GreenAIError(f"{where}Keras {keras.__version__} is too old: greenai-tf needs Keras 3 "
                           "(TensorFlow 2.16 or later)")
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise GreenAIError(f"{where}Keras runs on its {backend!r} backend (KERAS_BACKEND); greenai-tf needs "
                           "'tensorflow': set KERAS_BACKEND=tensorflow before Keras is imported")
    tf.get_logger().setLevel(logging.ERROR)
    return tf, keras


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Keras's and TensorFlow's warnings silenced for one call (the user's logging is put back)."""
    import warnings

    loggers = [logging.getLogger(name) for name in _CHATTY]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def tf_device(tf: Any, device: Device, path: Path | None = None) -> str:
    """TensorFlow's name for ``device`` ("/CPU:0", "/GPU:1"); DeviceError for a GPU this machine lacks."""
    if device.is_cpu:
        return "/CPU:0"
    where = f"{path}: " if path is not None else ""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        raise DeviceError(f"{where}device {str(device)!r}: TensorFlow {tf.__version__} sees no GPU "
                          "(a CPU-only build, or no CUDA driver)")
    if device.index >= len(gpus):
        raise DeviceError(f"{where}device {str(device)!r}: only {len(gpus)} GPU(s) visible to TensorFlow")
    return f"/GPU:{device.index}"
