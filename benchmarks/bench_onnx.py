"""What ``Model.predict(array)`` adds to a raw ``InferenceSession.run`` on the same array, batch 1.

Measured on a tiny model, where the added microseconds are the signal, in alternating
blocks in one process (same session, same array), and related to the bundled sample
CNN's own inference time.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from common import Row


def tiny_model(path: Path) -> Path:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((2, 3, 1, 1), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["image", "w"], ["c"]), helper.make_node("GlobalAveragePool", ["c"], ["p"]),
         helper.make_node("Flatten", ["p"], ["y"])], "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save_model(model, str(path))
    return path


def per_call_us(fn, calls: int) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t) / calls * 1e6


def run(repeats: int = 5) -> list[Row]:
    import numpy as np

    from greenai_core import load_model
    from greenai_core.data import sample_model_path

    with tempfile.TemporaryDirectory() as tmp:
        model = load_model(tiny_model(Path(tmp) / "tiny.onnx"), intra_op_num_threads=1)
        session = model.session  # type: ignore[attr-defined]
        x = np.ones((1, 3, 4, 4), np.float32)
        feed, names = {"image": x}, ["y"]
        raw, wrapped = [], []
        for _ in range(10 * repeats):  # alternating blocks: drift hits both alike
            raw.append(per_call_us(lambda: session.run(names, feed), 500))
            wrapped.append(per_call_us(lambda: model.predict(x), 500))
        model.close()
    raw_us, wrapped_us = statistics.median(raw), statistics.median(wrapped)
    added = wrapped_us - raw_us
    sample = load_model(sample_model_path())
    xs = np.ones((1, 3, 64, 64), np.float32)
    sample_ms = statistics.median(per_call_us(lambda: sample.predict(xs), 50) for _ in range(repeats)) / 1e3
    sec = "onnx predict"
    return [
        Row(sec, "raw session.run, tiny model, batch 1", raw_us, "us"),
        Row(sec, "Model.predict(array), same model and array", wrapped_us, "us"),
        Row(sec, "added by predict", added, "us", "<= 50 us", added <= 50),
        Row(sec, "added, as share of a 5 ms inference", added / 50, "%", "<= 1 %", added / 50 <= 1),
        Row(sec, "bundled sample CNN inference, batch 1", sample_ms, "ms", note="5,418 params, 64x64"),
    ]
