"""Distributed jobs: real ranks (gloo on CPU), real meters, file counters moved exactly; torchrun and DDP.

Two launches serve every test (starting ranks is the slow part): ``greenai measure -- torchrun``
with 2 ranks (``torchrun_worker``: every window of ``distributed_worker.scenarios``, then DDP
training through ``distributed.profile_training``), and 4 ranks spawned by torch.multiprocessing
(the scenarios, then the faults, which end that world). The tests read what rank 0 got. Figures
are exact: counters move only between two barriers inside a window.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch.multiprocessing as mp
from distributed_worker import run_rank

TESTS = Path(__file__).parent
WORKER = TESTS / "torchrun_worker.py"


def _run(base: Path, world: int, scenario: str) -> Path:
    mp.start_processes(run_rank, args=(world, str(base), scenario), nprocs=world, start_method="spawn", join=True)
    return base


def _read(base: Path, world: int, scenario: str) -> list[dict[str, Any] | None]:
    files = [base / f"{scenario}-{r}.json" for r in range(world)]
    return [json.loads(f.read_text()) if f.exists() else None for f in files]


@pytest.fixture(scope="module")
def four_ranks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One world of 4 ranks runs the scenarios, then the faults (which end it): spawning ranks is the slow part."""
    return _run(tmp_path_factory.mktemp("job4"), 4, "scenarios_then_fault")


@pytest.fixture(scope="module")
def launched(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], list[dict[str, Any]]]:
    """``greenai measure -- torchrun`` with 2 ranks: the scenarios' windows, then DDP training (torchrun_worker)."""
    out = tmp_path_factory.mktemp("torchrun")
    report = out / "measure.json"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(WORKER),
                str(out)]
    # 1 W per CPU: the estimate's joules are the process tree's CPU seconds
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1", "GREENAI_CPU_WATTS": "1"}
    done = subprocess.run([sys.executable, "-m", "greenai_core", "measure", "--backend", "estimate", "--json",
                           str(report), "--", *torchrun], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, json.loads(report.read_text()), [json.loads((out / f"rank-{r}.json").read_text()) for r in range(2)]


@pytest.fixture(scope="module", params=[2, 4], ids=["2-ranks-torchrun", "4-ranks-spawned"])
def job(request: pytest.FixtureRequest) -> tuple[int, list[Any]]:
    """Every scenario's results: 2 ranks launched by torchrun, 4 by torch.multiprocessing."""
    world = request.param
    base = request.getfixturevalue("four_ranks") if world == 4 else request.getfixturevalue("launched")[0]
    return world, _read(base, world, "scenarios")


def _rank0(job: tuple[int, list[Any]], window: str) -> dict[str, Any]:
    _, results = job
    found = results[0][window]["job"]
    assert found is not None
    assert all(r[window]["job"] is None for r in results[1:])  # only rank 0 gets the job's figure
    return dict(found)


def _finite(value: Any) -> None:
    if isinstance(value, float):
        assert math.isfinite(value) and value >= 0
    elif isinstance(value, dict):
        for v in value.values():
            _finite(v)
    elif isinstance(value, list):
        for v in value:
            _finite(v)


def test_one_node_counts_the_shared_tree_once_not_once_per_rank(job: tuple[int, list[Any]]) -> None:
    world, results = job
    got = _rank0(job, "one_node")
    assert got["energy_j"] == pytest.approx(5.0, abs=1e-9)
    assert got["domains"] == pytest.approx({"intel-rapl:0": 3.0, "intel-rapl:1": 2.0}, abs=1e-9)
    for r in results:  # every rank saw the whole machine's 5 J: summing the ranks would say 5 J x world
        assert r["one_node"]["local"]["energy_j"] == pytest.approx(5.0, abs=1e-9)
    [node] = got["nodes"]
    assert node["node_id"] == "n0" and node["ranks"] == list(range(world)) and node["reader"] == 0
    assert node["sources"] == {"intel-rapl:0": 0, "intel-rapl:1": 0}
    assert [r["energy_j"] for r in got["ranks"]] == [0.0] * world  # machine figures belong to the node
    assert got["method"] == "measured" and got["missing_ranks"] == [] and got["partial"] is False
    assert got["world_size"] == world
    _finite(got)


def test_the_rapl_plugin_over_one_shared_powercap_tree_counts_it_once(job: tuple[int, list[Any]]) -> None:
    """The same through greenai-rapl's own backend, found by name, over a realistic powercap tree."""
    pytest.importorskip("greenai_rapl", reason="greenai-rapl is not installed in this session (all_plugins runs "
                                               "this; the file counters above check the same accounting everywhere)")
    world, results = job
    got = _rank0(job, "rapl")
    assert got["energy_j"] == pytest.approx(5.0, abs=1e-9) and got["method"] == "measured"
    assert got["domains"] == pytest.approx({"package-0": 3.0, "package-1": 2.0}, abs=1e-9)
    assert got["nodes"][0]["sources"] == {"package-0": 0, "package-1": 0}
    assert [r["rapl"]["local"]["backends"][0]["name"] for r in results] == ["rapl"] * world
    for r in results:
        assert r["rapl"]["local"]["energy_j"] == pytest.approx(5.0, abs=1e-9)


def test_two_nodes_sum_both_trees(job: tuple[int, list[Any]]) -> None:
    world, _ = job
    got = _rank0(job, "two_nodes")
    assert got["energy_j"] == pytest.approx(3.0, abs=1e-9)
    assert got["domains"] == pytest.approx({"intel-rapl:0": 3.0}, abs=1e-9)
    a, b = got["nodes"]
    half = world // 2
    assert (a["node_id"], a["ranks"], a["reader"], a["energy_j"]) == ("a", list(range(half)), 0, pytest.approx(1.0))
    assert (b["node_id"], b["ranks"], b["reader"], b["energy_j"]) == ("b", list(range(half, world)), half,
                                                                      pytest.approx(2.0))


def test_process_scope_figures_add_up_over_ranks(job: tuple[int, list[Any]]) -> None:
    world, _ = job
    got = _rank0(job, "process")
    assert got["energy_j"] == pytest.approx(sum(range(1, world + 1)), abs=1e-9)
    assert [r["energy_j"] for r in got["ranks"]] == pytest.approx([r + 1 for r in range(world)], abs=1e-9)
    assert [r["domains"] for r in got["ranks"]] == [{"cpu": pytest.approx(r + 1)} for r in range(world)]
    assert got["method"] == "estimated"


def test_each_gpu_counts_once_for_the_rank_that_owns_it(job: tuple[int, list[Any]]) -> None:
    world, results = job
    got = _rank0(job, "gpus")
    owned = sum(r + 1 for r in range(world))
    assert got["energy_j"] == pytest.approx(owned + 0.5, abs=1e-9)  # gpu-99 is the node's, counted once
    for r in got["ranks"]:
        assert r["gpus"] == [f"gpu-{r['rank']}"]
        assert r["domains"] == {f"gpu-{r['rank']}": pytest.approx(r["rank"] + 1)}
    [node] = got["nodes"]
    assert node["sources"] == {**{f"gpu-{r}": r for r in range(world)}, "gpu-99": 0}
    for r in results:  # each rank read every GPU of its node
        assert r["gpus"]["local"]["energy_j"] == pytest.approx(owned + 0.5, abs=1e-9)


def test_the_nvml_plugin_with_a_fake_driver_per_rank_counts_each_gpu_once(job: tuple[int, list[Any]]) -> None:
    """The GPU path through greenai-nvml's own backend (each rank its own fake pynvml over the node's GPU files)."""
    pytest.importorskip("greenai_nvml", reason="greenai-nvml is not installed in this session (all_plugins runs this; "
                                               "the GPU accounting itself is checked by the test above everywhere)")
    world, results = job
    got = _rank0(job, "nvml")
    owned = sum(0.1 * (r + 1) for r in range(world))
    assert got["energy_j"] == pytest.approx(owned, abs=1e-9) and got["method"] == "measured"
    assert got["domains"] == pytest.approx({f"gpu-{r}": 0.1 * (r + 1) for r in range(world)}, abs=1e-9)
    for r in got["ranks"]:
        assert r["gpus"] == [f"gpu-{r['rank']}"] and r["domains"] == {f"gpu-{r['rank']}": pytest.approx(
            0.1 * (r["rank"] + 1), abs=1e-9)}
    [node] = got["nodes"]
    assert node["sources"] == {f"gpu-{r}": r for r in range(world)}
    assert [r["nvml"]["local"]["backends"][0]["name"] for r in results] == ["nvml"] * world
    for r in results:  # each rank's own NVML saw every GPU of the node move
        assert r["nvml"]["local"]["energy_j"] == pytest.approx(owned, abs=1e-9)


def test_the_real_estimate_sums_each_ranks_own_cpu_time(job: tuple[int, list[Any]]) -> None:
    world, results = job
    got = _rank0(job, "estimate")
    per_rank = [r["estimate"]["local"]["energy_j"] for r in results]
    assert all(e > 0 for e in per_rank)
    assert got["energy_j"] == pytest.approx(sum(per_rank), rel=1e-12)
    assert [r["energy_j"] for r in got["ranks"]] == pytest.approx(per_rank, rel=1e-12)
    assert got["method"] == "estimated"


def test_a_reading_too_big_for_one_message_is_named_at_once(job: tuple[int, list[Any]]) -> None:
    world, results = job
    got = _rank0(job, "too_big")
    last = world - 1
    assert got["missing_ranks"] == [last] and got["partial"] is True
    assert got["energy_j"] == pytest.approx(sum(range(1, world)), abs=1e-9)  # the others' own work
    assert any(w.startswith(f"rank {last}: its reading is unusable (the rank could not send it: a reading of ")
               for w in got["warnings"])
    mine = results[last]["too_big"]["warnings"]
    assert any(w.startswith(f"rank {last}: reading not sent (a reading of ") for w in mine)


@pytest.fixture(scope="module")
def faults(four_ranks: Path) -> list[Any]:
    return _read(four_ranks, 4, "scenarios_then_fault")


def test_a_rank_that_dies_mid_window_leaves_the_survivors_figures(faults: list[Any]) -> None:
    assert faults[3] is None  # it died before writing anything
    got = faults[0]["died"]["job"]
    assert got["missing_ranks"] == [3] and got["partial"] is True
    assert [r["rank"] for r in got["ranks"]] == [0, 1, 2]
    assert got["energy_j"] == pytest.approx(4.0, abs=1e-9)  # the node's counter, read once by rank 0
    assert any("rank 3 of 4: no reading arrived" in w for w in got["warnings"])
    assert any(w.startswith("rank 3: no reading received") for w in faults[0]["died"]["warnings"])
    assert faults[1]["died"]["job"] is None


def test_the_survivors_go_on_without_the_dead_rank(faults: list[Any]) -> None:
    got = faults[0]["after"]["job"]
    assert got["missing_ranks"] == [3] and [r["rank"] for r in got["ranks"]] == [0, 1, 2]
    assert got["energy_j"] == pytest.approx(1.0, abs=1e-9)
    assert any("not aligned" in w for w in got["warnings"])  # no barrier any more: said, not hidden


def test_a_rank_that_hangs_past_the_timeout_is_not_waited_for(faults: list[Any]) -> None:
    got = faults[0]["hung"]["job"]
    assert got["missing_ranks"] == [2, 3] and [r["rank"] for r in got["ranks"]] == [0, 1]
    assert got["energy_j"] == pytest.approx(2.0, abs=1e-9)
    assert any(w.startswith("rank 2: no reading received") for w in got["warnings"])
    assert faults[2]["hung"]["job"] is None  # the late rank finished its window too, without hanging


def test_greenai_measure_counts_the_ranks_that_torchrun_starts(launched: Any) -> None:
    _, launcher, ranks = launched
    ranks_cpu_s = sum(r["cpu_s"] for r in ranks)
    assert ranks_cpu_s > 0.6  # each burned 0.3 s on top of starting and training
    assert launcher["exit_code"] == 0 and launcher["method"] == "estimated"
    # the launcher's figure holds both ranks' whole lives (torchrun waits for them), torchrun's own on top
    assert launcher["energy_j"] >= ranks_cpu_s
    job = ranks[0]["profile"]["job"]
    assert [r["local_rank"] for r in job["ranks"]] == [0, 1]
    assert 0 < job["energy_j"] <= launcher["energy_j"]  # the training window, within the whole run


def test_ddp_training_reports_energy_per_global_step_on_rank_0(launched: Any) -> None:
    zero, one = (r["profile"] for r in launched[2])
    assert zero["global_steps"] == one["global_steps"] == 6  # 12 samples per rank, batches of 4, 2 epochs
    job = zero["job"]
    assert zero["energy_per_global_step_j"] == pytest.approx(job["energy_j"] / 6, rel=1e-12)
    assert job["energy_j"] > 0 and job["method"] == "estimated"
    # the estimate is per process: the job's figure sums both ranks' own windows
    assert job["energy_j"] == pytest.approx(sum(r["measurement"]["energy_j"] for r in job["ranks"]), rel=1e-12)
    assert one["job"] is None and one["energy_per_global_step_j"] is None
    assert zero["partial"] is (bool(job["missing_ranks"]) or bool(job["partial_domains"])) and one["partial"] is False
    assert zero["report"]["steps"]["count"] == 6 and zero["report"]["baseline"] is None


def test_ddp_kept_the_ranks_in_step(launched: Any) -> None:
    """Different data per rank, yet equal weights after training: gradients were averaged (real DDP)."""
    weights = [r["weights"] for r in launched[2]]
    assert weights[0] == weights[1]
