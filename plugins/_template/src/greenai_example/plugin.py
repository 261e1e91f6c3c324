"""The module the entry point names: hook implementations only.

greenai imports this module whenever it discovers plugins, so it stays light: the SDK is
lazy, and numpy (or your framework, your sensor library) is imported inside methods.
"""

from __future__ import annotations

from typing import Any

from greenai_core.sdk import hookimpl
from greenai_example.hwmon import HwmonEnergyBackend
from greenai_example.linear import LinearFormat


@hookimpl
def register_model_formats(register: Any) -> None:
    register(LinearFormat())


@hookimpl
def register_energy_backends(register: Any) -> None:
    register(HwmonEnergyBackend)
