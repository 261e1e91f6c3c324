"""Energy per inference against accuracy (or parameters) as an inline SVG scatter: CIs as error bars, front as steps.

Pure string building like ``profiling.svg_chart`` (whose tick helpers and palette it uses): no
script, no external resource, every text from a report escaped. An axis whose values span
more than ``LOG_SPAN`` times is drawn on a log scale (model sizes and energies often do),
labelled as such; accuracy is always linear, in percent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from greenai_core.profiling.svg_chart import nice_step, tick_label, ticks

WIDTH, PLOT_HEIGHT = 960, 420
LEFT, RIGHT, TOP, BOTTOM = 88, 32, 28, 56
LOG_SPAN = 100.0
POINT, FRONT_POINT = "#0072B2", "#D55E00"
#: A point label's line height and estimated width per character (12 px sans-serif), in pixels.
LINE_HEIGHT, CHAR_WIDTH = 13.0, 6.6
_PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "\u00b5"), (1e-9, "n"))


@dataclass(frozen=True)
class Dot:
    """One model on the chart: ``x`` (accuracy in %, or parameters), energy mean and 95 % interval (J)."""

    name: str
    x: float
    energy: float
    low: float
    high: float
    front: bool


def _prefix(value: float) -> tuple[float, str]:
    ref = abs(value)
    return next(((f, p) for f, p in _PREFIXES if ref >= f), _PREFIXES[-1]) if ref > 0 else (1.0, "")


def _si(value: float, unit: str) -> str:
    factor, prefix = _prefix(value)
    return f"{value / factor:.3g} {prefix}{unit}".strip()


class Axis:
    """Maps values to pixels between ``start`` and ``end``; linear from a nice low, or log10 by decades."""

    def __init__(self, values: Sequence[float], start: float, end: float, *, unit: str, percent: bool = False,
                 zero: bool = True) -> None:
        finite = [v for v in values if math.isfinite(v) and v >= 0]
        positive = [v for v in finite if v > 0]
        self.start, self.end, self.unit, self.percent = start, end, unit, percent
        self.log = not percent and bool(positive) and max(positive) / min(positive) > LOG_SPAN
        if self.log:
            self.low = 10.0 ** math.floor(math.log10(min(positive)))
            self.high = 10.0 ** math.ceil(math.log10(max(positive)))
            if self.high <= self.low:
                self.high = self.low * 10
            return
        top = max(finite, default=0.0)
        bottom = 0.0 if zero else min(finite, default=0.0)
        if percent:
            bottom, top = max(0.0, bottom - 5.0), min(100.0, top + 5.0)
        span = top - bottom
        self.step = nice_step(span * 1.05) if span > 0 else (10.0 if percent else (top or 1.0) / 2)
        self.low = math.floor(bottom / self.step) * self.step
        self.high = max(math.ceil(top * (1.0 if percent else 1.05) / self.step) * self.step, self.low + self.step)
        if percent:
            self.low, self.high = max(0.0, self.low), min(100.0, self.high)

    def __call__(self, value: float) -> float:
        if self.log:
            clamped = min(max(value, self.low), self.high)
            share = (math.log10(clamped) - math.log10(self.low)) / (math.log10(self.high) - math.log10(self.low))
        else:
            share = (min(max(value, self.low), self.high) - self.low) / (self.high - self.low)
        return round(self.start + share * (self.end - self.start), 1)

    def ticks(self) -> list[tuple[float, str]]:
        if self.log:
            first, last = round(math.log10(self.low)), round(math.log10(self.high))
            return [(10.0 ** k, _si(10.0 ** k, self.unit)) for k in range(first, last + 1)]
        if self.percent:
            return [(v, f"{tick_label(v, self.step)} %") for v in ticks(self.low, self.high, self.step)]
        factor, prefix = _prefix(self.high)
        scaled = self.step / factor
        return [(v, f"{tick_label(v / factor, scaled)} {prefix}{self.unit}".strip())
                for v in ticks(self.low, self.high, self.step)]


def _short(name: str) -> str:
    return name if len(name) <= 32 else name[:31] + "\u2026"


def place_labels(spots: Sequence[tuple[float, float, str]], left: float, right: float, top: float,
                 bottom: float) -> list[tuple[float, float, str]]:
    """(x, baseline y, anchor) for each point's label: beside its point, moved down or up, a line at a time,
    off the labels placed before it, so that points on top of each other (same accuracy, tied energy)
    keep readable names. Label widths are estimated (``CHAR_WIDTH`` per character at 12 px)."""
    boxes: list[tuple[float, float, float, float]] = []  # (x0, x1, y0, y1) of the labels placed
    out: list[tuple[float, float, str]] = []
    for x, y, text in spots:
        anchor, dx = ("end", -8.0) if x > right - 160 else ("start", 8.0)
        width = CHAR_WIDTH * len(text)
        x0 = x + dx - width if anchor == "end" else x + dx
        base = y - 6
        for shift in (k * LINE_HEIGHT * sign for k in range(len(boxes) + 1) for sign in ((1,) if k == 0 else (1, -1))):
            label_y = min(max(base + shift, top + LINE_HEIGHT), bottom - 2)
            box = (x0, x0 + width, label_y - LINE_HEIGHT + 2, label_y + 2)
            if not any(box[0] < b[1] and b[0] < box[1] and box[2] < b[3] and b[2] < box[3] for b in boxes):
                break
        boxes.append(box)
        out.append((round(x + dx, 1), round(label_y, 1), anchor))
    return out


def _scale_note(axis: Axis) -> str:
    return " (log scale)" if axis.log else ""


def scatter(dots: Sequence[Dot], *, x_title: str, x_unit: str, percent: bool,
            steps: Sequence[tuple[float, float]] = ()) -> str:
    """The SVG for ``dots``; ``steps`` (x, energy) corners of the Pareto front's step line, if any."""
    height = TOP + PLOT_HEIGHT + BOTTOM
    left, right, top, bottom = LEFT, WIDTH - RIGHT, TOP, TOP + PLOT_HEIGHT
    x_axis = Axis([d.x for d in dots], left, right, unit=x_unit, percent=percent, zero=not percent)
    y_axis = Axis([v for d in dots for v in (d.low, d.high, d.energy)], bottom, top, unit="J")
    out = [f'<svg class="compare-chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
           'role="img" aria-labelledby="compare-chart-title" font-family="sans-serif" font-size="12">',
           f'<title id="compare-chart-title">Energy per inference against {escape(x_title)}, one point per model, '
           '95 % confidence intervals as error bars</title>',
           f'<rect x="{left}" y="{top}" width="{right - left}" height="{PLOT_HEIGHT}" fill="#ffffff" '
           'stroke="#bdc1c6"/>']
    for value, label in y_axis.ticks():
        y = y_axis(value)
        out.append(f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="#e8eaed"/>')
        out.append(f'<text class="tick" x="{left - 8}" y="{round(y + 4, 1)}" text-anchor="end">{escape(label)}</text>')
    for value, label in x_axis.ticks():
        x = x_axis(value)
        out.append(f'<line x1="{x}" y1="{bottom}" x2="{x}" y2="{bottom + 5}" stroke="#5f6368"/>')
        out.append(f'<text class="tick" x="{x}" y="{bottom + 18}" text-anchor="middle">{escape(label)}</text>')
    out.append(f'<text x="{(left + right) / 2}" y="{bottom + 42}" text-anchor="middle">{escape(x_title)}'
               f'{_scale_note(x_axis)}</text>')
    out.append(f'<text transform="translate(18 {top + PLOT_HEIGHT / 2}) rotate(-90)" text-anchor="middle">'
               f'energy per inference{_scale_note(y_axis)}</text>')
    if len(steps) >= 1:
        corners = " ".join(f"{x_axis(x)},{y_axis(e)}" for x, e in steps)
        out.append(f'<polyline class="pareto-front" points="{corners}" fill="none" stroke="{FRONT_POINT}" '
                   'stroke-width="2" stroke-dasharray="6 3"/>')
    placed = place_labels([(x_axis(d.x), y_axis(d.energy), _short(d.name)) for d in dots], left, right, top, bottom)
    for dot, (label_x, label_y, anchor) in zip(dots, placed, strict=True):
        x, y, y_low, y_high = x_axis(dot.x), y_axis(dot.energy), y_axis(dot.low), y_axis(dot.high)
        name = escape(dot.name)
        colour = FRONT_POINT if dot.front else POINT
        out.append(f'<line class="error-bar" data-model="{name}" x1="{x}" y1="{y_low}" x2="{x}" y2="{y_high}" '
                   f'stroke="{colour}" stroke-width="1.5"/>')
        for cap in (y_low, y_high):
            out.append(f'<line x1="{x - 4}" y1="{cap}" x2="{x + 4}" y2="{cap}" stroke="{colour}" stroke-width="1.5"/>')
        out.append(f'<circle class="point" data-model="{name}" data-front="{str(dot.front).lower()}" '
                   f'data-energy-j="{dot.energy!r}" data-x="{dot.x!r}" cx="{x}" cy="{y}" r="5" fill="{colour}"/>')
        if abs(label_y - (y - 6)) > LINE_HEIGHT / 2:  # moved off its point by others: a thin leader back to it
            out.append(f'<line class="leader" x1="{x}" y1="{y}" x2="{label_x}" y2="{round(label_y - 4, 1)}" '
                       'stroke="#9aa0a6" stroke-width="0.75"/>')
        out.append(f'<text class="point-label" data-model="{name}" x="{label_x}" y="{label_y}" '
                   f'text-anchor="{anchor}">{escape(_short(dot.name))}</text>')
    out.append("</svg>")
    return "\n".join(out)
