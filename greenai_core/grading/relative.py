"""The relative scheme: a figure against a ``Reference`` (quantile letters, equal-width stars)."""

from __future__ import annotations

from greenai_core.errors import GradeError
from greenai_core.grading.reference import Reference
from greenai_core.grading.result import Grade, human, human_apart
from greenai_core.grading.scale import letter_for, star_edges, stars_for


def relative_grade(value: float, reference: Reference, *, metric: str | None = None,
                   warnings: list[str] | None = None) -> Grade:
    """Grade ``value`` (in the reference's unit) against ``reference``.

    Letter: ``letter_for(value, reference.boundaries())``; stars: ``stars_for`` over the reference's
    min..max. ``metric`` (default: the reference's) must match the reference's metric, else
    ``GradeError``. A value outside the reference's range is graded (A/5 stars or E/1 star) and
    warned about; ``warnings`` are carried into the grade first.
    """
    metric = reference.metric if metric is None else metric
    if metric != reference.metric:
        where = reference.path or "the reference"
        raise GradeError(f"{where} holds {reference.metric!r}, cannot grade {metric!r} against it")
    boundaries = reference.boundaries()
    values = reference.values
    low, high = min(values), max(values)
    notes = list(warnings or [])
    if low == high:
        notes.append(f"every entry of the reference has the same value ({human(low, reference.unit)}): its letters "
                     "and stars cannot tell models apart")
    if value < low:  # figures with the digits it takes to show the difference (0.43254 vs 0.43280, not 433 vs 433)
        shown, edge = human_apart(value, low, reference.unit)
        notes.append(f"{shown} is below the reference's range ({edge}..{human(high, reference.unit)}): "
                     "graded as its lowest")
    elif value > high:
        shown, edge = human_apart(value, high, reference.unit)
        notes.append(f"{shown} is above the reference's range ({human(low, reference.unit)}..{edge}): "
                     "graded as its highest")
    return Grade(
        scheme="relative", letter=letter_for(value, boundaries), stars=stars_for(value, low, high), metric=metric,
        value=float(value), unit=reference.unit, legacy=False, reference=reference.summary(), warnings=notes,
        details={"boundaries": boundaries, "quantiles": [0.2, 0.4, 0.6, 0.8], "quantile_method": "linear",
                 "range": [low, high], "star_edges": star_edges(low, high)},
    )
