"""Wrap-safe, plausibility-checked accumulation of one backend's counters, shared by every window on it.

One ``CounterTracker`` per backend (and per set of counter specs) keeps a monotonic total
in joules per domain. Each read (by a window edge or by the poller) adds the energy since
the previous read, so windows never subtract raw values and any number of nested or
overlapping windows, from any thread, stay right.

Every step between two reads is checked before it is counted. ``P`` is the domain's
plausible maximum power, ``dt`` the time since the previous read plus the counter's
update period (a counter that moves in steps can show a whole step after a tiny ``dt``):

* a reading that is not a finite number in ``[0, wrap_range]``, a read that raises, a
  domain missing from the answer: the chain breaks; counting restarts at the next good
  reading and the energy in between is missing;
* a step forward of more than ``4 P dt`` (a jump): not counted;
* a step backwards: a wrap if the energy it implies fits ``P dt``; a reset if it exceeds
  ``4 P dt`` (or the counter cannot wrap); in between it could be either and is not counted;
* a read so late that one more whole wrap would still fit ``P dt`` (a starved poller,
  a counter that wraps faster than it can be polled): counted, but wraps may be missing;
* a domain the backend itself doubts after a read (``EnergyBackend.doubts()``: a counter
  that did not move while the device drew power): counted as read, with the backend's why.

Each of these makes the domain's figure *partial* (a lower bound: the energy that can be
vouched for) for every window open at the time, with a warning naming the backend, the
domain and what happened. Nothing is ever subtracted, so no figure is negative or NaN.
While no window is open the reads only re-base (nothing is checked or counted).
"""

from __future__ import annotations

import math
import numbers
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from greenai_core.energy.backend import COMPONENTS, SCOPES, CounterSpec, EnergyBackend
from greenai_core.energy.events import EventLog
from greenai_core.errors import SensorError, one_line

#: Power above the plausible maximum, up to this factor, is believed (turbo, a burst); beyond, it is a fault.
PLAUSIBLE_POWER_FACTOR = 4.0
#: Poll a wrapping counter this many times per shortest wrap period at its plausible maximum power.
POLLS_PER_WRAP = 8.0
MIN_POLL_PERIOD_S = 0.002
MAX_POLL_PERIOD_S = 60.0

#: The clock of every read (tests replace it to play a starved poller deterministically).
_now = time.perf_counter


def meter_clock() -> float:
    """The meter's clock, in seconds (``perf_counter``; ``greenai_core.testing.fake_clock`` replaces it).

    A backend that integrates samples itself (power into energy) times them with this clock,
    so its intervals and the core's plausibility checks agree, and tests drive both at once.
    """
    return _now()


@dataclass(frozen=True)
class Snapshot:
    """One read's view of the accumulated state; a window compares its start and stop snapshots.

    ``faults`` counts, per domain, the steps that made figures partial; ``intervals`` the
    steps that were counted; ``broken`` names the domains without a good last reading
    (with why); ``event_seq`` is the event log's position after this read.
    """

    time: float
    totals_j: Mapping[str, float]
    faults: Mapping[str, int]
    intervals: Mapping[str, int]
    broken: Mapping[str, str]
    event_seq: int

    @property
    def lost(self) -> frozenset[str]:
        return frozenset(self.broken)


class _Domain:
    """The accounting state of one domain."""

    __slots__ = ("name", "jpu", "range", "range_j", "power_w", "slack_s", "res_j", "last", "total_j",
                 "faults", "intervals", "broken")

    def __init__(self, spec: CounterSpec, default_power_w: float) -> None:
        self.name = spec.domain
        self.jpu = float(spec.joules_per_unit)
        self.range = None if spec.wrap_range is None else float(spec.wrap_range)
        self.range_j = None if self.range is None else self.range * self.jpu
        self.power_w = float(spec.max_power_w if spec.max_power_w is not None else default_power_w)
        self.slack_s = float(spec.update_period_s) + float(spec.lag_s)
        self.res_j = float(spec.resolution_j)
        self.last: float | None = None  # the last good raw reading; None: the chain is broken
        self.total_j = 0.0
        self.faults = 0
        self.intervals = 0
        self.broken = "not read yet"


def _real(value: object) -> float | None:
    """``value`` as a finite float when it is a real number (not a bool), else None; never raises."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None  # numbers.Real takes int, float and numpy's scalars; a str or a Decimal is no reading
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):  # an int beyond float's range, an odd __float__
        return None
    return number if math.isfinite(number) else None


def _short(value: object, limit: int = 40) -> str:
    """A plugin's value for a warning: its repr, cut (a hostile value must not flood the output)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,40}")
#: The longest domain name accepted (it becomes a result key, a table row and a JSON key).
MAX_DOMAIN_CHARS = 100


def check_spec(backend: str, spec: CounterSpec) -> None:
    """Refuse a counter spec the accounting cannot trust (a plugin bug, contained by the meter)."""
    def bad(what: str) -> SensorError:
        return SensorError(f"energy backend {backend!r}: counter {_short(spec.domain)} has {what}")

    if not isinstance(spec.domain, str) or not spec.domain:
        raise bad("no domain name")
    if len(spec.domain) > MAX_DOMAIN_CHARS or not spec.domain.isprintable():
        raise bad(f"a domain name that is not {MAX_DOMAIN_CHARS} printable characters at most")
    jpu = _real(spec.joules_per_unit)
    if jpu is None or not jpu > 0 or jpu * 2 ** 52 < 1e-300:  # subnormal units lose every digit
        raise bad(f"joules_per_unit={_short(spec.joules_per_unit)} (must be finite and positive)")
    for field_name in ("wrap_range", "max_power_w", "poll_period_s"):
        value = getattr(spec, field_name)
        number = _real(value)
        if value is not None and (number is None or not number > 0 or number * jpu == math.inf):
            raise bad(f"{field_name}={_short(value)} (must be None or finite and positive)")
    for field_name in ("resolution_j", "update_period_s", "lag_s"):
        value = getattr(spec, field_name)
        number = _real(value)
        if number is None or number < 0:
            raise bad(f"{field_name}={_short(value)} (must be finite and not negative)")
    if not isinstance(spec.counted, bool):
        raise bad(f"counted={_short(spec.counted)} (must be True or False)")
    if not isinstance(spec.component, str) or not _NAME_RE.fullmatch(spec.component):
        raise bad(f"component={_short(spec.component)} (must be a name such as {', '.join(COMPONENTS)})")
    if spec.scope not in SCOPES:
        raise bad(f"scope={_short(spec.scope)} (must be one of {', '.join(SCOPES)})")


def _number(value: object) -> float | None:
    """A raw reading as a finite float, or None for anything else (bool, str, NaN, inf, an int beyond float)."""
    return _real(value)


class CounterTracker:
    """Accumulates one backend's counters into monotonic, plausibility-checked joules (thread-safe)."""

    def __init__(self, backend: EnergyBackend, specs: tuple[CounterSpec, ...] | None = None) -> None:
        self.backend = backend
        self.name = backend.name
        self.spec_key: tuple[CounterSpec, ...] = tuple(backend.counters()) if specs is None else specs
        if not self.spec_key:
            raise SensorError(f"energy backend {backend.name!r} reports no counters")
        for spec in self.spec_key:
            if not isinstance(spec, CounterSpec):
                raise SensorError(f"energy backend {backend.name!r}: counters() gave {_short(spec)}, not a CounterSpec")
            check_spec(backend.name, spec)
        self.specs: dict[str, CounterSpec] = {c.domain: c for c in self.spec_key}
        if len(self.specs) != len(self.spec_key):
            twice = sorted({c.domain for c in self.spec_key if sum(o.domain == c.domain for o in self.spec_key) > 1})
            raise SensorError(f"energy backend {backend.name!r} reports a domain twice: {', '.join(twice)}")
        answer = backend.max_power_w()
        default_power = _real(answer)
        if default_power is None or not default_power > 0:
            raise SensorError(f"energy backend {backend.name!r}: max_power_w() = {_short(answer)} "
                              "(must be finite and positive)")
        self._domains = [_Domain(spec, default_power) for spec in self.spec_key]
        self._lock = threading.Lock()
        self._log = EventLog(backend.name)
        self._open = 0
        #: What the backend says of its figures (version, assumptions, summary, standing warnings),
        #: asked once per tracker: a change of inputs that matters changes the specs, hence the tracker.
        self.report_facts: tuple[str, dict[str, Any], str, tuple[str, ...]] | None = None
        self._last_time = _now()
        # Only a backend that overrides doubts() is asked (most do not: no call per read).
        self._doubts = backend.doubts if type(backend).doubts is not EnergyBackend.doubts else None

    # -- what windows and the poller call ------------------------------------------------
    def max_power_w(self) -> dict[str, float]:
        """Each domain's plausible maximum power (W): its ``CounterSpec.max_power_w``, else the backend's."""
        return {d.name: d.power_w for d in self._domains}

    @property
    def wraps(self) -> bool:
        return any(d.range is not None for d in self._domains)

    def poll_period_s(self) -> float | None:
        """How often the poller must read: so that no wrap is missed, and as often as a spec asks.

        None: no counter wraps and no spec asks to be polled.
        """
        periods = [d.range_j / d.power_w / POLLS_PER_WRAP
                   for d in self._domains if d.range_j is not None]
        periods += [float(spec.poll_period_s) for spec in self.spec_key if spec.poll_period_s is not None]
        if not periods:
            return None
        return min(max(min(periods), MIN_POLL_PERIOD_S), MAX_POLL_PERIOD_S)

    def sample(self) -> Snapshot:
        """Read the counters now (never raises: faults become events) and return the totals."""
        with self._lock:
            return self._sample()

    def start_window(self) -> Snapshot:
        """The first read of a window; from now on reads are checked and counted."""
        with self._lock:
            snap = self._sample()
            self._open += 1
            return snap

    def stop_window(self) -> Snapshot:
        """The last read of a window."""
        with self._lock:
            snap = self._sample()
            self._open = max(self._open - 1, 0)
            return snap

    def abandon_window(self) -> None:
        """A window that will never stop (its meter was garbage collected while running): no read."""
        with self._lock:
            self._open = max(self._open - 1, 0)

    def record_failure(self, what: str) -> None:
        """A failure outside ``read()`` (e.g. in the poller): every open window gets it."""
        with self._lock:
            if self._open:
                self._log.add(f"{self.name}: {what}")

    def events_between(self, start_seq: int, stop_seq: int) -> list[str]:
        with self._lock:
            return self._log.between(start_seq, stop_seq)

    # -- the accounting -----------------------------------------------------------------
    def _sample(self) -> Snapshot:
        try:
            raw = self.backend.read()
            if not isinstance(raw, Mapping):
                raise TypeError(f"read() returned {type(raw).__name__}, not a mapping of domain to value")
            if type(raw) is not dict:  # a plugin's own Mapping may raise on access: copy it while contained
                raw = dict(raw)
            error = None
        except Exception as exc:  # any plugin fault is contained here, whoever reads
            raw, error = {}, f"{type(exc).__name__}: {one_line(exc)}"
        now = _now()
        dt = max(now - self._last_time, 0.0)
        self._last_time = now
        checking = self._open > 0
        if error is not None:
            self._read_failed(error, checking)
        else:
            for d in self._domains:
                self._step(d, raw.get(d.name, _MISSING), dt, checking)
            if self._doubts is not None:
                self._doubted(checking)
        domains = self._domains
        return Snapshot(
            time=now,
            totals_j={d.name: d.total_j for d in domains},
            faults={d.name: d.faults for d in domains},
            intervals={d.name: d.intervals for d in domains},
            broken={d.name: d.broken for d in domains if d.last is None},
            event_seq=self._log.seq,
        )

    def _fault(self, d: _Domain, message: str, checking: bool) -> None:
        d.faults += 1
        if checking:
            self._log.add(f"{self.name}: {d.name} {message}")

    def _break(self, d: _Domain, why: str, message: str, checking: bool) -> None:
        if d.last is not None:  # a chain already broken is not broken again (one warning per outage)
            self._fault(d, message, checking)
        d.last, d.broken = None, why

    def _read_failed(self, error: str, checking: bool) -> None:
        live = [d for d in self._domains if d.last is not None]
        for d in self._domains:
            if d.last is not None:
                d.faults += 1
            d.last, d.broken = None, f"read() raised {error}"
        if checking and live:
            names = ", ".join(d.name for d in live)
            self._log.add(f"{self.name}: read() raised {error}; {names} unreadable until the next good read, "
                          "figures partial")

    def _doubted(self, checking: bool) -> None:
        """The backend's own doubts about the read just made: each makes its domain's figure partial."""
        assert self._doubts is not None
        try:
            doubts = dict(self._doubts())
        except Exception as exc:  # a plugin fault, contained like read()'s
            if checking:
                self._log.add(f"{self.name}: doubts() raised {type(exc).__name__}: {one_line(exc)}")
            return
        by_name = {d.name: d for d in self._domains}
        for domain, why in doubts.items():
            d = by_name.get(domain) if isinstance(domain, str) else None
            if d is not None:
                text = " ".join(why.split())[:300] if isinstance(why, str) else _short(why)
                self._fault(d, f"{text}; figure partial", checking)  # read as "<backend>: <domain> <text>"

    def _step(self, d: _Domain, value: object, dt: float, checking: bool) -> None:
        if value is _MISSING:
            self._break(d, "missing from read()", "vanished (missing from read()); its figure is partial", checking)
            return
        v = _number(value)
        if v is None or v < 0 or (d.range is not None and v > d.range):
            limit = f"[0, {d.range:.17g}]" if d.range is not None else "[0, inf)"
            shown = _short(value)
            self._break(d, f"read {shown}", f"read {shown}, not a number in {limit}; the energy until the "
                        "next good reading is missing, figure partial", checking)
            return
        last = d.last
        d.last, d.broken = v, ""
        if last is None or not checking:
            return  # (re)start the chain here: nothing before this reading is vouched for
        t = dt + d.slack_s
        nominal_j = d.power_w * t + d.res_j
        ceiling_j = PLAUSIBLE_POWER_FACTOR * nominal_j
        if v >= last:
            step_j = (v - last) * d.jpu
            if step_j > ceiling_j:
                power = f"{step_j / t:.4g} W" if t > 0 else "no time"
                self._fault(d, f"jumped forward {step_j:.4g} J in {dt:.3g} s ({power}, over the "
                            f"plausible {PLAUSIBLE_POWER_FACTOR * d.power_w:.4g} W); that step is not counted, "
                            "figure partial", checking)
                return
        else:
            if d.range is None:
                self._fault(d, f"went backwards ({last:.17g} -> {v:.17g}) and cannot wrap: a reset (driver reload, "
                            "suspend?); the energy between those reads is missing, figure partial", checking)
                return
            step_j = (d.range - last + v) * d.jpu
            if step_j > ceiling_j:
                self._fault(d, f"went backwards ({last:.17g} -> {v:.17g}): not a wrap (that would be {step_j:.4g} J "
                            f"in {dt:.3g} s, over the plausible {PLAUSIBLE_POWER_FACTOR * d.power_w:.4g} W), so a "
                            "reset (driver reload, suspend?); the energy between those reads is missing, "
                            "figure partial", checking)
                return
            if step_j > nominal_j:
                self._fault(d, f"went backwards ({last:.17g} -> {v:.17g}): a wrap ({step_j:.4g} J in {dt:.3g} s, "
                            f"above the usual {d.power_w:.4g} W) or a reset, cannot tell which; that step is not "
                            f"counted ({step_j:.4g} J missing if it was a wrap, an unknown amount if a reset), "
                            "figure partial", checking)
                return
        d.total_j += step_j
        d.intervals += 1
        if d.range_j is not None and step_j + d.range_j <= nominal_j:
            self._fault(d, f"read {dt:.3g} s after the previous read, but it can wrap every "
                        f"{d.range_j / d.power_w:.3g} s at its plausible {d.power_w:.4g} W (a starved "
                        "poller: a long-held GIL, or a "
                        "counter that wraps faster than it can be polled); whole wraps may be missing, "
                        "figure partial", checking)


class _Missing:
    pass


_MISSING = _Missing()
