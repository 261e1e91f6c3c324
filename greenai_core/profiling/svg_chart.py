"""The power timeline as an inline SVG chart: one polyline per domain, the run's phases shaded.

Pure string building (no plotting library, no script, no external resource): the HTML report
embeds the result as is, so it opens offline in any browser. Every text that comes from a
report (domain, backend and phase names) is escaped. The chart is sound for any timeline: one
point, zero duration, zero watts, gaps, unsorted points and a million points (each domain is
downsampled to at most ``MAX_POINTS_PER_DOMAIN`` by keeping each bucket's minimum and maximum,
so peaks survive). Points that are not finite, or negative, are left out (a report never holds
them; a hand-edited one might).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

MAX_POINTS_PER_DOMAIN = 2000
WIDTH = 960
PLOT_HEIGHT = 300
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_BOTTOM = 72, 24, 48
LEGEND_ROW_H, LEGEND_PER_ROW = 20, 4
#: Okabe-Ito and Tableau hues: distinct, and readable by colour-blind readers for the first eight.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C564B",
           "#7F7F7F", "#BCBD22")
ESTIMATED = "estimated"


@dataclass(frozen=True)
class Series:
    """One domain's power over time: ``points`` are (seconds from the run's start, watts), sorted by time."""

    domain: str
    backend: str
    estimated: bool
    points: list[tuple[float, float]]


@dataclass(frozen=True)
class Chart:
    svg: str
    series: int  # polylines drawn (one per domain)
    points_recorded: int  # usable points in the timeline, all domains together
    points_drawn: int  # after downsampling


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def collect_series(timeline: Sequence[Mapping[str, Any]], methods: Mapping[str, str]) -> list[Series]:
    """The timeline's points grouped by domain (first-seen order), each series sorted by time.

    ``methods`` maps a backend's name to its method; an "estimated" backend's domains are marked.
    """
    grouped: dict[str, list[tuple[float, float]]] = {}
    owner: dict[str, str] = {}
    for point in timeline:
        if not isinstance(point, Mapping):
            continue
        t = _finite(point.get("t_s"))
        watts = point.get("watts")
        if t is None or not isinstance(watts, Mapping):
            continue
        backend = str(point.get("backend", ""))
        for domain, value in watts.items():
            w = _finite(value)
            if w is None or w < 0:
                continue
            grouped.setdefault(str(domain), []).append((t, w))
            owner.setdefault(str(domain), backend)
    return [Series(d, owner[d], methods.get(owner[d]) == ESTIMATED, sorted(pts)) for d, pts in grouped.items()]


def downsample(points: Sequence[tuple[float, float]], limit: int = MAX_POINTS_PER_DOMAIN) -> list[tuple[float, float]]:
    """At most ``limit`` points: consecutive buckets each keep their lowest and highest point, in time order."""
    if len(points) <= limit:
        return list(points)
    buckets = max(1, limit // 2)
    size = len(points) / buckets
    kept: list[tuple[float, float]] = []
    for b in range(buckets):
        chunk = points[int(b * size):int((b + 1) * size)]
        if not chunk:
            continue
        low = min(range(len(chunk)), key=lambda i: chunk[i][1])
        high = max(range(len(chunk)), key=lambda i: chunk[i][1])
        kept.extend(chunk[i] for i in sorted({low, high}))
    return kept


def nice_step(span: float, target: int = 6) -> float:
    """The 1, 2 or 5 x 10^k step whose tick count over ``span`` (> 0) is closest to ``target``."""
    magnitude = 10.0 ** math.floor(math.log10(span / target))
    return min((m * magnitude for m in (1.0, 2.0, 5.0, 10.0)), key=lambda step: abs(span / step - target))


def ticks(low: float, high: float, step: float) -> list[float]:
    first = math.ceil(low / step - 1e-9)
    count = int(math.floor(high / step + 1e-9)) - first + 1
    return [round((first + i) * step, 12) for i in range(max(0, min(count, 50)))]


def tick_label(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{value:.{decimals}f}"


def _phase_style(name: str, index: int) -> tuple[str, float, str, str]:
    """(fill, opacity, label, short label) for a phase band."""
    if name == "baseline":
        return "#5f6368", 0.22, "baseline (idle)", "idle"
    if name == "warmup":
        return "#E69F00", 0.16, "warm-up", "w"
    if name.startswith(("repeat ", "epoch ")):
        return "#0072B2", 0.05 if index % 2 else 0.11, name, name.rsplit(" ", 1)[-1]
    return "#7F7F7F", 0.08, name, name[:1]


def _phase_spans(phases: Sequence[Mapping[str, Any]]) -> list[tuple[str, float, float]]:
    """(name, start, end) of each phase with finite edges in order; others are left out."""
    spans = []
    for phase in phases:
        if isinstance(phase, Mapping):
            start, end = _finite(phase.get("start_s")), _finite(phase.get("end_s"))
            if start is not None and end is not None and end >= start:
                spans.append((str(phase.get("name", "")), start, end))
    return spans


def power_chart(timeline: Sequence[Mapping[str, Any]], phases: Sequence[Mapping[str, Any]],
                methods: Mapping[str, str]) -> Chart | None:
    """The chart for a report's ``timeline`` and ``phases``; None when the timeline has no usable point."""
    series = collect_series(timeline, methods)
    if not series:
        return None
    recorded = sum(len(s.points) for s in series)
    drawn = [Series(s.domain, s.backend, s.estimated, downsample(s.points)) for s in series]
    spans = _phase_spans(phases)
    times = [t for s in drawn for t, _ in s.points]
    x_low = min([0.0, *times, *(a for _, a, _ in spans)])
    x_high = max([*times, *(b for _, _, b in spans)])
    if not x_high > x_low:  # one point, or every point at the same time: a one-second axis
        x_high = x_low + 1.0
    w_max = max(w for s in drawn for _, w in s.points)
    y_step = nice_step(w_max * 1.05) if w_max > 0 else 0.2
    y_high = y_step * math.ceil(w_max * 1.05 / y_step) if w_max > 0 else 1.0
    x_step = nice_step(x_high - x_low)

    legend_rows = math.ceil(len(drawn) / LEGEND_PER_ROW)
    top = 12 + legend_rows * LEGEND_ROW_H + 8
    height = top + PLOT_HEIGHT + MARGIN_BOTTOM
    left, right, bottom = MARGIN_LEFT, WIDTH - MARGIN_RIGHT, top + PLOT_HEIGHT
    plot_w = right - left

    def x_of(t: float) -> float:
        return round(left + (min(max(t, x_low), x_high) - x_low) / (x_high - x_low) * plot_w, 1)

    def y_of(w: float) -> float:
        return round(bottom - min(max(w, 0.0), y_high) / y_high * PLOT_HEIGHT, 1)

    out = [f'<svg class="power-chart" viewBox="0 0 {WIDTH} {height}" '
           f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="power-chart-title" '
           'font-family="sans-serif" font-size="12">',
           '<title id="power-chart-title">Power per domain over the run (W against s), phases shaded</title>',
           f'<rect x="{left}" y="{top}" width="{plot_w}" height="{PLOT_HEIGHT}" fill="#ffffff" stroke="#bdc1c6"/>']
    # Phase bands first, so lines are drawn over them.
    for index, (name, start, end) in enumerate(spans):
        fill, opacity, label, short = _phase_style(name, index)
        x0, x1 = x_of(start), x_of(end)
        out.append(f'<rect class="phase" data-phase="{escape(name)}" x="{x0}" y="{top}" width="{round(x1 - x0, 1)}" '
                   f'height="{PLOT_HEIGHT}" fill="{fill}" fill-opacity="{opacity}"/>')
        out.append(f'<line x1="{x0}" y1="{top}" x2="{x0}" y2="{bottom}" stroke="#9aa0a6" stroke-dasharray="3 3"/>')
        if len(label) * 6.5 + 6 <= x1 - x0:
            short = label
        if len(short) * 6.5 + 4 <= max(x1 - x0, 14):
            out.append(f'<text x="{round((x0 + x1) / 2, 1)}" y="{top + 14}" text-anchor="middle" fill="#3c4043" '
                       f'font-size="11">{escape(short)}</text>')
    # Axes: ticks, grid and units.
    for y_tick in ticks(0.0, y_high, y_step):
        y = y_of(y_tick)
        out.append(f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="#e8eaed"/>')
        out.append(f'<line x1="{left - 5}" y1="{y}" x2="{left}" y2="{y}" stroke="#5f6368"/>')
        out.append(f'<text x="{left - 8}" y="{round(y + 4, 1)}" text-anchor="end">{tick_label(y_tick, y_step)}</text>')
    for x_tick in ticks(x_low, x_high, x_step):
        x = x_of(x_tick)
        out.append(f'<line x1="{x}" y1="{bottom}" x2="{x}" y2="{bottom + 5}" stroke="#5f6368"/>')
        out.append(f'<text x="{x}" y="{bottom + 18}" text-anchor="middle">{tick_label(x_tick, x_step)}</text>')
    out.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#5f6368"/>')
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#5f6368"/>')
    out.append(f'<text x="{left + plot_w / 2}" y="{bottom + 38}" text-anchor="middle">time from the run\'s start (s)'
               '</text>')
    out.append(f'<text transform="translate(18 {top + PLOT_HEIGHT / 2}) rotate(-90)" text-anchor="middle">'
               'power (W)</text>')
    # One polyline per domain (and a dot where a domain has a single point: a polyline of one draws nothing).
    for i, s in enumerate(drawn):
        colour = PALETTE[i % len(PALETTE)]
        dash = ' stroke-dasharray="6 4"' if s.estimated or i >= len(PALETTE) else ""
        coords = " ".join(f"{x_of(t)},{y_of(w)}" for t, w in s.points)
        out.append(f'<polyline class="series" data-domain="{escape(s.domain)}" points="{coords}" fill="none" '
                   f'stroke="{colour}" stroke-width="1.6" stroke-linejoin="round"{dash}/>')
        if len(s.points) == 1:
            out.append(f'<circle cx="{x_of(s.points[0][0])}" cy="{y_of(s.points[0][1])}" r="3" fill="{colour}"/>')
    # Legend above the plot.
    slot = (WIDTH - left) / LEGEND_PER_ROW
    for i, s in enumerate(drawn):
        x = round(left + (i % LEGEND_PER_ROW) * slot, 1)
        y = 12 + (i // LEGEND_PER_ROW) * LEGEND_ROW_H + 8
        colour = PALETTE[i % len(PALETTE)]
        dash = ' stroke-dasharray="6 4"' if s.estimated or i >= len(PALETTE) else ""
        label = f"{s.domain} ({s.backend})" if s.backend else s.domain
        label += " \u2014 estimated" if s.estimated else ""
        if len(label) > 38:
            label = label[:37] + "\u2026"
        out.append(f'<line x1="{x}" y1="{y}" x2="{x + 22}" y2="{y}" stroke="{colour}" stroke-width="3"{dash}/>')
        out.append(f'<text class="legend" x="{x + 28}" y="{y + 4}">{escape(label)}</text>')
    out.append("</svg>")
    return Chart("\n".join(out), len(drawn), recorded, sum(len(s.points) for s in drawn))
