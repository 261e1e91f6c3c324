"""The two reports: ``InferenceReport`` and ``TrainingReport``, as dataclasses and as JSON.

``to_dict()`` is the format every consumer reads (CSV, HTML, the CLI); it is described by the
JSON Schemas shipped in ``greenai_core/data/schemas/`` (``inference-report-1.json``,
``training-report-1.json``) and documented in ``ProfilingReport``. Statistics are ``Stat``
objects in Python and ``{mean, std, ci95_low, ci95_high, n, method}`` objects in the dict.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

from greenai_core.errors import UsageError
from greenai_core.profiling.stats import Stat

INFERENCE_SCHEMA = "greenai.inference-report/1"
TRAINING_SCHEMA = "greenai.training-report/1"
_STAT_KEYS = frozenset({"mean", "std", "ci95_low", "ci95_high", "n", "method"})


@dataclass
class ProfilingReport:
    """What both reports hold (the dict keys of the same names).

    ``complete`` is False when the run was interrupted (``interrupted`` names how) or stopped
    early; ``phases`` and ``timeline`` are in seconds from the run's start; ``stats`` is None
    only when nothing was finished before an interrupt.
    """

    schema: ClassVar[str] = ""
    kind: ClassVar[str] = ""

    complete: bool
    interrupted: str | None
    created_at: str
    model: dict[str, Any]
    environment: dict[str, Any]
    method: str
    baseline: dict[str, Any] | None
    carbon: dict[str, Any] | None
    phases: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    warnings: list[str]
    settings: dict[str, Any]
    stats: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"schema": self.schema, "kind": self.kind}
        for f in fields(self):
            data[f.name] = _plain(getattr(self, f.name))
        return data

    def to_json(self, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)  # never NaN or Infinity in our JSON
        kwargs.setdefault("indent", 2)
        return json.dumps(self.to_dict(), **kwargs)

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        """Write the JSON atomically (a regular file replaced, or written through a FIFO/device); the file written."""
        from greenai_core.io import atomic_write_text

        return atomic_write_text(os.fspath(path), self.to_json() + "\n")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        """The inverse of ``to_dict``; a ``UsageError`` (one line) for anything that is not such a report."""
        what = f"greenai {cls.kind or 'profiling'} report"
        if not isinstance(data, Mapping):
            raise UsageError(f"not a {what}: expected an object, found {type(data).__name__}")
        if data.get("schema") != cls.schema:
            raise UsageError(f"not a {what}: schema is {str(data.get('schema'))[:60]!r}, expected {cls.schema!r}")
        try:
            values = {f.name: data[f.name] for f in fields(cls)}
        except KeyError as exc:
            raise UsageError(f"not a {what}: missing {exc}") from None
        return cls(**{k: _stats_in(v) if k in ("stats", "steps") else v for k, v in values.items()})

    @classmethod
    def from_json(cls, text: str) -> Any:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"not a greenai report: invalid JSON ({exc})") from None
        return cls.from_dict(data)


@dataclass
class InferenceReport(ProfilingReport):
    """``profile_inference``'s result: per-repeat windows and statistics over them.

    ``repeats``: one dict per finished repeat (``index, predict_calls, inferences, duration_s,
    energy_j, energy_j_by_domain, net_energy_j, cpu_time_s, attributed_energy_j, partial,
    warnings``). ``stats``: ``energy_per_inference_j``, ``net_energy_per_inference_j``,
    ``wh_per_1000_inferences``, ``net_wh_per_1000_inferences``, ``latency_s`` (per predict call),
    ``throughput_per_s`` (inferences per second), ``attributed_energy_per_inference_j``,
    ``energy_per_inference_j_by_domain`` ({domain: Stat}), ``g_co2_per_inference``: each a ``Stat``
    (or None where it does not apply).
    """

    schema: ClassVar[str] = INFERENCE_SCHEMA
    kind: ClassVar[str] = "inference"

    repeats: list[dict[str, Any]]

    @property
    def energy_per_inference_j(self) -> float:
        """The mean gross energy per inference (joules); 0.0 when nothing was finished."""
        stat = (self.stats or {}).get("energy_per_inference_j")
        return stat.mean if isinstance(stat, Stat) else 0.0


@dataclass
class TrainingReport(ProfilingReport):
    """``profile_training``'s result: per-epoch figures, per-step statistics, the training's own result.

    ``epochs``: one dict per epoch (``epoch, duration_s, steps, samples, energy_j, net_energy_j,
    energy_per_step_j, energy_per_sample_j, loss, accuracy, val_accuracy, complete``);
    ``steps``: ``{count, energy_j: Stat}``; ``stats``: ``energy_per_epoch_j``, ``energy_per_step_j``,
    ``energy_per_sample_j``, ``net_energy_per_step_j``, ``wh_per_1000_samples``, ``g_co2_per_sample``;
    ``training``: ``TrainingResult.to_dict()``.
    """

    schema: ClassVar[str] = TRAINING_SCHEMA
    kind: ClassVar[str] = "training"

    epochs: list[dict[str, Any]]
    steps: dict[str, Any]
    training: dict[str, Any]

    @property
    def energy_per_step_j(self) -> float:
        """The mean energy per training step (joules); 0.0 when no step was finished."""
        stat = (self.stats or {}).get("energy_per_step_j")
        return stat.mean if isinstance(stat, Stat) else 0.0


class ProfilingInterrupted(KeyboardInterrupt):
    """Ctrl-C during a profile: still a ``KeyboardInterrupt``, carrying what was finished.

    ``report`` holds the finished repeats (or epochs and steps), with ``complete=False`` and
    ``interrupted="KeyboardInterrupt"``: write it (``report.write_json(path)``) and exit 130.
    """

    def __init__(self, message: str, report: ProfilingReport) -> None:
        super().__init__(message)
        self.report = report


def _plain(value: Any) -> Any:
    """Stats as dicts, recursively (what JSON holds)."""
    if isinstance(value, Stat):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _stats_in(value: Any) -> Any:
    """Every Stat-shaped dict back to a ``Stat``, recursively."""
    if isinstance(value, Mapping):
        if set(value) == _STAT_KEYS:
            return Stat.from_dict(value)
        return {str(k): _stats_in(v) for k, v in value.items()}
    return value
