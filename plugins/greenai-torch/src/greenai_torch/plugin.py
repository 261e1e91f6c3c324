"""Entry point module: registers the "torch" model format (torch itself loads on first use)."""

from __future__ import annotations

from typing import Any

from greenai_core.sdk import hookimpl


@hookimpl
def register_model_formats(register: Any) -> None:
    from greenai_torch.format import TorchFormat

    register(TorchFormat())
