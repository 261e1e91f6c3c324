"""Fixtures: a saved tiny CNN and a fresh registry per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from onnx_models import save, tiny_cnn

from greenai_core.sdk import set_registry


@pytest.fixture
def cnn_path(tmp_path: Path) -> Path:
    return save(tiny_cnn()[0], tmp_path / "cnn.onnx")


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    set_registry(None)
    yield
    set_registry(None)
