"""The job's arithmetic on its own (no processes): readings built from measurement dicts, combined on rank 0."""

from __future__ import annotations

import json
from typing import Any

import pytest

from greenai_core import Measurement, UsageError
from greenai_core.distributed import DistributedMeter, RankReading, combine, node_identity, owned_gpus


def _measurement(domains: dict[str, tuple[float, str, str, str]], *, counted: list[str] | None = None,
                 warnings: tuple[str, ...] = (), partial: tuple[str, ...] = ()) -> Measurement:
    """``domains``: key -> (joules, component, scope, method of the backend that read it)."""
    counted = list(domains) if counted is None else counted
    backends: dict[str, list[str]] = {}
    for key, (_, _, _, method) in domains.items():
        backends.setdefault(method, []).append(key)
    data: dict[str, Any] = {
        "energy_j": sum(domains[k][0] for k in counted), "duration_s": 1.0,
        "domains": {k: v[0] for k, v in domains.items()}, "method": "mixed", "resolution_j": 0.0,
        "backends": [{"name": m, "version": "", "method": m, "total_rule": "", "domains": keys,
                      "counted_domains": [k for k in keys if k in counted], "resolution_j": 0.0,
                      "update_period_s": 0.0} for m, keys in backends.items()],
        "counted_domains": counted, "components": {k: v[1] for k, v in domains.items()},
        "scopes": {k: v[2] for k, v in domains.items()}, "warnings": list(warnings), "partial_domains": list(partial),
    }
    return Measurement.from_dict(data)


PKG = (7.0, "cpu", "machine", "measured")


def test_a_process_estimate_is_not_added_where_the_nodes_counter_covers_its_component() -> None:
    reader = RankReading(0, "n0", 0, (), _measurement({"package-0": PKG}))
    estimating = RankReading(1, "n0", 1, (), _measurement({"cpu": (2.0, "cpu", "process", "estimated")}))
    job = combine([estimating, reader], world_size=2)
    assert job.energy_j == 7.0 and job.domains == {"package-0": 7.0}
    assert job.method == "measured"
    assert [r.rank for r in job.ranks] == [0, 1] and job.ranks[1].energy_j == 0.0
    assert any("cpu of rank 1 is not added" in w for w in job.warnings)


def test_an_estimate_on_another_node_still_adds_and_the_method_is_mixed() -> None:
    job = combine([RankReading(0, "n0", 0, (), _measurement({"package-0": PKG})),
                   RankReading(1, "n1", 0, (), _measurement({"cpu": (2.0, "cpu", "process", "estimated")}))],
                  world_size=2)
    assert job.energy_j == 9.0 and job.domains == {"package-0": 7.0, "cpu": 2.0} and job.method == "mixed"
    assert [n.node_id for n in job.nodes] == ["n0", "n1"] and [n.reader for n in job.nodes] == [0, 1]


def test_a_gpu_claimed_twice_counts_once_and_warnings_are_merged_by_text() -> None:
    gpu = {"gpu-0": (3.0, "gpu", "machine", "measured")}
    job = combine([RankReading(r, "n0", r, ("gpu-0",), _measurement(gpu, warnings=("coarse", f"own {r}")))
                   for r in range(3)], world_size=3)
    assert job.energy_j == 3.0 and job.ranks[0].domains == {"gpu-0": 3.0} and job.ranks[1].domains == {}
    assert "node n0: gpu-0 is claimed by ranks 0 and 1; it is counted once, for rank 0" in job.warnings
    assert "ranks 0, 1, 2: coarse" in job.warnings and "rank 2: own 2" in job.warnings


def test_missing_ranks_and_partial_domains_make_a_lower_bound() -> None:
    job = combine([RankReading(0, "n0", 0, (), _measurement({"package-0": PKG}, partial=("package-0",)))],
                  world_size=4, warnings=("rank 3: no reading received (reset)",))
    assert job.missing_ranks == (1, 2, 3) and job.partial and job.partial_domains == ("n0:package-0",)
    assert job.warnings[0] == "rank 3: no reading received (reset)"
    assert "ranks 1, 2, 3 of 4: no reading arrived" in job.warnings[1]
    data = json.loads(job.to_json())
    assert data["partial"] is True and data["ranks"][0]["measurement"]["energy_j"] == 7.0


def test_nothing_read_is_no_figure() -> None:
    assert combine([], world_size=2).method == "none"
    unread = _measurement({"package-0": (0.0, "cpu", "machine", "measured")}, counted=[])
    unread = Measurement.from_dict({**unread.to_dict(), "method": "none"})
    assert combine([RankReading(0, "n0", None, (), unread)], world_size=1).method == "none"


def test_gpu_ownership_from_the_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert owned_gpus(1) == ("gpu-1",) and owned_gpus("cuda:2") == ("gpu-2",) and owned_gpus("gpu-7") == ("gpu-7",)
    assert owned_gpus("cpu") == ()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    assert owned_gpus(1) == ("gpu-5",) and owned_gpus(2) == ()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-1234")
    assert owned_gpus(0) == ()  # a UUID cannot be told apart without NVML: the node counts it, unattributed
    with pytest.raises(UsageError, match="device must be"):
        owned_gpus("tpu:0")


def test_node_identity_and_bad_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENAI_NODE_ID", "rack3-node7")
    assert node_identity() == "rack3-node7" and node_identity("mine") == "mine"
    with pytest.raises(UsageError, match="node_id"):
        node_identity("")
    for bad in (0, -1.0, float("nan"), float("inf"), True):
        with pytest.raises(UsageError, match="timeout_s"):
            DistributedMeter(["estimate"], timeout_s=bad)


def test_a_window_outside_a_distributed_job_is_one_error() -> None:
    with pytest.raises(UsageError, match="torch.distributed is not initialised"):
        DistributedMeter(["estimate"]).start()
