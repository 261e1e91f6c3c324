"""What the profiling harness adds per inference over a raw runtime loop, for each installed framework.

The same model and array, in alternating blocks in one process: a raw loop calling the
runtime (``session.run``, a TorchScript module under ``torch.inference_mode``) and
``profile_inference``'s repeat windows (latency per predict call, from its ``latency_s``),
with the estimate backend and the power timeline on, as a real profile runs.
"""

from __future__ import annotations

import importlib.util
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import Row

CALLS = 400
#: Seconds of predict calls per block: a repeat window of the protocol, not a burst.
WINDOW_S = 0.5


def raw_us(fn: Callable[[], Any], calls: int = CALLS) -> float:
    t = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t) / calls * 1e6


def harness_us(model: Any, x: Any, calls: int = CALLS) -> float:
    from greenai_core import profile_inference

    report = profile_inference(model, x, runs=calls, warmup=5, repeats=1, baseline_s=0, backends=["estimate"])
    assert report.stats is not None
    return float(report.stats["latency_s"].mean) * 1e6


def compare(section: str, what: str, raw: Callable[[], Any], model: Any, x: Any, repeats: int) -> list[Row]:
    # Each block is a window of about WINDOW_S, as the protocol's repeats are (2 s by default): the
    # meter's start and stop (a few hundred us) belong to the window, not to each inference.
    calls = max(CALLS, int(WINDOW_S / (raw_us(raw, CALLS) / 1e6)))
    raws, harnessed, pairs = [], [], []
    for i in range(6 * repeats):  # alternating blocks, in alternating order: drift hits both alike
        first, second = (raw_us(raw, calls), harness_us(model, x, calls)) if i % 2 == 0 else reversed(
            (harness_us(model, x, calls), raw_us(raw, calls)))
        raws.append(first)
        harnessed.append(second)
        pairs.append((second - first) / first * 100)
    raw_median, harness_median = statistics.median(raws), statistics.median(harnessed)
    share = statistics.median(pairs)
    return [
        Row(section, f"raw loop, {what}", raw_median, "us", note=f"{calls} calls per block"),
        Row(section, "profile_inference latency per call, same model and array", harness_median, "us"),
        Row(section, "harness overhead per inference", share, "%", "<= 1 %", share <= 1,
            note=f"median of {len(pairs)} paired blocks, single pairs {min(pairs):+.1f} .. {max(pairs):+.1f} %: "
                 "noise on a shared VM can exceed the signal"),
    ]


def onnx_rows(repeats: int) -> list[Row]:
    import numpy as np

    from greenai_core import load_model
    from greenai_core.data import sample_model_path

    model = load_model(sample_model_path())
    session = model.session  # type: ignore[attr-defined]
    x = np.ones((1, 3, 64, 64), np.float32)
    name = session.get_inputs()[0].name
    rows = compare("profile onnx", "session.run, sample CNN batch 1", lambda: session.run(None, {name: x}),
                   model, x, repeats)
    model.close()
    return rows


def torch_rows(repeats: int) -> list[Row]:
    import numpy as np
    import torch

    from greenai_core import load_model

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                              torch.nn.Flatten(), torch.nn.Linear(8, 10)).eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.pt"
        torch.jit.script(net).save(str(path))
        model = load_model(path, image_size=64)
        scripted = model.module  # type: ignore[attr-defined]  # the very module the harness runs: a second
        x = np.ones((1, 3, 64, 64), np.float32)  # load would get its own profiling-executor state and threads

        def raw() -> Any:
            with torch.inference_mode():
                return scripted(torch.from_numpy(x)).numpy()

        rows = compare("profile torch", "TorchScript module, batch 1", raw, model, x, repeats)
        model.close()
    return rows


def run(repeats: int = 5) -> list[Row]:
    rows = onnx_rows(repeats)
    if importlib.util.find_spec("greenai_torch") is not None:
        rows += torch_rows(repeats)
    return rows
