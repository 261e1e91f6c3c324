"""Which backends a meter reads, and the one shared counter tracker per backend."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from greenai_core.energy.backend import MEASURED, EnergyBackend
from greenai_core.energy.counters import CounterTracker
from greenai_core.errors import BackendUnavailableError, UsageError

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


def resolve(spec: BackendSpec) -> tuple[list[EnergyBackend], list[str]]:
    """The backends to read for ``spec`` and any warnings about the choice.

    ``None``: every available hardware backend, or the estimate when there is none.
    Names or instances: exactly those; an unavailable one raises with its probe's reason.
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
        probe = backend.probe()
        if not probe.available:
            raise BackendUnavailableError(backend.name, probe.reason)
        if any(b.name == backend.name for b in chosen):
            raise UsageError(f"energy backend {backend.name!r} named twice")
        chosen.append(backend)
    return chosen, []


def _default_selection() -> tuple[list[EnergyBackend], list[str]]:
    from greenai_core.plugins import get_registry

    registry = get_registry()
    hardware: list[EnergyBackend] = []
    reasons: list[str] = []
    for name in registry.backend_names():
        backend = registry.backend(name)
        if backend.method != MEASURED:
            continue
        probe = registry.probe(name)
        if probe.available:
            hardware.append(backend)
        else:
            reasons.append(f"{name}: {probe.reason}")
    if hardware:
        return hardware, []
    why = "; ".join(reasons) if reasons else "no sensor backend is installed"
    estimate = registry.backend(ESTIMATE)
    probe = registry.probe(ESTIMATE)
    if not probe.available:
        raise BackendUnavailableError(ESTIMATE, probe.reason)
    return [estimate], [f"no hardware energy sensor could be read ({why}); figures are CPU-time estimates"]


def tracker_for(backend: EnergyBackend) -> CounterTracker:
    """The one tracker that accumulates ``backend``'s counters for every window on it."""
    tracker: CounterTracker | None = getattr(backend, _TRACKER_ATTR, None)
    if tracker is None:
        with _lock:
            tracker = getattr(backend, _TRACKER_ATTR, None)
            if tracker is None:
                tracker = CounterTracker(backend)
                setattr(backend, _TRACKER_ATTR, tracker)
    return tracker
