"""Facts about the measured devices, for the original greenAI's extra methods and the legacy grade.

What the original greenAI asked external tools for (``/proc/cpuinfo`` through ``grep``, ``free -m``,
``nvidia-smi --query-gpu=gpu_name,power.limit``, ``likwid-powermeter -i``), answered from the files
and the energy backends greenai already reads. Nothing here runs a command or goes online.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from greenai_core.energy.backend import EnergyBackend
from greenai_core.errors import SensorError

MEMINFO = "/proc/meminfo"
#: /proc/meminfo is a few KiB; a file larger than this is not it.
MEMINFO_MAX_BYTES = 64 * 1024


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (what the original ``get_device_name`` grepped)."""
    from greenai_core.energy.estimate import cpu_model_name

    name = cpu_model_name()
    if not name:
        raise SensorError("no CPU model name here: /proc/cpuinfo is missing or has no 'model name' line")
    return name


def ram_size_gb(meminfo: str = MEMINFO) -> float:
    """Main memory in gigabytes (10^9 bytes): MemTotal of /proc/meminfo, else ``sysconf``.

    The original divided ``free -m``'s MiB by 1000; this is the exact decimal figure.
    """
    try:
        with open(meminfo, "rb") as fh:
            text = fh.read(MEMINFO_MAX_BYTES).decode("ascii", "replace")
        for line in text.splitlines():
            key, _, value = line.partition(":")
            parts = value.split()
            if key == "MemTotal" and len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit() and int(parts[0]):
                return int(parts[0]) * 1024 / 1e9
    except OSError:
        pass
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        pages = page_size = -1
    if pages > 0 and page_size > 0:
        return pages * page_size / 1e9
    raise SensorError(f"the memory size is unknown here: no MemTotal in {meminfo} and no sysconf answer")


def gpu_names(backend: EnergyBackend) -> list[str]:
    """The GPU model names a GPU backend reads (its assumptions' ``gpus`` table, as greenai-nvml gives it)."""
    gpus = backend.assumptions().get("gpus")
    if not isinstance(gpus, Mapping):
        return []
    return [str(info["name"]) for _, info in sorted(gpus.items())
            if isinstance(info, Mapping) and isinstance(info.get("name"), str)]


def domain_max_power(backends: Sequence[EnergyBackend], counted: Iterable[str] | None = None,
                     components: Iterable[str] | None = None) -> dict[str, float]:
    """The plausible maximum power (W) of each domain, keyed like ``Measurement.domains``.

    A domain's own ``CounterSpec.max_power_w`` (RAPL: the zone's highest power-limit constraint,
    NVML: the board's power limit), else its backend's ``max_power_w()`` (the estimate: watts per
    logical CPU x logical CPUs, the TDP it assumes). ``counted``: keep only these keys (a
    measurement's ``counted_domains``); otherwise every domain the backends count. ``components``:
    keep only domains of these components (``cpu``, ``gpu``...).
    """
    specs: list[tuple[EnergyBackend, Any]] = [(b, s) for b in backends for s in b.counters()]
    shared = {s.domain for _, s in specs if sum(t.domain == s.domain for _, t in specs) > 1}
    wanted = set(counted) if counted is not None else None
    kinds = set(components) if components is not None else None
    limits: dict[str, float] = {}
    for backend, spec in specs:
        key = f"{backend.name}:{spec.domain}" if spec.domain in shared else spec.domain
        if wanted is not None and key not in wanted and f"{backend.name}:{spec.domain}" not in wanted:
            continue
        if wanted is None and not spec.counted:
            continue
        if kinds is not None and spec.component not in kinds:
            continue
        limit = spec.max_power_w if spec.max_power_w is not None else backend.max_power_w()
        limits[key] = float(limit)
    return limits
