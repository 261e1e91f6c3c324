"""Ranks of the distributed tests: each runs real torch.distributed (gloo, CPU) and real meters.

Sensors are files, as the kernel's are: a powercap-like tree (``intel-rapl:N/energy_uj`` in
microjoules, shared by the ranks of one simulated node) and GPU counters (``gpu-N`` files in
millijoules, like NVML's). Counters move only when a rank writes them, between two barriers
inside the window, so every figure is exact. greenai-rapl and greenai-nvml are not installed
in this plugin's test session, so the backends reading the files are defined here; where
greenai-nvml is installed (all_plugins), one more window reads the GPU files through its real
backend, with greenai-nvml's fake pynvml in each rank.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import torch.distributed as dist

import greenai_core.distributed as distributed
from greenai_core.sdk import ESTIMATED, GPU, SCOPE_MACHINE, SCOPE_PROCESS, CounterSpec, EnergyBackend, ProbeResult


class FileCounters(EnergyBackend):
    """Counters read from ``<root>/<domain>`` files (a decimal integer each), whole-machine scope."""

    name: ClassVar[str] = "files"
    unit_j = 1e-6
    component = "cpu"

    def __init__(self, root: Path) -> None:
        self.root = root

    def domains(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if not p.name.startswith("."))

    def probe(self) -> ProbeResult:
        return ProbeResult.ok() if self.root.is_dir() else ProbeResult.unavailable(f"no folder {self.root}")

    def counters(self) -> Sequence[CounterSpec]:
        return [CounterSpec(d, self.unit_j, 2**63, resolution_j=self.unit_j, component=self.component,
                            scope=SCOPE_MACHINE, max_power_w=1e6) for d in self.domains()]

    def read(self) -> Mapping[str, int]:
        return {d: int((self.root / d).read_text()) for d in self.domains()}


class GpuFiles(FileCounters):
    name: ClassVar[str] = "gpufiles"
    unit_j = 1e-3  # NVML counts millijoules
    component = GPU


class OwnWork(EnergyBackend):
    """A process-scope estimate whose figure is what this process declares (``OwnWork.joules``)."""

    name: ClassVar[str] = "ownwork"
    method: ClassVar[str] = ESTIMATED
    joules = 0.0

    def probe(self) -> ProbeResult:
        return ProbeResult.ok()

    extra = 0  # that many more domains (named so that they do not compress), each 0 J

    def counters(self) -> Sequence[CounterSpec]:
        return [CounterSpec(d, 1.0, None, component="cpu", scope=SCOPE_PROCESS, max_power_w=1e6)
                for d in ["cpu", *self._extra()]]

    def read(self) -> Mapping[str, float]:
        return {"cpu": OwnWork.joules, **dict.fromkeys(self._extra(), 0.0)}

    def _extra(self) -> list[str]:
        return [f"x{i * 2654435761 % 1000003:07d}" for i in range(OwnWork.extra)]


#: greenai-nvml's fake pynvml (the real module's errors and constants, fake driver calls): where greenai-nvml is
#: installed (the all_plugins session), the GPU path also runs through its real backend, found by name.
NVML_TESTS = Path(__file__).resolve().parents[2] / "greenai-nvml" / "tests"


RAPL_TESTS = NVML_TESTS.parent.parent / "greenai-rapl" / "tests"


def rapl_window(rank: int, base: Path) -> dict[str, Any] | None:
    """greenai-rapl's real backend, found by name, over one powercap tree (greenai-rapl's own test trees)."""
    sys.path.insert(0, str(RAPL_TESTS))
    from powercap_trees import PowercapTree

    tree = PowercapTree(base / "rapl") if rank == 0 else None  # the others read the tree rank 0 made
    os.environ["GREENAI_POWERCAP_ROOT"] = str(base / "rapl" / "sys" / "class" / "powercap")
    if tree is not None:
        for zone, name in (("intel-rapl:0", "package-0"), ("intel-rapl:1", "package-1")):
            tree.add_zone(zone, name, energy_uj=1_000_000, max_power_uw=4_000_000_000)
    dist.barrier()

    def work() -> None:
        if tree is not None:
            tree.advance("intel-rapl:0", 3_000_000)
            tree.advance("intel-rapl:1", 2_000_000)

    return _window(["rapl"], work, node_id="n0")


def install_file_nvml(folder: Path, count: int) -> None:
    """Put a fake ``pynvml`` in ``sys.modules`` whose GPU ``i`` counts the millijoules in ``<folder>/gpu-<i>``."""
    sys.path.insert(0, str(NVML_TESTS))
    from fake_pynvml import FakeGpu, FakeNvml

    class FileNvml(FakeNvml):
        def nvmlDeviceGetTotalEnergyConsumption(self, handle: FakeGpu) -> int:
            super().nvmlDeviceGetTotalEnergyConsumption(handle)  # the fake's checks and call log
            return int((folder / f"gpu-{self.gpus.index(handle)}").read_text())

    boards = [FakeGpu(uuid=f"GPU-{i:08x}-0000-0000-0000-000000000000", enforced_limit_mw=4_000_000,
                      management_limit_mw=4_000_000) for i in range(count)]
    sys.modules["pynvml"] = FileNvml(boards).module


def advance(path: Path, units: int) -> None:
    value = int(path.read_text()) + units
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(f"{value}\n")
    os.replace(tmp, path)  # readers never see a torn value


def make_tree(folder: Path, domains: Sequence[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for d in domains:
        (folder / d).write_text("1000000\n")
    return folder


def _window(backends: list[EnergyBackend], work: Any, **options: Any) -> dict[str, Any] | None:
    with distributed.measure(backends, timeout_s=20, **options) as m:
        dist.barrier()  # every rank's window is open
        work()
        dist.barrier()  # every counter has moved
    assert m.local is not None
    return {"job": m.result.to_dict() if m.result is not None else None, "local": m.local.to_dict(),
            "warnings": m.warnings}


def scenarios(rank: int, world: int, base: Path) -> dict[str, Any]:
    """The windows every test looks at, one job: one node, two nodes, process scope, GPUs, the real estimate."""
    out: dict[str, Any] = {}
    one = make_tree(base / "one", ["intel-rapl:0", "intel-rapl:1"]) if rank == 0 else base / "one"
    half = world // 2
    node = "a" if rank < half else "b"
    trees = {"a": base / "a", "b": base / "b"}
    if rank in (0, half):
        make_tree(trees[node], ["intel-rapl:0"])
    gpus = base / "gpus"
    if rank == 0:
        make_tree(gpus, [f"gpu-{r}" for r in range(world)] + ["gpu-99"])  # gpu-99: owned by no rank
    dist.barrier()

    def one_node() -> None:
        if rank == 0:
            advance(one / "intel-rapl:0", 3_000_000)
            advance(one / "intel-rapl:1", 2_000_000)

    out["one_node"] = _window([FileCounters(one)], one_node, node_id="n0")
    if RAPL_TESTS.is_dir() and importlib.util.find_spec("greenai_rapl") is not None:
        out["rapl"] = rapl_window(rank, base)

    def two_nodes() -> None:
        if rank == 0:
            advance(trees["a"] / "intel-rapl:0", 1_000_000)
        if rank == half:
            advance(trees["b"] / "intel-rapl:0", 2_000_000)

    out["two_nodes"] = _window([FileCounters(trees[node])], two_nodes, node_id=node)

    def own_work() -> None:
        OwnWork.joules += rank + 1

    out["process"] = _window([OwnWork()], own_work, node_id="n0")

    def gpu_work() -> None:
        advance(gpus / f"gpu-{rank}", (rank + 1) * 1000)
        if rank == 0:
            advance(gpus / "gpu-99", 500)

    out["gpus"] = _window([GpuFiles(gpus)], gpu_work, node_id="n0", device=rank)
    if NVML_TESTS.is_dir() and all(importlib.util.find_spec(m) is not None for m in ("greenai_nvml", "pynvml")):
        install_file_nvml(gpus, world)  # this rank's own fake NVML, reading the node's GPU files

        def nvml_work() -> None:
            advance(gpus / f"gpu-{rank}", (rank + 1) * 100)  # 0.1 J per rank number: within any board's power

        out["nvml"] = _window(["nvml"], nvml_work, node_id="n0", device=f"cuda:{rank}")

    def burn() -> None:
        end = time.process_time() + 0.02
        while time.process_time() < end:
            pass

    out["estimate"] = _window(["estimate"], burn, node_id="n0")
    # the last rank's reading cannot fit one message: it says why instead, and rank 0 names it at once
    OwnWork.extra = 3000 if rank == world - 1 else 0
    out["too_big"] = _window([OwnWork()], own_work, node_id="n0")
    return out


def fault(rank: int, world: int, base: Path) -> dict[str, Any]:
    """Three windows (4 ranks): the last rank exits inside the first, the survivors go on in the second,
    and in the third rank ``world - 2`` stalls past the timeout. No window may wait for ever."""
    tree = make_tree(base / "tree", ["intel-rapl:0"]) if rank == 0 else base / "tree"
    dist.barrier()
    out: dict[str, Any] = {}
    with distributed.measure([FileCounters(tree)], timeout_s=3, node_id="n0") as m:
        dist.barrier()
        if rank == 0:
            advance(tree / "intel-rapl:0", 4_000_000)
        if rank == world - 1:
            sys.stdout.flush()
            os._exit(0)  # dies mid-window: no barrier, no reading
    out["died"] = {"job": m.result.to_dict() if m.result is not None else None, "warnings": m.warnings}
    # the job's default group lost a rank too: no more dist.barrier() from here on
    with distributed.measure([FileCounters(tree)], timeout_s=3, node_id="n0") as m:
        if rank == 0:
            advance(tree / "intel-rapl:0", 1_000_000)
    out["after"] = {"job": m.result.to_dict() if m.result is not None else None, "warnings": m.warnings}
    with distributed.measure([FileCounters(tree)], timeout_s=3, node_id="n0") as m:
        if rank == 0:
            advance(tree / "intel-rapl:0", 2_000_000)
        if rank == world - 2:
            time.sleep(6)  # rank 0 gives up at its deadline, 3 s after its own stop
    out["hung"] = {"job": m.result.to_dict() if m.result is not None else None, "warnings": m.warnings}
    return out


def scenarios_then_fault(rank: int, world: int, base: Path) -> dict[str, Any]:
    """One world for both (spawning ranks is the slow part): every scenario, its results written, then the faults."""
    (base / f"scenarios-{rank}.json").write_text(json.dumps(scenarios(rank, world, base)))
    return fault(rank, world, base)


SCENARIOS = {"scenarios": scenarios, "fault": fault, "scenarios_then_fault": scenarios_then_fault}


def run_rank(rank: int, world: int, base: str, scenario: str) -> None:
    """``torch.multiprocessing.spawn`` target: one rank; results go to ``<base>/<scenario>-<rank>.json``."""
    os.environ.setdefault("GREENAI_CPU_WATTS", "10")
    # a bounded default group too: a rank failing in a test must fail the test, not hang it for 30 minutes
    dist.init_process_group("gloo", init_method=f"file://{base}/store", rank=rank, world_size=world,
                            timeout=timedelta(seconds=60))
    try:
        result = SCENARIOS[scenario](rank, world, Path(base))
        (Path(base) / f"{scenario}-{rank}.json").write_text(json.dumps(result))
    finally:
        if scenario == "scenarios":  # a group that lost a rank cannot be torn down collectively
            dist.destroy_process_group()
