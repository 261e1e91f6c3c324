"""Faults on real powercap trees: resets, values out of range, jumps, failing reads, a starved poller.

The counters are real files read through the real backend; time between reads comes from a
fake clock (``greenai_core.testing.fake_clock``) so what is plausible is exact.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from greenai_rapl import powercap
from greenai_rapl.backend import RaplBackend
from powercap_trees import PowercapTree, server_2s

from greenai_core import Measurement, Meter
from greenai_core.sdk import EnergyBackend
from greenai_core.testing import FakeClock, fake_clock, poll_now

UJ = 1e-6


Clock = FakeClock


@pytest.fixture
def clock() -> Iterator[Clock]:
    with fake_clock(50.0) as fake:
        yield fake


def read_now(backend: EnergyBackend, clock: Clock, seconds: float = 1.0) -> None:
    clock.t += seconds
    poll_now(backend)


def stop(meter: Meter, clock: Clock, seconds: float = 1.0) -> Measurement:
    clock.t += seconds
    return meter.stop()


def package(tree: PowercapTree, **kw: int) -> RaplBackend:
    """One package: 100 J range, limits of 10 W (long term) and 20 W (short term)."""
    folder = tree.add_zone("intel-rapl:0", "package-0", max_range_uj=100_000_000, max_power_uw=10_000_000, **kw)
    (folder / "constraint_1_name").write_text("short_term\n")
    (folder / "constraint_1_max_power_uw").write_text("20000000\n")
    return RaplBackend(tree.root)


def test_plausible_power_is_the_highest_limit_and_scope_the_machine(tree: PowercapTree) -> None:
    (spec,) = package(tree).counters()
    assert spec.max_power_w == 20.0 and spec.scope == "machine" and spec.component == "cpu"


def test_a_wrap_within_the_limits_is_exact_and_a_fast_one_is_a_reset(tree: PowercapTree, clock: Clock) -> None:
    backend = package(tree, energy_uj=90_000_000)
    meter = Meter([backend]).start()
    tree.set_energy("intel-rapl:0", 10_000_000)  # 20 J in 5 s: 4 W, a wrap
    read_now(backend, clock, 5.0)
    m = stop(meter, clock)
    assert m.energy_j == pytest.approx(20.0, abs=UJ) and not m.warnings
    meter = Meter([backend]).start()
    tree.set_energy("intel-rapl:0", 5_000_000)  # back 5 J in 0.1 s: a wrap would be 95 J, 950 W
    read_now(backend, clock, 0.1)
    tree.advance("intel-rapl:0", 2_000_000)
    m = stop(meter, clock)
    assert m.energy_j == pytest.approx(2.0, abs=UJ) and m.partial_domains == ("package-0",)
    assert any("package-0 went backwards (10000000 -> 5000000): not a wrap" in w for w in m.warnings)


def test_a_value_beyond_the_range_and_a_jump_are_faults(tree: PowercapTree, clock: Clock) -> None:
    backend = package(tree)
    meter = Meter([backend]).start()
    tree.set_energy("intel-rapl:0", 1_000_000)
    read_now(backend, clock)  # 1 J counted
    tree.set_energy("intel-rapl:0", 150_000_000)  # over max_energy_range_uj
    read_now(backend, clock)
    tree.set_energy("intel-rapl:0", 3_000_000)  # the chain restarts here
    read_now(backend, clock)
    tree.set_energy("intel-rapl:0", 95_000_000)  # 92 J in 1 s: over 4 x 20 W
    read_now(backend, clock)
    tree.advance("intel-rapl:0", 500_000)
    m = stop(meter, clock)
    assert m.energy_j == pytest.approx(1.5, abs=UJ) and m.partial_domains == ("package-0",)
    assert any("package-0 read 150000000, not a number in [0, 100000000]" in w for w in m.warnings)
    assert any("package-0 jumped forward 92 J in 1 s" in w for w in m.warnings)


def test_a_poller_starved_past_a_wrap_warns_and_counts_what_it_can(tree: PowercapTree, clock: Clock) -> None:
    backend = package(tree)  # 100 J at 20 W: it can wrap every 5 s
    meter = Meter([backend]).start()
    tree.advance("intel-rapl:0", 30_000_000)
    m = stop(meter, clock, 12.0)
    assert m.energy_j == pytest.approx(30.0, abs=UJ) and m.partial_domains == ("package-0",)
    assert any("package-0 read 12 s after the previous read, but it can wrap every 5 s at its plausible 20 W" in w
               for w in m.warnings)


@pytest.mark.parametrize("when", ["start", "stop"])
def test_a_read_raising_anything_leaves_the_other_sockets_and_backends_reporting(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    broken_tree = server_2s(PowercapTree(tmp_path / "broken"))
    good_tree = server_2s(PowercapTree(tmp_path / "good"))
    broken, good = RaplBackend(broken_tree.root), RaplBackend(good_tree.root)
    assert broken.probe().available and good.probe().available
    real_open = powercap._open

    def failing(path: os.PathLike[str], flags: int) -> int:
        if os.fspath(path).startswith(str(broken_tree.root)) and failing.on:  # type: ignore[attr-defined]
            raise RuntimeError("MSR bus hiccup")  # not an OSError: the backend does not catch it
        return real_open(path, flags)

    failing.on = False  # type: ignore[attr-defined]
    monkeypatch.setattr(powercap, "_open", failing)
    other = type("OtherRapl", (RaplBackend,), {"name": "rapl-b"})(good_tree.root)  # a second name, same code
    meter = Meter([broken, other])
    meter.start().stop()  # the probes, while the sensor still answers
    failing.on = when == "start"  # type: ignore[attr-defined]
    meter.start()
    failing.on = when == "stop"  # type: ignore[attr-defined]
    broken_tree.advance("intel-rapl:0", 4_000_000)
    good_tree.advance("intel-rapl:1", 3_000_000)
    m = stop(meter, clock)
    assert m.unreadable_domains == ("rapl:package-0", "rapl:dram-0", "rapl:package-1", "rapl:dram-1")
    assert m.domains["rapl-b:package-1"] == pytest.approx(3.0, abs=UJ) and m.energy_j == pytest.approx(3.0, abs=UJ)
    assert any("RuntimeError: MSR bus hiccup" in w for w in m.warnings)


def test_summary_names_the_domains_and_the_root(tree: PowercapTree) -> None:
    backend = RaplBackend(server_2s(tree).root)
    assert backend.summary() == (f"package-0, dram-0, package-1, dram-1 from {tree.root} (RAPL via powercap, "
                                 "whole machine); total = packages + DRAM")
    with Meter([backend]) as meter:
        pass
    assert meter.result is not None and meter.result.backends[0].summary == backend.summary()
