"""``Measurement``: one window's energy, with how it was obtained, its resolution and warnings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


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


@dataclass(frozen=True)
class TimelinePoint:
    """Average power per domain over the poll interval ending ``t_s`` seconds after the start."""

    t_s: float
    watts: Mapping[str, float]


@dataclass(frozen=True)
class Measurement:
    """The energy of one measured window.

    ``energy_j`` is the total without double counting: only ``counted_domains`` add into
    it (each backend's ``total_rule`` says why); ``domains`` lists every domain read.
    ``method`` is "measured", "estimated" or "mixed"; ``resolution_j`` is the smallest
    step the counted counters can show; ``warnings`` say when a figure is partial or coarse.
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

    @property
    def power_w(self) -> float:
        """Average power over the window."""
        return self.energy_j / self.duration_s if self.duration_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["power_w"] = self.power_w
        return data

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Measurement:
        return cls(
            energy_j=float(data["energy_j"]),
            duration_s=float(data["duration_s"]),
            domains=dict(data["domains"]),
            method=str(data["method"]),
            backends=tuple(
                BackendReport(**{**b, "domains": tuple(b["domains"]), "counted_domains": tuple(b["counted_domains"])})
                for b in data["backends"]
            ),
            resolution_j=float(data["resolution_j"]),
            warnings=tuple(data.get("warnings", ())),
            counted_domains=tuple(data.get("counted_domains", ())),
            started_at=str(data.get("started_at", "")),
            timeline=tuple(TimelinePoint(p["t_s"], dict(p["watts"])) for p in data.get("timeline", ())),
        )
