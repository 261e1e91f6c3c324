"""Which backends a meter reads, and the shared counter tracker per backend.

The default selection composes per component (see ``backend.py``): every available
sensor, plus each estimate that covers a component no sensor covers; nothing is added
to a counted ``platform`` sensor. A backend whose constructor, probe or ``counters()``
raises, or whose probe does not answer in time (``probing``), is skipped with its reason.
Backends come back sorted by name, so result keys do not depend on the order plugins were
found in.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from greenai_core.energy.backend import MEASURED, PLATFORM, EnergyBackend, ProbeResult
from greenai_core.energy.counters import CounterTracker
from greenai_core.energy.probing import probe_backend
from greenai_core.errors import BackendUnavailableError, GreenAIError, UsageError, one_line

BackendSpec = Sequence["str | EnergyBackend"] | str | EnergyBackend | None
ESTIMATE = "estimate"

_lock = threading.Lock()
_default: tuple[list[EnergyBackend], list[str]] | None = None
#: The tracker lives on its backend instance, so it goes when the backend goes.
_TRACKER_ATTR = "_greenai_counter_tracker"


def clear_cache() -> None:
    """Forget the default selection (after the registry or the sensors changed)."""
    global _default
    with _lock:
        _default = None


def _failed(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {one_line(exc)}"


def _probe(backend: EnergyBackend) -> ProbeResult:
    """The backend's probe, bounded in time (see ``probing``); a wrong answer is a failed probe."""
    result = probe_backend(backend)
    if not isinstance(result, ProbeResult):
        raise TypeError(f"probe returned {type(result).__name__}, not a ProbeResult")
    return result


def resolve(spec: BackendSpec) -> tuple[list[EnergyBackend], list[str]]:
    """The backends to read for ``spec`` (sorted by name) and any warnings about the choice.

    ``None``: the default composition. Names or instances: exactly those; an unavailable
    one raises with its probe's reason.
    """
    global _default
    if spec is None:
        if _default is None:
            with _lock:
                if _default is None:
                    _default = _default_selection()
        backends, warnings = _default
        return list(backends), list(warnings)
    items = [spec] if isinstance(spec, (str, EnergyBackend)) else list(spec)
    if not items:
        raise UsageError("no energy backend named (pass None for the default choice)")
    from greenai_core.plugins import get_registry

    chosen: list[EnergyBackend] = []
    for item in items:
        backend = get_registry().backend(item) if isinstance(item, str) else item
        if not isinstance(backend, EnergyBackend):
            raise UsageError(f"{item!r} is neither a backend name nor an EnergyBackend")
        try:
            probe = _probe(backend)
        except GreenAIError:
            raise
        except Exception as exc:
            raise BackendUnavailableError(backend.name, f"probe failed: {_failed(exc)}") from None
        if not probe.available:
            _raise_settings_error(backend)
            raise BackendUnavailableError(backend.name, probe.reason)
        if any(b.name == backend.name for b in chosen):
            raise UsageError(f"energy backend {backend.name!r} named twice")
        chosen.append(backend)
    return sorted(chosen, key=lambda b: b.name), []


def _raise_settings_error(backend: EnergyBackend) -> None:
    """The estimate is unavailable only for a bad setting: that is the user's error, said as one."""
    from greenai_core.energy.estimate import EstimateBackend

    if isinstance(backend, EstimateBackend):
        backend.watts()  # raises UsageError naming the setting


def _components(backend: EnergyBackend) -> set[str]:
    return {spec.component for spec in backend.counters() if spec.counted}


def _default_selection() -> tuple[list[EnergyBackend], list[str]]:
    from greenai_core.plugins import get_registry

    registry = get_registry()
    sensors: list[EnergyBackend] = []
    estimates: list[EnergyBackend] = []
    covered: set[str] = set()
    reasons: list[str] = []
    for name in sorted(registry.backend_names()):
        try:
            backend = registry.backend(name)
        except Exception as exc:  # a plugin's constructor must not break measuring
            reasons.append(f"{name}: could not be created ({_failed(exc)})")
            continue
        if backend.method != MEASURED:
            estimates.append(backend)
            continue
        try:
            probe = _probe(backend)
            if not probe.available:
                reasons.append(f"{name}: {probe.reason}")
                continue
            components = _components(backend)
        except Exception as exc:
            reasons.append(f"{name}: probe failed ({_failed(exc)})")
            continue
        sensors.append(backend)
        covered |= components
    if PLATFORM in covered:
        return sensors, []  # a whole-machine meter: nothing goes on top of it
    chosen = list(sensors)
    warnings: list[str] = []
    for estimate in estimates:
        try:
            probe = _probe(estimate)
            if not probe.available:
                _raise_settings_error(estimate)
                reasons.append(f"{estimate.name}: {probe.reason}")
                continue
            missing = sorted(_components(estimate) - covered)
        except GreenAIError:
            raise
        except Exception as exc:
            reasons.append(f"{estimate.name}: probe failed ({_failed(exc)})")
            continue
        if not missing:
            continue
        chosen.append(estimate)
        why = "; ".join(reasons) if reasons else "no sensor backend is installed"
        by = estimate.name
        if sensors:
            warnings.append(f"{', '.join(missing)}: no sensor measures it here ({why}); estimated by {by}")
        else:
            warnings.append(f"no hardware energy sensor could be read ({why}); figures are estimated by {by}")
    if not chosen:
        raise BackendUnavailableError(ESTIMATE, "; ".join(reasons) or "no energy backend is installed")
    return sorted(chosen, key=lambda b: b.name), warnings


def tracker_for(backend: EnergyBackend) -> CounterTracker:
    """The tracker that accumulates ``backend``'s counters for every window on it.

    A new one is made when the backend's counter specs change (another watts setting,
    say): windows already open keep the tracker they started with, so a figure never
    mixes two settings. Raises whatever ``counters()`` raises (the meter contains it).
    """
    specs = tuple(backend.counters())
    tracker: CounterTracker | None = getattr(backend, _TRACKER_ATTR, None)
    if tracker is None or tracker.spec_key != specs:
        with _lock:
            tracker = getattr(backend, _TRACKER_ATTR, None)
            if tracker is None or tracker.spec_key != specs:
                tracker = CounterTracker(backend, specs)
                try:
                    setattr(backend, _TRACKER_ATTR, tracker)
                except AttributeError:  # a backend with __slots__: one tracker per window, still exact
                    pass
    return tracker
