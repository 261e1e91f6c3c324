"""A profiling report as CSV rows: one per repeat (or epoch), one per statistic, one per warning.

Every row has every column (one header), and the first columns repeat what the run was, so a
row copied elsewhere still says what it measured:

    row, report, model, format, device, method, backends, created_at, report_complete, baseline_power_w

``row`` is ``repeat`` | ``epoch`` | ``stat`` | ``warning``; ``report`` is ``inference`` | ``training``;
``backends`` the backends' names joined by ``"; "``; ``baseline_power_w`` empty when no baseline was
measured. Then, for inference reports, the per-repeat columns

    index, predict_calls, inferences, duration_s, energy_j, net_energy_j, attributed_energy_j, cpu_time_s,
    energy_per_inference_j, latency_s, throughput_per_s, partial, energy_j[DOMAIN]..., warnings

(``latency_s`` per predict call, ``throughput_per_s`` in inferences per second, one ``energy_j[DOMAIN]``
column per domain), or for training reports the per-epoch columns

    index, steps, samples, duration_s, energy_j, net_energy_j, energy_per_step_j, energy_per_sample_j,
    loss, accuracy, val_accuracy, partial, warnings

and finally the statistic columns, filled on ``stat`` rows only

    name, unit, mean, std, ci95_low, ci95_high, n, stat_method

``name`` is the statistic's key in the report (``energy_per_inference_j``; a domain's as
``energy_per_inference_j[package-0]``; training's per-step summary as ``steps.energy_j``).
``warning`` rows hold one of the report's warnings in ``warnings``. Units: J, s, W, Wh, g.
Empty cells are None in :func:`to_csv_rows` and empty in the file; ``partial`` and
``report_complete`` are ``true``/``false``. :func:`write_csv` also neutralises cells a spreadsheet
would run as a formula (text starting with ``=``, ``+``, ``-``, ``@``: a model path is untrusted)
by prefixing an apostrophe, as OWASP recommends; numbers are written as Python writes them
(shortest exact form).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

Cell = str | float | int | None
Row = dict[str, Cell]

LEADING = ("row", "report", "model", "format", "device", "method", "backends", "created_at", "report_complete",
           "baseline_power_w")
REPEAT_COLUMNS = ("index", "predict_calls", "inferences", "duration_s", "energy_j", "net_energy_j",
                  "attributed_energy_j", "cpu_time_s", "energy_per_inference_j", "latency_s", "throughput_per_s",
                  "partial")
EPOCH_COLUMNS = ("index", "steps", "samples", "duration_s", "energy_j", "net_energy_j", "energy_per_step_j",
                 "energy_per_sample_j", "loss", "accuracy", "val_accuracy", "partial")
STAT_COLUMNS = ("name", "unit", "mean", "std", "ci95_low", "ci95_high", "n", "stat_method")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_report_dict(report: Any) -> Mapping[str, Any]:
    """The report's dict: a report object is turned into one with its ``to_dict()``; a mapping is used as is."""
    if isinstance(report, Mapping):
        return report
    to_dict = getattr(report, "to_dict", None)
    if callable(to_dict):
        data = to_dict()
        if isinstance(data, Mapping):
            return data
    from greenai_core.errors import UsageError

    raise UsageError(f"not a greenai profiling report: {type(report).__name__}")


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _ratio(top: Any, bottom: Any) -> float | None:
    a, b = _number(top), _number(bottom)
    if a is None or b is None or b == 0:
        return None
    return a / b


def _flag(value: Any) -> str | None:
    return None if value is None else ("true" if value else "false")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _joined(values: Any) -> str | None:
    if not isinstance(values, Sequence) or isinstance(values, str) or not values:
        return None
    return " | ".join(str(v) for v in values)


def unit_of(name: str) -> str:
    """The unit a statistic's key names (its suffix)."""
    base = name.split("[", 1)[0]
    if base.startswith(("wh_per_", "net_wh_per_")):
        return "Wh"
    if base.startswith("g_co2"):
        return "g"
    if base.endswith("_per_s"):
        return "1/s"
    for suffix, unit in (("_j", "J"), ("_s", "s"), ("_w", "W")):
        if base.endswith(suffix):
            return unit
    return ""


def _leading(report: Mapping[str, Any], row: str) -> Row:
    model = report.get("model") or {}
    backends = (report.get("environment") or {}).get("backends") or []
    baseline = report.get("baseline") or {}
    return {
        "row": row,
        "report": _text(report.get("kind")),
        "model": _text(model.get("path")),
        "format": _text(model.get("format")),
        "device": _text(model.get("device")),
        "method": _text(report.get("method")),
        "backends": "; ".join(str(b.get("name")) for b in backends if isinstance(b, Mapping)) or None,
        "created_at": _text(report.get("created_at")),
        "report_complete": _flag(report.get("complete")),
        "baseline_power_w": _number(baseline.get("power_w")),
    }


def _domains(repeats: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for r in repeats:
        for d in r.get("energy_j_by_domain") or {}:
            seen[str(d)] = None
    return list(seen)


def _stat_items(stats: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Mapping[str, Any]]]:
    """(name, Stat dict) for every statistic present, in the report's order; nested maps are per domain."""
    items: list[tuple[str, Mapping[str, Any]]] = []
    for key, value in stats.items():
        if not isinstance(value, Mapping):
            continue
        if "mean" in value:
            items.append((f"{prefix}{key}", value))
        else:  # {domain: Stat}
            base = f"{prefix}{key}".removesuffix("_by_domain")
            items += [(f"{base}[{d}]", s) for d, s in value.items() if isinstance(s, Mapping) and "mean" in s]
    return items


def _stat_row(report: Mapping[str, Any], name: str, stat: Mapping[str, Any]) -> Row:
    row = _leading(report, "stat")
    row.update(name=name, unit=unit_of(name), mean=_number(stat.get("mean")), std=_number(stat.get("std")),
               ci95_low=_number(stat.get("ci95_low")), ci95_high=_number(stat.get("ci95_high")),
               n=_number(stat.get("n")), stat_method=_text(stat.get("method")))
    return row


def to_csv_rows(report: Any) -> list[Row]:
    """The rows described in the module's docstring; every row has the same keys, in column order."""
    data = as_report_dict(report)
    training = data.get("kind") == "training"
    units = [u for u in (data.get("epochs") if training else data.get("repeats")) or [] if isinstance(u, Mapping)]
    if training:
        middle = list(EPOCH_COLUMNS)
    else:
        domains = _domains(units)
        middle = [*REPEAT_COLUMNS, *(f"energy_j[{d}]" for d in domains)]
    columns = [*LEADING, *middle, "warnings", *STAT_COLUMNS]
    rows: list[Row] = []
    for unit in units:
        row = _leading(data, "epoch" if training else "repeat")
        if training:
            row.update({c: _number(unit.get(c)) for c in EPOCH_COLUMNS[1:-1]})
            row.update(index=_number(unit.get("epoch")), partial=_flag(not unit.get("complete", True)))
        else:
            row.update({c: _number(unit.get(c)) for c in REPEAT_COLUMNS[:8]})
            row.update(energy_per_inference_j=_ratio(unit.get("energy_j"), unit.get("inferences")),
                       latency_s=_ratio(unit.get("duration_s"), unit.get("predict_calls")),
                       throughput_per_s=_ratio(unit.get("inferences"), unit.get("duration_s")),
                       partial=_flag(unit.get("partial")))
            by_domain = unit.get("energy_j_by_domain") or {}
            row.update({f"energy_j[{d}]": _number(by_domain.get(d)) for d in domains})
        row["warnings"] = _joined(unit.get("warnings"))
        rows.append(row)
    stats = data.get("stats") or {}
    rows += [_stat_row(data, name, stat) for name, stat in _stat_items(stats)]
    if training and isinstance(data.get("steps"), Mapping):
        rows += [_stat_row(data, name, stat) for name, stat in _stat_items(
            {k: v for k, v in data["steps"].items() if k != "count"}, prefix="steps.")]
    for warning in data.get("warnings") or []:
        row = _leading(data, "warning")
        row["warnings"] = str(warning)
        rows.append(row)
    return [{c: row.get(c) for c in columns} for row in rows]


def _safe_cell(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(report: Any) -> str:
    """The CSV text (header and rows, ``\\r\\n`` line ends as RFC 4180 has them)."""
    rows = to_csv_rows(report)
    buffer = io.StringIO()
    if not rows:  # a report always has its statistics or warnings; an empty one gets the header alone
        columns = [*LEADING, *STAT_COLUMNS]
    else:
        columns = list(rows[0])
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _safe_cell(v) for k, v in row.items()})
    return buffer.getvalue()


def write_csv(report: Any, path: str | os.PathLike[str]) -> Path:
    """Write the CSV atomically (a regular file replaced, or written through a FIFO/device); the file written."""
    from greenai_core.io import atomic_write_text

    return atomic_write_text(os.fspath(path), to_csv(report))
