"""Entry point module: registers the "rapl" energy backend."""

from __future__ import annotations

from typing import Any

from greenai_core.sdk import hookimpl


@hookimpl
def register_energy_backends(register: Any) -> None:
    from greenai_rapl.backend import RaplBackend

    register(RaplBackend)
