"""``Grade``: what grading a report (or a figure) gives, as a dataclass and as a dict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Units shown with SI prefixes in ``describe`` (a joule figure reads better as "1.2 mJ").
_PREFIXES = ((1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"))


def human(value: float, unit: str, digits: int = 3) -> str:
    """``value`` with an SI prefix when ``unit`` is a plain SI unit (J, W, Wh), else as it is."""
    if unit in ("J", "W", "Wh") and value != 0:
        for scale, prefix in _PREFIXES:
            if abs(value) >= scale:
                return f"{value / scale:.{digits}g} {prefix}{unit}"
        return f"{value / 1e-9:.{digits}g} n{unit}"
    return f"{value:.{digits}g} {unit}".rstrip()


def human_apart(value: float, other: float, unit: str) -> tuple[str, str]:
    """Both figures by ``human``, with as many digits as it takes for different numbers to read differently."""
    for digits in range(3, 18):
        shown = human(value, unit, digits), human(other, unit, digits)
        if shown[0] != shown[1] or value == other:
            return shown
    return shown


@dataclass(frozen=True)
class Grade:
    """A grade: ``letter`` A-E (A best), ``stars`` 1-5 (relative scheme; None for greenidcard).

    ``metric``/``value``/``unit``: the graded figure. ``reference``: ``{"path", "created_at",
    "hardware", "settings", "metric", "count"}`` of the reference graded against (None for
    greenidcard). ``warnings``: what makes the grade less comparable (hardware or settings that
    differ from the reference's, a value outside its range, an estimate). ``details``: the
    boundaries used, per-metric letters for greenidcard, and the like.
    """

    scheme: str
    letter: str
    stars: int | None
    metric: str
    value: float
    unit: str
    legacy: bool
    reference: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "greenai.grade/1",
            "scheme": self.scheme,
            "letter": self.letter,
            "stars": self.stars,
            "metric": self.metric,
            "value": self.value,
            "unit": self.unit,
            "legacy": self.legacy,
            "reference": self.reference,
            "warnings": list(self.warnings),
            "details": self.details,
        }

    def describe(self) -> str:
        """One readable line, e.g. ``B (4 stars): 1.2 mJ per inference vs reference of 6 (..)``."""
        head = self.letter if self.stars is None else f"{self.letter} ({self.stars} star{'s' * (self.stars != 1)})"
        if self.legacy:
            return f"{head}: legacy GreenIDCard scale (the original greenAI's), {self.metric} = {self.value:.3g}"
        figure = human(self.value, self.unit)
        what = {"energy_per_inference_j": "per inference", "energy_per_step_j": "per training step"}.get(
            self.metric, f"({self.metric})")
        ref = self.reference or {}
        against = f"reference of {ref.get('count', '?')} entries made {ref.get('created_at', '?')}"
        if ref.get("path"):
            against += f" ({ref['path']})"
        return f"{head}: {figure} {what} vs {against}"
