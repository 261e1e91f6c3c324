"""From the start and stop reads of one window to a ``Measurement``: keys, composition, warnings.

* Keys: a domain keeps its name unless another backend of the window has a domain of the
  same name; then both become ``backend:domain``. Backends are sorted by name, so the same
  backends give the same keys whatever order the plugins were found in.
* Composition per component: an estimated domain is not added where a measured domain of
  the same component is; a counted ``platform`` domain covers the whole machine, so no
  other domain is added on top of it; where two measured backends cover one component, only
  the one of highest ``precedence`` (then first by name) adds into the total, the other is
  reported beside it.
* Faults: a domain whose step was not all vouched for is *partial* (a lower bound); one
  with nothing vouched for is *unreadable* (0, not in the total). Warnings say why.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from greenai_core.energy.backend import ESTIMATED, MEASURED, MIXED, NO_READING, PLATFORM, EnergyBackend
from greenai_core.energy.counters import CounterTracker, Snapshot
from greenai_core.energy.measurement import BackendReport, Measurement, TimelinePoint
from greenai_core.errors import one_line

#: A window shorter than this many sensor update periods gets a "coarse" warning.
SHORT_WINDOW_PERIODS = 3


@dataclass
class Edge:
    """One backend's part of one window: its tracker, start read and what it said at the start."""

    backend: EnergyBackend
    tracker: CounterTracker | None = None
    error: str = ""  # why the backend could not be used for this window
    keys: dict[str, str] = field(default_factory=dict)  # domain -> result key
    start: Snapshot | None = None
    version: str = ""
    assumptions: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    warnings: list[str] = field(default_factory=list)


def _guarded(edge: Edge, what: str, call: Any, default: Any) -> Any:
    try:
        return call()
    except Exception as exc:  # a plugin's report methods must not cost the measurement
        edge.warnings.append(f"{edge.backend.name}: {what} raised {type(exc).__name__}: {one_line(exc)}")
        return default


def open_edge(backend: EnergyBackend, tracker_for: Any) -> Edge:
    """Prepare one backend for a window; any fault of the plugin is kept as the edge's error."""
    edge = Edge(backend)
    try:
        edge.tracker = tracker_for(backend)
    except Exception as exc:
        edge.error = f"counters() failed: {type(exc).__name__}: {one_line(exc)}"
        return edge
    facts = edge.tracker.report_facts
    if facts is None:  # once per tracker: these calls cost more than the reads themselves
        version = str(_guarded(edge, "version", lambda: backend.version, ""))
        assumptions = dict(_guarded(edge, "assumptions()", backend.assumptions, {}))
        summary = str(_guarded(edge, "summary()", backend.summary, ""))
        edge.warnings += [str(w) for w in _guarded(edge, "warnings()", backend.warnings, [])]
        facts = edge.tracker.report_facts = (version, assumptions, summary, tuple(edge.warnings))
    edge.version, assumptions, edge.summary, warnings = facts
    edge.assumptions = dict(assumptions)
    edge.warnings = list(warnings)
    return edge


def assign_keys(edges: Sequence[Edge]) -> None:
    """Unique, order-independent result keys (edges come sorted by backend name)."""
    names = Counter(d for e in edges if e.tracker for d in e.tracker.specs)
    for e in edges:
        if e.tracker:
            e.keys = {d: d if names[d] == 1 else f"{e.backend.name}:{d}" for d in e.tracker.specs}
    keys = [k for e in edges for k in e.keys.values()]
    if len(set(keys)) != len(keys):  # a plain name equal to another's "backend:domain": prefix all
        for e in edges:
            e.keys = {d: f"{e.backend.name}:{d}" for d in e.keys}


def _precedence(backend: EnergyBackend) -> int:
    value = getattr(backend, "precedence", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def clean(value: float) -> float:
    """The last guard: a figure is finite and never negative."""
    return value if math.isfinite(value) and value > 0 else 0.0


def timeline_point(edge: Edge, before: Snapshot, after: Snapshot, t0: float) -> TimelinePoint | None:
    dt = after.time - before.time
    if dt <= 0:
        return None
    watts = {edge.keys[d]: clean((after.totals_j[d] - before.totals_j[d]) / dt) for d in edge.keys}
    return TimelinePoint(after.time - t0, watts, edge.backend.name)


def build(
    edges: Sequence[Edge],
    stops: Sequence[Snapshot | None],
    choice_warnings: Sequence[str],
    *,
    started_at: str,
    duration_s: float,
    timeline: Sequence[TimelinePoint],
) -> Measurement:
    warnings = list(choice_warnings)
    usable = [(e, s) for e, s in zip(edges, stops, strict=True) if e.tracker is not None and s is not None]
    measured_components: dict[str, list[str]] = {}
    #: component -> the one measured backend whose domains count for it: two sensors of the same
    #: component (RAPL and a hwmon socket meter) would count the same joules twice.
    owner: dict[str, str] = {}
    by_precedence = sorted(usable, key=lambda es: (-_precedence(es[0].backend), es[0].backend.name))
    for e, stop_ in by_precedence:
        if e.backend.method == MEASURED:
            assert e.tracker is not None and e.start is not None and stop_ is not None
            for spec in e.tracker.spec_key:
                if spec.counted:
                    measured_components.setdefault(spec.component, []).append(e.keys[spec.domain])
                    if stop_.intervals[spec.domain] != e.start.intervals[spec.domain]:  # read in this window
                        owner.setdefault(spec.component, e.backend.name)
    platform = measured_components.get(PLATFORM, [])
    domains: dict[str, float] = {}
    components: dict[str, str] = {}
    scopes: dict[str, str] = {}
    counted: list[str] = []
    partial: list[str] = []
    unreadable: list[str] = []
    methods: set[str] = set()
    resolution = 0.0
    reports = []
    for e, stop in zip(edges, stops, strict=True):
        name = e.backend.name
        warnings += e.warnings
        if e.tracker is None or e.start is None or stop is None:
            warnings.append(f"{name}: not read in this window ({e.error}); its domains are missing")
            reports.append(BackendReport(name=name, version=e.version, method=e.backend.method,
                                         total_rule=e.backend.total_rule, domains=(), counted_domains=(),
                                         resolution_j=0.0, update_period_s=0.0, error=e.error))
            continue
        start = e.start
        warnings += e.tracker.events_between(start.event_seq, stop.event_seq)
        own_counted: list[str] = []
        not_added: list[tuple[str, str]] = []
        own_resolution, period = 0.0, 0.0
        for spec in e.tracker.spec_key:
            d, key = spec.domain, e.keys[spec.domain]
            domains[key] = clean(stop.totals_j[d] - start.totals_j[d])
            components[key], scopes[key] = spec.component, spec.scope
            period = max(period, spec.update_period_s)
            is_partial = d in start.broken or stop.faults[d] != start.faults[d] or d in stop.broken
            if is_partial:
                partial.append(key)
                reason = start.broken.get(d) or stop.broken.get(d) or ""
                if stop.intervals[d] == start.intervals[d]:
                    unreadable.append(key)
                    why = f" ({reason})" if reason else ""
                    warnings.append(f"{name}: {d} could not be read during this window{why}; no figure "
                                    "(0 J shown, not in the total)")
                    continue
                if d in start.broken:
                    warnings.append(f"{name}: {d} was not readable at the start of this window ({reason}); its "
                                    "figure counts only what was read after, partial")
            if not spec.counted:
                continue
            if platform and spec.component != PLATFORM:
                not_added.append((key, f"the platform meter {', '.join(platform)} covers the whole machine"))
                continue
            if e.backend.method != MEASURED and spec.component in measured_components:
                not_added.append((key, f"{spec.component} is measured by a sensor"))
                continue
            if e.backend.method == MEASURED and owner.get(spec.component, name) != name:
                not_added.append((key, f"{spec.component} is already counted from {owner[spec.component]}"))
                continue
            own_counted.append(key)
            own_resolution += spec.resolution_j
            methods.add(e.backend.method)
        for key, why in not_added:
            warnings.append(f"{name}: {key} is not added to the total ({why})")
        if period and duration_s < SHORT_WINDOW_PERIODS * period:
            warnings.append(
                f"{name}: the window ({duration_s * 1e3:.3g} ms) is shorter than {SHORT_WINDOW_PERIODS} "
                f"sensor update periods ({period * 1e3:.3g} ms each); the figure is coarse"
            )
        counted += own_counted
        resolution += own_resolution
        reports.append(BackendReport(
            name=name, version=e.version, method=e.backend.method, total_rule=e.backend.total_rule,
            domains=tuple(e.keys[d] for d in e.tracker.specs), counted_domains=tuple(own_counted),
            resolution_j=own_resolution, update_period_s=period, assumptions=e.assumptions, summary=e.summary,
            max_power_w={e.keys[d]: w for d, w in e.tracker.max_power_w().items()},
        ))
    if not methods and (unreadable or any(s is None or e.tracker is None for e, s in zip(edges, stops, strict=True))):
        methods = {NO_READING}  # nothing could be read: 0 J is no measurement, and must not say "measured"
        warnings.append("no energy figure could be read in this window: the 0 J total is not a measurement")
    elif not methods:  # nothing counted by design (every domain nested or covered): say what was asked for
        methods = {e.backend.method for e in edges} or {ESTIMATED}
    return Measurement(
        energy_j=clean(sum(domains[k] for k in counted)),
        duration_s=clean(duration_s),
        domains=domains,
        method=methods.pop() if len(methods) == 1 else MIXED,
        backends=tuple(reports),
        resolution_j=clean(resolution),
        warnings=tuple(warnings),
        counted_domains=tuple(counted),
        started_at=started_at,
        timeline=tuple(sorted(timeline, key=lambda p: (p.t_s, p.backend))),
        partial_domains=tuple(partial),
        unreadable_domains=tuple(unreadable),
        components=components,
        scopes=scopes,
    )
