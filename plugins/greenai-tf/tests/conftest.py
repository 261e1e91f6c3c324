"""Fixtures: a small Keras CNN saved in the three kinds (once per session: TensorFlow is slow), a registry per test.

Without TensorFlow (the shared dev venv, a user without the ``[cpu]``/``[gpu]`` extra) only the
files that need no TensorFlow are collected: recognition by content, bounded reads, packaging,
and what a missing TensorFlow does (simulated in a subprocess, so those run everywhere). The
nox sessions install ``tensorflow-cpu``, so every file runs there.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import TYPE_CHECKING

import greenai_tf.plugin
import pytest

from greenai_core.sdk import Registry, set_registry

if TYPE_CHECKING:
    from tf_models import Saved

#: Files that build models with Keras; they need TensorFlow installed.
NEEDS_TENSORFLOW = ["test_tf_bad_inputs.py", "test_tf_kinds.py", "test_tf_security.py", "test_tf_training.py",
                    "tf_models.py"]
collect_ignore = [] if importlib.util.find_spec("tensorflow") is not None else NEEDS_TENSORFLOW


@pytest.fixture(scope="session")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Saved:
    from tf_models import make_cnn, save_all

    return save_all(make_cnn(), tmp_path_factory.mktemp("kinds"))


@pytest.fixture(autouse=True)
def registry() -> Iterator[Registry]:
    """The core's built-ins plus this plugin, strict, installed process-wide (``load_model`` uses it)."""
    reg = Registry(entry_points=False, strict=True, disabled=())
    reg.add_plugin(greenai_tf.plugin, name="tf")
    set_registry(reg)
    yield reg
    set_registry(None)
