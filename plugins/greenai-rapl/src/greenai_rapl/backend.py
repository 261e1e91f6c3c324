"""The "rapl" energy backend: reads powercap ``energy_uj`` counters at the window edges.

The core's counter tracker does the rest: microjoules to joules, wrap-around at
``max_energy_range_uj`` (the shared poller reads often enough), plausibility (resets,
jumps, values out of range), vanished zones and failed reads: each becomes a warning on a
partial figure, never a wrong number. Every domain covers the whole machine (scope
"machine"); its plausible maximum power is the zone's highest power limit, else 500 W.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from greenai_core.sdk import SCOPE_MACHINE, CounterSpec, EnergyBackend, ProbeResult
from greenai_rapl import __version__
from greenai_rapl.powercap import COMPONENT, TOTAL_RULE, Zone, counted, discover, read_int

ROOT_ENV = "GREENAI_POWERCAP_ROOT"
DEFAULT_ROOT = "/sys/class/powercap"
#: RAPL refreshes its counters about every millisecond.
UPDATE_PERIOD_S = 0.001
UNIT_J = 1e-6
DEFAULT_MAX_POWER_W = 500.0
PERMISSION_FIX = (
    "since Linux 5.10 only root can read RAPL counters (CVE-2020-8694): run as root, or give a group "
    "read access (udev rule or chmod; see the greenai-rapl README)"
)


class RaplBackend(EnergyBackend):
    """CPU package, core, uncore, DRAM and psys energy from RAPL through Linux powercap."""

    name: ClassVar[str] = "rapl"
    total_rule: ClassVar[str] = TOTAL_RULE
    precedence: ClassVar[int] = 100  # the CPU's own counters: preferred over other meters of the same component

    def __init__(self, root: str | os.PathLike[str] | None = None, *, max_power_w: float | None = None) -> None:
        self.root = Path(root if root is not None else os.environ.get(ROOT_ENV) or DEFAULT_ROOT)
        self._max_power_option = max_power_w
        self._zones: list[Zone] | None = None
        self._skipped: list[str] = []
        self._specs: list[CounterSpec] | None = None

    @property
    def version(self) -> str:
        return __version__

    def _discover(self) -> list[Zone]:
        if self._zones is None:
            self._zones, self._skipped = discover(self.root)
        return self._zones

    def probe(self) -> ProbeResult:
        if not self.root.is_dir():
            return ProbeResult.unavailable(
                f"no powercap folder at {self.root} (not Linux, or no powercap driver; set {ROOT_ENV} to use another)"
            )
        zones = self._discover()
        if not zones:
            why = "; ".join(self._skipped) if self._skipped else "no intel-rapl zones (the RAPL driver is not " \
                "loaded: modprobe intel_rapl_msr; virtual machines rarely expose RAPL)"
            return ProbeResult.unavailable(f"no readable RAPL zone under {self.root}: {why}")
        first = zones[0].path / "energy_uj"
        try:
            read_int(first)
        except PermissionError:
            return ProbeResult.unavailable(f"cannot read {first}: permission denied; {PERMISSION_FIX}")
        except (OSError, ValueError) as exc:
            return ProbeResult.unavailable(f"cannot read {first}: {exc}")
        return ProbeResult.ok(", ".join(z.domain for z in zones) + f" under {self.root}")

    def counters(self) -> Sequence[CounterSpec]:
        if self._specs is None:  # the same specs every window: the core keeps one accounting
            zones = self._discover()
            self._specs = [
                CounterSpec(
                    domain=z.domain, joules_per_unit=UNIT_J, wrap_range=z.max_range_uj, resolution_j=UNIT_J,
                    update_period_s=UPDATE_PERIOD_S, counted=counted(z, zones),
                    component=COMPONENT.get(z.kind, "cpu"), scope=SCOPE_MACHINE, max_power_w=self._zone_power(z),
                )
                for z in zones
            ]
        return self._specs

    def _zone_power(self, zone: Zone) -> float:
        if self._max_power_option is not None:
            return self._max_power_option
        return zone.max_power_w or DEFAULT_MAX_POWER_W

    def read(self) -> Mapping[str, int]:
        values: dict[str, int] = {}
        for z in self._discover():
            try:
                values[z.domain] = read_int(z.path / "energy_uj")
            except (OSError, ValueError):
                continue  # vanished or unreadable now: the tracker records it and keeps a partial figure
        return values

    def warnings(self) -> list[str]:
        self._discover()
        return list(self._skipped)

    def max_power_w(self) -> float:
        if self._max_power_option is not None:
            return self._max_power_option
        limits = [z.max_power_w for z in self._discover() if z.max_power_w]
        return max(limits) if limits else DEFAULT_MAX_POWER_W

    def summary(self) -> str:
        zones = self._discover()
        return (f"{', '.join(z.domain for z in zones) or 'no zones'} from {self.root} (RAPL via powercap, "
                f"whole machine); {TOTAL_RULE.split(';')[0]}")

    def assumptions(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "zones": {z.domain: z.zone_id for z in self._discover()},
            "counter_unit_j": UNIT_J,
            "update_period_s": UPDATE_PERIOD_S,
            "note": "a wrap is counted as max_energy_range_uj (within one hardware energy unit per wrap)",
        }
