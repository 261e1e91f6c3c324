"""Loading ONNX models: one InferenceSession per Model, kept for its lifetime.

Parameters are the elements of the graph's floating-point initializers (float, float16,
bfloat16, double): the learned weights. Integer initializers (shapes, indices, quantised
weights) and Constant nodes are not counted. ONNX has no notion of trainable parameters.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.errors import DeviceError, ModelFormatError, UnsupportedOperationError, one_line
from greenai_core.models import InputSpec, Model, TensorSpec
from greenai_core.models.devices import parse_device
from greenai_core.models.preprocess import IMAGENET
from greenai_core.models.spec import format_shape, guess_layout

if TYPE_CHECKING:
    import numpy as np
    import onnx
    import onnxruntime



def _shape(value_info: onnx.ValueInfoProto) -> tuple[int | None, ...]:
    dims = value_info.type.tensor_type.shape.dim
    return tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in dims)


def _dtype(value_info: onnx.ValueInfoProto) -> str:
    from onnx.helper import tensor_dtype_to_np_dtype

    return str(tensor_dtype_to_np_dtype(value_info.type.tensor_type.elem_type))


def count_parameters(graph: onnx.GraphProto) -> int:
    from onnx import TensorProto

    floats = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.DOUBLE}
    return sum(math.prod(t.dims) for t in graph.initializer if t.data_type in floats)


def _check_external_data(path: Path, graph: onnx.GraphProto) -> None:
    from onnx import TensorProto

    for t in graph.initializer:
        if t.data_location == TensorProto.EXTERNAL:
            location = next((e.value for e in t.external_data if e.key == "location"), None)
            if location is None or not (path.parent / location).is_file():
                raise ModelFormatError(
                    f"{path}: external data file {location!r} (for initializer {t.name!r}) not found next to the model"
                )


def _providers(device: str, ort: Any) -> list[Any]:
    kind, index = parse_device(device)
    if kind == "cpu":
        return ["CPUExecutionProvider"]
    available = ort.get_available_providers()
    if "CUDAExecutionProvider" not in available:
        raise DeviceError(
            f"device {device!r} needs onnxruntime's CUDAExecutionProvider, which this onnxruntime lacks "
            f"(available: {', '.join(available)}); install onnxruntime-gpu"
        )
    return [("CUDAExecutionProvider", {"device_id": index})]


def load_onnx(
    path: Path,
    *,
    device: str = "cpu",
    layout: str | None = None,
    input_name: str | None = None,
    normalize: Any = IMAGENET,
    intra_op_num_threads: int | None = None,
    image_size: tuple[int, int] | None = None,
) -> OnnxModel:
    import onnx
    import onnxruntime as ort

    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise ModelFormatError(f"{path}: truncated or corrupt ONNX file ({one_line(exc)})") from exc
    graph = proto.graph
    initializers = {t.name for t in graph.initializer}
    # Old IR versions list initializers among the inputs: the data inputs are the others.
    inputs = [i for i in graph.input if i.name not in initializers]
    if not inputs or not graph.output:
        raise ModelFormatError(f"{path}: the ONNX graph has no inputs or no outputs (truncated or not a model)")
    described = ", ".join(f"{i.name}{format_shape(_shape(i))}" for i in inputs)
    images = [i for i in inputs if (input_name is None or i.name == input_name) and len(_shape(i)) == 4]
    if not images:
        wanted = f"named {input_name!r} " if input_name else ""
        raise ModelFormatError(f"{path}: no image-like input {wanted}(rank 4, NCHW or NHWC); inputs are {described}")
    if len(inputs) > 1:
        raise ModelFormatError(f"{path}: the model takes {len(inputs)} inputs ({described}); greenai feeds one image")
    image = images[0]
    shape = _shape(image)
    spec = InputSpec(image.name, shape, _dtype(image), guess_layout(shape, layout))
    out = graph.output[0]
    output_spec = TensorSpec(out.name, _shape(out), _dtype(out))
    _check_external_data(path, graph)
    providers = _providers(device, ort)
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: onnxruntime's warnings would drown ours
    if intra_op_num_threads is not None:
        options.intra_op_num_threads = intra_op_num_threads
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:
        raise ModelFormatError(f"{path}: onnxruntime cannot load it ({one_line(exc)})") from exc
    if device != "cpu" and session.get_providers()[0] != "CUDAExecutionProvider":
        raise DeviceError(f"{path}: onnxruntime did not place the model on {device} (providers: "
                          f"{', '.join(session.get_providers())}); refusing to fall back to the CPU silently")
    return OnnxModel(
        session, path=path, format="onnx", device=device, input_spec=spec, output_spec=output_spec,
        num_parameters=count_parameters(graph), trainable_parameters=None, normalize=normalize,
        image_size=tuple(image_size) if image_size else None,  # type: ignore[arg-type]
        details={"opset": max((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), default=None),
                 "producer": proto.producer_name or None},
    )


class OnnxModel(Model):
    def __init__(self, session: onnxruntime.InferenceSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._session: onnxruntime.InferenceSession | None = session
        self._input_name = self.input_spec.name
        self._output_names = [o.name for o in session.get_outputs()[:1]]

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        assert self._session is not None
        result: np.ndarray = self._session.run(self._output_names, {self._input_name: batch})[0]
        return result

    @property
    def session(self) -> onnxruntime.InferenceSession:
        """The onnxruntime session (for callers that want the raw API)."""
        assert self._session is not None
        return self._session

    def train(self, data: Any, **options: Any) -> Any:
        raise UnsupportedOperationError(f"{self.path}: training is not supported for ONNX models")

    def _close(self) -> None:
        self._session = None
