"""``Reference``: the energies of reference architectures measured on one machine with one set of settings.

The file (schema ``greenai.reference/1``, described by ``greenai_core/data/schemas/reference-1.json``)::

    {"schema": "greenai.reference/1", "metric": "energy_per_inference_j", "unit": "J",
     "created_at": "2026-11-30T21:00:00+00:00", "hardware": {...}, "settings": {...},
     "entries": [{"name": "cnn-1k", "parameters": 1234, "value": 0.0012, "ci95": [..], "power_w": 5.1}, ...]}

``hardware`` is the profiling report's ``environment`` (cpu, gpu models, os, backends with their
methods); ``settings`` the protocol's settings. Entries' ``value`` is the metric's mean (positive,
finite); other entry keys are kept as they are.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from greenai_core.errors import GradeError
from greenai_core.grading.scale import QUANTILES, quantile

SCHEMA = "greenai.reference/1"
#: Fewer entries than this cannot give four distinct quantile boundaries worth a letter.
MIN_ENTRIES = 5
#: The most entries a reference file may hold (bounded work on an untrusted file).
MAX_ENTRIES = 10_000


#: metric -> (the environment variable naming its default reference, the file's name under ``greenai/``)
DEFAULT_FILES = {"energy_per_inference_j": ("GREENAI_REFERENCE", "reference.json"),
                 "energy_per_step_j": ("GREENAI_REFERENCE_TRAINING", "reference-training.json")}


def default_reference_path(metric: str = "energy_per_inference_j") -> Path:
    """Where the default reference of ``metric`` lives (inference and training references are kept apart).

    Energy per inference: ``$GREENAI_REFERENCE``, else ``$XDG_DATA_HOME/greenai/reference.json``
    (``~/.local/share/...``); energy per step (training): ``$GREENAI_REFERENCE_TRAINING``, else
    ``.../greenai/reference-training.json``. ``GradeError`` for another metric.
    """
    if metric not in DEFAULT_FILES:
        raise GradeError(f"no default reference for metric {metric!r} (known: {', '.join(DEFAULT_FILES)})")
    variable, name = DEFAULT_FILES[metric]
    explicit = os.environ.get(variable)
    if explicit:
        return Path(explicit)
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data_home) / "greenai" / name


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Reference:
    """The reference a relative grade is taken against; see the module's docstring for the file."""

    metric: str
    entries: list[dict[str, Any]]
    created_at: str
    hardware: dict[str, Any]
    settings: dict[str, Any]
    path: str | None = None
    unit: str = "J"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.entries = _checked_entries(self.entries, self.path or "reference")

    @property
    def values(self) -> list[float]:
        """The entries' values, in entry order."""
        return [float(entry["value"]) for entry in self.entries]

    def boundaries(self) -> list[float]:
        """The 20/40/60/80 % quantiles of the values (linear interpolation, numpy's default)."""
        return [quantile(self.values, q) for q in QUANTILES]

    def summary(self) -> dict[str, Any]:
        """What a ``Grade`` says about its reference."""
        return {"path": self.path, "created_at": self.created_at, "hardware": self.hardware,
                "settings": self.settings, "metric": self.metric, "count": len(self.entries)}

    @classmethod
    def from_values(cls, metric: str, entries: Sequence[Mapping[str, Any] | float], *,
                    hardware: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None,
                    created_at: str | None = None, unit: str = "J") -> Reference:
        """A reference from ``entries``: dicts with at least ``value`` (and a ``name``), or bare numbers."""
        rows: list[dict[str, Any]] = []
        for index, entry in enumerate(entries):
            row: dict[str, Any] = dict(entry) if isinstance(entry, Mapping) else {"value": entry}
            row.setdefault("name", f"entry-{index + 1}")
            rows.append(row)
        return cls(metric=str(metric), entries=rows, created_at=created_at or _now(),
                   hardware=dict(hardware or {}), settings=dict(settings or {}), unit=unit)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "metric": self.metric, "unit": self.unit, "created_at": self.created_at,
                "hardware": self.hardware, "settings": self.settings, "entries": self.entries, **self.extra}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the reference as JSON, atomically, to a regular file (``greenai_core.io``); the file written."""
        import json

        from greenai_core.io import atomic_write_text, check_writable

        check_writable(os.fspath(path), regular_only=True)
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
        written = atomic_write_text(os.fspath(path), text)
        self.path = os.fspath(path)
        return written

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Reference:
        """Read and validate a reference file; ``GradeError`` naming the file for anything else."""
        from greenai_core.grading.files import read_json

        shown = os.fspath(path)
        data = read_json(shown, "a greenai reference file")
        return cls.from_dict(data, path=shown)

    @classmethod
    def from_dict(cls, data: Any, *, path: str | None = None) -> Reference:
        where = path or "reference"
        if not isinstance(data, Mapping):
            raise GradeError(f"{where}: not a greenai reference file (expected an object, found {type(data).__name__})")
        if data.get("schema") != SCHEMA:
            raise GradeError(f"{where}: not a greenai reference file (schema is {str(data.get('schema'))[:60]!r}, "
                             f"expected {SCHEMA!r})")
        for key, kind in (("metric", str), ("created_at", str), ("hardware", Mapping), ("settings", Mapping),
                          ("entries", list)):
            if not isinstance(data.get(key), kind):
                raise GradeError(f"{where}: bad greenai reference file: {key!r} is missing or not "
                                 f"{'text' if kind is str else 'an object' if kind is Mapping else 'a list'}")
        unit = data.get("unit", "J")
        if not isinstance(unit, str):
            raise GradeError(f"{where}: bad greenai reference file: 'unit' is not text")
        known = {"schema", "metric", "unit", "created_at", "hardware", "settings", "entries"}
        return cls(metric=data["metric"], entries=data["entries"], created_at=data["created_at"],
                   hardware=dict(data["hardware"]), settings=dict(data["settings"]), path=path, unit=unit,
                   extra={k: v for k, v in data.items() if k not in known})


def _checked_entries(entries: Any, where: str) -> list[dict[str, Any]]:
    """The entries as dicts with a positive finite ``value``; ``GradeError`` naming ``where`` otherwise."""
    if not isinstance(entries, (list, tuple)):
        raise GradeError(f"{where}: bad greenai reference: entries must be a list")
    if len(entries) < MIN_ENTRIES:
        raise GradeError(f"{where}: a reference needs at least {MIN_ENTRIES} entries to give four letter "
                         f"boundaries, it has {len(entries)}")
    if len(entries) > MAX_ENTRIES:
        raise GradeError(f"{where}: bad greenai reference: {len(entries)} entries (at most {MAX_ENTRIES})")
    rows = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise GradeError(f"{where}: bad greenai reference: entry {index + 1} is not an object")
        value = entry.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise GradeError(f"{where}: bad greenai reference: entry {index + 1} has value {str(value)[:40]!r}, "
                             "expected a positive finite number")
        rows.append(dict(entry))
    return rows
