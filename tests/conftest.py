"""Shared fixtures: a fresh registry per test and a fresh default backend selection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from numpy_models import LinearModel, install, random_linear

from greenai_core import load_model
from greenai_core.energy import selection
from greenai_core.plugins import Registry, set_registry


@pytest.fixture
def registry() -> Iterator[Registry]:
    """A registry with only the core's built-ins (no entry points), installed process-wide."""
    reg = Registry(entry_points=False, strict=False, disabled=())
    set_registry(reg)
    yield reg
    set_registry(None)


@pytest.fixture(autouse=True)
def _fresh_selection() -> Iterator[None]:
    selection.clear_cache()
    yield
    selection.clear_cache()


@pytest.fixture
def model(registry: Registry, tmp_path: Path) -> LinearModel:
    """The in-test numpy linear classifier, loaded through its format plugin (overridden where a test needs another)."""
    install(registry)
    loaded = load_model(random_linear(tmp_path / "model.lin"))
    assert isinstance(loaded, LinearModel)
    return loaded
