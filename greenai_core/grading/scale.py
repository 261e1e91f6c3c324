"""The scales: letters from four ascending boundaries, stars from equal-width bins, quantiles.

Pure Python (no numpy), so grading needs no framework.

Edges, decided once for every scheme: a value exactly on a boundary gets the *worse* letter, i.e.
``boundaries[i] <= value < boundaries[i+1]`` (the GreenIDCard's own "A < 0.15 <= B" reading:
0.15 exactly is B). Stars: five equal-width bins over ``low..high``; a value exactly on an inner
edge gets the fewer stars (the higher-energy bin); ``low`` exactly is 5 stars, ``high`` exactly 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from greenai_core.errors import GradeError

LETTERS = ("A", "B", "C", "D", "E")
#: The original greenAI's GreenIDCard scale: A < 0.15 <= B < 0.50 <= C < 1.00 <= D < 1.75 <= E.
GREENIDCARD_BOUNDARIES = (0.15, 0.50, 1.00, 1.75)
#: The reference quantiles that separate the letters (STREP / GAISSA energy label).
QUANTILES = (0.2, 0.4, 0.6, 0.8)


def _finite(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise GradeError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def letter_for(value: float, boundaries: Sequence[float]) -> str:
    """The letter for ``value``: A below ``boundaries[0]``, ..., E at or above ``boundaries[3]``.

    A value exactly on a boundary gets the worse letter (``b[0] <= value < b[1]`` is B).
    ``boundaries``: four ascending (non-decreasing) numbers; equal boundaries skip letters.
    """
    value = _finite(value, "the graded value")
    edges = [_finite(b, "a boundary") for b in boundaries]
    if len(edges) != len(LETTERS) - 1:
        raise GradeError(f"need {len(LETTERS) - 1} boundaries, got {len(edges)}")
    if any(a > b for a, b in zip(edges, edges[1:], strict=False)):
        raise GradeError(f"boundaries must be ascending, got {edges}")
    return LETTERS[sum(1 for edge in edges if value >= edge)]


def stars_for(value: float, low: float, high: float) -> int:
    """1-5 stars: equal-width bins over ``low..high``, lowest energy = 5 stars, clamped outside.

    A value exactly on an inner edge gets the fewer stars; ``low`` is 5 stars, ``high`` is 1.
    ``low == high`` (a reference whose entries are all equal): 5 stars at or below it, 1 above.
    """
    value = _finite(value, "the graded value")
    low, high = _finite(low, "the range's low end"), _finite(high, "the range's high end")
    if low > high:
        raise GradeError(f"the range's low end {low!r} is above its high end {high!r}")
    if value <= low:
        return 5
    if value >= high:
        return 1
    # ``value`` is strictly inside (low, high): bin k (0..4) covers [edge k, edge k+1).
    return 5 - sum(1 for edge in star_edges(low, high) if value >= edge)


def star_edges(low: float, high: float) -> list[float]:
    """The four inner edges of the five equal-width star bins over ``low..high`` (what ``stars_for`` compares with)."""
    width = (high - low) / 5
    return [low + k * width for k in range(1, 5)]


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` by linear interpolation between order statistics.

    The same definition as numpy's default (``method="linear"``, Hyndman & Fan type 7):
    position ``(n - 1) * q`` in the sorted values, interpolated between its two neighbours.
    """
    data = sorted(_finite(v, "a reference value") for v in values)
    if not data:
        raise GradeError("cannot take a quantile of no values")
    q = _finite(q, "the quantile")
    if not 0.0 <= q <= 1.0:
        raise GradeError(f"a quantile must be within 0..1, got {q!r}")
    position = (len(data) - 1) * q
    below = math.floor(position)
    above = min(below + 1, len(data) - 1)
    fraction = position - below
    return data[below] + (data[above] - data[below]) * fraction
