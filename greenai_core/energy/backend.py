"""The energy backend interface: what a sensor plugin implements.

A backend exposes cumulative *counters*, one per domain (``package-0``, ``dram-0``,
``gpu-0``, ``cpu``...). The meter reads them at the edges of a window and subtracts; the
core (not the backend) converts units, counts wrap-arounds, checks plausibility, contains
faults and decides what sums into the total, so every backend gets the same exact,
thread-safe accounting and the same warnings.

Components (``CounterSpec.component``) say what part of the machine a domain covers, so
that sensors and the estimate compose without double counting:

* ``cpu`` (:data:`CPU`): the processor packages (cores, caches, uncore); RAPL ``package-N``.
* ``dram`` (:data:`DRAM`): main memory; RAPL ``dram-N``.
* ``gpu`` (:data:`GPU`): accelerators, whole boards (an NVML ``gpu-N``).
* ``platform`` (:data:`PLATFORM`): the whole machine (a wall meter, a BMC, RAPL ``psys``
  standing alone). A counted ``platform`` domain covers everything else, so nothing
  measured or estimated is added on top of it.
* any other name (``npu``, ``disk``...): a part no built-in component names; it adds to
  the total and nothing replaces it.

Default selection: every available sensor, plus the estimate for each component no
sensor covers (a GPU-only sensor still gets the CPU estimated; the result says ``mixed``).

Scopes (``CounterSpec.scope``) say *whose* energy a domain holds: :data:`SCOPE_MACHINE`
(everything running on the machine: RAPL packages, a GPU) or :data:`SCOPE_PROCESS` (only
the measured process tree: the CPU-time estimate).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

MEASURED = "measured"
ESTIMATED = "estimated"
MIXED = "mixed"
#: A window's ``method`` when nothing it asked for could be read: its 0 J is no measurement.
NO_READING = "none"

#: Components a domain can cover (see the module docstring for what each includes).
CPU = "cpu"
DRAM = "dram"
GPU = "gpu"
PLATFORM = "platform"
COMPONENTS: Mapping[str, str] = {
    CPU: "processor packages: cores, caches, uncore",
    DRAM: "main memory",
    GPU: "accelerator boards",
    PLATFORM: "the whole machine; nothing is added on top of it",
}

#: Scopes: whose energy a domain holds.
SCOPE_MACHINE = "machine"
SCOPE_PROCESS = "process"
SCOPES: Mapping[str, str] = {
    SCOPE_MACHINE: "everything running on the machine",
    SCOPE_PROCESS: "the measured process tree only",
}


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
    covers (:data:`CPU`, :data:`DRAM`, :data:`GPU`, :data:`PLATFORM`...) so a measured figure
    can replace an estimated one for the same component instead of adding to it.
    ``scope`` is :data:`SCOPE_MACHINE` or :data:`SCOPE_PROCESS`. ``max_power_w`` is the
    highest power this domain can plausibly draw (``None``: the backend's
    ``max_power_w()``); the core uses it to poll wrapping counters often enough and to
    tell a wrap from a reset and a real step from a jump. ``poll_period_s`` asks the shared
    poller to read this domain at least that often while a window is open, even when it
    cannot wrap (``None``: only as wraps need): for a counter the backend advances itself on
    each ``read()``, such as power samples it integrates. ``lag_s`` is how far behind the truth
    a reading can be even when read at once (the kernel adds a running thread's CPU time at its
    scheduler tick): energy that much time old may show up in one step, so the jump check allows
    it; it changes nothing else.
    """

    domain: str
    joules_per_unit: float
    wrap_range: int | float | None = None
    resolution_j: float = 0.0
    update_period_s: float = 0.0
    counted: bool = True
    component: str = CPU
    scope: str = SCOPE_MACHINE
    max_power_w: float | None = None
    poll_period_s: float | None = None
    lag_s: float = 0.0

    @property
    def wrap_range_j(self) -> float | None:
        return None if self.wrap_range is None else self.wrap_range * self.joules_per_unit


class EnergyBackend(ABC):
    """A source of energy counters. Subclasses set ``name`` and implement the three abstract methods.

    Construction must be cheap and touch no hardware: the registry creates backends to
    list them. ``probe`` is where a backend looks for its sensor. ``read`` may fail in any
    way (raise, omit a domain, answer nonsense): the core contains it, marks the domains
    it hits as partial or unreadable for the windows concerned and warns.
    """

    name: ClassVar[str]
    #: "measured" for hardware counters, "estimated" for a model of power.
    method: ClassVar[str] = MEASURED
    #: One sentence stating which domains make the total, shown in reports.
    total_rule: ClassVar[str] = "total = sum of all domains"
    #: Where two measured backends cover one component, only the one with the highest
    #: precedence (then the first by name) adds into the total; the other is reported beside
    #: it. The first-party direct sensors (RAPL, NVML) use 100; leave 0 unless yours reads the
    #: same hardware more directly.
    precedence: ClassVar[int] = 0

    @property
    def version(self) -> str:
        """Version of the code that reads the sensor (usually the plugin's distribution)."""
        return ""

    @abstractmethod
    def probe(self) -> ProbeResult:
        """Look for the sensor; never raise for an expected absence (say why instead)."""

    @abstractmethod
    def counters(self) -> Sequence[CounterSpec]:
        """The domains this backend reads (called after a successful probe, at each window start).

        Return equal specs while the backend's inputs are unchanged: a change (e.g. another
        watts setting) starts a new accounting, so no figure mixes two settings.
        """

    @abstractmethod
    def read(self) -> Mapping[str, int | float]:
        """Raw cumulative counter values by domain. A domain missing from the answer has vanished."""

    def assumptions(self) -> dict[str, Any]:
        """What the figure rests on (for estimates: the power model and its inputs)."""
        return {}

    def summary(self) -> str:
        """One human line on what the figure rests on, printed under the CLI's energy table."""
        return ""

    def warnings(self) -> list[str]:
        """Standing caveats every measurement with this backend carries (e.g. a skipped zone)."""
        return []

    def max_power_w(self) -> float:
        """Highest plausible power of one domain (default for ``CounterSpec.max_power_w``)."""
        return 500.0

    def doubts(self) -> Mapping[str, str]:
        """Domains whose latest ``read()`` the backend itself doubts, each with one line saying why.

        Asked by the core right after each successful ``read()`` (under the same lock). Each
        domain named makes its figure partial, with the line as a warning, for the windows open
        then: a counter that did not move while the device drew power, a sensor error behind a
        domain left out of the answer. Return each doubt once (not again at every read).
        """
        return {}

    def describe(self) -> dict[str, Any]:
        """Static facts for reports and ``greenai plugins``."""
        return {"name": self.name, "version": self.version, "method": self.method, "total_rule": self.total_rule}
