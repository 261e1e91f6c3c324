"""Backend ``example-hwmon`` on a fake hwmon tree laid out as the kernel's, through ``greenai_core.Meter``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from greenai_example.hwmon import ROOT_ENV, HwmonEnergyBackend

from greenai_core import Meter

#: Long enough that the steps below are far under each driver's plausible power.
WINDOW_S = 0.05


class FakeHwmon:
    """``/sys/class/hwmon``: hwmonN folders with a ``name`` and ``energyN_input``/``energyN_label`` files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.paths: dict[str, Path] = {}
        root.mkdir()

    def device(self, index: int, driver: str, counters: dict[int, tuple[str | None, int]]) -> None:
        folder = self.root / f"hwmon{index}"
        folder.mkdir()
        (folder / "name").write_text(driver + "\n")
        (folder / "temp1_input").write_text("41000\n")  # other sensors sit beside the counters
        for n, (label, value) in counters.items():
            (folder / f"energy{n}_input").write_text(f"{value}\n")
            if label is not None:
                (folder / f"energy{n}_label").write_text(label + "\n")
            self.paths[f"{driver}-{label or f'energy{n}'}"] = folder / f"energy{n}_input"

    def advance(self, domain: str, microjoules: int) -> None:
        path = self.paths[domain]
        path.write_text(f"{int(path.read_text()) + microjoules}\n")

    def set(self, domain: str, value: int) -> None:
        self.paths[domain].write_text(f"{value}\n")


@pytest.fixture
def tree(tmp_path: Path) -> FakeHwmon:
    fake = FakeHwmon(tmp_path / "hwmon")
    fake.device(0, "nvme", {})
    fake.device(1, "amd_energy", {1: ("Ecore000", 5_000_000), 2: ("Ecore001", 7_000_000),
                                  3: ("Esocket0", 90_000_000_000)})
    fake.device(2, "i915", {1: (None, 123_456_789)})
    fake.device(3, "mystery", {1: (None, 1)})
    return fake


def test_discovers_known_drivers_and_says_what_it_skipped(tree: FakeHwmon) -> None:
    backend = HwmonEnergyBackend(tree.root)
    probe = backend.probe()
    assert probe.available
    specs = {c.domain: c for c in backend.counters()}
    assert list(specs) == ["amd_energy-Ecore000", "amd_energy-Ecore001", "amd_energy-Esocket0", "i915-energy1"]
    assert [d for d, c in specs.items() if c.counted] == ["amd_energy-Esocket0", "i915-energy1"]
    assert {d: c.component for d, c in specs.items()} == {
        "amd_energy-Ecore000": "cpu", "amd_energy-Ecore001": "cpu", "amd_energy-Esocket0": "cpu",
        "i915-energy1": "gpu",
    }
    assert all(c.joules_per_unit == 1e-6 and c.wrap_range is None for c in specs.values())
    assert backend.warnings() == ["hwmon3 (mystery): energy counters of an unknown driver, skipped"]
    assert "amd_energy, i915" in backend.summary()


def test_exact_joules_through_the_meter(tree: FakeHwmon) -> None:
    backend = HwmonEnergyBackend(tree.root)
    with Meter([backend]) as meter:
        time.sleep(WINDOW_S)
        tree.advance("amd_energy-Ecore000", 250_000)
        tree.advance("amd_energy-Ecore001", 500_000)
        tree.advance("amd_energy-Esocket0", 2_000_000)
        tree.advance("i915-energy1", 1_500_000)
    result = meter.result
    assert result is not None and result.method == "measured"
    assert list(result.warnings) == ["hwmon3 (mystery): energy counters of an unknown driver, skipped"]
    assert dict(result.domains) == pytest.approx({"amd_energy-Ecore000": 0.25, "amd_energy-Ecore001": 0.5,
                                     "amd_energy-Esocket0": 2.0, "i915-energy1": 1.5}, abs=1e-9)
    assert result.energy_j == pytest.approx(3.5, abs=1e-9)  # socket + GPU; the cores are inside the socket


def test_a_vanished_counter_gives_a_partial_figure_with_a_warning(tree: FakeHwmon) -> None:
    backend = HwmonEnergyBackend(tree.root)
    with Meter([backend]) as meter:
        time.sleep(WINDOW_S)
        tree.advance("amd_energy-Esocket0", 1_000_000)
        tree.paths["i915-energy1"].unlink()  # the GPU was unbound
    result = meter.result
    assert result is not None
    assert result.energy_j == pytest.approx(1.0, abs=1e-9)
    assert "i915-energy1" in result.partial_domains and "amd_energy-Esocket0" not in result.partial_domains
    assert any("i915-energy1" in w for w in result.warnings)


def test_a_counter_reset_is_never_negative_and_says_so(tree: FakeHwmon) -> None:
    """A driver reload restarts the counter near zero: the figure is partial, with a warning naming it."""
    backend = HwmonEnergyBackend(tree.root)
    with Meter([backend]) as meter:
        time.sleep(WINDOW_S)
        tree.set("amd_energy-Esocket0", 1_000)
        tree.advance("i915-energy1", 500_000)
    result = meter.result
    assert result is not None and result.energy_j == pytest.approx(0.5, abs=1e-9)  # the GPU; the reset step is lost
    assert all(v >= 0 for v in result.domains.values())
    assert result.partial_domains == ("amd_energy-Esocket0",)
    assert any("amd_energy-Esocket0" in w for w in result.warnings)


def test_probe_reasons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ROOT_ENV, str(tmp_path / "nowhere"))
    missing = HwmonEnergyBackend().probe()
    assert not missing.available and str(tmp_path / "nowhere") in missing.reason and ROOT_ENV in missing.reason
    empty = FakeHwmon(tmp_path / "empty")
    empty.device(0, "coretemp", {})
    assert "no hwmon driver here exposes energyN_input" in HwmonEnergyBackend(empty.root).probe().reason
    unknown = FakeHwmon(tmp_path / "unknown")
    unknown.device(0, "mystery", {1: (None, 5)})
    assert "hwmon0 (mystery)" in HwmonEnergyBackend(unknown.root).probe().reason
    garbage = FakeHwmon(tmp_path / "garbage")
    garbage.device(0, "i915", {1: (None, 0)})
    garbage.paths["i915-energy1"].write_text("n/a\n")
    assert "cannot read" in HwmonEnergyBackend(garbage.root).probe().reason


def test_two_devices_of_one_driver_get_distinct_domains(tmp_path: Path) -> None:
    fake = FakeHwmon(tmp_path / "hwmon")
    fake.device(4, "i915", {1: (None, 10)})
    fake.device(10, "i915", {1: (None, 20)})
    domains = [c.domain for c in HwmonEnergyBackend(fake.root).counters()]
    assert domains == ["i915-energy1", "i915-energy1-hwmon10"]


def test_construction_touches_nothing(tmp_path: Path) -> None:
    backend = HwmonEnergyBackend(tmp_path / "later")
    FakeHwmon(tmp_path / "later").device(0, "i915", {1: (None, 7)})
    assert backend.probe().available  # discovery happened at the first probe, not in the constructor
