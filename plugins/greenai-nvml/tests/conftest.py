"""Fixtures: a fake pynvml in sys.modules, a clean GPU environment, a registry with only this plugin."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import greenai_nvml.plugin
import pytest
from fake_pynvml import FakeGpu, FakeNvml, Install
from greenai_nvml.library import LIBRARY

from greenai_core.sdk import Registry, set_registry
from greenai_core.testing import forget_default_selection


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("CUDA_VISIBLE_DEVICES", "GREENAI_NVML_GPUS", "CUDA_DEVICE_ORDER"):
        monkeypatch.delenv(name, raising=False)
    LIBRARY.forget()
    forget_default_selection()
    yield
    LIBRARY.forget()
    forget_default_selection()


@pytest.fixture
def install_nvml(monkeypatch: pytest.MonkeyPatch) -> Install:
    """``install_nvml([FakeGpu(...), ...], init_code=None)``: the fake driver, as ``pynvml``."""

    def install(gpus: list[FakeGpu], **options: object) -> FakeNvml:
        fake = FakeNvml(gpus, **options)  # type: ignore[arg-type]
        monkeypatch.setitem(sys.modules, "pynvml", fake.module)
        LIBRARY.forget()
        return fake

    return install


@pytest.fixture
def registry() -> Iterator[Registry]:
    reg = Registry(entry_points=False, strict=True, disabled=())  # the core's built-ins (the estimate) only
    reg.add_plugin(greenai_nvml.plugin, name="nvml")
    set_registry(reg)
    forget_default_selection()
    yield reg
    set_registry(None)
    forget_default_selection()
