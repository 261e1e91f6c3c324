"""Devices: one value type, parsed once by the core and handed to plugins parsed.

Accepted spellings: ``cpu``, ``CPU``, ``cpu:0``, ``cuda``, ``cuda:1``, `` Cuda:0 `` (case and
surrounding spaces do not matter), or a ``Device``. ``str(device)`` is canonical: ``"cpu"``
or ``"cuda:N"`` (plain ``cuda`` is ``cuda:0``, as torch and onnxruntime read it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from greenai_core.errors import DeviceError

_DEVICE_RE = re.compile(r"^(cpu|cuda)(?::(\d+))?$")
CPU, CUDA = "cpu", "cuda"


@dataclass(frozen=True)
class Device:
    """A compute device: ``kind`` ("cpu" or "cuda") and ``index`` (always 0 for the CPU)."""

    kind: str
    index: int = 0

    KINDS: ClassVar[tuple[str, ...]] = (CPU, CUDA)

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise DeviceError(f"unknown device kind {self.kind!r} (use 'cpu' or 'cuda')")
        if isinstance(self.index, bool) or not isinstance(self.index, int) or self.index < 0:
            raise DeviceError(f"device index must be a non-negative integer, not {self.index!r}")
        if self.kind == CPU and self.index != 0:
            raise DeviceError(f"unknown device 'cpu:{self.index}' (the CPU is 'cpu' or 'cpu:0')")

    @classmethod
    def parse(cls, value: Any) -> Device:
        """A Device from a spelling above; anything else is a ``DeviceError``."""
        if isinstance(value, Device):
            return value
        m = _DEVICE_RE.match(value.strip().lower()) if isinstance(value, str) else None
        if m is None or (m.group(1) == CPU and m.group(2) not in (None, "0")):
            raise DeviceError(f"unknown device {value!r} (use 'cpu', 'cuda' or 'cuda:N')")
        return cls(m.group(1), int(m.group(2) or 0))

    @property
    def is_cpu(self) -> bool:
        return self.kind == CPU

    def __str__(self) -> str:
        return CPU if self.kind == CPU else f"{self.kind}:{self.index}"


def parse_device(device: Any) -> tuple[str, int]:
    """("cpu", 0) or ("cuda", N): the earlier form of ``Device.parse``, kept for existing callers."""
    parsed = Device.parse(device)
    return parsed.kind, parsed.index
