"""Entry point module: registers the "torch" model format and the trainable reference CNN family (torch itself
loads on first use)."""

from __future__ import annotations

from typing import Any

from greenai_core.sdk import hookimpl


@hookimpl
def register_model_formats(register: Any) -> None:
    from greenai_torch.format import TorchFormat

    register(TorchFormat())


@hookimpl
def register_reference_models(register: Any) -> None:
    from greenai_core.sdk import ReferenceModel
    from greenai_torch.reference import reference_models

    for ref in reference_models(ReferenceModel):
        register(ref)
