"""A compare report as one self-contained HTML page: the table, the scatter chart, notes and warnings.

Same rules as the profiling page (``profiling.html_report``, whose style and cell helpers it
uses): inline CSS and SVG, no script, a Content-Security-Policy forbidding every load, every
text from the report escaped (model paths are untrusted).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from greenai_core.comparison.pareto import Point, front_steps
from greenai_core.comparison.report import PARETO, point_of, warning_lines
from greenai_core.comparison.scatter import Dot, scatter
from greenai_core.profiling.html_report import STYLE, _fig, _kv, _num, _si, _table, _text

_NONE = "\u2014"


def _grade_cell(entry: Mapping[str, Any]) -> str:
    grade = entry.get("grade")
    if not isinstance(grade, Mapping):
        return "-"
    stars = grade.get("stars")
    return escape(str(grade.get("letter"))) + (f" ({escape(str(stars))}\u2605)" if stars is not None else "")


def _rank_cell(entry: Mapping[str, Any]) -> str:
    if entry.get("rank") is None:
        return _NONE
    return escape(str(entry["rank"])) + (" <b>tie</b>" if entry.get("tie") else "")


def _accuracy_cell(entry: Mapping[str, Any]) -> str:
    if entry.get("accuracy") is None:
        return _NONE
    return (f"{float(entry['accuracy']) * 100:.1f} % <span class=note>({_text(entry.get('correct'))}/"
            f"{_text(entry.get('evaluated'))})</span>")


def _energy_cell(stat: Any) -> str:
    """'mean ± half-interval' and the interval, compact (the table is wide); units share the mean's prefix."""
    if not isinstance(stat, Mapping) or _num(stat.get("mean")) is None:
        return _NONE
    mean = float(stat["mean"])
    low, high = (_num(stat.get(k)) or 0.0 for k in ("ci95_low", "ci95_high"))
    scale = mean or high
    if stat.get("n") == 1:
        return f"<b>{escape(_si(mean, 'J', scale))}</b> <span class=note>(one repeat: no interval)</span>"
    half = max(high - mean, mean - low)
    return (f"<b>{escape(_si(mean, 'J', scale))}</b> \u00b1 {escape(_si(half, 'J', scale))} <span class=note>"
            f"({escape(_si(low, 'J', scale))} to {escape(_si(high, 'J', scale))}, n = {escape(str(stat.get('n')))})"
            "</span>")


def _models_table(data: Mapping[str, Any], marker: str) -> str:
    head = ["model", "format", "parameters", "latency (mean)", "energy per inference (95 % CI)", "accuracy", "grade",
            "rank by energy", marker]
    rows = []
    for e in data.get("models") or []:
        if not isinstance(e, Mapping):
            continue
        name = escape(str(e.get("name")))
        if not e.get("complete", True):
            name += ' <span class="estimate">incomplete</span>'
        latency = e.get("latency_s")
        rows.append([name, _text(e.get("format")), _text(e.get("num_parameters")),
                     _fig(latency.get("mean"), "s") if isinstance(latency, Mapping) else _NONE,
                     _energy_cell(e.get("energy_per_inference_j")), _accuracy_cell(e), _grade_cell(e), _rank_cell(e),
                     "\u2714" if e.get("front") else ""])
    return _table(head, rows, numeric_from=2)


def _chart(data: Mapping[str, Any], with_accuracy: bool) -> str:
    models = [e for e in data.get("models") or [] if isinstance(e, Mapping)]
    points: list[Point] = [p for p in (point_of(e) for e in models) if p is not None]
    if not points:
        return '<p class="no-chart"><b>No chart</b>: no model finished a repeat.</p>'
    front = [str(e.get("name")) for e in models if e.get("front")]
    by_name = {str(e.get("name")): e for e in models}
    dots = []
    for p in points:
        x = (p.accuracy or 0.0) * 100 if with_accuracy else float(by_name[p.name].get("num_parameters") or 0)
        dots.append(Dot(p.name, x, p.energy, p.ci_low, p.ci_high, p.name in front))
    if with_accuracy:
        steps = [(acc * 100, energy) for acc, energy in front_steps(points, front)]
        svg = scatter(dots, x_title="top-1 accuracy", x_unit="%", percent=True, steps=steps)
        note = ("Each point is a model: its mean energy per inference (y) and top-1 accuracy (x); the bar is the 95 % "
                "confidence interval. Orange points and the dashed step line are the Pareto front.")
    else:
        svg = scatter(dots, x_title="parameters", x_unit="", percent=False)
        note = ("Each point is a model: its mean energy per inference (y) against its parameters (x); the bar is the "
                "95 % confidence interval. Without labelled data there is no accuracy and no front: orange points "
                "are the cheapest models, those no other model is cheaper than beyond the intervals.")
    return f'<div class="chart">{svg}</div><p class=note>{note}</p>'


def to_html(data: Mapping[str, Any]) -> str:
    """The whole page for a compare report's ``to_dict()``."""
    front = data.get("front") or {}
    with_accuracy = front.get("kind") == PARETO
    marker = "Pareto front" if with_accuracy else "cheapest (ties)"
    created = str(data.get("created_at", ""))
    count = len(data.get("models") or [])
    body = [f"<h1>Energy per inference of {count} model{'s' * (count != 1)}, side by side</h1>",
            f'<p class="sub">greenai compare, {escape(created)}</p>']
    if not data.get("complete", True):
        body.append(f'<p class="incomplete">Incomplete run ({_text(data.get("interrupted") or "stopped early")}): '
                    "only the models finished are shown.</p>")
    warnings = warning_lines(data)
    if warnings:
        body.append(f'<section class="warnings"><h2>Warnings ({len(warnings)})</h2><ul>'
                    + "".join(f"<li>{escape(w)}</li>" for w in warnings) + "</ul></section>")
    mappings = sorted({str(e.get("class_mapping")) for e in data.get("models") or []
                       if isinstance(e, Mapping) and e.get("class_mapping")})
    notes = [str(front.get("note", "")), *(str(n) for n in data.get("notes") or []),
             *([f"Accuracy: top-1 on the labelled data, outputs matched to its classes by {' / '.join(mappings)}."]
               if mappings else []),
             "Models whose 95 % confidence intervals overlap are tied: same rank, never ordered."]
    body += ["<h2>Models</h2>", _models_table(data, marker),
             "<ul class=note>" + "".join(f"<li>{escape(n)}</li>" for n in notes if n) + "</ul>",
             "<h2>Energy per inference against " + ("accuracy" if with_accuracy else "parameters") + "</h2>",
             _chart(data, with_accuracy)]
    settings = data.get("settings") or {}
    rows = [(f"setting: {k}", _text(v)) for k, v in settings.items()]
    dataset = data.get("data")
    if isinstance(dataset, Mapping):
        rows.append(("labelled data", f"{_text(dataset.get('path'))}: {_text(dataset.get('images'))} images in "
                     f"{len(dataset.get('classes') or [])} classes"))
    reference = data.get("reference")
    rows.append(("grading reference", _text(reference) if reference else "none"))
    env = data.get("environment") or {}
    rows += [(label, _text(env.get(key))) for label, key in (("CPU", "cpu_model"), ("GPUs", "gpus"), ("OS", "os"),
                                                             ("frameworks", "frameworks"))]
    body += ["<h2>Settings and machine</h2>", _kv(rows),
             f"<p class=note>Written by greenai {_text(env.get('greenai'))}; schema {_text(data.get('schema'))}. "
             "Each model's full inference report is in the JSON output. This page loads nothing from anywhere.</p>"]
    title = f"greenai compare: {count} models ({created})"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n" + "\n".join(body)
            + "\n</body></html>\n")
