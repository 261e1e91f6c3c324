"""Fixtures: a temp powercap tree, and a fresh default backend selection per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from powercap_trees import PowercapTree

from greenai_core.testing import forget_default_selection


@pytest.fixture
def tree(tmp_path: Path) -> PowercapTree:
    return PowercapTree(tmp_path)


@pytest.fixture(autouse=True)
def _fresh_selection() -> Iterator[None]:
    forget_default_selection()
    yield
    forget_default_selection()
