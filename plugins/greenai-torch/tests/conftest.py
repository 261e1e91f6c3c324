"""Fixtures: the four saved kinds (once per session: export takes seconds), a fresh registry per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from torch_models import Saved, make_net, save_all

from greenai_core.sdk import set_registry


@pytest.fixture(scope="session")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Saved:
    net = make_net()
    return Saved(net, save_all(net, tmp_path_factory.mktemp("kinds")))


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    set_registry(None)
    yield
    set_registry(None)
