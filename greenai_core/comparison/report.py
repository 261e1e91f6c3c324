"""``CompareReport``: several models profiled under one protocol, side by side; as a dict, JSON and CSV rows.

``to_dict()`` is what every consumer reads (the CLI table, CSV, HTML); the JSON Schema
``greenai_core/data/schemas/compare-report-1.json`` describes it. One entry per model::

    name, path, format, device, num_parameters, complete, method,
    energy_per_inference_j, net_energy_per_inference_j, latency_s   ({mean, std, ci95_low, ci95_high, n, method}
                                                                     or None),
    accuracy, correct, evaluated, class_mapping                     (None without data),
    grade                                                           (Grade.to_dict() or None),
    rank, tie                                                       (by energy; ties when 95 % CIs overlap),
    front                                                           (on the Pareto front, or in the cheapest ties),
    warnings, report                                                (the model's whole inference report)

``front`` says what was marked: ``{"kind": "pareto" | "cheapest", "members": [names], "note"}``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from greenai_core.comparison.pareto import Point, cheapest, pareto_front, ranks
from greenai_core.errors import UsageError

COMPARE_SCHEMA = "greenai.compare-report/1"
PARETO, CHEAPEST = "pareto", "cheapest"
PARETO_NOTE = ("Pareto front: no other model is at least as accurate and no dearer (cheaper or tied within the "
               "95 % confidence intervals) while better in one of the two")
CHEAPEST_NOTE = ("no accuracy (no labelled data): a front over energy and parameters would say nothing, so the "
                 "cheapest models are marked instead: those no other model is cheaper than beyond the 95 % "
                 "confidence intervals (their intervals overlap the cheapest's)")
PARTIAL_ACCURACY_NOTE = ("not every model has an accuracy, and a Pareto front needs them all: the cheapest models "
                         "are marked instead: those no other model is cheaper than beyond the 95 % confidence "
                         "intervals")
CSV_COLUMNS = ("name", "path", "format", "device", "num_parameters", "method", "complete",
               "energy_per_inference_j", "energy_std_j", "energy_ci95_low_j", "energy_ci95_high_j", "repeats",
               "latency_s", "latency_ci95_low_s", "latency_ci95_high_s", "accuracy", "correct", "evaluated",
               "class_mapping", "grade", "stars", "rank", "tie", "front", "warnings")


def entry_of(name: str, report: Mapping[str, Any], accuracy: Mapping[str, Any] | None = None,
             grade: Mapping[str, Any] | None = None, warnings: Sequence[str] = ()) -> dict[str, Any]:
    """One model's entry from its inference report's dict (rank, tie and front are set by ``CompareReport.build``).

    ``warnings``: the report's, then those given (a grade that could not be made).
    """
    model = report.get("model") or {}
    stats = report.get("stats") or {}
    return {
        "name": name, "path": model.get("path"), "format": model.get("format"), "device": model.get("device"),
        "num_parameters": model.get("num_parameters"), "complete": bool(report.get("complete", True)),
        "method": report.get("method"),
        "energy_per_inference_j": stats.get("energy_per_inference_j"),
        "net_energy_per_inference_j": stats.get("net_energy_per_inference_j"),
        "latency_s": stats.get("latency_s"),
        "accuracy": None, "correct": None, "evaluated": None, "class_mapping": None, **(accuracy or {}),
        "grade": dict(grade) if grade is not None else None,
        "rank": None, "tie": False, "front": False,
        "warnings": [*(str(w) for w in report.get("warnings") or []), *warnings], "report": dict(report),
    }


def point_of(entry: Mapping[str, Any]) -> Point | None:
    """The entry's figures for ranking; None when it has no energy (nothing finished) or no usable figures."""
    stat = entry.get("energy_per_inference_j")
    if not isinstance(stat, Mapping):
        return None
    try:
        mean, low, high = (float(stat[k]) for k in ("mean", "ci95_low", "ci95_high"))
    except (KeyError, TypeError, ValueError):
        return None  # a hand-made or damaged entry: listed, never ranked on figures it does not have
    if not all(math.isfinite(v) and v >= 0 for v in (mean, low, high)):
        return None
    repeats = stat.get("n")
    return Point(str(entry["name"]), mean, low, high, entry.get("accuracy"),
                 interval=not isinstance(repeats, int) or repeats >= 2)


@dataclass
class CompareReport:
    """What ``compare`` returns; see the module's docstring for the entries and ``to_dict``."""

    schema: ClassVar[str] = COMPARE_SCHEMA
    kind: ClassVar[str] = "compare"

    complete: bool
    interrupted: str | None
    created_at: str
    settings: dict[str, Any]
    inputs: str
    data: dict[str, Any] | None
    reference: dict[str, Any] | None
    front: dict[str, Any]
    notes: list[str]
    warnings: list[str]
    environment: dict[str, Any]
    models: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def build(cls, entries: Sequence[Mapping[str, Any]], *, complete: bool = True, interrupted: str | None = None,
              created_at: str = "", settings: Mapping[str, Any] | None = None, inputs: str = "",
              data: Mapping[str, Any] | None = None, reference: Mapping[str, Any] | None = None,
              notes: Sequence[str] = (), warnings: Sequence[str] = (),
              environment: Mapping[str, Any] | None = None) -> CompareReport:
        """The report over ``entries`` (``entry_of``'s), with ranks, ties and the front worked out."""
        models = [dict(e) for e in entries]
        points = [p for p in (point_of(e) for e in models) if p is not None]
        ranked = ranks(points)
        # With data, a front over accuracy, also while no model has finished (none on it then); a model without an
        # accuracy among the others (an entry built by hand) cannot be placed on it: the cheapest are marked, and why.
        with_accuracy = data is not None and all(p.accuracy is not None for p in points)
        members = pareto_front(points) if with_accuracy else cheapest(points)
        for entry in models:
            rank, tie = ranked.get(entry["name"], (None, False))
            entry.update(rank=rank, tie=tie, front=entry["name"] in members)
        front = {"kind": PARETO if with_accuracy else CHEAPEST, "members": members,
                 "note": PARETO_NOTE if with_accuracy else CHEAPEST_NOTE if data is None else PARTIAL_ACCURACY_NOTE}
        all_warnings = list(warnings)
        if len({e.get("method") for e in models if e.get("energy_per_inference_j")}) > 1:
            methods = ", ".join(f"{e['name']}: {e.get('method')}" for e in models)
            all_warnings.append(f"the models' energies were not all obtained the same way ({methods}): measured and "
                                "estimated figures are not comparable")
        alone = [p.name for p in points if not p.interval]
        if alone and len(points) > 1:
            all_warnings.append(f"no confidence interval for {', '.join(alone)} (one repeat): no difference can be "
                                "told, so it is tied with every model; give more repeats")
        return cls(complete=complete, interrupted=interrupted, created_at=created_at, settings=dict(settings or {}),
                   inputs=inputs, data=dict(data) if data is not None else None,
                   reference=dict(reference) if reference is not None else None, front=front, notes=list(notes),
                   warnings=all_warnings, environment=dict(environment or {}), models=models)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": self.schema, "kind": self.kind}
        out.update({f.name: getattr(self, f.name) for f in fields(self)})
        plain: dict[str, Any] = json.loads(json.dumps(out, allow_nan=False))  # a deep, plain copy, never NaN
        return plain

    def to_json(self, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)
        kwargs.setdefault("indent", 2)
        return json.dumps(self.to_dict(), **kwargs)

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        """Write the JSON atomically (a regular file replaced, or written through a FIFO/device)."""
        from greenai_core.io import atomic_write_text

        return atomic_write_text(os.fspath(path), self.to_json() + "\n")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompareReport:
        """The inverse of ``to_dict``; a ``UsageError`` for anything that is not a compare report."""
        if not isinstance(data, Mapping) or data.get("schema") != COMPARE_SCHEMA:
            found = data.get("schema") if isinstance(data, Mapping) else type(data).__name__
            raise UsageError(f"not a greenai compare report: schema is {str(found)[:60]!r}, expected "
                             f"{COMPARE_SCHEMA!r}")
        try:
            return cls(**{f.name: data[f.name] for f in fields(cls)})
        except KeyError as exc:
            raise UsageError(f"not a greenai compare report: missing {exc}") from None

    def to_csv_rows(self) -> list[dict[str, Any]]:
        """One row per model, columns ``CSV_COLUMNS``; empty cells are None."""
        return [_csv_row(e) for e in self.models]

    def to_csv(self) -> str:
        from greenai_core.profiling.csv_report import _safe_cell

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(CSV_COLUMNS))
        writer.writeheader()
        for row in self.to_csv_rows():
            writer.writerow({k: _safe_cell(v) for k, v in row.items()})
        return buffer.getvalue()

    def write_csv(self, path: str | os.PathLike[str]) -> Path:
        from greenai_core.io import atomic_write_text

        return atomic_write_text(os.fspath(path), self.to_csv())

    def to_html(self) -> str:
        from greenai_core.comparison.html import to_html

        return to_html(self.to_dict())

    def write_html(self, path: str | os.PathLike[str]) -> Path:
        from greenai_core.io import atomic_write_text

        return atomic_write_text(os.fspath(path), self.to_html())


def warning_lines(data: Mapping[str, Any]) -> list[str]:
    """The report's warnings, then the models': one shared by every model once, the others prefixed by its name."""
    models = [e for e in data.get("models") or [] if isinstance(e, Mapping)]
    lines = [str(w) for w in data.get("warnings") or []]
    seen: dict[str, list[str]] = {}
    for e in models:
        for warning in dict.fromkeys(str(w) for w in e.get("warnings") or []):
            seen.setdefault(warning, []).append(str(e.get("name")))
    for warning, names in seen.items():
        lines.append(warning if len(names) == len(models) > 1 else f"{', '.join(names)}: {warning}")
    return lines


def _csv_row(entry: Mapping[str, Any]) -> dict[str, Any]:
    energy = entry.get("energy_per_inference_j") or {}
    latency = entry.get("latency_s") or {}
    grade = entry.get("grade") or {}
    flag = {True: "true", False: "false"}
    row = {
        "name": entry.get("name"), "path": entry.get("path"), "format": entry.get("format"),
        "device": entry.get("device"), "num_parameters": entry.get("num_parameters"), "method": entry.get("method"),
        "complete": flag[bool(entry.get("complete"))],
        "energy_per_inference_j": energy.get("mean"), "energy_std_j": energy.get("std"),
        "energy_ci95_low_j": energy.get("ci95_low"), "energy_ci95_high_j": energy.get("ci95_high"),
        "repeats": energy.get("n"), "latency_s": latency.get("mean"), "latency_ci95_low_s": latency.get("ci95_low"),
        "latency_ci95_high_s": latency.get("ci95_high"), "accuracy": entry.get("accuracy"),
        "correct": entry.get("correct"), "evaluated": entry.get("evaluated"),
        "class_mapping": entry.get("class_mapping"), "grade": grade.get("letter"), "stars": grade.get("stars"),
        "rank": entry.get("rank"), "tie": flag[bool(entry.get("tie"))], "front": flag[bool(entry.get("front"))],
        "warnings": " | ".join(str(w) for w in entry.get("warnings") or []) or None,
    }
    return {c: row[c] for c in CSV_COLUMNS}
