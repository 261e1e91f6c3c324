"""Reference architectures for ``greenai grade --calibrate``: a tiny CNN family, generated with onnx.helper.

One architecture at several widths ``w`` (random weights, seed 0, nothing downloaded), on a
3 x 32 x 32 image (NCHW, dynamic batch)::

    Conv 3->w 3x3 pad 1, Relu, MaxPool 2x2 -> Conv w->2w 3x3 pad 1, Relu
    -> GlobalAveragePool, Flatten -> Gemm 2w->10

Parameters: conv1 27w + w, conv2 18w^2 + 2w, gemm 20w + 10, so ``18 w^2 + 50 w + 10``; the widths
span ~1 k to ~1 M parameters. Numpy and onnx are imported only when a model is built.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

#: The family's widths: 958 ... 1,014,338 parameters, each step about 4x the compute of the last.
WIDTHS = (6, 12, 24, 48, 96, 160, 236)
IMAGE_SIZE = 32
CHANNELS = 3
CLASSES = 10
FAMILY = "onnx-cnn"


def cnn_parameters(width: int) -> int:
    """The exact parameter count of the width-``width`` reference CNN."""
    return 18 * width * width + 50 * width + 10


def reference_name(width: int) -> str:
    return f"{FAMILY}-w{width}"


def build_cnn(width: int, folder: Path) -> Path:
    """Write the width-``width`` reference CNN into ``folder`` (``onnx-cnn-w<width>.onnx``); its path."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)

    def weight(*shape: int) -> Any:
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)

    arrays = {
        "conv1_w": weight(width, CHANNELS, 3, 3), "conv1_b": np.zeros(width, np.float32),
        "conv2_w": weight(2 * width, width, 3, 3), "conv2_b": np.zeros(2 * width, np.float32),
        "fc_w": weight(CLASSES, 2 * width), "fc_b": np.zeros(CLASSES, np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["image", "conv1_w", "conv1_b"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "conv2_w", "conv2_b"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["scores"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, reference_name(width),
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", CHANNELS, IMAGE_SIZE, IMAGE_SIZE])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", CLASSES])],
        [numpy_helper.from_array(a, name) for name, a in arrays.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="greenai-onnx")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = Path(folder) / f"{reference_name(width)}.onnx"
    onnx.save_model(model, str(path))
    return path


def reference_models(make: Callable[..., Any]) -> list[Any]:
    """The family as ``make(name=, parameters=, build=, format=, family=, description=)`` objects."""
    return [
        make(name=reference_name(w), parameters=cnn_parameters(w), build=partial(build_cnn, w), format="onnx",
             family=FAMILY, description=f"tiny CNN, width {w}, {CHANNELS}x{IMAGE_SIZE}x{IMAGE_SIZE} input, "
                                        f"{CLASSES} classes, random weights")
        for w in WIDTHS
    ]
