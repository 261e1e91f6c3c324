"""Plugin discovery, guarded loading, register() validation and strict mode."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest
from fake_backends import ConstantBackend

from greenai_core import Meter, hookimpl
from greenai_core.errors import PluginError
from greenai_core.models import ModelFormat, select_format
from greenai_core.plugins import Registry


class TxtFormat(ModelFormat):
    name = "txtmodel"
    suffixes = (".txtm",)

    def sniff(self, path: Path) -> bool:
        return path.is_file() and path.read_bytes().startswith(b"TXTMODEL")

    def load(self, path: Path, **options: Any) -> Any:
        return path.read_text()


def make_plugin(**hooks: Any) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{k: hookimpl(v) for k, v in hooks.items()})


def test_throwaway_plugin_adds_format_and_backend(registry: Registry, tmp_path: Path) -> None:
    plugin = make_plugin(
        register_model_formats=lambda register: register(TxtFormat()),
        register_energy_backends=lambda register: register(ConstantBackend),
    )
    record = registry.add_plugin(plugin, name="throwaway")
    assert record.status == "loaded", record.error
    assert record.formats == ["txtmodel"] and record.backends == ["constant"]
    model = tmp_path / "m.bin"  # wrong suffix: content decides
    model.write_bytes(b"TXTMODEL v1")
    assert select_format(model, registry.formats()).name == "txtmodel"
    with Meter(["constant"]) as meter:
        pass
    assert meter.result is not None and meter.result.energy_j == 0.0
    assert meter.result.domains == {"box": 0.0}


def test_clashing_names_are_refused_with_the_owner(registry: Registry) -> None:
    registry.add_plugin(make_plugin(register_energy_backends=lambda register: register(ConstantBackend)), "first")
    second = registry.add_plugin(make_plugin(register_energy_backends=lambda register: register(ConstantBackend)),
                                 "second")
    assert second.status == "error"
    assert "'constant' is already registered by plugin 'first'" in (second.error or "")
    clash = registry.add_plugin(make_plugin(register_energy_backends=lambda register: register(
        type("Estimate2", (ConstantBackend,), {"name": "estimate"}))), "third")
    assert "already registered by plugin 'estimate'" in (clash.error or "")


def test_register_validates_what_it_is_given(registry: Registry) -> None:
    bad_format = registry.add_plugin(make_plugin(register_model_formats=lambda register: register("onnx")), "b1")
    assert "not a ModelFormat instance" in (bad_format.error or "")
    bad_backend = registry.add_plugin(make_plugin(register_energy_backends=lambda register: register(object)), "b2")
    assert "not an EnergyBackend subclass" in (bad_backend.error or "")


def test_hook_that_raises_is_recorded_and_rolled_back(registry: Registry) -> None:
    def register_both(register: Any) -> None:
        register(ConstantBackend)
        raise RuntimeError("sensor library exploded")

    record = registry.add_plugin(make_plugin(register_energy_backends=register_both), "exploding")
    assert record.status == "error" and "sensor library exploded" in (record.error or "")
    assert "constant" not in registry.backend_names()  # nothing half-registered
    assert "estimate" in registry.backend_names()


def test_misspelt_hook_is_caught(registry: Registry) -> None:
    record = registry.add_plugin(make_plugin(register_model_format=lambda register: None), "typo")
    assert record.status == "error"
    assert "register_model_format" in (record.error or "")


def test_strict_mode_raises_on_a_broken_plugin() -> None:
    strict = Registry(entry_points=False, strict=True)
    with pytest.raises(PluginError, match="exploding"):
        strict.add_plugin(make_plugin(register_energy_backends=lambda register: 1 / 0), "exploding")


def test_strict_mode_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENAI_STRICT_PLUGINS", "1")
    assert Registry(entry_points=False).strict
    monkeypatch.setenv("GREENAI_STRICT_PLUGINS", "0")
    assert not Registry(entry_points=False).strict


def test_builtin_estimate_comes_through_the_same_hook(registry: Registry) -> None:
    record = {p.name: p for p in registry.plugins()}["estimate"]
    assert record.builtin and record.backends == ["estimate"] and record.distribution == "greenai-core"


def test_installed_distribution_is_discovered_through_its_entry_point(tmp_path: Path) -> None:
    """tests/plugins/greenai-hello is installed with pip by the nox session."""
    registry = Registry(strict=False)
    records = {p.name: p for p in registry.plugins()}
    assert "hello" in records, "install tests/plugins/greenai-hello (nox -s tests_core does)"
    hello = records["hello"]
    assert (hello.status, hello.distribution, hello.version) == ("loaded", "greenai-hello", "0.3.1")
    assert hello.formats == ["hello"] and hello.backends == ["hello"]
    f = tmp_path / "greeting.txt"
    f.write_bytes(b"HELLO world")
    assert select_format(f, registry.formats()).name == "hello"
    assert registry.probe("hello").reason == "hello has no sensor (test plugin)"


def test_disabled_plugins_are_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENAI_DISABLE_PLUGINS", "hello, other")
    registry = Registry(strict=True)
    assert {p.name: p.status for p in registry.plugins()}.get("hello") == "disabled"
    assert "hello" not in registry.formats()
