"""Fixtures: a temp powercap tree, and a fresh default backend selection per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from powercap_trees import PowercapTree

from greenai_core.energy import selection


@pytest.fixture
def tree(tmp_path: Path) -> PowercapTree:
    return PowercapTree(tmp_path)


@pytest.fixture(autouse=True)
def _fresh_selection() -> Iterator[None]:
    selection.clear_cache()
    yield
    selection.clear_cache()
