"""``grade``: a profiling report (object, dict or JSON file) to a ``Grade``.

What is graded, like with like: the reference (``calibrate``) stores each architecture's *gross*
mean energy per inference, measured with the same protocol; so an inference report is graded by
its gross ``stats.energy_per_inference_j.mean``, not the net figure (the baseline's idle power is
in both or in neither). A training report is graded by ``stats.energy_per_step_j.mean`` and needs
a reference of that metric: ``calibrate(training=True)`` (``greenai grade --calibrate --training``),
``reference_from_reports`` of training reports (``greenai grade --calibrate --from ...``), or
``Reference.from_values("energy_per_step_j", ...)``. With no reference given, the default one of the
report's metric is used (``default_reference_path(metric)``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from greenai_core.errors import GradeError
from greenai_core.grading.legacy import legacy_grade
from greenai_core.grading.matching import hardware_warnings, settings_warnings
from greenai_core.grading.reference import Reference, default_reference_path
from greenai_core.grading.relative import relative_grade
from greenai_core.grading.report_power import refuse_without_energy
from greenai_core.grading.result import Grade

#: How ``profile_training``'s warning about a first step carrying start-up costs begins.
START_UP_WARNING = "the first training step cost "

INFERENCE_SCHEMA = "greenai.inference-report/1"
TRAINING_SCHEMA = "greenai.training-report/1"
#: report schema -> the metric it is graded by (a key of its ``stats``)
METRICS = {INFERENCE_SCHEMA: "energy_per_inference_j", TRAINING_SCHEMA: "energy_per_step_j"}
SCHEMES = ("relative", "greenidcard")


def grade(report: Any, reference: Reference | str | os.PathLike[str] | None = None, *,
          scheme: str = "relative", pue: float | None = None) -> Grade:
    """Grade ``report``: an ``InferenceReport``/``TrainingReport``, its ``to_dict()``, or a report JSON path.

    ``scheme="relative"``: against ``reference`` (a ``Reference``, a reference file, or None for
    ``default_reference_path(metric)``, the report's metric's); see the module's docstring for the metric.
    ``scheme="greenidcard"``: the legacy scale from the report's mean active power (``pue``: default the
    report's, else 1.0).
    ``GradeError`` (one line) for a report without energy, a missing or bad reference, a metric the
    reference does not hold. Always one ``Grade`` (the agreed ``Grade | list[Grade]`` narrowed).
    """
    if scheme not in SCHEMES:
        raise GradeError(f"unknown grading scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    data, where = _report_dict(report)
    if scheme == "greenidcard":
        from greenai_core.grading.report_power import greenidcard_inputs

        power, maximum, used_pue, notes, details = greenidcard_inputs(data, where, pue)
        return legacy_grade(power, maximum, used_pue, warnings=_report_warnings(data) + notes, details=details)
    metric = METRICS[data["schema"]]
    value = _energy(data, metric, where)
    ref = _reference(reference, metric)
    if ref.metric != metric:
        kind = "a training report is graded by energy per step" if metric == "energy_per_step_j" else \
            "an inference report is graded by energy per inference"
        how = " (make one from at least 5 training reports: `greenai grade --calibrate --from R1.json ...`, or " \
            "with `greenai grade --calibrate --training`)" if metric == "energy_per_step_j" else ""
        raise GradeError(f"{ref.path or 'the reference'} holds {ref.metric!r}; {kind}, which needs a reference "
                         f"of {metric!r}{how}")
    notes = _report_warnings(data)
    notes += hardware_warnings(_mapping(data.get("environment")), ref.hardware)
    notes += settings_warnings(data, ref.settings)
    return relative_grade(value, ref, metric=metric, warnings=notes)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _report_dict(report: Any) -> tuple[dict[str, Any], str]:
    """``report`` as its dict and a name for messages; ``GradeError`` for anything that is not a report."""
    if isinstance(report, (str, os.PathLike)):
        from greenai_core.grading.files import read_json

        where = os.fspath(report)
        data = read_json(where, "a greenai profiling report")
    elif hasattr(report, "to_dict") and callable(report.to_dict):
        where, data = "the report", report.to_dict()
    else:
        where, data = "the report", report
    if not isinstance(data, Mapping):
        raise GradeError(f"{where}: not a greenai profiling report (expected an object, found {type(data).__name__})")
    if not isinstance(data.get("schema"), str) or data["schema"] not in METRICS:
        hint = "; a `greenai measure --json` result is graded by `greenai measure --grade`" \
            if "energy_j" in data and "schema" not in data else ""
        raise GradeError(f"{where}: not a greenai profiling report (schema is {str(data.get('schema'))[:60]!r}, "
                         f"expected one of {', '.join(map(repr, METRICS))}){hint}")
    return dict(data), where


def _energy(data: Mapping[str, Any], metric: str, where: str) -> float:
    """The report's mean of ``metric``; ``GradeError`` when it holds no energy to grade."""
    refuse_without_energy(data, where)
    stats = data.get("stats")
    if not isinstance(stats, Mapping):
        why = f"interrupted ({data.get('interrupted')}) before anything finished" if data.get("interrupted") else \
            "it has no statistics"
        raise GradeError(f"{where}: holds no energy figure to grade ({why})")
    stat = stats.get(metric)
    mean = stat.get("mean") if isinstance(stat, Mapping) else getattr(stat, "mean", None)
    if isinstance(mean, bool) or not isinstance(mean, (int, float)) or not math.isfinite(mean) or mean <= 0:
        raise GradeError(f"{where}: holds no usable {metric} (found {str(mean)[:40]}): nothing to grade")
    return float(mean)


def _report_warnings(data: Mapping[str, Any]) -> list[str]:
    notes = []
    if not data.get("complete", True):
        notes.append(f"the report is incomplete ({data.get('interrupted') or 'stopped early'}): "
                     "its figure covers only what finished")
    warnings = data.get("warnings")
    if isinstance(warnings, list) and any(isinstance(w, str) and w.startswith(START_UP_WARNING) for w in warnings):
        notes.append("the report's first training step carries one-time start-up costs (its own warning says how "
                     "much) that the calibrated references leave out: its energy per step is overstated; grade a "
                     "longer training")
    if data.get("method") in ("estimated", "mixed"):
        notes.append(f"the report's energy is {'an estimate' if data['method'] == 'estimated' else 'partly estimated'}"
                     ", not a measurement")
    return notes


def _reference(reference: Reference | str | os.PathLike[str] | None, metric: str) -> Reference:
    """The reference given, else the default one of ``metric`` (inference and training ones live apart)."""
    if isinstance(reference, Reference):
        return reference
    path = Path(reference) if reference is not None else default_reference_path(metric)
    if reference is None and not path.exists():
        command = "greenai grade --calibrate" + (" --training" if metric == "energy_per_step_j" else "")
        raise GradeError(f"no reference at {path}: make one with `{command}` "
                         "(or give one with --reference REF.json)")
    return Reference.load(path)
