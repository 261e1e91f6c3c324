"""Device names: "cpu", "cuda", "cuda:N"."""

from __future__ import annotations

import re

from greenai_core.errors import DeviceError

_DEVICE_RE = re.compile(r"^(cpu|cuda)(?::(\d+))?$")


def parse_device(device: str) -> tuple[str, int]:
    """("cpu", 0) or ("cuda", N); anything else is a DeviceError."""
    m = _DEVICE_RE.match(str(device).strip().lower())
    if not m or (m.group(1) == "cpu" and m.group(2) not in (None, "0")):
        raise DeviceError(f"unknown device {device!r} (use 'cpu', 'cuda' or 'cuda:N')")
    return m.group(1), int(m.group(2) or 0)
