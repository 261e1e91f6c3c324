"""Entry point module: registers the "onnx" model format and the reference CNN family (onnx and onnxruntime
load on first use)."""

from __future__ import annotations

from typing import Any

from greenai_core.sdk import hookimpl


@hookimpl
def register_model_formats(register: Any) -> None:
    from greenai_onnx.format import OnnxFormat

    register(OnnxFormat())


@hookimpl
def register_reference_models(register: Any) -> None:
    from greenai_core.sdk import ReferenceModel
    from greenai_onnx.reference import reference_models

    for ref in reference_models(ReferenceModel):
        register(ref)
