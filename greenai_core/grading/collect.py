"""``reference_from_reports``: a reference made of profiling reports measured here, e.g. for training reports.

``calibrate`` profiles the installed reference architectures (``training=True``: those that train,
greenai-torch's); this makes a reference of your own models instead: training reports (a reference
of ``energy_per_step_j``) or inference reports, measured on this machine with the same settings
(``greenai grade --calibrate --from R1.json R2.json ...``). Each entry is one report's graded figure
(gross mean energy per inference, or mean energy per step), exactly what ``grade`` reads from a
report, so a report is graded like with like. The first report gives the hardware and settings;
a report measured otherwise keeps its entry, with warnings saying what differs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from greenai_core.errors import GradeError
from greenai_core.grading.grading import METRICS, _energy, _report_dict, _report_warnings
from greenai_core.grading.matching import hardware_warnings, report_settings, settings_warnings
from greenai_core.grading.reference import MIN_ENTRIES, Reference
from greenai_core.grading.report_power import mean_power


def _count(value: Any, least: int) -> int | None:
    return value if type(value) is int and value >= least else None


def _entry(data: Mapping[str, Any], where: str, metric: str) -> dict[str, Any]:
    """One report's entry; a field the report lacks or holds in another type is left out (the file's schema)."""
    value = _energy(data, metric, where)
    found_stat, found_model = data["stats"][metric], data.get("model")
    stat: Mapping[str, Any] = found_stat if isinstance(found_stat, Mapping) else {}
    model: Mapping[str, Any] = found_model if isinstance(found_model, Mapping) else {}
    path = model.get("path") if isinstance(model.get("path"), str) else None
    ci = [stat.get("ci95_low"), stat.get("ci95_high")]
    entry = {"name": Path(path).name if path else Path(where).name, "report": where,
             "parameters": _count(model.get("num_parameters"), 0),
             "format": model.get("format") if isinstance(model.get("format"), str) else None, "value": value,
             "ci95": ci if all(isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c)
                               for c in ci) else None,
             "n": _count(stat.get("n"), 1), "power_w": mean_power(data),
             "method": data.get("method") if isinstance(data.get("method"), str) else None}
    return {key: field for key, field in entry.items() if field is not None}


def reference_from_reports(reports: Sequence[Any]) -> Reference:
    """A reference from at least five profiling reports of one kind (objects, dicts or JSON files).

    The metric is the reports' graded one (inference: ``energy_per_inference_j``, training:
    ``energy_per_step_j``); ``GradeError`` (one line, naming the report) for a report without
    energy, of another kind than the first, or anything that is not a report.
    """
    if isinstance(reports, (str, os.PathLike)) or not isinstance(reports, Sequence):
        raise GradeError("a reference from reports needs a list of reports")
    if len(reports) < MIN_ENTRIES:
        raise GradeError(f"a reference from reports needs at least {MIN_ENTRIES} reports, {len(reports)} given")
    first: Mapping[str, Any] | None = None
    metric = ""
    entries: list[dict[str, Any]] = []
    for index, report in enumerate(reports):
        data, where = _report_dict(report)
        if not isinstance(report, (str, os.PathLike)):
            where = f"report {index + 1}"
        if first is None:
            first, metric = data, METRICS[data["schema"]]
        elif METRICS[data["schema"]] != metric:
            raise GradeError(f"{where}: a {data['schema']} report, not a {first['schema']} like the first: a "
                             "reference holds one kind")
        entry = _entry(data, where, metric)
        entry["warnings"] = (_report_warnings(data)
                             + hardware_warnings(_environment(data), _environment(first))
                             + settings_warnings(data, report_settings(first)))
        entries.append(entry)
    assert first is not None  # at least MIN_ENTRIES reports were read
    methods = sorted({str(e.get("method")) for e in entries})
    settings = {**report_settings(first), "method": methods[0] if len(methods) == 1 else "mixed",
                "inputs": "profiling reports", "reports": [e["report"] for e in entries]}
    return Reference.from_values(metric, entries, hardware=_environment(first), settings=settings)


def _environment(data: Mapping[str, Any]) -> Mapping[str, Any]:
    found = data.get("environment")
    return found if isinstance(found, Mapping) else {}
