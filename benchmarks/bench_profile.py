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


def raw_us(fn: Callable[[], Any], calls: int = CALLS) -> float:
    t = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t) / calls * 1e6


def harness_us(model: Any, x: Any) -> float:
    from greenai_core import profile_inference

    report = profile_inference(model, x, runs=CALLS, warmup=5, repeats=1, baseline_s=0, backends=["estimate"])
    assert report.stats is not None
    return float(report.stats["latency_s"].mean) * 1e6


def compare(section: str, what: str, raw: Callable[[], Any], model: Any, x: Any, repeats: int) -> list[Row]:
    raws, harnessed = [], []
    for _ in range(3 * repeats):  # alternating blocks: drift hits both alike
        raws.append(raw_us(raw))
        harnessed.append(harness_us(model, x))
    raw_median, harness_median = statistics.median(raws), statistics.median(harnessed)
    share = (harness_median - raw_median) / raw_median * 100
    return [
        Row(section, f"raw loop, {what}", raw_median, "us"),
        Row(section, "profile_inference latency per call, same model and array", harness_median, "us"),
        Row(section, "harness overhead per inference", share, "%", "<= 1 %", share <= 1,
            note="medians of alternating blocks; noise on a shared VM can exceed the signal"),
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
        scripted = torch.jit.load(str(path)).eval()
        x = np.ones((1, 3, 64, 64), np.float32)

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
