"""Test plugin: a format for files starting with b"HELLO" and an estimated backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from greenai_core import hookimpl
from greenai_core.energy import ESTIMATED, CounterSpec, EnergyBackend, ProbeResult
from greenai_core.models import ModelFormat
from greenai_core.models.sniff import read_head


class HelloFormat(ModelFormat):
    name = "hello"
    suffixes = (".hello",)

    def sniff(self, path: Path) -> bool:
        return read_head(path, 5) == b"HELLO"

    def load(self, path: Path, **options: Any) -> Any:
        return ("hello-model", path)


class HelloBackend(EnergyBackend):
    name = "hello"
    method = ESTIMATED

    def probe(self) -> ProbeResult:
        return ProbeResult.unavailable("hello has no sensor (test plugin)")

    def counters(self) -> Sequence[CounterSpec]:
        return [CounterSpec("hello", 1.0)]

    def read(self) -> Mapping[str, int]:
        return {"hello": 0}


@hookimpl
def register_model_formats(register: Any) -> None:
    register(HelloFormat())


@hookimpl
def register_energy_backends(register: Any) -> None:
    register(HelloBackend)
