"""``Measurement``: one window's energy, with how it was obtained, its resolution and warnings."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from greenai_core.errors import UsageError, one_line


@dataclass(frozen=True)
class BackendReport:
    """How one backend contributed to a measurement."""

    name: str
    version: str
    method: str
    total_rule: str
    domains: tuple[str, ...]
    counted_domains: tuple[str, ...]
    resolution_j: float
    update_period_s: float
    assumptions: Mapping[str, Any] = field(default_factory=dict)
    #: One human line saying what the figure rests on (the CLI prints it as is).
    summary: str = ""
    #: Why the backend gave no domains at all in this window ("" when it was read).
    error: str = ""
    #: Each domain's plausible maximum power (W), keyed like ``domains`` (power limits, the estimate's TDP).
    max_power_w: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TimelinePoint:
    """Average power of one backend's domains over the interval ending ``t_s`` seconds after the start.

    ``watts`` is keyed like ``Measurement.domains``; ``backend`` names whose domains they are.
    The first point covers the start to the first poll, the last one the last poll to the stop.
    """

    t_s: float
    watts: Mapping[str, float]
    backend: str = ""


@dataclass(frozen=True)
class Measurement:
    """The energy of one measured window.

    ``energy_j`` is the total without double counting: only ``counted_domains`` add into
    it (each backend's ``total_rule`` says why, and a sensor replaces the estimate of the
    component it covers); ``domains`` lists every domain read, keyed by its name, or
    ``backend:domain`` where two backends share a name. ``method`` is "measured",
    "estimated", "mixed", or "none" when nothing could be read (the 0 J is then no figure);
    ``resolution_j`` is the smallest step the counted counters can show; ``warnings`` say
    when a figure is partial or coarse and why.

    ``partial_domains``: figures that miss some energy (a fault, a vanished domain, a read
    that failed): each is the energy that can be vouched for, a lower bound, and a warning
    says what happened. ``unreadable_domains`` (a subset): no energy could be vouched for
    at all (shown as 0, not in the total). ``components`` and ``scopes`` say per domain
    what it covers (``cpu``, ``dram``, ``gpu``, ``platform``...) and whose energy it holds
    (``machine`` or ``process``). ``interrupted``: the window was cut short by a signal.
    Every figure is finite and never negative.
    """

    energy_j: float
    duration_s: float
    domains: Mapping[str, float]
    method: str
    backends: tuple[BackendReport, ...]
    resolution_j: float
    warnings: tuple[str, ...] = ()
    counted_domains: tuple[str, ...] = ()
    started_at: str = ""
    timeline: tuple[TimelinePoint, ...] = ()
    partial_domains: tuple[str, ...] = ()
    unreadable_domains: tuple[str, ...] = ()
    components: Mapping[str, str] = field(default_factory=dict)
    scopes: Mapping[str, str] = field(default_factory=dict)
    interrupted: bool = False

    @property
    def power_w(self) -> float:
        """Average power over the window."""
        return self.energy_j / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def partial(self) -> bool:
        """Whether some figure is only a lower bound (the warnings say why)."""
        return bool(self.partial_domains)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["power_w"] = self.power_w
        return data

    def to_json(self, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)  # never NaN or Infinity in our JSON
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Measurement:
        """The inverse of ``to_dict``; ``UsageError`` (one line) for anything that is not a measurement.

        Figures must be finite and never negative here too: a hostile or damaged JSON file
        cannot smuggle a NaN, an infinity or a negative energy into a ``Measurement``.
        """
        try:
            return cls._from_dict(data)
        except UsageError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            what = f"missing {exc}" if isinstance(exc, KeyError) else one_line(exc)
            raise UsageError(f"not a greenai measurement: {what}") from None

    @classmethod
    def _from_dict(cls, data: Mapping[str, Any]) -> Measurement:
        if not isinstance(data, Mapping):
            raise TypeError(f"expected an object, found {type(data).__name__}")
        return cls(
            energy_j=_figure(data["energy_j"], "energy_j"),
            duration_s=_figure(data["duration_s"], "duration_s"),
            domains=_figures(data["domains"], "domains"),
            method=str(data["method"]),
            backends=tuple(
                BackendReport(**{**b, "domains": tuple(b["domains"]), "counted_domains": tuple(b["counted_domains"]),
                                 "resolution_j": _figure(b["resolution_j"], "resolution_j"),
                                 "update_period_s": _figure(b["update_period_s"], "update_period_s"),
                                 "max_power_w": _figures(b.get("max_power_w", {}), "max_power_w")})
                for b in data["backends"]
            ),
            resolution_j=_figure(data["resolution_j"], "resolution_j"),
            warnings=tuple(str(w) for w in data.get("warnings", ())),
            counted_domains=tuple(data.get("counted_domains", ())),
            started_at=str(data.get("started_at", "")),
            timeline=tuple(TimelinePoint(_figure(p["t_s"], "t_s"), _figures(p["watts"], "watts"),
                                         str(p.get("backend", "")))
                           for p in data.get("timeline", ())),
            partial_domains=tuple(data.get("partial_domains", ())),
            unreadable_domains=tuple(data.get("unreadable_domains", ())),
            components=dict(data.get("components", {})),
            scopes=dict(data.get("scopes", {})),
            interrupted=bool(data.get("interrupted", False)),
        )


def _figure(value: Any, name: str) -> float:
    """A figure read back: a finite, non-negative number (not a bool, not a string)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"not a greenai measurement: {name} is {str(value)[:40]!r}, not a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not (math.isfinite(number) and number >= 0):
        raise UsageError(f"not a greenai measurement: {name} is {number!r} (must be finite and not negative)")
    return number


def _figures(values: Any, name: str) -> dict[str, float]:
    if not isinstance(values, Mapping):
        raise UsageError(f"not a greenai measurement: {name} is not an object of figures")
    return {str(k): _figure(v, f"{name}[{str(k)[:40]!r}]") for k, v in values.items()}
