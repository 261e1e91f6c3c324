"""Entry point module: registers the "onnx" model format (onnx and onnxruntime load on first use)."""

from __future__ import annotations

from typing import Any

from greenai_core.sdk import hookimpl


@hookimpl
def register_model_formats(register: Any) -> None:
    from greenai_onnx.format import OnnxFormat

    register(OnnxFormat())
