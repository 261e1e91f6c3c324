"""What rank 0 of a distributed window receives is untrusted bytes: bounded, never unpickled, never a crash.

No torch needed: ``decode`` and the reading's checks are what rank 0 applies to each message
(``meter._reading_from``), and ``combine`` is plain arithmetic. The live paths (ranks over gloo)
are in plugins/greenai-torch/tests/test_distributed*.py.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import zlib
from typing import Any

import pytest

from greenai_core import Measurement, UsageError
from greenai_core.distributed import RankReading, combine, meter, transport

GOOD = {"energy_j": 1.0, "duration_s": 1.0, "domains": {"package-0": 1.0}, "method": "measured",
        "resolution_j": 0.0, "backends": [], "counted_domains": ["package-0"], "scopes": {"package-0": "machine"},
        "components": {"package-0": "cpu"}}
READING = {"rank": 1, "node_id": "n0", "local_rank": 1, "gpus": ["gpu-1"], "measurement": GOOD}


def _packed(data: Any) -> bytes:
    return zlib.compress(json.dumps(data).encode())


def test_a_good_payload_is_read_back() -> None:
    reading = meter._reading_from(transport.encode(json.loads(json.dumps(READING))), 1)
    assert (reading.rank, reading.node_id, reading.local_rank, reading.gpus) == (1, "n0", 1, ("gpu-1",))
    assert reading.measurement.domains == {"package-0": 1.0}


@pytest.mark.parametrize(("payload", "why"), [
    (zlib.compress(b"[" * 1_000_000), "nested too deeply"),
    (zlib.compress(b" " * (transport.MAX_READING_BYTES + 1)), "larger than"),  # a zip bomb stops at the bound
    (b"", "cut short"),
    (pickle.dumps(READING), "not compressed JSON"),  # never unpickled
    (zlib.compress(pickle.dumps(READING)), "UnicodeDecodeError"),
    (_packed([1, 2]), "not a reading"),
    (_packed({**READING, "rank": 2}), "bad rank"),  # it claims to be another rank
    (_packed({**READING, "node_id": "x" * 201}), "bad rank, node_id"),
    (_packed({**READING, "gpus": [{"gpu": 1}]}), "bad rank, node_id"),
    (_packed({**READING, "gpus": ["cpu"]}), "bad rank, node_id"),
    (_packed({**READING, "local_rank": True}), "bad rank, node_id"),
    (_packed({**READING, "measurement": {**GOOD, "energy_j": float("nan")}}), "energy_j is nan"),
    (_packed({**READING, "measurement": {**GOOD, "domains": {"package-0": -1.0}}}), "not negative"),
    (_packed({**READING, "measurement": {**GOOD, "scopes": {"ghost": "machine"}}}), "names domains it has no figure"),
    (_packed({**READING, "measurement": {**GOOD, "counted_domains": ["ghost"]}}), "names domains it has no figure"),
    (_packed({**READING, "measurement": {**GOOD, "components": {"package-0": [1]}}}), "not a string"),
    (transport.encode({"rank": 1, "unsent": "a reading of 9000 compressed bytes does not fit"}),
     "could not send it: a read"),  # what a rank sends instead of a reading that does not fit
])
def test_a_hostile_or_broken_payload_is_one_usage_error(payload: bytes, why: str) -> None:
    with pytest.raises(UsageError, match=why) as caught:
        meter._reading_from(payload, 1)
    assert "\n" not in str(caught.value)


def test_a_huge_reading_is_trimmed_to_one_message_and_a_hopeless_one_refused() -> None:
    long = [f"warning {i}: " + "".join(chr(0x4E00 + (i * 7919 + j * 104729) % 20000) for j in range(2000))
            for i in range(60)]
    data = json.loads(json.dumps(READING))
    data["measurement"]["warnings"] = long
    sent = transport.encode(data)
    assert len(sent) <= transport.MESSAGE_BYTES - 16
    warnings = meter._reading_from(sent, 1).measurement.warnings
    assert len(warnings) <= 21 and all(len(w) <= 300 for w in warnings)
    assert f"{61 - len(warnings)} of 60 warnings left out, long ones cut" in warnings[-1]
    ascii_ones = json.loads(json.dumps(READING))
    ascii_ones["measurement"]["warnings"] = [  # ASCII that compresses poorly: hex digests
        f"rapl: package-{i} " + "".join(hashlib.sha256(f"{i}-{j}".encode()).hexdigest() for j in range(20))
        for i in range(60)]
    warnings = meter._reading_from(transport.encode(ascii_ones), 1).measurement.warnings
    assert len(warnings) == 21 and warnings[0].endswith("…") and "40 of 60 warnings left out" in warnings[-1]
    hopeless = json.loads(json.dumps(READING))
    hopeless["measurement"]["domains"] = {f"d{i}-{i * 7919 % 10007}": i * 0.37 for i in range(3000)}
    with pytest.raises(UsageError, match="does not fit one message"):
        transport.encode(hopeless)


def _reading(rank: int, node: str, domains: dict[str, tuple[float, str]]) -> RankReading:
    data = {**GOOD, "domains": {k: v[0] for k, v in domains.items()}, "counted_domains": list(domains),
            "scopes": dict.fromkeys(domains, "machine"), "components": {k: v[1] for k, v in domains.items()},
            "energy_j": sum(v[0] for v in domains.values())}
    return RankReading(rank, node, rank, (), Measurement.from_dict(data))


def test_one_node_id_over_two_machines_is_said_not_hidden() -> None:
    job = combine([_reading(0, "n", {"package-0": (5.0, "cpu")}),
                   _reading(1, "n", {"package-0": (9.0, "cpu"), "package-1": (4.0, "cpu")})], world_size=2)
    assert job.energy_j == 9.0  # the reader's package-0 (5 J) and package-1 (4 J), read by rank 1 only
    assert any("node n: rank 1 read other machine-wide counters than rank 0" in w for w in job.warnings)
    # a rank that sees only its own GPU (CUDA_VISIBLE_DEVICES per rank) is no such sign
    job = combine([_reading(0, "n", {"package-0": (5.0, "cpu"), "gpu-0": (1.0, "gpu")}),
                   _reading(1, "n", {"package-0": (5.0, "cpu"), "gpu-1": (2.0, "gpu")})], world_size=2)
    assert job.energy_j == 8.0 and not any("other machine-wide" in w for w in job.warnings)


@pytest.mark.parametrize(("missing", "partial_domains", "partial"), [((), (), False), ((1,), (), True),
                                                                      ((), ("package-0",), True)])
def test_the_per_global_step_figure_says_when_it_is_a_lower_bound(missing: tuple[int, ...],
                                                                   partial_domains: tuple[str, ...],
                                                                   partial: bool) -> None:
    from greenai_core.distributed.job import JobMeasurement
    from greenai_core.distributed.training import DistributedTrainingProfile

    job = JobMeasurement(energy_j=12.0, duration_s=2.0, method="measured", world_size=2, domains={"package-0": 12.0},
                         nodes=(), ranks=(), missing_ranks=missing, partial_domains=partial_domains)
    profile = DistributedTrainingProfile(report=None, global_steps=6, job=job,  # type: ignore[arg-type]
                                         energy_per_global_step_j=2.0)
    assert profile.partial is partial
    assert DistributedTrainingProfile(None, 6, None, None).partial is False  # type: ignore[arg-type]
