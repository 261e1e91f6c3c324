"""The rapl backend on real files through the real code path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from greenai_rapl import powercap
from greenai_rapl.backend import RaplBackend
from powercap_trees import PowercapTree, Writer, amd, intel_laptop, server_2s

from greenai_core import Meter

UJ = 1e-6


def test_intel_laptop_domains_and_total_rule(tree: PowercapTree) -> None:
    backend = RaplBackend(intel_laptop(tree).root)
    assert backend.probe().available
    specs = {c.domain: c for c in backend.counters()}
    # Five zones, each once, although every zone is both a flat link and a nested folder;
    # the MMIO package duplicates the MSR one and is not read twice.
    assert sorted(specs) == ["core-0", "dram-0", "package-0", "psys", "uncore-0"]
    assert {d for d, c in specs.items() if c.counted} == {"package-0", "dram-0"}
    assert specs["dram-0"].component == "dram" and specs["psys"].component == "platform"
    powers = {"intel-rapl:0": 15.0, "intel-rapl:0:0": 9.0, "intel-rapl:0:1": 2.0, "intel-rapl:0:2": 3.0,
              "intel-rapl:1": 25.0}
    with Meter([backend]) as meter:
        written = Writer(tree, powers, 0.3).run_now()
    m = meter.result
    assert m is not None and m.method == "measured"
    expect = {"package-0": written["intel-rapl:0"], "core-0": written["intel-rapl:0:0"],
              "uncore-0": written["intel-rapl:0:1"], "dram-0": written["intel-rapl:0:2"],
              "psys": written["intel-rapl:1"]}
    assert m.domains == pytest.approx({d: uj * UJ for d, uj in expect.items()}, abs=UJ)
    assert m.energy_j == pytest.approx((expect["package-0"] + expect["dram-0"]) * UJ, abs=UJ)
    assert m.backends[0].total_rule.startswith("total = packages + DRAM")


def test_two_socket_server_with_dram_per_socket(tree: PowercapTree) -> None:
    backend = RaplBackend(server_2s(tree).root)
    assert [c.domain for c in backend.counters()] == ["package-0", "dram-0", "package-1", "dram-1"]
    powers = {"intel-rapl:0": 120.0, "intel-rapl:0:0": 20.0, "intel-rapl:1": 80.0, "intel-rapl:1:0": 10.0}
    with Meter([backend]) as meter:
        written = Writer(tree, powers, 0.3).run_now()
    assert meter.result is not None
    assert meter.result.domains == pytest.approx({
        "package-0": written["intel-rapl:0"] * UJ, "dram-0": written["intel-rapl:0:0"] * UJ,
        "package-1": written["intel-rapl:1"] * UJ, "dram-1": written["intel-rapl:1:0"] * UJ}, abs=UJ)
    assert meter.result.energy_j == pytest.approx(sum(written.values()) * UJ, abs=4 * UJ)


def test_amd_packages_only_and_psys_alone_counts(tree: PowercapTree, tmp_path: Path) -> None:
    backend = RaplBackend(amd(tree).root)
    assert [(c.domain, c.counted) for c in backend.counters()] == [("package-0", True), ("package-1", True)]
    psys_only = PowercapTree(tmp_path / "psys")
    psys_only.add_zone("intel-rapl:0", "psys")
    assert [(c.domain, c.counted) for c in RaplBackend(psys_only.root).counters()] == [("psys", True)]


@pytest.mark.parametrize("seconds", [0.05, 0.6], ids=["one-wrap", "several-wraps"])
def test_windows_across_wraps_are_exact(tree: PowercapTree, seconds: float) -> None:
    """A 2 J range at 20 W wraps every 0.1 s; the limit of 40 W tells the poller how often to read."""
    tree.add_zone("intel-rapl:0", "package-0", max_range_uj=2_000_000, energy_uj=1_900_000, max_power_uw=40_000_000)
    backend = RaplBackend(tree.root)
    with Meter([backend]) as meter:
        written = Writer(tree, {"intel-rapl:0": 20.0}, seconds).run_now()
    wraps = (1_900_000 + written["intel-rapl:0"]) // 2_000_000
    assert wraps == 1 if seconds < 0.2 else wraps >= 5
    result = meter.result
    assert result is not None
    if result.partial_domains:
        # The real poller thread was starved past a wrap's time (a loaded machine): the core must say
        # so and give a lower bound, never a silently short figure. Exactness is then the fault tests'
        # (test_rapl_faults.py, on a fake clock).
        assert result.partial_domains == ("package-0",)
        assert any("starved poller" in w or "cannot tell which" in w for w in result.warnings), result.warnings
        assert result.energy_j <= written["intel-rapl:0"] * UJ + UJ
    else:
        assert result.energy_j == pytest.approx(written["intel-rapl:0"] * UJ, abs=UJ)
        assert not result.warnings


def test_nested_windows(tree: PowercapTree) -> None:
    tree.add_zone("intel-rapl:0", "package-0", max_range_uj=3_000_000, max_power_uw=50_000_000)
    backend = RaplBackend(tree.root)
    outer = Meter([backend]).start()
    first = Writer(tree, {"intel-rapl:0": 20.0}, 0.1).run_now()["intel-rapl:0"]
    with Meter([backend]) as inner:
        second = Writer(tree, {"intel-rapl:0": 30.0}, 0.2).run_now()["intel-rapl:0"]
    third = Writer(tree, {"intel-rapl:0": 10.0}, 0.1).run_now()["intel-rapl:0"]
    total = outer.stop()
    assert inner.result is not None and inner.result.energy_j == pytest.approx(second * UJ, abs=UJ)
    assert total.energy_j == pytest.approx((first + second + third) * UJ, abs=UJ)


def test_short_window_carries_the_update_period_warning(tree: PowercapTree) -> None:
    server_2s(tree)
    with Meter([RaplBackend(tree.root)]) as meter:
        pass
    assert meter.result is not None
    assert any("shorter than 3 sensor update periods (1 ms each)" in w for w in meter.result.warnings)
    assert meter.result.resolution_j == pytest.approx(4 * UJ)


def test_vanishing_zone_gives_partial_figure_with_warning(tree: PowercapTree) -> None:
    server_2s(tree)
    backend = RaplBackend(tree.root)
    with Meter([backend]) as meter:
        tree.advance("intel-rapl:1:0", 500_000)
        Meter([backend]).start().stop()  # a read sees the 0.5 J
        tree.remove_zone("intel-rapl:1:0")
        tree.advance("intel-rapl:0", 1_000_000)
    m = meter.result
    assert m is not None and m.domains["dram-1"] == pytest.approx(0.5) and m.domains["package-0"] == pytest.approx(1)
    assert any("dram-1 vanished" in w and "partial" in w for w in m.warnings)


def test_counter_going_backwards_is_a_warning_not_a_negative(tree: PowercapTree) -> None:
    tree.add_zone("intel-rapl:0", "package-0", energy_uj=50_000_000)
    backend = RaplBackend(tree.root)
    with Meter([backend]) as meter:
        tree.set_energy("intel-rapl:0", 49_000_000)
        Meter([backend]).start().stop()
        tree.advance("intel-rapl:0", 2_000_000)
    assert meter.result is not None and meter.result.energy_j == pytest.approx(2.0)
    assert any("went backwards" in w for w in meter.result.warnings)


def test_permission_denied_gives_the_reason_and_the_fix(tree: PowercapTree, monkeypatch: pytest.MonkeyPatch) -> None:
    server_2s(tree)
    if os.geteuid() == 0:  # root reads anything: inject the error at the file-open boundary
        real_open = powercap._open

        def denied(path: os.PathLike[str], flags: int) -> int:
            if os.fspath(path).endswith("energy_uj"):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real_open(path, flags)

        monkeypatch.setattr(powercap, "_open", denied)
    else:
        for folder in tree.folders.values():
            (folder / "energy_uj").chmod(0o200)
    probe = RaplBackend(tree.root).probe()
    assert not probe.available
    assert "permission denied" in probe.reason and "CVE-2020-8694" in probe.reason and "run as root" in probe.reason
    assert len(probe.reason.splitlines()) == 1


def test_malformed_zones_are_skipped_with_a_warning(tree: PowercapTree) -> None:
    server_2s(tree)
    (tree.folders["intel-rapl:1:0"] / "max_energy_range_uj").unlink()
    (tree.folders["intel-rapl:1"] / "max_energy_range_uj").write_text("lots\n")
    backend = RaplBackend(tree.root)
    assert [c.domain for c in backend.counters()] == ["package-0", "dram-0"]
    warnings = backend.warnings()
    assert any("intel-rapl:1:0 skipped: missing max_energy_range_uj" in w for w in warnings)
    assert any("intel-rapl:1 skipped" in w and "expected an integer, found 'lots'" in w for w in warnings)
    with Meter([backend]) as meter:
        pass
    assert meter.result is not None and any("intel-rapl:1:0 skipped" in w for w in meter.result.warnings)


def test_non_numeric_counter_and_empty_trees_are_unavailable_with_a_reason(tree: PowercapTree, tmp_path: Path) -> None:
    tree.add_zone("intel-rapl:0", "package-0")
    tree.set_energy("intel-rapl:0", 0)
    (tree.folders["intel-rapl:0"] / "energy_uj").write_text("n/a\n")
    probe = RaplBackend(tree.root).probe()
    assert not probe.available and "expected an integer, found 'n/a'" in probe.reason
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no intel-rapl zones" in RaplBackend(empty).probe().reason
    (empty / "intel-rapl:0").mkdir()  # a zone folder with nothing in it
    reason = RaplBackend(empty).probe().reason
    assert "intel-rapl:0 skipped: missing name" in reason
    assert "no powercap folder" in RaplBackend(tmp_path / "nowhere").probe().reason


def test_root_from_environment(tree: PowercapTree, monkeypatch: pytest.MonkeyPatch) -> None:
    amd(tree)
    monkeypatch.setenv("GREENAI_POWERCAP_ROOT", str(tree.root))
    assert RaplBackend().root == tree.root and RaplBackend().probe().available
    monkeypatch.delenv("GREENAI_POWERCAP_ROOT")
    assert str(RaplBackend().root) == "/sys/class/powercap"
