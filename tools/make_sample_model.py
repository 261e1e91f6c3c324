"""Regenerate greenai_core/data/sample_cnn.onnx and sample.png (deterministic; needs onnx, numpy, pillow).

The sample is a small CNN with fixed random weights: a model to measure, not to trust.
    python tools/make_sample_model.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

DATA = Path(__file__).resolve().parent.parent / "greenai_core" / "data"


def main() -> None:
    rng = np.random.default_rng(2026)

    def w(*shape: int) -> np.ndarray:
        return (rng.normal(size=shape) * np.sqrt(2 / np.prod(shape[1:]))).astype(np.float32)

    inits = {"c1_w": w(16, 3, 3, 3), "c1_b": np.zeros(16, np.float32), "c2_w": w(32, 16, 3, 3),
             "c2_b": np.zeros(32, np.float32), "fc_w": w(10, 32), "fc_b": np.zeros(10, np.float32)}
    nodes = [
        helper.make_node("Conv", ["image", "c1_w", "c1_b"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "c2_w", "c2_b"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "greenai-sample-cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 64, 64])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10])],
        [numpy_helper.from_array(a, n) for n, a in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="greenai")
    model.ir_version = 8
    onnx.checker.check_model(model)
    DATA.mkdir(exist_ok=True)
    onnx.save_model(model, str(DATA / "sample_cnn.onnx"))
    y, x = np.mgrid[0:48, 0:64]
    pixels = np.stack([x * 4, y * 5, (x + y) * 2], axis=-1).clip(0, 255).astype(np.uint8)
    Image.fromarray(pixels, "RGB").save(DATA / "sample.png")


if __name__ == "__main__":
    main()
