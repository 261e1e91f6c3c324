"""What a distributed window's end adds over a plain ``Meter.stop``: barrier, stop, readings to rank 0, combine.

Ranks are real processes (torch.multiprocessing, gloo on CPU, the estimate backend); rank 0
times the end of each window: a plain ``Meter.stop()`` and a ``distributed.measure`` exit.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from common import Row

WINDOWS = 40


def _rank(rank: int, world: int, base: str, windows: int) -> None:
    import torch.distributed as dist

    import greenai_core.distributed as distributed
    from greenai_core import Meter

    dist.init_process_group("gloo", init_method=f"file://{base}/store", rank=rank, world_size=world)
    plain, ends = [], []
    for i in range(windows + 5):  # 5 warm-up windows: the gloo groups are created in the first
        meter = Meter(["estimate"]).start()
        t0 = time.perf_counter()
        meter.stop()
        t1 = time.perf_counter()
        window = distributed.measure(["estimate"], timeout_s=30).start()
        dist.barrier()  # the ranks arrive together, as after a DDP step: what is timed is the end itself
        t2 = time.perf_counter()
        window.stop()
        t3 = time.perf_counter()
        if i >= 5:
            plain.append(t1 - t0)
            ends.append(t3 - t2)
    if rank == 0:
        result = {"plain_ms": statistics.median(plain) * 1e3, "end_ms": statistics.median(ends) * 1e3}
        (Path(base) / "result.json").write_text(json.dumps(result))
    dist.destroy_process_group()


def run(repeats: int = 5) -> list[Row]:
    import torch.multiprocessing as mp

    rows = []
    for world in (2, 4):
        with tempfile.TemporaryDirectory() as base:
            mp.start_processes(_rank, args=(world, base, WINDOWS * repeats), nprocs=world, start_method="spawn")
            got = json.loads((Path(base) / "result.json").read_text())
        added = got["end_ms"] - got["plain_ms"]
        ratio = got["end_ms"] / got["plain_ms"] if got["plain_ms"] > 0 else float("inf")
        note = f"plain Meter.stop {got['plain_ms']:.3g} ms; gloo on CPU, estimate backend, one machine"
        rows += [Row("distributed", f"window end, {world} ranks (barrier + stop + gather)", got["end_ms"], "ms",
                     "<= 20 ms", got["end_ms"] <= 20, note),
                 Row("distributed", f"window end, {world} ranks / plain Meter.stop", ratio, "x", "", None,
                     f"adds {added:.3g} ms")]
    return rows
