"""Installed, the distribution is found through its entry point, whatever else is installed beside it."""

from __future__ import annotations

from importlib.metadata import distribution, entry_points

import greenai_example
import greenai_example.plugin

from greenai_core.sdk import Registry


def test_the_entry_point_names_the_plugin_module() -> None:
    found = [ep for ep in entry_points(group="greenai") if ep.name == "example"]
    assert [(ep.value, ep.dist.metadata["Name"] if ep.dist else None) for ep in found] == [
        ("greenai_example.plugin", "greenai-example")
    ]
    assert found[0].load() is greenai_example.plugin


def test_the_distribution_pins_a_compatible_core_and_carries_the_package_version() -> None:
    dist = distribution("greenai-example")
    assert dist.version == greenai_example.__version__
    requires = [r.replace(" ", "") for r in dist.requires or []]
    assert any(r.startswith("greenai-core") and ">=0.2" in r and "<0.3" in r for r in requires)


def test_loads_beside_whatever_else_is_installed() -> None:
    """Not strict on purpose: a broken neighbour (nox installs one) is recorded, and this plugin still loads."""
    registry = Registry(strict=False, disabled=())
    records = {r.name: r for r in registry.plugins()}
    example = records["example"]
    assert (example.status, example.error, example.distribution) == ("loaded", None, "greenai-example")
    assert (example.formats, example.backends) == (["example-linear"], ["example-hwmon"])
    broken = records.get("broken")
    assert broken is None or (broken.status == "error" and "broken on purpose" in (broken.error or ""))


def test_the_registry_of_the_tests_holds_exactly_this_plugin(registry: Registry) -> None:
    assert registry.format_owner("example-linear") == "example"
    assert registry.backend_owner("example-hwmon") == "example"
    assert sorted(registry.formats()) == ["example-linear"]
