"""``JobMeasurement``: one window's energy for a whole distributed job, per node and per rank.

What each rank's meter saw travels as a ``RankReading``; ``combine`` (``accounting.py``) turns the
readings that arrived into a ``JobMeasurement``. Every figure is finite and never negative.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from greenai_core.energy.measurement import Measurement


@dataclass(frozen=True)
class RankReading:
    """What one rank sends at the end of a window: who it is, where, which GPUs it owns, what it read."""

    rank: int
    node_id: str
    local_rank: int | None
    #: GPU domains (``gpu-N``) this rank computes on: their figures are attributed to it.
    gpus: tuple[str, ...]
    measurement: Measurement


@dataclass(frozen=True)
class RankMeasurement:
    """One rank's share of the job: its process-scope figures and the GPUs it owns, as counted in the total.

    ``measurement`` is the rank's whole window as its own meter saw it (machine-wide counters
    included, which are counted once per node, not here).
    """

    rank: int
    node_id: str
    local_rank: int | None
    gpus: tuple[str, ...]
    energy_j: float
    domains: Mapping[str, float]
    measurement: Measurement

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "node_id": self.node_id, "local_rank": self.local_rank, "gpus": list(self.gpus),
                "energy_j": self.energy_j, "domains": dict(self.domains), "measurement": self.measurement.to_dict()}


@dataclass(frozen=True)
class NodeMeasurement:
    """One node's energy: machine-scope domains once (each from ``sources[key]``), process-scope ones summed.

    ``reader`` is the lowest rank of the node whose reading arrived: it reads the machine-wide
    counters for the node (a GPU's figure comes from the rank that owns it).
    """

    node_id: str
    ranks: tuple[int, ...]
    reader: int
    energy_j: float
    domains: Mapping[str, float]
    counted_domains: tuple[str, ...]
    components: Mapping[str, str]
    scopes: Mapping[str, str]
    #: domain -> the rank whose reading is shown (machine scope); process-scope figures are sums.
    sources: Mapping[str, int]
    partial_domains: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"node_id": self.node_id, "ranks": list(self.ranks), "reader": self.reader, "energy_j": self.energy_j,
                "domains": dict(self.domains), "counted_domains": list(self.counted_domains),
                "components": dict(self.components), "scopes": dict(self.scopes), "sources": dict(self.sources),
                "partial_domains": list(self.partial_domains)}


@dataclass(frozen=True)
class JobMeasurement:
    """The energy of one window of a distributed job, as rank 0 of the group gets it.

    ``energy_j`` sums the nodes (no double counting: a machine-wide counter once per node,
    each GPU once, each rank's process-scope figures once); ``domains`` sums each counted
    domain over the nodes (``sum(domains.values()) == energy_j``). ``missing_ranks`` sent no
    reading in time (dead, hung): the figures then hold the others' energy only, and a
    warning says so. ``method`` is measured, estimated, mixed or none, as for a ``Measurement``.
    """

    energy_j: float
    duration_s: float
    method: str
    world_size: int
    domains: Mapping[str, float]
    nodes: tuple[NodeMeasurement, ...]
    ranks: tuple[RankMeasurement, ...]
    missing_ranks: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()
    started_at: str = ""
    partial_domains: tuple[str, ...] = field(default=())

    @property
    def partial(self) -> bool:
        """Whether the total is a lower bound: a rank missing, or some figure partial (the warnings say why)."""
        return bool(self.missing_ranks or self.partial_domains)

    @property
    def power_w(self) -> float:
        return self.energy_j / self.duration_s if self.duration_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "energy_j": self.energy_j, "duration_s": self.duration_s, "power_w": self.power_w, "method": self.method,
            "world_size": self.world_size, "domains": dict(self.domains), "partial": self.partial,
            "partial_domains": list(self.partial_domains), "missing_ranks": list(self.missing_ranks),
            "warnings": list(self.warnings), "started_at": self.started_at,
            "nodes": [n.to_dict() for n in self.nodes], "ranks": [r.to_dict() for r in self.ranks],
        }

    def to_json(self, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)  # never NaN or Infinity in our JSON
        return json.dumps(self.to_dict(), **kwargs)
