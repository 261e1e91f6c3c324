"""A profiling report as one self-contained HTML page: summary, warnings, the power chart, tables.

The page opens offline: inline CSS, the chart as inline SVG (``svg_chart``), no script, no font,
image or link to anything outside the file, and a Content-Security-Policy that forbids loading
anything should a future edit forget. Every text taken from the report goes through
``html.escape``: model paths, warnings and backend summaries are untrusted (a file name can be
``<img src=x onerror=...>``). Figures keep their unit with an SI prefix and their spread: a mean
is shown with its 95 % confidence interval, standard deviation and number of repeats.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from greenai_core.profiling.csv_report import as_report_dict
from greenai_core.profiling.svg_chart import power_chart

ATTRIBUTION_LABEL = "attribution by CPU time (as Scaphandre, PowerJoular)"
_PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "\u00b5"), (1e-9, "n"))
_NONE = "\u2014"
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1200px;
color:#202124;padding:0 1em;line-height:1.4}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #dadce0}
.sub{color:#5f6368;margin-top:0}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}
th,td{border:1px solid #dadce0;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f1f3f4}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.warnings{border:2px solid #d93025;background:#fce8e6;padding:.6em 1em;border-radius:6px}
.warnings h2{border:none;margin-top:0;color:#a50e0e}
.incomplete{border:2px solid #e37400;background:#fef7e0;padding:.6em 1em;border-radius:6px;font-weight:bold}
.estimate{background:#fef7e0;border:1px solid #f9ab00;padding:0 .3em;border-radius:3px;font-weight:bold}
.note{color:#5f6368;font-size:.9em}.chart,.scroll{overflow-x:auto;max-width:100%}
.chart svg{max-width:100%;height:auto}td{overflow-wrap:anywhere}
"""


def _si(value: float, unit: str, scale: float | None = None) -> str:
    """``value`` in ``unit`` with an SI prefix (chosen from ``scale`` when given), 4 significant digits."""
    ref = abs(scale if scale is not None else value)
    factor, prefix = next(((f, p) for f, p in _PREFIXES if ref >= f), _PREFIXES[-1]) if ref > 0 else (1.0, "")
    return f"{value / factor:.4g} {prefix}{unit}"


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _fig(value: Any, unit: str) -> str:
    number = _num(value)
    if number is None:
        return _NONE
    return _si(number, unit) if unit else f"{number:.4g}"


def _stat(stat: Any, unit: str) -> str:
    """Escaped 'mean ± half-interval unit' with the interval, std and n."""
    if not isinstance(stat, Mapping) or _num(stat.get("mean")) is None:
        return _NONE
    mean = float(stat["mean"])
    low, high, std = (_num(stat.get(k)) or 0.0 for k in ("ci95_low", "ci95_high", "std"))
    n, method = stat.get("n"), str(stat.get("method", ""))
    scale = mean or high
    if n == 1 or method == "single run":
        return f"<b>{escape(_si(mean, unit, scale))}</b> <span class=note>(one run: no spread)</span>"
    half = max(high - mean, mean - low)
    return (f"<b>{escape(_si(mean, unit, scale))}</b> \u00b1 {escape(_si(half, unit, scale))} "
            f"<span class=note>(95 % CI {escape(_si(low, unit, scale))} to {escape(_si(high, unit, scale))}; "
            f"std {escape(_si(std, unit, scale))}; n = {escape(str(n))}, {escape(method)})</span>")


def _text(value: Any, limit: int = 600) -> str:
    """Any report value as short escaped text."""
    if value is None:
        return _NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return escape(f"{value:.6g}")
    if isinstance(value, (Mapping, list, tuple)):
        text = json.dumps(value, default=str, ensure_ascii=False)
    else:
        text = str(value)
    return escape(text if len(text) <= limit else text[:limit] + "\u2026")


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1) -> str:
    """A table of already-escaped cells; columns from ``numeric_from`` on are right-aligned."""
    out = ['<div class="scroll"><table>']
    if any(head):
        out += ["<thead><tr>", *(f"<th>{h}</th>" for h in head), "</tr></thead>"]
    out.append("<tbody>")
    for row in rows:
        cells = (f'<td class="num">{c}</td>' if numeric_from <= i < len(head) and c != _NONE else f"<td>{c}</td>"
                 for i, c in enumerate(row))
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _kv(rows: Sequence[tuple[str, str]]) -> str:
    return _table(("", ""), [(f"<b>{escape(k)}</b>", v) for k, v in rows], numeric_from=99)


def _backends(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    backends = (report.get("environment") or {}).get("backends") or []
    return [b for b in backends if isinstance(b, Mapping)]


def _method_line(report: Mapping[str, Any]) -> str:
    method = str(report.get("method", "none"))
    if method in ("estimated", "mixed"):
        what = "every figure" if method == "estimated" else "part of the figures"
        return (f'{escape(method)} <span class="estimate">estimate</span> <span class=note>({what} comes from a '
                "model of power, not from a sensor: see the sensors' assumptions below)</span>")
    return escape(method)


def _sensor_lines(report: Mapping[str, Any]) -> tuple[str, str]:
    sensors, resolutions = [], []
    for b in _backends(report):
        tag = ' <span class="estimate">estimate</span>' if b.get("method") == "estimated" else ""
        scopes = ", ".join(f"{d}: {s}" for d, s in (b.get("scopes") or {}).items())
        sensors.append(f"<b>{escape(str(b.get('name')))}</b> ({escape(str(b.get('method')))}){tag}: "
                       f"{_text(b.get('summary'))}" + (f" <span class=note>[scope {escape(scopes)}]</span>"
                                                       if scopes else ""))
        period = _num(b.get("update_period_s"))
        resolutions.append(f"{escape(str(b.get('name')))}: {_fig(b.get('resolution_j'), 'J')}, "
                           + (f"updates every {_fig(period, 's')}" if period else "read when asked"))
    return "<br>".join(sensors) or _NONE, "<br>".join(resolutions) or _NONE


def _common_rows(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    sensors, resolution = _sensor_lines(report)
    rows = [("Method", _method_line(report)), ("Sensors", sensors), ("Resolution", resolution)]
    baseline = report.get("baseline")
    if isinstance(baseline, Mapping):
        by_domain = ", ".join(f"{escape(str(d))} {_fig(w, 'W')}" for d, w in (baseline.get("power_w_by_domain") or {})
                              .items())
        rows.append(("Idle baseline power", f"<b>{_fig(baseline.get('power_w'), 'W')}</b> over "
                     f"{_fig(baseline.get('duration_s'), 's')}" + (f" <span class=note>({by_domain})</span>"
                                                                  if by_domain else "")))
    else:
        rows.append(("Idle baseline power", "not measured (no net figures)"))
    carbon = report.get("carbon")
    if isinstance(carbon, Mapping):
        rows.append(("Carbon intensity", f"{_text(carbon.get('intensity_g_per_kwh'))} g CO\u2082e/kWh, PUE "
                     f"{_text(carbon.get('pue'))} <span class=note>({_text(carbon.get('note'))})</span>"))
    return rows


def _inference_summary(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    stats = report.get("stats") or {}
    settings = report.get("settings") or {}
    no_baseline = "\u2014 (no idle baseline measured)"
    rows = [
        ("Energy per inference (gross)", _stat(stats.get("energy_per_inference_j"), "J")),
        ("Wh per 1,000 inferences (gross)", _stat(stats.get("wh_per_1000_inferences"), "Wh")),
        ("Energy per inference (net of idle)", _stat(stats.get("net_energy_per_inference_j"), "J")
         if stats.get("net_energy_per_inference_j") else no_baseline),
        ("Wh per 1,000 inferences (net of idle)", _stat(stats.get("net_wh_per_1000_inferences"), "Wh")
         if stats.get("net_wh_per_1000_inferences") else no_baseline),
        (f"Latency per predict call (batch of {settings.get('batch_size', '?')})", _stat(stats.get("latency_s"), "s")),
        ("Throughput (inferences/s)", _stat(stats.get("throughput_per_s"), "/s")),
        ("Attributed energy per inference",
         _stat(stats.get("attributed_energy_per_inference_j"), "J") + f" <span class=note>({ATTRIBUTION_LABEL})</span>"
         if stats.get("attributed_energy_per_inference_j") else
         f"\u2014 <span class=note>(no {ATTRIBUTION_LABEL}: a counted domain is the process's own, or /proc/stat "
         "was unreadable)</span>"),
    ]
    for domain, stat in (stats.get("energy_per_inference_j_by_domain") or {}).items():
        rows.append((f"Energy per inference, {domain}", _stat(stat, "J")))
    if stats.get("g_co2_per_inference"):
        rows.append(("Carbon per inference (g CO\u2082e)", _stat(stats.get("g_co2_per_inference"), "g")))
    rows.append(("Repeats", f"{len(report.get('repeats') or [])} of {_text(settings.get('repeats'))}, "
                 f"{_text(settings.get('inferences_per_repeat'))} inferences each "
                 f"({_text(settings.get('runs'))} predict calls, chosen by {_text(settings.get('runs_chosen_by'))}); "
                 f"warm-up {_text(settings.get('warmup'))}"))
    return rows


def _training_summary(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    stats = report.get("stats") or {}
    steps = report.get("steps") or {}
    rows = [
        ("Energy per training step", _stat(stats.get("energy_per_step_j"), "J")),
        ("Energy per sample", _stat(stats.get("energy_per_sample_j"), "J")),
        ("Energy per epoch", _stat(stats.get("energy_per_epoch_j"), "J")),
        ("Wh per 1,000 samples", _stat(stats.get("wh_per_1000_samples"), "Wh")),
        ("Energy per step (net of idle)", _stat(stats.get("net_energy_per_step_j"), "J")
         if stats.get("net_energy_per_step_j") else "\u2014 (no idle baseline measured)"),
        ("Steps measured", f"{_text(steps.get('count'))}: per-step energy {_stat(steps.get('energy_j'), 'J')}"),
    ]
    if stats.get("g_co2_per_sample"):
        rows.append(("Carbon per sample (g CO\u2082e)", _stat(stats.get("g_co2_per_sample"), "g")))
    return rows


def _repeats_table(report: Mapping[str, Any]) -> str:
    repeats = [r for r in report.get("repeats") or [] if isinstance(r, Mapping)]
    if not repeats:
        return "<p>No repeat finished.</p>"
    domains = list(dict.fromkeys(str(d) for r in repeats for d in (r.get("energy_j_by_domain") or {})))
    head = ["#", "predict calls", "inferences", "duration", "energy", "net energy", "attributed", "CPU time",
            "energy / inference", *(escape(f"energy {d}") for d in domains), "partial", "warnings"]
    rows = []
    for r in repeats:
        inferences = _num(r.get("inferences"))
        per = _fig(r["energy_j"] / inferences, "J") if inferences and _num(r.get("energy_j")) is not None else _NONE
        by_domain = r.get("energy_j_by_domain") or {}
        rows.append([_text(r.get("index")), _text(r.get("predict_calls")), _text(r.get("inferences")),
                     _fig(r.get("duration_s"), "s"), _fig(r.get("energy_j"), "J"), _fig(r.get("net_energy_j"), "J"),
                     _fig(r.get("attributed_energy_j"), "J"), _fig(r.get("cpu_time_s"), "s"), per,
                     *(_fig(by_domain.get(d), "J") for d in domains), _text(r.get("partial")),
                     "<br>".join(escape(str(w)) for w in r.get("warnings") or []) or _NONE])
    return _table(head, rows)


def _epochs_table(report: Mapping[str, Any]) -> str:
    epochs = [e for e in report.get("epochs") or [] if isinstance(e, Mapping)]
    if not epochs:
        return "<p>No epoch finished.</p>"
    head = ["epoch", "duration", "steps", "samples", "energy", "net energy", "energy / step", "energy / sample",
            "loss", "accuracy", "val accuracy", "complete"]
    rows = [[_text(e.get("epoch")), _fig(e.get("duration_s"), "s"), _text(e.get("steps")), _text(e.get("samples")),
             _fig(e.get("energy_j"), "J"), _fig(e.get("net_energy_j"), "J"), _fig(e.get("energy_per_step_j"), "J"),
             _fig(e.get("energy_per_sample_j"), "J"), _fig(e.get("loss"), ""), _fig(e.get("accuracy"), ""),
             _fig(e.get("val_accuracy"), ""), _text(e.get("complete"))] for e in epochs]
    return _table(head, rows)


def _environment(report: Mapping[str, Any]) -> str:
    env = report.get("environment") or {}
    rows = [(label, _text(env.get(key))) for label, key in (
        ("CPU", "cpu_model"), ("logical CPUs", "logical_cpus"), ("GPUs", "gpus"), ("OS", "os"), ("Python", "python"),
        ("greenai", "greenai"), ("frameworks", "frameworks"))]
    backends = [[escape(str(b.get("name"))), _text(b.get("version")), _text(b.get("method")), _text(b.get("domains")),
                 _text(b.get("counted_domains")), _text(b.get("scopes")), _text(b.get("components")),
                 _fig(b.get("resolution_j"), "J"), _fig(b.get("update_period_s"), "s"),
                 "<br>".join(f"<b>{escape(str(k))}</b>: {_text(v)}" for k, v in (b.get("assumptions") or {}).items())
                 or _NONE] for b in _backends(report)]
    table = _table(("backend", "version", "method", "domains", "counted", "scopes", "components", "resolution",
                    "update period", "assumptions"), backends, numeric_from=7) if backends else "<p>No backend.</p>"
    return _kv(rows) + "<h3>Sensors</h3>" + table


def _chart(report: Mapping[str, Any]) -> str:
    methods = {str(b.get("name")): str(b.get("method")) for b in _backends(report)}
    timeline = report.get("timeline") or []
    phases = report.get("phases") or []
    chart = power_chart(timeline if isinstance(timeline, list) else [], phases if isinstance(phases, list) else [],
                        methods)
    if chart is None:
        return '<p class="no-timeline"><b>No timeline recorded</b>: the run kept no power readings to draw.</p>'
    estimated = any(m == "estimated" for m in methods.values())
    notes = ["Power per domain, from each sensor's successive readings (joules between two readings / their "
             "interval). Shaded bands: the idle baseline (grey), the warm-up (amber) and each "
             f"{'epoch' if report.get('kind') == 'training' else 'repeat'} (blue)."]
    if estimated:
        notes.append('Dashed lines are an <span class="estimate">estimate</span> (a model of power), not a '
                     "measurement.")
    if chart.points_drawn < chart.points_recorded:
        notes.append(f"Downsampled for drawing: {chart.points_drawn} of {chart.points_recorded} points "
                     "(each stretch keeps its lowest and highest reading).")
    return f'<div class="chart">{chart.svg}</div><p class=note>{" ".join(notes)}</p>'


def to_html(report: Any) -> str:
    """The whole page for a report (``to_dict()`` form, or the report object itself)."""
    data = as_report_dict(report)
    training = data.get("kind") == "training"
    model = data.get("model") or {}
    path = str(model.get("path", "?"))
    name = os.path.basename(path.rstrip("/")) or path
    created = str(data.get("created_at", ""))
    what = "training" if training else "inference"
    title = f"greenai {what} profile: {name} ({created})"
    body = [f"<h1>Energy per {'training step' if training else 'inference'}: {escape(name)}</h1>",
            f'<p class="sub">{escape(what)} profile of <code>{escape(path)}</code> ({_text(model.get("format"))} on '
            f"{_text(model.get('device'))}), {escape(created)}</p>"]
    if not data.get("complete", True):
        done = len(data.get("epochs" if training else "repeats") or [])
        body.append(f'<p class="incomplete">Incomplete run ({_text(data.get("interrupted") or "stopped early")}): '
                    f"the figures cover the {done} {'epoch' if training else 'repeat'}(s) finished.</p>")
    warnings = [str(w) for w in data.get("warnings") or []]
    if warnings:
        body.append(f'<section class="warnings"><h2>Warnings ({len(warnings)})</h2><ul>'
                    + "".join(f"<li>{escape(w)}</li>" for w in warnings) + "</ul></section>")
    summary = _training_summary(data) if training else _inference_summary(data)
    if not data.get("stats"):
        summary = [("Figures", "none: nothing was finished")]
    body += ["<h2>Summary</h2>", _kv([*summary, *_common_rows(data)]),
             "<h2>Power over time</h2>", _chart(data),
             f"<h2>{'Epochs' if training else 'Repeats'}</h2>",
             _epochs_table(data) if training else _repeats_table(data),
             "<h2>Model and settings</h2>",
             _kv([(str(k), _text(v)) for k, v in model.items()] + [(f"setting: {k}", _text(v)) for k, v in
                                                                   (data.get("settings") or {}).items()])]
    if training and isinstance(data.get("training"), Mapping):
        body += ["<h2>Training result</h2>", _kv([(str(k), _text(v)) for k, v in data["training"].items()])]
    body += ["<h2>Environment</h2>", _environment(data),
             f"<p class=note>Written by greenai {_text((data.get('environment') or {}).get('greenai'))}; schema "
             f"{_text(data.get('schema'))}. This page loads nothing from anywhere: it opens offline.</p>"]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n" + "\n".join(body)
            + "\n</body></html>\n")


def write_html(report: Any, path: str | os.PathLike[str]) -> Path:
    """Write the page atomically (a regular file replaced, or written through a FIFO/device); the file written."""
    from greenai_core.io import atomic_write_text

    return atomic_write_text(os.fspath(path), to_html(report))
