"""Loading ONNX models: one InferenceSession per Model, kept for its lifetime.

Parameters are the elements of every constant floating-point tensor of the graph
(initializers, Constant and ConstantOfShape outputs, subgraphs included: graph_facts.py).
ONNX has no notion of trainable parameters. External data must stay inside the model's
folder, and onnxruntime's own warnings stay quiet unless GREENAI_DEBUG asks for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.sdk import (
    Device,
    DeviceError,
    InputSpec,
    Model,
    ModelFormatError,
    TensorSpec,
    UnsupportedOperationError,
    UsageError,
    format_shape,
    guess_layout,
    one_line,
    open_regular,
)
from greenai_onnx.graph_facts import (
    CorruptTensor,
    check_external_data,
    count_parameters,
    log_severity,
    quiet_default_logger,
)
from greenai_onnx.wire import structure_problem

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


def _providers(path: Path, device: Device, ort: Any) -> list[Any]:
    if device.is_cpu:
        return ["CPUExecutionProvider"]
    available = ort.get_available_providers()
    if "CUDAExecutionProvider" not in available:
        raise DeviceError(
            f"{path}: device {str(device)!r} needs onnxruntime's CUDAExecutionProvider, which this onnxruntime lacks "
            f"(available: {', '.join(available)}); install onnxruntime-gpu"
        )
    return [("CUDAExecutionProvider", {"device_id": device.index})]


def load_onnx(
    path: Path,
    *,
    device: Device,
    input_name: str | None = None,
    intra_op_num_threads: int | None = None,
) -> OnnxModel:
    import onnx
    import onnxruntime as ort

    threads = intra_op_num_threads
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 0):
        raise UsageError(f"intra_op_num_threads must be a non-negative integer (0: onnxruntime's default), "
                         f"not {threads!r}")
    if input_name is not None and not isinstance(input_name, str):
        raise UsageError(f"input_name must be a string, not {input_name!r}")
    with open_regular(path) as fh:  # a file that only starts like ONNX must not be read whole to say so
        problem = structure_problem(fh)
    if problem is not None:
        raise ModelFormatError(f"{path}: truncated or corrupt ONNX file ({problem})")
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
    spec = InputSpec(image.name, shape, _dtype(image), guess_layout(shape))  # a layout option: applied by the core
    out = graph.output[0]
    output_spec = TensorSpec(out.name, _shape(out), _dtype(out))
    check_external_data(path, graph)  # before onnxruntime opens any file the model names
    try:
        num_parameters = count_parameters(graph)
    except CorruptTensor as exc:
        raise ModelFormatError(f"{path}: {exc}") from None
    providers = _providers(path, device, ort)
    options = ort.SessionOptions()
    quiet_default_logger(ort)
    options.log_severity_level = log_severity()  # errors only unless GREENAI_DEBUG: its warnings would drown ours
    if intra_op_num_threads is not None:
        options.intra_op_num_threads = intra_op_num_threads
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:
        raise ModelFormatError(f"{path}: onnxruntime cannot load it ({one_line(exc)})") from exc
    if not device.is_cpu and session.get_providers()[0] != "CUDAExecutionProvider":
        raise DeviceError(f"{path}: onnxruntime did not place the model on {device} (providers: "
                          f"{', '.join(session.get_providers())}); refusing to fall back to the CPU silently")
    return OnnxModel(
        session, path=path, format="onnx", device=device, input_spec=spec, output_spec=output_spec,
        num_parameters=num_parameters, trainable_parameters=None, labels=metadata_labels(proto),
        details={"opset": max((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), default=None),
                 "producer": proto.producer_name or None},
    )


#: metadata_props keys that may hold class names, as a JSON list or one name per line.
LABEL_KEYS = ("labels", "classes", "class_names")


def metadata_labels(proto: onnx.ModelProto) -> list[str] | None:
    """Class names the file carries in its metadata (the first of LABEL_KEYS present), else None."""
    import json

    props = {p.key: p.value for p in proto.metadata_props}
    for key in LABEL_KEYS:
        text = props.get(key)
        if not text or not text.strip():
            continue
        try:
            names = json.loads(text)
        except ValueError:
            names = None
        if isinstance(names, list) and names and all(isinstance(n, (str, int)) for n in names):
            return [str(n) for n in names]
        if isinstance(names, dict) and names and all(str(k).isdigit() for k in names):  # {"0": "cat", ...}
            ordered = sorted(names.items(), key=lambda kv: int(kv[0]))
            if [int(k) for k, _ in ordered] == list(range(len(ordered))):
                return [str(v) for _, v in ordered]
        lines = [line.strip() for line in text.strip().splitlines()]
        if len(lines) > 1 or names is None:
            return lines
    return None


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
