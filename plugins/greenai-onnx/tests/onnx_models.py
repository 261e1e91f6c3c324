"""Tiny ONNX CNNs built with onnx.helper (no torch): Conv -> Relu -> GlobalAveragePool -> Gemm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CLASSES = 5


def weights(seed: int = 0, channels: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "conv_w": rng.normal(size=(4, channels, 3, 3)).astype(np.float32),
        "conv_b": rng.normal(size=(4,)).astype(np.float32),
        "fc_w": rng.normal(size=(CLASSES, 4)).astype(np.float32),
        "fc_b": rng.normal(size=(CLASSES,)).astype(np.float32),
        "shape_hint": np.array([1, -1], dtype=np.int64),  # an integer initializer: not a parameter
    }


def n_float_params(w: dict[str, np.ndarray]) -> int:
    return sum(a.size for a in w.values() if a.dtype.kind == "f")


def tiny_cnn(
    *,
    shape: list[int | str] | None = None,
    layout: str = "NCHW",
    softmax: bool = False,
    channels: int = 3,
    initializers_as_inputs: bool = False,
    seed: int = 0,
    ir_version: int = 8,
) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    w = weights(seed, channels)
    shape = shape or (["N", channels, 8, 8] if layout == "NCHW" else ["N", 8, 8, channels])
    nodes = []
    x = "image"
    if layout == "NHWC":
        nodes.append(helper.make_node("Transpose", [x], ["nchw"], perm=[0, 3, 1, 2]))
        x = "nchw"
    nodes += [
        helper.make_node("Conv", [x, "conv_w", "conv_b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits" if softmax else "scores"], transB=1),
    ]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["logits"], ["scores"], axis=1))
    inits = [numpy_helper.from_array(a, name) for name, a in w.items()]
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, shape)]
    if initializers_as_inputs:  # as exporters of IR < 4 wrote them
        inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in inits]
    graph = helper.make_graph(nodes, "tiny", inputs,
                              [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [shape[0], CLASSES])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="greenai-tests")
    model.ir_version = ir_version
    onnx.checker.check_model(model)
    return model, w


def save(model: onnx.ModelProto, path: Path, **kw: object) -> Path:
    onnx.save_model(model, str(path), **kw)  # type: ignore[arg-type]
    return path
