"""The energy backend interface: what a sensor plugin implements.

A backend exposes cumulative *counters*, one per domain (``package-0``, ``dram-0``,
``gpu-0``, ``cpu``...). The meter reads them at the edges of a window and subtracts; the
core (not the backend) converts units, counts wrap-arounds and decides what sums into
the total, so every backend gets the same exact, thread-safe accounting.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

MEASURED = "measured"
ESTIMATED = "estimated"
MIXED = "mixed"


@dataclass(frozen=True)
class ProbeResult:
    """Whether a backend can be read here; ``reason`` is one human line either way."""

    available: bool
    reason: str = ""

    @classmethod
    def ok(cls, detail: str = "") -> ProbeResult:
        return cls(True, detail)

    @classmethod
    def unavailable(cls, reason: str) -> ProbeResult:
        return cls(False, reason)


@dataclass(frozen=True)
class CounterSpec:
    """One domain's counter, as its backend reads it.

    ``joules_per_unit`` converts a raw reading to joules; ``wrap_range`` is the raw value at
    which the counter restarts from zero (``None``: it never wraps); ``resolution_j`` is the
    smallest change it can show; ``update_period_s`` how often the hardware refreshes it.
    ``counted`` says whether the domain adds into the total (``False`` for domains nested
    in another, such as RAPL's core inside its package). ``component`` names what it
    covers (``cpu``, ``dram``, ``gpu``, ``platform``) so a measured figure can replace an
    estimated one for the same component instead of adding to it.
    """

    domain: str
    joules_per_unit: float
    wrap_range: int | float | None = None
    resolution_j: float = 0.0
    update_period_s: float = 0.0
    counted: bool = True
    component: str = "cpu"

    @property
    def wrap_range_j(self) -> float | None:
        return None if self.wrap_range is None else self.wrap_range * self.joules_per_unit


class EnergyBackend(ABC):
    """A source of energy counters. Subclasses set ``name`` and implement the four methods.

    Construction must be cheap and touch no hardware: the registry creates backends to
    list them. ``probe`` is where a backend looks for its sensor.
    """

    name: ClassVar[str]
    #: "measured" for hardware counters, "estimated" for a model of power.
    method: ClassVar[str] = MEASURED
    #: One sentence stating which domains make the total, shown in reports.
    total_rule: ClassVar[str] = "total = sum of all domains"

    @property
    def version(self) -> str:
        """Version of the code that reads the sensor (usually the plugin's distribution)."""
        return ""

    @abstractmethod
    def probe(self) -> ProbeResult:
        """Look for the sensor; never raise for an expected absence (say why instead)."""

    @abstractmethod
    def counters(self) -> Sequence[CounterSpec]:
        """The domains this backend reads (called after a successful probe)."""

    @abstractmethod
    def read(self) -> Mapping[str, int | float]:
        """Raw cumulative counter values by domain. A domain missing from the answer has vanished."""

    def assumptions(self) -> dict[str, Any]:
        """What the figure rests on (for estimates: the power model and its inputs)."""
        return {}

    def warnings(self) -> list[str]:
        """Standing caveats every measurement with this backend carries (e.g. a skipped zone)."""
        return []

    def max_power_w(self) -> float:
        """Highest plausible power of one domain, used to poll wrapping counters often enough."""
        return 500.0

    def describe(self) -> dict[str, Any]:
        """Static facts for reports and ``greenai plugins``."""
        return {"name": self.name, "version": self.version, "method": self.method, "total_rule": self.total_rule}
