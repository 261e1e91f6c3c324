"""The template's tests load the plugin module into a registry of their own.

Never a strict registry of everything installed: another plugin that is broken (nox installs
one on purpose beside the template) must not fail this plugin's tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import greenai_example.plugin
import pytest

from greenai_core.sdk import Registry, set_registry


@pytest.fixture
def registry() -> Iterator[Registry]:
    """The core's built-ins plus this plugin, strict, installed process-wide (``load_model`` uses it)."""
    reg = Registry(entry_points=False, strict=True, disabled=())
    reg.add_plugin(greenai_example.plugin, name="example")
    set_registry(reg)
    yield reg
    set_registry(None)
