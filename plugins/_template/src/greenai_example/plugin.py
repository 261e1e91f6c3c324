"""The module the entry point names: hook implementations only.

Import heavy libraries (your ML framework, your sensor library) inside methods, never
here: greenai imports this module whenever it discovers plugins.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from greenai_core import hookimpl
from greenai_core.energy import ESTIMATED, CounterSpec, EnergyBackend, ProbeResult
from greenai_core.errors import UnsupportedOperationError
from greenai_core.models import ModelFormat
from greenai_core.models.sniff import read_head
from greenai_example import __version__

MAGIC = b"GREENAI-EXAMPLE\n"


class ExampleFormat(ModelFormat):
    """Files that start with MAGIC. Replace sniff() with your format's real signature."""

    name = "example"
    suffixes = (".example",)
    description = "template format (files starting with GREENAI-EXAMPLE)"

    def sniff(self, path: Path) -> bool:
        return path.is_file() and read_head(path, len(MAGIC)) == MAGIC

    def load(self, path: Path, *, device: str = "cpu", trust: bool = False, **options: Any) -> Any:
        raise UnsupportedOperationError(f"{path}: the template format only shows how to register a format")


class ClockBackend(EnergyBackend):
    """A pretend 1 W sensor whose counter is the monotonic clock, in microjoules."""

    name = "example-clock"
    # Not a real sensor, so never "measured": default selection must not pick it up.
    method = ESTIMATED
    total_rule = "total = clock (1 W pretend sensor)"

    @property
    def version(self) -> str:
        return __version__

    def probe(self) -> ProbeResult:
        return ProbeResult.ok("always available (pretend 1 W)")

    def counters(self) -> Sequence[CounterSpec]:
        return [CounterSpec("clock", joules_per_unit=1e-6, resolution_j=1e-6, component="platform")]

    def read(self) -> Mapping[str, int]:
        return {"clock": time.monotonic_ns() // 1000}


@hookimpl
def register_model_formats(register: Any) -> None:
    register(ExampleFormat())


@hookimpl
def register_energy_backends(register: Any) -> None:
    register(ClockBackend)
