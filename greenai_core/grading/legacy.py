"""The legacy scheme: the original greenAI's GreenIDCard scale, kept for continuity and labelled as such.

The original sent two numbers to a web service (now gone) that graded them on a building-certificate
scale: metric 1 = active power x PUE / 1000 (kW, "consumption"), metric 2 = active power / maximum
power (a load share). Both on A < 0.15 <= B < 0.50 <= C < 1.00 <= D < 1.75 <= E; the grade is the
worse of the two letters available. It says little about a model's efficiency: prefer the relative scheme.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from greenai_core.errors import GradeError
from greenai_core.grading.result import Grade
from greenai_core.grading.scale import GREENIDCARD_BOUNDARIES, LETTERS, letter_for

LABEL = "the original greenAI's GreenIDCard scale (legacy)"
METRIC_1 = "greenidcard: active power x PUE / 1000"
METRIC_2 = "greenidcard: active power / maximum power"


def _number(value: Any, what: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise GradeError(f"{what} must be a finite number >= 0, got {value!r}")
    if positive and value == 0:
        raise GradeError(f"{what} must be above 0, got {value!r}")
    return float(value)


def legacy_grade(active_power_w: float, max_power_w: float | None, pue: float = 1.0,
                 *, warnings: list[str] | None = None, details: Mapping[str, Any] | None = None) -> Grade:
    """GreenIDCard: metric 1 = ``active_power_w * pue / 1000``, metric 2 = ``active_power_w / max_power_w``.

    The letter is the worse of the two; ``max_power_w`` None leaves metric 2 unavailable (said in the
    warnings) and the letter is metric 1's. ``value``/``metric`` are the metric that set the letter.
    ``warnings`` and ``details`` from the caller are carried first.
    """
    power = _number(active_power_w, "the active power (W)")
    pue = _number(pue, "the PUE", positive=True)
    notes = list(warnings or [])
    metric1 = power * pue / 1000
    letter1 = letter_for(metric1, GREENIDCARD_BOUNDARIES)
    per_metric: dict[str, Any] = {METRIC_1: {"value": metric1, "letter": letter1, "unit": "kW"}}
    chosen = (METRIC_1, metric1, "kW", letter1)
    if max_power_w is None:
        why = (details or {}).get("max_power_from")
        notes.append(f"no maximum power is known{f' ({why})' if why else ''}: the GreenIDCard's second metric "
                     "(active / maximum power) is unavailable; graded on the first only")
        per_metric[METRIC_2] = None
    else:
        maximum = _number(max_power_w, "the maximum power (W)", positive=True)
        metric2 = power / maximum
        letter2 = letter_for(metric2, GREENIDCARD_BOUNDARIES)
        per_metric[METRIC_2] = {"value": metric2, "letter": letter2, "unit": ""}
        if LETTERS.index(letter2) > LETTERS.index(letter1):
            chosen = (METRIC_2, metric2, "", letter2)
    metric, value, unit, letter = chosen
    return Grade(
        scheme="greenidcard", letter=letter, stars=None, metric=metric, value=value, unit=unit, legacy=True,
        reference=None, warnings=notes,
        details={"label": LABEL, "boundaries": list(GREENIDCARD_BOUNDARIES), "metrics": per_metric,
                 "active_power_w": power, "max_power_w": max_power_w, "pue": pue, **dict(details or {})},
    )
