"""Comparing models: energy per inference against accuracy, side by side, ties kept as ties.

``compare`` (re-exported from ``greenai_core``) returns a ``CompareReport``. The package is
named ``comparison``, not ``compare``: a subpackage named like the function that
``greenai_core`` re-exports would replace that function on ``greenai_core`` as soon as one of
its modules is imported. Submodules load on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenai_core._lazy import lazy_exports

_EXPORTS = {
    "compare": "greenai_core.comparison.run",
    "CompareInterrupted": "greenai_core.comparison.run",
    "CompareReport": "greenai_core.comparison.report",
    "Point": "greenai_core.comparison.pareto",
    "pareto_front": "greenai_core.comparison.pareto",
    "ranks": "greenai_core.comparison.pareto",
}

__all__ = ["CompareInterrupted", "CompareReport", "Point", "compare", "pareto_front", "ranks"]

if TYPE_CHECKING:
    from greenai_core.comparison.pareto import Point, pareto_front, ranks
    from greenai_core.comparison.report import CompareReport
    from greenai_core.comparison.run import CompareInterrupted, compare


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
