"""Fixtures: a small Keras CNN saved in the three kinds (once per session: TensorFlow is slow), a registry per test."""

from __future__ import annotations

from collections.abc import Iterator

import greenai_tf.plugin
import pytest
from tf_models import Saved, make_cnn, save_all

from greenai_core.sdk import Registry, set_registry


@pytest.fixture(scope="session")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Saved:
    return save_all(make_cnn(), tmp_path_factory.mktemp("kinds"))


@pytest.fixture(autouse=True)
def registry() -> Iterator[Registry]:
    """The core's built-ins plus this plugin, strict, installed process-wide (``load_model`` uses it)."""
    reg = Registry(entry_points=False, strict=True, disabled=())
    reg.add_plugin(greenai_tf.plugin, name="tf")
    set_registry(reg)
    yield reg
    set_registry(None)
