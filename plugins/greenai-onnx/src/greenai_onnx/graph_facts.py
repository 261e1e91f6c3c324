"""What greenai reads from an ONNX graph itself: its parameter count and its external data files,
and how loud onnxruntime may be.

**Parameters** are the elements of every constant floating-point tensor of the graph (float,
float16, bfloat16, double): initializers; sparse initializers (their stored values); the outputs
of ``Constant`` nodes (``value``, ``value_float(s)``, ``sparse_value``); and the outputs of
``ConstantOfShape`` nodes whose shape input is itself constant (an initializer or a Constant
output; no ``value`` attribute means float32, per the ONNX spec). Subgraphs (``If``/``Loop``/
``Scan`` bodies) are walked too: weights a loop body holds are the model's weights. Integer
tensors (shapes, indices, quantised weights) are not parameters.

**External data** (tensors stored in files beside the model) must resolve, symlinks followed,
to a regular file inside the model's folder: ``..``, absolute paths and links leaving the
folder are refused by greenai before onnxruntime opens anything, whatever its version.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.sdk import ModelFormatError, special_file

if TYPE_CHECKING:
    import onnx

#: onnxruntime severities: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal.
QUIET, ORT_DEFAULT = 3, 2
_quieted = False


def debug_requested() -> bool:
    """``GREENAI_DEBUG`` set (the CLI's ``--debug`` sets it) to anything but "", "0", "false", "no"."""
    return os.environ.get("GREENAI_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


def log_severity() -> int:
    """The session severity: errors only, unless debugging was asked for (then onnxruntime's default)."""
    return ORT_DEFAULT if debug_requested() else QUIET


def quiet_default_logger(ort: Any) -> None:
    """Once per process, before the first session: onnxruntime's process-wide logger to errors only.

    Skipped when debugging was asked for; a user who sets ``ort.set_default_logger_severity``
    after loading the first model keeps their setting (we never touch it again).
    """
    global _quieted
    if not _quieted and not debug_requested():
        ort.set_default_logger_severity(QUIET)
    _quieted = True


def _float_types() -> set[int]:
    from onnx import TensorProto

    return {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.DOUBLE}


def _graphs(graph: onnx.GraphProto) -> Iterator[onnx.GraphProto]:
    """The graph and every subgraph in its nodes' attributes, without recursion."""
    pending = [graph]
    while pending:
        g = pending.pop()
        yield g
        for node in g.node:
            for attr in node.attribute:
                if attr.HasField("g"):
                    pending.append(attr.g)
                pending.extend(attr.graphs)


def _constant_values(node: onnx.NodeProto) -> Any:
    """A Constant node's value as a numpy array where it can be read (for ConstantOfShape's shape)."""
    from onnx import numpy_helper

    for attr in node.attribute:
        try:
            if attr.name == "value":
                return numpy_helper.to_array(attr.t)
            if attr.name == "value_ints":
                return list(attr.ints)
        except Exception:  # external or malformed data: the shape stays unknown
            return None
    return None


class CorruptTensor(ValueError):
    """A constant tensor whose declared dimensions are negative or do not match the data it holds."""


#: Bytes per element of the floating-point types, when stored as raw bytes.
_ITEMSIZE = {1: 4, 10: 2, 16: 2, 11: 8}  # FLOAT, FLOAT16, BFLOAT16, DOUBLE


def _float_elements(t: onnx.TensorProto, what: str) -> int:
    """Elements of a floating-point tensor, its declared dims checked against the data it holds.

    A tensor whose dims are negative, or declare more (or fewer) elements than it stores, is
    corrupt: counting its dims would give a negative or absurd parameter count.
    """
    from onnx import TensorProto

    dims = list(t.dims)
    if any(d < 0 for d in dims):
        raise CorruptTensor(f"{what} declares negative dimensions {dims}; corrupt")
    count = math.prod(dims)
    if t.data_location == TensorProto.EXTERNAL:
        length = next((e.value for e in t.external_data if e.key == "length"), "")
        stored = int(length) // _ITEMSIZE[t.data_type] if length.isdigit() else count  # checked by check_external_data
    elif t.raw_data:
        stored = len(t.raw_data) // _ITEMSIZE[t.data_type]
    else:
        stored = len(t.double_data) if t.data_type == TensorProto.DOUBLE else (
            len(t.float_data) if t.data_type == TensorProto.FLOAT else len(t.int32_data))
    if stored != count:
        raise CorruptTensor(f"{what} declares dimensions {dims} ({count} elements) but holds {stored}; "
                            "truncated or corrupt")
    return count


def count_parameters(graph: onnx.GraphProto) -> int:
    """Elements of every constant floating-point tensor (see the module docstring).

    Raises ``CorruptTensor`` for a tensor whose dims are negative or disagree with its data.
    """
    from onnx import TensorProto, numpy_helper

    floats = _float_types()
    total = 0
    for g in _graphs(graph):
        shapes: dict[str, Any] = {}  # constant integer tensors by name, for ConstantOfShape
        for t in g.initializer:
            if t.data_type in floats:
                total += _float_elements(t, f"initializer {t.name!r}")
            elif t.data_type in (TensorProto.INT64, TensorProto.INT32) and t.data_location != TensorProto.EXTERNAL:
                try:
                    shapes[t.name] = numpy_helper.to_array(t)
                except Exception:
                    pass
        for s in g.sparse_initializer:
            if s.values.data_type in floats:
                total += _float_elements(s.values, f"sparse initializer {s.values.name!r}")
        for node in g.node:
            if node.domain not in ("", "ai.onnx") or not node.output:
                continue
            if node.op_type == "Constant":
                total += _constant_node_floats(node, floats)
                shapes[node.output[0]] = _constant_values(node)
            elif node.op_type == "ConstantOfShape" and node.input and shapes.get(node.input[0]) is not None:
                value = next((a.t for a in node.attribute if a.name == "value"), None)
                if value is None or value.data_type in floats:
                    try:
                        dims = [int(d) for d in _flat(shapes[node.input[0]])]
                    except (TypeError, ValueError):
                        continue
                    if all(d >= 0 for d in dims):  # a negative size is invalid (onnxruntime refuses it)
                        total += math.prod(dims)
    return total


def _flat(values: Any) -> list[Any]:
    import numpy as np

    return list(np.asarray(values).reshape(-1))


def _constant_node_floats(node: onnx.NodeProto, floats: set[int]) -> int:
    what = f"Constant node {node.name or node.output[0]!r}"
    for attr in node.attribute:
        if attr.name == "value" and attr.t.data_type in floats:
            return _float_elements(attr.t, what)
        if attr.name == "value_float":
            return 1
        if attr.name == "value_floats":
            return len(attr.floats)
        if attr.name == "sparse_value" and attr.sparse_tensor.values.data_type in floats:
            return _float_elements(attr.sparse_tensor.values, what)
    return 0


def _tensors(graph: onnx.GraphProto) -> Iterator[tuple[str, onnx.TensorProto]]:
    """(what, tensor) for every tensor that can hold external data: initializers and attribute tensors."""
    for g in _graphs(graph):
        for t in g.initializer:
            yield f"initializer {t.name!r}", t
        for s in g.sparse_initializer:
            yield f"sparse initializer {s.values.name!r}", s.values
            yield f"sparse initializer {s.values.name!r}", s.indices
        for node in g.node:
            for attr in node.attribute:
                where = f"attribute {attr.name!r} of node {node.name or node.op_type!r}"
                if attr.HasField("t"):
                    yield where, attr.t
                for t in attr.tensors:
                    yield where, t
                if attr.HasField("sparse_tensor"):
                    yield where, attr.sparse_tensor.values
                    yield where, attr.sparse_tensor.indices
                for s in attr.sparse_tensors:
                    yield where, s.values
                    yield where, s.indices


def check_external_data(path: Path, graph: onnx.GraphProto) -> None:
    """Raise ``ModelFormatError`` unless every external data file is a regular file inside the model's folder."""
    from onnx import TensorProto

    folder = Path(os.path.abspath(path.parent))
    root = folder.resolve()
    for what, t in _tensors(graph):
        if t.data_location != TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in t.external_data}
        location = info.get("location", "")
        if not location or "\x00" in location:
            raise ModelFormatError(f"{path}: {what} has external data without a file location")
        if os.path.isabs(location) or location.startswith("\\") or ".." in Path(location).parts:
            raise ModelFormatError(
                f"{path}: {what} points its external data outside the model's folder ({location!r}); refused"
            )
        target = (folder / location).resolve()
        if not target.is_relative_to(root):
            raise ModelFormatError(
                f"{path}: {what} points its external data outside the model's folder ({location!r} resolves "
                f"to {target}); refused"
            )
        special = special_file(target)
        if special is not None:
            raise ModelFormatError(f"{path}: the external data file {location!r} for {what} is {special}; refused")
        if not target.is_file():
            raise ModelFormatError(
                f"{path}: external data file {location!r} (for {what}) not found next to the model"
            )
        _check_extent(path, what, location, target, info)


def _check_extent(path: Path, what: str, location: str, target: Path, info: dict[str, str]) -> None:
    try:
        offset, length = int(info.get("offset", "0") or 0), int(info.get("length", "0") or 0)
    except ValueError:
        raise ModelFormatError(f"{path}: {what} has a non-numeric external data offset or length") from None
    size = target.stat().st_size
    if offset < 0 or length < 0 or offset + length > size:
        raise ModelFormatError(
            f"{path}: {what} reads bytes {offset}..{offset + length} of {location!r}, which holds {size}; "
            "truncated or corrupt"
        )
