"""greenai: the energy of ML models, and of any code, from hardware counters or an honest estimate.

The public API is re-exported here and loaded on first access, so ``import greenai_core``
stays cheap: no plugin, ML framework or sensor library is imported until it is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenai_core._lazy import lazy_exports

__version__ = "0.2.0"

_EXPORTS = {
    "hookimpl": "greenai_core.hookspecs",
    "GreenAIError": "greenai_core.errors",
    "UsageError": "greenai_core.errors",
    "PluginError": "greenai_core.errors",
    "BackendUnavailableError": "greenai_core.errors",
    "SensorError": "greenai_core.errors",
    "ModelFormatError": "greenai_core.errors",
    "UnsafeModelError": "greenai_core.errors",
    "UnsupportedOperationError": "greenai_core.errors",
    "DeviceError": "greenai_core.errors",
    "GradeError": "greenai_core.errors",
    "Meter": "greenai_core.energy.meter",
    "measure": "greenai_core.energy.meter",
    "measured": "greenai_core.energy.meter",
    "measure_call": "greenai_core.energy.meter",
    "Measurement": "greenai_core.energy.measurement",
    "EnergyBackend": "greenai_core.energy.backend",
    "CounterSpec": "greenai_core.energy.backend",
    "ProbeResult": "greenai_core.energy.backend",
    "ModelFormat": "greenai_core.models.format",
    "Model": "greenai_core.models.model",
    "load_model": "greenai_core.models.loading",
    "InputSpec": "greenai_core.models.spec",
    "TensorSpec": "greenai_core.models.spec",
    "Device": "greenai_core.models.devices",
    "TrainingResult": "greenai_core.models.training",
    "EpochResult": "greenai_core.models.training",
    "StepInfo": "greenai_core.models.training",
    "StopTraining": "greenai_core.models.training",
    "TrainingDivergedError": "greenai_core.models.training",
    "TrainingInterrupted": "greenai_core.models.training",
    "ModelRunError": "greenai_core.models.model",
    "DatasetError": "greenai_core.models.training",
    "get_registry": "greenai_core.plugins",
    "profile_inference": "greenai_core.profiling.inference",
    "profile_training": "greenai_core.profiling.training",
    "InferenceReport": "greenai_core.profiling.report",
    "TrainingReport": "greenai_core.profiling.report",
    "ProfilingInterrupted": "greenai_core.profiling.report",
    "Stat": "greenai_core.profiling.stats",
    "grade": "greenai_core.grading.grading",
    "calibrate": "greenai_core.grading.calibrate",
    "Grade": "greenai_core.grading.result",
    "Reference": "greenai_core.grading.reference",
    "compare": "greenai_core.comparison.run",
    "CompareInterrupted": "greenai_core.comparison.run",
    "CompareReport": "greenai_core.comparison.report",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from greenai_core.comparison.report import CompareReport
    from greenai_core.comparison.run import CompareInterrupted, compare
    from greenai_core.energy.backend import CounterSpec, EnergyBackend, ProbeResult
    from greenai_core.energy.measurement import Measurement
    from greenai_core.energy.meter import Meter, measure, measure_call, measured
    from greenai_core.errors import (
        BackendUnavailableError,
        DeviceError,
        GradeError,
        GreenAIError,
        ModelFormatError,
        PluginError,
        SensorError,
        UnsafeModelError,
        UnsupportedOperationError,
        UsageError,
    )
    from greenai_core.grading.calibrate import calibrate
    from greenai_core.grading.grading import grade
    from greenai_core.grading.reference import Reference
    from greenai_core.grading.result import Grade
    from greenai_core.hookspecs import hookimpl
    from greenai_core.models.devices import Device
    from greenai_core.models.format import ModelFormat
    from greenai_core.models.loading import load_model
    from greenai_core.models.model import Model, ModelRunError
    from greenai_core.models.spec import InputSpec, TensorSpec
    from greenai_core.models.training import (
        DatasetError,
        EpochResult,
        StepInfo,
        StopTraining,
        TrainingDivergedError,
        TrainingInterrupted,
        TrainingResult,
    )
    from greenai_core.plugins import get_registry
    from greenai_core.profiling.inference import profile_inference
    from greenai_core.profiling.report import InferenceReport, ProfilingInterrupted, TrainingReport
    from greenai_core.profiling.stats import Stat
    from greenai_core.profiling.training import profile_training


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
