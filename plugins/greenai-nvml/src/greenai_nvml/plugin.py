"""Entry point module: registers the "nvml" energy backend (pynvml is imported only when it is used)."""

from __future__ import annotations

from typing import Any

from greenai_core.sdk import hookimpl


@hookimpl
def register_energy_backends(register: Any) -> None:
    from greenai_nvml.backend import NvmlBackend

    register(NvmlBackend)
