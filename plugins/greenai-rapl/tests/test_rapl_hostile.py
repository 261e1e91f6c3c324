"""Hostile powercap trees: FIFOs, devices, loops, odd names and values. Each is skipped with a reason, never a hang."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from greenai_rapl.backend import RaplBackend
from powercap_trees import PowercapTree

from greenai_core import Meter
from greenai_core.sdk import ProbeResult


def finishes(call: Callable[[], ProbeResult]) -> ProbeResult:
    """Run ``call`` in a daemon thread: a read that blocks for good fails the test instead of hanging the suite."""
    answer: list[ProbeResult] = []
    worker = threading.Thread(target=lambda: answer.append(call()), daemon=True)
    worker.start()
    worker.join(10)
    assert answer, "blocked reading the powercap tree"
    return answer[0]


@pytest.mark.parametrize("file", ["energy_uj", "max_energy_range_uj", "name"])
def test_a_fifo_in_place_of_a_zone_file_is_refused_without_blocking(tree: PowercapTree, file: str) -> None:
    tree.add_zone("intel-rapl:0", "package-0")
    target = tree.folders["intel-rapl:0"] / file
    target.unlink()
    os.mkfifo(target)
    probe = finishes(RaplBackend(tree.root).probe)
    assert not probe.available and f"{file}: not a regular file" in probe.reason


def test_a_device_in_place_of_the_counter_is_refused(tree: PowercapTree) -> None:
    tree.add_zone("intel-rapl:0", "package-0")
    target = tree.folders["intel-rapl:0"] / "energy_uj"
    target.unlink()
    os.symlink("/dev/zero", target)
    probe = finishes(RaplBackend(tree.root).probe)
    assert not probe.available and "not a regular file" in probe.reason


def test_a_value_longer_than_any_counter_is_refused_not_cut(tree: PowercapTree) -> None:
    tree.add_zone("intel-rapl:0", "package-0")
    tree.add_zone("intel-rapl:1", "package-1")
    (tree.folders["intel-rapl:0"] / "energy_uj").write_text("1" * 10_000 + "\n")
    backend = RaplBackend(tree.root)
    assert backend.read() == {"package-1": 0}  # package-0 unreadable, not a 64-digit number


@pytest.mark.parametrize("text", ["1_000", "+7", "7 7", "1e9", "0x10", "٣"])
def test_only_plain_decimal_integers_are_read(tree: PowercapTree, text: str) -> None:
    tree.add_zone("intel-rapl:0", "package-0")
    tree.add_zone("intel-rapl:1", "package-1")
    (tree.folders["intel-rapl:0"] / "max_energy_range_uj").write_text(text + "\n")
    backend = RaplBackend(tree.root)
    assert [c.domain for c in backend.counters()] == ["package-1"]
    assert any("intel-rapl:0 skipped" in w and "expected an integer" in w for w in backend.warnings())


def test_a_symlink_loop_in_the_tree_is_not_a_zone(tree: PowercapTree) -> None:
    tree.add_zone("intel-rapl:0", "package-0")
    os.symlink("intel-rapl:7", tree.root / "intel-rapl:7")  # points at itself
    os.symlink(tree.root, tree.folders["intel-rapl:0"] / "intel-rapl:0:5")  # back to the top
    backend = RaplBackend(tree.root)
    assert backend.probe().available and [c.domain for c in backend.counters()] == ["package-0"]


@pytest.mark.parametrize("name", ["", "\x1b[2Jpackage-0", "estimate:cpu", "dram 0", "x" * 60])
def test_a_zone_with_an_odd_name_is_skipped_with_a_warning(tree: PowercapTree, name: str) -> None:
    tree.add_zone("intel-rapl:0", "package-0")
    tree.add_zone("intel-rapl:1", "package-1")
    (tree.folders["intel-rapl:1"] / "name").write_text(name + "\n")
    backend = RaplBackend(tree.root)
    assert [c.domain for c in backend.counters()] == ["package-0"]
    assert any("intel-rapl:1 skipped" in w and "not a RAPL zone name" in w for w in backend.warnings())
    assert all("\x1b" not in w for w in backend.warnings())


def test_an_absurd_power_limit_is_ignored(tree: PowercapTree) -> None:
    tree.add_zone("intel-rapl:0", "package-0", max_power_uw=10**30)
    tree.add_zone("intel-rapl:1", "package-1", max_power_uw=-5)
    tree.add_zone("intel-rapl:2", "package-2", max_power_uw=95_000_000)
    specs = RaplBackend(tree.root).counters()
    assert [c.max_power_w for c in specs] == [500.0, 500.0, 95.0]


def test_a_hostile_tree_never_stops_a_measurement(tree: PowercapTree, tmp_path: Path) -> None:
    tree.add_zone("intel-rapl:0", "package-0", energy_uj=1_000)
    tree.add_zone("intel-rapl:1", "package-1")
    backend = RaplBackend(tree.root)
    meter = Meter([backend]).start()
    target = tree.folders["intel-rapl:1"] / "energy_uj"
    target.unlink()
    os.mkfifo(target)  # swapped for a FIFO mid-window
    tree.set_energy("intel-rapl:0", 3_000)
    result = finishes(meter.stop)  # type: ignore[arg-type]
    assert result.domains == {"package-0": 0.002, "package-1": 0.0}  # type: ignore[attr-defined]
    assert result.unreadable_domains == ("package-1",)  # type: ignore[attr-defined]
