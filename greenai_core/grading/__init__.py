"""The eco-grade: a letter A-E (and 1-5 stars) for a profiling report's energy, offline.

Two schemes:

- ``relative`` (the default): the report's energy per inference (or per training step) against a
  *reference*, a set of reference architectures profiled on the same machine with the same settings
  (``calibrate``, ``greenai grade --calibrate``). Letters from the reference's 20/40/60/80 % quantiles
  (the STREP / GAISSA energy-label method), stars from equal-width bins over its min..max range
  (the AI Energy Score way). See ``scale`` for the exact edges.
- ``greenidcard``: the original greenAI's GreenIDCard scale, kept as a clearly labelled legacy.

Names load on first access (``greenai_core._lazy``), so importing this package imports nothing heavy.

The package is ``grading``, not ``grade``: importing a submodule sets the parent's attribute to
the package, which would replace the ``grade`` function ``greenai_core`` re-exports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenai_core._lazy import lazy_exports

_EXPORTS = {
    "Grade": "greenai_core.grading.result",
    "GradeError": "greenai_core.errors",
    "letter_for": "greenai_core.grading.scale",
    "stars_for": "greenai_core.grading.scale",
    "quantile": "greenai_core.grading.scale",
    "LETTERS": "greenai_core.grading.scale",
    "GREENIDCARD_BOUNDARIES": "greenai_core.grading.scale",
    "Reference": "greenai_core.grading.reference",
    "default_reference_path": "greenai_core.grading.reference",
    "relative_grade": "greenai_core.grading.relative",
    "grade": "greenai_core.grading.grading",
    "legacy_grade": "greenai_core.grading.legacy",
    "calibrate": "greenai_core.grading.calibrate",
    "reference_from_reports": "greenai_core.grading.collect",
}

__all__ = ["GREENIDCARD_BOUNDARIES", "LETTERS", "Grade", "GradeError", "Reference", "calibrate",
           "default_reference_path", "grade", "legacy_grade", "letter_for", "quantile", "reference_from_reports",
           "relative_grade", "stars_for"]

if TYPE_CHECKING:
    from greenai_core.errors import GradeError
    from greenai_core.grading.calibrate import calibrate
    from greenai_core.grading.collect import reference_from_reports
    from greenai_core.grading.grading import grade
    from greenai_core.grading.legacy import legacy_grade
    from greenai_core.grading.reference import Reference, default_reference_path
    from greenai_core.grading.relative import relative_grade
    from greenai_core.grading.result import Grade
    from greenai_core.grading.scale import GREENIDCARD_BOUNDARIES, LETTERS, letter_for, quantile, stars_for


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
