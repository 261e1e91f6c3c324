"""Recognising ONNX files by content.

An ONNX file is a serialised ``ModelProto`` and has no magic number, but its first field
is ``ir_version`` (tag 0x08, a small varint), followed by one of ModelProto's known field
tags. That is cheap to check and rejects zips, images, pickles and random bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.sdk import ModelFormat, read_head

if TYPE_CHECKING:
    from greenai_core.sdk import Device, Model

#: Tags (field number << 3 | wire type) of ModelProto's fields.
_MODEL_TAGS = {0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72, 0x7A, 0x8A}
MAX_IR_VERSION = 64


def _looks_like_onnx(head: bytes) -> bool:
    return len(head) >= 3 and head[0] == 0x08 and 1 <= head[1] <= MAX_IR_VERSION and head[2] in _MODEL_TAGS


class OnnxFormat(ModelFormat):
    name = "onnx"
    suffixes = (".onnx",)
    description = "ONNX model (onnxruntime)"
    options = {
        "input_name": "the image input's name, when the graph has several inputs",
        "intra_op_num_threads": "onnxruntime's thread count within an operator (default: onnxruntime's)",
    }
    device_kinds = ("cpu", "cuda")

    def sniff(self, path: Path) -> bool:
        return path.is_file() and _looks_like_onnx(read_head(path, 3))

    def explain(self, path: Path) -> str:
        if path.is_dir():
            return "it is a folder"
        head = read_head(path, 4)
        if not head:
            return "the file is empty"
        if head.startswith(b"PK"):
            return "it is a zip archive, not an ONNX protobuf"
        return "it does not start like a serialised ONNX ModelProto"

    def load(self, path: Path, *, device: Device, trust: bool, **options: Any) -> Model:
        from greenai_onnx.model import load_onnx

        return load_onnx(path, device=device, **options)
