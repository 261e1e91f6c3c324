"""From the ranks' readings of one window to one ``JobMeasurement``: the rules, in one place.

Per node (ranks grouped by node id):

* a machine-scope domain (a RAPL package, a GPU) sees everything on the node, so every rank
  on it reads the same energy: it counts once, from the lowest rank of the node that counted
  it (the node's *reader*), except a GPU, which counts from the rank that owns it (its CUDA
  device) and is attributed to that rank;
* a process-scope domain (the CPU-time estimate) holds only its rank's own process tree, so
  the ranks' figures add up; where the node's machine counters already cover that component
  (a RAPL package, a platform meter) they are not added again, and a warning says so.

Nodes add up to the job. A rank whose reading did not arrive is missing: what it used is not
in any process-scope figure (machine counters still saw it while the reader's window was open).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from greenai_core.distributed.job import JobMeasurement, NodeMeasurement, RankMeasurement, RankReading
from greenai_core.energy.backend import GPU, MIXED, NO_READING, PLATFORM, SCOPE_PROCESS
from greenai_core.energy.compose import clean


def _methods(reading: RankReading) -> dict[str, str]:
    """Each domain key's method, from the backend that read it."""
    return {key: b.method for b in reading.measurement.backends for key in b.domains}


def _ranks_text(ranks: Iterable[int]) -> str:
    ranks = sorted(ranks)
    return f"rank {ranks[0]}" if len(ranks) == 1 else "ranks " + ", ".join(map(str, ranks))


def _merged_warnings(readings: Sequence[RankReading]) -> list[str]:
    """Each rank's warnings once per text, saying which ranks had it (in order of first appearance)."""
    by_text: dict[str, list[int]] = {}
    for r in readings:
        for text in r.measurement.warnings:
            ranks = by_text.setdefault(text, [])
            if r.rank not in ranks:
                ranks.append(r.rank)
    return [f"{_ranks_text(ranks)}: {text}" for text, ranks in by_text.items()]


class _Node:
    """One node's figures while they are worked out."""

    def __init__(self, node_id: str, readings: list[RankReading]) -> None:
        self.node_id = node_id
        self.readings = readings
        self.domains: dict[str, float] = {}
        self.counted: list[str] = []
        self.components: dict[str, str] = {}
        self.scopes: dict[str, str] = {}
        self.sources: dict[str, int] = {}
        self.partial: list[str] = []
        self.methods: set[str] = set()
        self.warnings: list[str] = []
        self.attributed: dict[int, dict[str, float]] = {r.rank: {} for r in readings}

    def gpu_owners(self) -> dict[str, int]:
        owners: dict[str, int] = {}
        for r in self.readings:
            for gpu in r.gpus:
                if gpu in owners:
                    self.warnings.append(f"node {self.node_id}: {gpu} is claimed by ranks {owners[gpu]} and "
                                         f"{r.rank}; it is counted once, for rank {owners[gpu]}")
                    continue
                owners[gpu] = r.rank
        return owners

    def add_machine_domains(self) -> None:
        owners = self.gpu_owners()
        keys = sorted({k for r in self.readings for k, s in r.measurement.scopes.items() if s != SCOPE_PROCESS})
        self.check_same_machine(keys)
        for key in keys:
            having = [r for r in self.readings if key in r.measurement.domains]
            if not having:  # a scope without a figure: nothing to count (peers' readings are checked before)
                continue
            counting = [r for r in having if key in r.measurement.counted_domains]
            owner = owners.get(key)
            source = next((r for r in counting if r.rank == owner), counting[0] if counting else having[0])
            m = source.measurement
            self.domains[key] = clean(m.domains[key])
            self.components[key], self.scopes[key] = m.components.get(key, ""), m.scopes[key]
            self.sources[key] = source.rank
            if key in m.partial_domains:
                self.partial.append(key)
            if key in m.counted_domains:
                self.counted.append(key)
                self.methods.add(_methods(source).get(key, ""))
                if source.rank == owner and m.components.get(key) == GPU:
                    self.attributed[source.rank][key] = self.domains[key]

    def check_same_machine(self, keys: list[str]) -> None:
        """Warn when the ranks of one node id read different machine-wide counters (GPUs aside: a rank may see
        only its own): two machines given the same node id would count one machine's counters for both."""
        seen = {r.rank: frozenset(k for k in keys if k in r.measurement.domains
                                  and r.measurement.components.get(k) != GPU) for r in self.readings}
        if len(set(seen.values())) > 1:
            first = self.readings[0].rank
            odd = [rank for rank, found in seen.items() if found != seen[first]]
            self.warnings.append(f"node {self.node_id}: {_ranks_text(odd)} read other machine-wide counters than "
                                 f"rank {first}; if they run on another machine, give each machine its own node id "
                                 "(only the reader's counters are counted)")

    def add_process_domains(self) -> None:
        covered = {self.components[k] for k in self.counted}
        for r in self.readings:
            m = r.measurement
            methods = _methods(r)
            for key, value in m.domains.items():
                if m.scopes.get(key) != SCOPE_PROCESS:
                    continue
                self.components.setdefault(key, m.components.get(key, ""))
                self.scopes[key] = SCOPE_PROCESS
                if key in m.partial_domains and key not in self.partial:
                    self.partial.append(key)
                if key not in m.counted_domains:
                    self.domains.setdefault(key, 0.0)
                    continue
                component = m.components.get(key, "")
                if PLATFORM in covered or component in covered:
                    self.domains.setdefault(key, 0.0)
                    note = (f"node {self.node_id}: {key} of {_ranks_text([r.rank])} is not added (the node's "
                            f"machine-wide counters already cover {component or 'it'})")
                    self.warnings.append(note)
                    continue
                self.domains[key] = self.domains.get(key, 0.0) + clean(value)
                if key not in self.counted:
                    self.counted.append(key)
                self.methods.add(methods.get(key, ""))
                self.attributed[r.rank][key] = clean(value)

    def result(self) -> NodeMeasurement:
        ranks = tuple(r.rank for r in self.readings)
        return NodeMeasurement(
            node_id=self.node_id, ranks=ranks, reader=ranks[0],
            energy_j=clean(sum(self.domains[k] for k in self.counted)),
            domains={k: clean(v) for k, v in self.domains.items()}, counted_domains=tuple(self.counted),
            components=self.components, scopes=self.scopes, sources=self.sources,
            partial_domains=tuple(self.partial),
        )


def combine(readings: Sequence[RankReading], *, world_size: int, warnings: Sequence[str] = ()) -> JobMeasurement:
    """The job's measurement from the readings that arrived (any order); ``warnings`` are the gather's own."""
    readings = sorted(readings, key=lambda r: r.rank)
    job_warnings = list(warnings)
    missing = tuple(sorted(set(range(world_size)) - {r.rank for r in readings}))
    if missing:
        job_warnings.append(f"{_ranks_text(missing)} of {world_size}: no reading arrived (the rank died, hung or "
                            "failed to send); the figures hold the other ranks' energy only, a lower bound")
    by_node: dict[str, list[RankReading]] = {}
    for r in readings:
        by_node.setdefault(r.node_id, []).append(r)
    nodes: list[NodeMeasurement] = []
    ranks: list[RankMeasurement] = []
    methods: set[str] = set()
    domains: dict[str, float] = {}
    partial: list[str] = []
    for node_id in sorted(by_node, key=lambda n: by_node[n][0].rank):
        node = _Node(node_id, by_node[node_id])
        node.add_machine_domains()
        node.add_process_domains()
        result = node.result()
        nodes.append(result)
        methods |= node.methods
        job_warnings += node.warnings
        partial += [f"{node_id}:{k}" for k in result.partial_domains]
        for key in result.counted_domains:
            domains[key] = domains.get(key, 0.0) + result.domains[key]
        for r in node.readings:
            own = node.attributed[r.rank]
            ranks.append(RankMeasurement(rank=r.rank, node_id=node_id, local_rank=r.local_rank, gpus=r.gpus,
                                         energy_j=clean(sum(own.values())), domains=own, measurement=r.measurement))
    methods.discard("")
    if not methods:  # nothing counted: say what was asked for, or that nothing could be read
        asked = {r.measurement.method for r in readings}
        methods = {NO_READING} if not readings or NO_READING in asked else asked
    return JobMeasurement(
        energy_j=clean(sum(n.energy_j for n in nodes)),
        duration_s=clean(max((r.measurement.duration_s for r in readings), default=0.0)),
        method=methods.pop() if len(methods) == 1 else MIXED,
        world_size=world_size,
        domains={k: clean(v) for k, v in domains.items()},
        nodes=tuple(nodes),
        ranks=tuple(sorted(ranks, key=lambda r: r.rank)),
        missing_ranks=missing,
        warnings=tuple(job_warnings + _merged_warnings(readings)),
        started_at=min((r.measurement.started_at for r in readings if r.measurement.started_at), default=""),
        partial_domains=tuple(partial),
    )
