"""Bundled sample data: a small CNN (ONNX, fixed random weights) and an image, for demos and smoke tests.

Regenerate with ``python tools/make_sample_model.py``.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent


def sample_model_path() -> Path:
    """A 5,418-parameter CNN: input [batch, 3, 64, 64] NCHW float32, output 10 probabilities."""
    return DATA / "sample_cnn.onnx"


def sample_image_path() -> Path:
    """A 64 x 48 RGB gradient PNG."""
    return DATA / "sample.png"
