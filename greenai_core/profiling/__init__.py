"""Profiling: energy per inference and per training step, with a sound protocol and reports.

``profile_inference`` and ``profile_training`` (re-exported from ``greenai_core``) return an
``InferenceReport`` / ``TrainingReport``; statistics are ``Stat`` objects. Submodules load on
first access, so importing this package imports nothing heavy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenai_core._lazy import lazy_exports

_EXPORTS = {
    "profile_inference": "greenai_core.profiling.inference",
    "profile_training": "greenai_core.profiling.training",
    "InferenceReport": "greenai_core.profiling.report",
    "TrainingReport": "greenai_core.profiling.report",
    "ProfilingReport": "greenai_core.profiling.report",
    "ProfilingInterrupted": "greenai_core.profiling.report",
    "Stat": "greenai_core.profiling.stats",
    "summarise": "greenai_core.profiling.stats",
}

__all__ = ["InferenceReport", "ProfilingInterrupted", "ProfilingReport", "Stat", "TrainingReport", "profile_inference",
           "profile_training", "summarise"]

if TYPE_CHECKING:
    from greenai_core.profiling.inference import profile_inference
    from greenai_core.profiling.report import InferenceReport, ProfilingInterrupted, ProfilingReport, TrainingReport
    from greenai_core.profiling.stats import Stat, summarise
    from greenai_core.profiling.training import profile_training


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
