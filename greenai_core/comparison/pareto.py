"""Ranking by energy with statistical ties, and the Pareto front of energy against accuracy.

Two energies are told apart only when their 95 % confidence intervals do not overlap; otherwise
the models are *tied*: never ordered, whatever their means say. The ranking chains ties: a
model is in the tie group of every model whose interval overlaps its own, so a group is never
split into an order its intervals cannot support (A ~ B and B ~ C make one group even when A
and C alone would separate, whatever B's mean). Ranks count the models in
strictly cheaper groups (1, 1, 3: competition ranking).

Pareto front (with accuracy): a model is on it unless another dominates it, i.e. is at least
as accurate and no dearer (cheaper or tied), and better in one of the two (more accurate, or
cheaper beyond the intervals). Accuracy is compared as measured (a count on the given data).
Without accuracy a front over (energy, parameters) says nothing about what users choose for,
so the cheapest models are marked instead: those no other model is cheaper than beyond the intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

CHEAPER, TIED, DEARER = -1, 0, 1


@dataclass(frozen=True)
class Point:
    """One model's figures: energy per inference (mean and 95 % interval, joules) and accuracy (0..1 or None).

    ``interval``: whether the interval is known (False: one repeat, no spread to tell a difference
    from: such a model is tied with every other, whatever the figures). A known interval of zero
    width (repeats that agree exactly) is exact.
    """

    name: str
    energy: float
    ci_low: float
    ci_high: float
    accuracy: float | None = None
    interval: bool = True

    @property
    def bounds(self) -> tuple[float, float]:
        """The interval used to order: the 95 % one, or everything (0 to infinity) when it is unknown."""
        return (self.ci_low, self.ci_high) if self.interval else (0.0, math.inf)


def energy_order(a: Point, b: Point) -> int:
    """CHEAPER when ``a``'s interval lies wholly below ``b``'s, DEARER when wholly above, else TIED."""
    (a_low, a_high), (b_low, b_high) = a.bounds, b.bounds
    if a_high < b_low:
        return CHEAPER
    if a_low > b_high:
        return DEARER
    return TIED


def tie_groups(points: Sequence[Point]) -> list[list[Point]]:
    """The points in groups of chained ties, cheapest group first, by mean within a group.

    A group is a connected set of overlapping intervals: swept in order of their low ends, a
    point joins the current group when its interval starts at or below the highest end reached
    so far. (Sweeping by mean instead would miss a dear model with a wide interval reaching
    down to a cheap one: it would rank the cheap one strictly first while their intervals
    overlap.) Groups cover disjoint stretches of the energy axis, so they are ordered.
    """
    groups: list[list[Point]] = []
    reach = 0.0  # the highest interval end in the current group
    for point in sorted(points, key=lambda p: (p.bounds[0], p.energy, p.name)):
        low, high = point.bounds
        if groups and low <= reach:
            groups[-1].append(point)
            reach = max(reach, high)
        else:
            groups.append([point])
            reach = high
    return [sorted(group, key=lambda p: (p.energy, p.name)) for group in groups]


def ranks(points: Sequence[Point]) -> dict[str, tuple[int, bool]]:
    """name -> (rank by energy, tied with another): 1 + the number of models in strictly cheaper groups."""
    out: dict[str, tuple[int, bool]] = {}
    before = 0
    for group in tie_groups(points):
        for point in group:
            out[point.name] = (before + 1, len(group) > 1)
        before += len(group)
    return out


def dominates(a: Point, b: Point) -> bool:
    """Whether ``a`` dominates ``b``: as accurate and no dearer, and better in one (both need an accuracy)."""
    if a.accuracy is None or b.accuracy is None:
        return False
    order = energy_order(a, b)
    if a.accuracy < b.accuracy or order == DEARER:
        return False
    return a.accuracy > b.accuracy or order == CHEAPER


def pareto_front(points: Sequence[Point]) -> list[str]:
    """Names of the points no other point dominates, in the order given (every point needs an accuracy)."""
    return [p.name for p in points if not any(dominates(o, p) for o in points if o is not p)]


def cheapest(points: Sequence[Point]) -> list[str]:
    """Names of the models no other is cheaper than beyond the intervals (marked when there is no accuracy).

    The front over energy alone, as ``pareto_front`` is when every accuracy is equal: a model
    in the cheapest tie group only through a chain of overlaps (its interval clear of the
    cheapest model's) is not marked. In the order given.
    """
    return [p.name for p in points if not any(energy_order(o, p) == CHEAPER for o in points if o is not p)]


def front_steps(points: Sequence[Point], front: Sequence[str]) -> list[tuple[float, float]]:
    """The front's corners for a step line in (accuracy, energy): up at each point's accuracy, then across.

    Sorted by accuracy (then energy): from each front point the line rises to the next one's
    energy and runs across to it: the edge of the region the front dominates (a model more
    accurate than one front point needs the next one's energy or more to be dominated).
    """
    chosen = sorted((p for p in points if p.name in set(front) and p.accuracy is not None),
                    key=lambda p: (p.accuracy, p.energy))
    steps: list[tuple[float, float]] = []
    for i, point in enumerate(chosen):
        assert point.accuracy is not None
        if i:
            steps.append((steps[-1][0], point.energy))  # up at the previous accuracy to this energy...
        steps.append((point.accuracy, point.energy))  # ...then across to this point
    return steps
