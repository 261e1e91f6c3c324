"""Backend ``example-hwmon``: cumulative energy counters of Linux hwmon drivers.

The hwmon ABI (Documentation/hwmon/sysfs-interface) gives ``energyN_input``, cumulative
energy in microjoules, and optionally ``energyN_label``. Drivers that expose it include
``amd_energy`` (per core and per socket), ``i915`` and ``xe`` (Intel GPUs). The backend only
reads raw values: the core converts units, spots resets (a driver reload restarts a
counter) and implausible jumps, and turns a vanished counter into a partial figure with a
warning. What a driver's counters cover, and which ones nest inside others, is driver
knowledge the core cannot have: that is the ``DRIVERS`` table; add your driver to it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from greenai_core.sdk import CPU, GPU, SCOPE_MACHINE, CounterSpec, EnergyBackend, ProbeResult
from greenai_example import __version__

ROOT_ENV = "GREENAI_HWMON_ROOT"
DEFAULT_ROOT = "/sys/class/hwmon"
UNIT_J = 1e-6  # the hwmon ABI's unit for energyN_input
_COUNTER = re.compile(r"energy(\d+)_input")
#: Bytes read from a sysfs attribute: a counter or a label is a short line.
_ATTR_BYTES = 64


@dataclass(frozen=True)
class Driver:
    """What one hwmon driver's energy counters are."""

    component: str
    #: Highest plausible power of one counter, in watts (the core flags steps beyond it).
    max_power_w: float
    #: Labels (by prefix) of counters nested inside another of the same driver: shown, not added.
    nested: tuple[str, ...] = ()


DRIVERS: dict[str, Driver] = {
    "amd_energy": Driver(CPU, 500.0, nested=("Ecore",)),  # Ecore000... lie inside Esocket0...
    "i915": Driver(GPU, 600.0),
    "xe": Driver(GPU, 600.0, nested=("pkg",)),  # the GPU package lies inside the card
}


@dataclass(frozen=True)
class Counter:
    domain: str
    path: Path
    driver: str
    label: str


def discover(root: Path) -> tuple[list[Counter], list[str]]:
    """Energy counters of known drivers under ``root``, and why others were skipped."""
    counters: list[Counter] = []
    skipped: list[str] = []
    for device in sorted(root.glob("hwmon*"), key=lambda p: _number(p.name)):
        inputs = sorted(device.glob("energy*_input"), key=lambda p: _number(p.name))
        if not inputs:
            continue
        driver = read_attr(device / "name") or "unnamed"
        if driver not in DRIVERS:
            skipped.append(f"{device.name} ({driver}): energy counters of an unknown driver, skipped")
            continue
        for path in inputs:
            match = _COUNTER.fullmatch(path.name)
            if match is None:
                continue
            label = read_attr(device / f"energy{match.group(1)}_label") or f"energy{match.group(1)}"
            domain = f"{driver}-{label}"
            if any(c.domain == domain for c in counters):
                domain = f"{domain}-{device.name}"  # two devices of one driver (two GPUs)
            counters.append(Counter(domain, path, driver, label))
    return counters, skipped


def read_attr(path: Path) -> str:
    """A sysfs attribute's text, stripped; empty if it is missing or unreadable."""
    try:
        with open(path, "rb") as fh:
            return fh.read(_ATTR_BYTES).decode("ascii", "replace").strip()
    except OSError:
        return ""


def _number(name: str) -> int:
    digits = re.search(r"\d+", name)
    return int(digits.group()) if digits else -1


class HwmonEnergyBackend(EnergyBackend):
    """Energy from hwmon ``energyN_input`` counters (amd_energy, i915, xe)."""

    name: ClassVar[str] = "example-hwmon"
    total_rule: ClassVar[str] = "total = sum of each driver's outermost counters (sockets, GPU cards)"

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        # Construction touches no hardware: the registry builds backends just to list them.
        self.root = Path(root if root is not None else os.environ.get(ROOT_ENV) or DEFAULT_ROOT)
        self._found: tuple[list[Counter], list[str]] | None = None

    @property
    def version(self) -> str:
        return __version__

    def _discover(self) -> tuple[list[Counter], list[str]]:
        if self._found is None:
            self._found = discover(self.root)
        return self._found

    def _counters(self) -> list[Counter]:
        return self._discover()[0]

    def probe(self) -> ProbeResult:
        if not self.root.is_dir():
            return ProbeResult.unavailable(f"no hwmon folder at {self.root} (set {ROOT_ENV} to use another)")
        counters = self._counters()
        if not counters:
            why = "; ".join(self.warnings()) or "no hwmon driver here exposes energyN_input"
            return ProbeResult.unavailable(f"no energy counter of a known driver under {self.root}: {why}")
        try:
            int(counters[0].path.read_text())
        except PermissionError:
            return ProbeResult.unavailable(f"cannot read {counters[0].path}: permission denied (run as root, "
                                           "or give a group read access with a udev rule)")
        except (OSError, ValueError) as exc:
            return ProbeResult.unavailable(f"cannot read {counters[0].path}: {exc}")
        return ProbeResult.ok(", ".join(c.domain for c in counters) + f" under {self.root}")

    def counters(self) -> Sequence[CounterSpec]:
        return [
            CounterSpec(
                domain=c.domain, joules_per_unit=UNIT_J,
                wrap_range=None,  # drivers accumulate into 64 bits: no wrap; a reset is the core's to spot
                resolution_j=UNIT_J,
                counted=not c.label.startswith(DRIVERS[c.driver].nested),
                component=DRIVERS[c.driver].component,
                scope=SCOPE_MACHINE,  # a socket or a GPU: every process on the machine, not only ours
                max_power_w=DRIVERS[c.driver].max_power_w,
            )
            for c in self._counters()
        ]

    def read(self) -> Mapping[str, int]:
        values: dict[str, int] = {}
        for c in self._counters():
            try:
                values[c.domain] = int(read_attr(c.path))
            except ValueError:
                continue  # missing now (read_attr gave ""), or garbage: the core marks the domain vanished
        return values

    def warnings(self) -> list[str]:
        return list(self._discover()[1])

    def summary(self) -> str:
        drivers = sorted({c.driver for c in self._counters()})
        return f"hwmon energy counters of {', '.join(drivers) or 'no driver'} under {self.root} (microjoules)"

    def assumptions(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "counters": {c.domain: str(c.path) for c in self._counters()},
            "counter_unit_j": UNIT_J,
        }
