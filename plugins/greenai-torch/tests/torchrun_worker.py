"""A script torchrun launches (``torchrun --nproc_per_node N torchrun_worker.py OUT``): env:// rendezvous, gloo.

Each rank first runs the windows of the gloo tests (``distributed_worker.scenarios``), then
trains a tiny CNN wrapped in DistributedDataParallel on its own share of the data through
``distributed.profile_training``, burns some CPU, and writes (``rank-R.json``) its
profile, its weights after training and the CPU time its process used in all, so the test can
compare the launcher's figure (``greenai measure -- torchrun ...``) with the ranks'.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from distributed_worker import scenarios
from tiny_nets import TinyNet

import greenai_core.distributed as distributed
from greenai_core import load_model


def ddp(rank: int, out: Path) -> None:
    torch.manual_seed(0)
    weights = out / "weights.pth"
    if rank == 0:
        torch.save(TinyNet().state_dict(), weights)
    dist.barrier()
    rng = np.random.default_rng(rank)  # each rank its own share of the data
    images = rng.random((12, 3, 16, 16), dtype=np.float32)
    labels = rng.integers(0, 2, 12)
    with load_model(weights, model_class=TinyNet) as model:
        model.module = torch.nn.parallel.DistributedDataParallel(model.module)  # type: ignore[attr-defined]
        profile = distributed.profile_training(model, (images, labels), epochs=2, batch_size=4, lr=0.01,
                                               backends=["estimate"], timeout_s=30)
        first = next(model.module.parameters()).detach().flatten()[:4].tolist()  # type: ignore[attr-defined]
    end = time.process_time() + 0.3
    while time.process_time() < end:  # CPU time the launcher's figure must hold
        pass
    data = {"profile": profile.to_dict(), "weights": first, "cpu_s": time.process_time()}
    (out / f"rank-{rank}.json").write_text(json.dumps(data))


def main() -> None:
    out = Path(sys.argv[1])
    dist.init_process_group("gloo", timeout=timedelta(seconds=60))  # bounded: a failing rank fails the test
    rank = dist.get_rank()
    try:
        # the windows of the gloo tests first (one launch serves both: starting ranks is the slow part)
        (out / f"scenarios-{rank}.json").write_text(json.dumps(scenarios(rank, dist.get_world_size(), out)))
        ddp(rank, out)
    finally:
        dist.destroy_process_group()
    assert os.environ["LOCAL_RANK"] == str(rank)  # one node: torchrun's local rank is the rank


if __name__ == "__main__":
    main()
