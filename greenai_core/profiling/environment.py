"""What a report says about where it was measured: machine, software, and the sensors with their assumptions.

Nothing here imports a framework or a sensor library: a framework's version is read only from
one already imported (the model's loader imported it), and GPUs are named from the NVIDIA
driver's ``/proc`` files, so asking never loads anything.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from greenai_core.energy.measurement import Measurement
    from greenai_core.models.model import Model

#: module name in sys.modules -> the name a report shows
FRAMEWORKS = {"onnxruntime": "onnxruntime", "torch": "torch", "tensorflow": "tensorflow", "keras": "keras",
              "numpy": "numpy", "PIL": "pillow"}
NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")


def gpu_models() -> list[str]:
    """NVIDIA GPU names from the driver's /proc files (none when there is no driver); bounded reads."""
    names = []
    try:
        folders = sorted(NVIDIA_GPUS.iterdir())
    except OSError:
        return []
    for folder in folders[:64]:
        try:
            with open(folder / "information", encoding="utf-8", errors="replace") as fh:
                text = fh.read(4096)
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model":
                names.append(value.strip())
                break
    return names


def framework_versions() -> dict[str, str]:
    """Versions of the frameworks this process has already imported (never imports one to ask)."""
    found = {}
    for module, name in FRAMEWORKS.items():
        loaded = sys.modules.get(module)
        if loaded is not None:
            found[name] = str(getattr(loaded, "__version__", "unknown"))
    return found


def backends_of(measurements: Iterable[Measurement]) -> list[dict[str, Any]]:
    """Each backend once (as the last window that read it saw it), with its domains' scopes and components."""
    seen: dict[str, dict[str, Any]] = {}
    for m in measurements:
        for b in m.backends:
            seen[b.name] = {
                "name": b.name, "version": b.version, "method": b.method, "domains": list(b.domains),
                "counted_domains": list(b.counted_domains),
                "scopes": {d: m.scopes[d] for d in b.domains if d in m.scopes},
                "components": {d: m.components[d] for d in b.domains if d in m.components},
                "resolution_j": b.resolution_j, "update_period_s": b.update_period_s, "summary": b.summary,
                "max_power_w": dict(b.max_power_w),
                "assumptions": _jsonable(dict(b.assumptions)),
            }
    return list(seen.values())


def environment(measurements: Iterable[Measurement] = ()) -> dict[str, Any]:
    """The report's ``environment``: CPU and GPU models, OS, Python, greenai and framework versions, backends."""
    from greenai_core import __version__
    from greenai_core.energy.estimate import cpu_model_name

    return {
        "cpu_model": cpu_model_name() or platform.processor() or platform.machine(),
        "logical_cpus": os.cpu_count() or 0,
        "gpus": gpu_models(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "greenai": __version__,
        "frameworks": framework_versions(),
        "backends": backends_of(measurements),
    }


def model_facts(model: Model) -> dict[str, Any]:
    """The report's ``model``: what was profiled."""
    spec = model.input_spec
    return {
        "path": str(model.path), "format": model.format, "device": model.device,
        "num_parameters": model.num_parameters, "trainable_parameters": model.trainable_parameters,
        "input": {"name": spec.name, "shape": list(spec.shape), "layout": spec.layout, "dtype": spec.dtype},
        "labels": len(model.labels) if model.labels is not None else None,
    }


def _jsonable(value: Any) -> Any:
    """Assumptions as JSON can hold them (a backend may put a tuple or a Path there)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)
