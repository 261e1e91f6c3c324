"""Realistic powercap trees in a temp folder: zone folders nested as in /sys/devices, plus the
flat symlinks of /sys/class/powercap, with counters a writer thread moves at known powers."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


class PowercapTree:
    def __init__(self, base: Path) -> None:
        self.devices = base / "sys" / "devices" / "virtual" / "powercap"
        self.root = base / "sys" / "class" / "powercap"  # what the backend reads
        self.root.mkdir(parents=True)
        self.max_range: dict[str, int] = {}
        self.folders: dict[str, Path] = {}
        self._lock = threading.Lock()

    def add_zone(self, zone_id: str, name: str, *, max_range_uj: int = 262_143_328_850, energy_uj: int = 0,
                 max_power_uw: int | None = None) -> Path:
        control = zone_id.split(":")[0]
        parent = self.devices / control if zone_id.count(":") == 1 else self.folders[zone_id.rsplit(":", 1)[0]]
        if not (self.devices / control).exists():
            (self.devices / control).mkdir(parents=True)
            (self.devices / control / "enabled").write_text("1\n")
            os.symlink(self.devices / control, self.root / control)
        folder = parent / zone_id
        folder.mkdir()
        (folder / "name").write_text(name + "\n")
        (folder / "max_energy_range_uj").write_text(f"{max_range_uj}\n")
        (folder / "energy_uj").write_text(f"{energy_uj}\n")
        (folder / "enabled").write_text("1\n")
        if max_power_uw is not None:
            (folder / "constraint_0_name").write_text("long_term\n")
            (folder / "constraint_0_max_power_uw").write_text(f"{max_power_uw}\n")
        os.symlink(folder, self.root / zone_id)  # the flat link, as sysfs has it
        self.folders[zone_id] = folder
        self.max_range[zone_id] = max_range_uj
        return folder

    def energy(self, zone_id: str) -> int:
        return int((self.folders[zone_id] / "energy_uj").read_text())

    def set_energy(self, zone_id: str, value: int) -> None:
        target = self.folders[zone_id] / "energy_uj"
        tmp = target.with_name(".energy_uj.tmp")
        tmp.write_text(f"{value}\n")
        os.replace(tmp, target)  # readers never see a torn value, like sysfs

    def advance(self, zone_id: str, uj: int) -> None:
        with self._lock:
            self.set_energy(zone_id, (self.energy(zone_id) + uj) % self.max_range[zone_id])

    def remove_zone(self, zone_id: str) -> None:
        os.unlink(self.root / zone_id)
        for f in self.folders[zone_id].iterdir():
            f.unlink()
        self.folders[zone_id].rmdir()


def intel_laptop(tree: PowercapTree, **kw: int) -> PowercapTree:
    tree.add_zone("intel-rapl:0", "package-0", **kw)
    tree.add_zone("intel-rapl:0:0", "core", **kw)
    tree.add_zone("intel-rapl:0:1", "uncore", **kw)
    tree.add_zone("intel-rapl:0:2", "dram", **kw)
    tree.add_zone("intel-rapl:1", "psys", **kw)
    tree.add_zone("intel-rapl-mmio:0", "package-0", **kw)  # same package through MMIO
    return tree


def server_2s(tree: PowercapTree, **kw: int) -> PowercapTree:
    for s in (0, 1):
        tree.add_zone(f"intel-rapl:{s}", f"package-{s}", **kw)
        tree.add_zone(f"intel-rapl:{s}:0", "dram", **kw)
    return tree


def amd(tree: PowercapTree, **kw: int) -> PowercapTree:
    for s in (0, 1):
        tree.add_zone(f"intel-rapl:{s}", f"package-{s}", **kw)
    return tree


class Writer(threading.Thread):
    """Moves counters at known powers (watts per zone): ``seconds / step_s`` steps of ``watts * step_s``.

    The amounts are exact whatever the sleep jitter; only the wall time stretches."""

    def __init__(self, tree: PowercapTree, powers: dict[str, float], seconds: float, step_s: float = 0.002):
        super().__init__(daemon=True)
        self.tree, self.powers, self.seconds, self.step_s = tree, powers, seconds, step_s
        self.written: dict[str, int] = dict.fromkeys(powers, 0)

    def run(self) -> None:
        for _ in range(round(self.seconds / self.step_s)):
            for zone, watts in self.powers.items():
                uj = int(watts * self.step_s * 1e6)
                self.tree.advance(zone, uj)
                self.written[zone] += uj
            time.sleep(self.step_s)

    def run_now(self) -> dict[str, int]:
        self.start()
        self.join()
        return self.written
