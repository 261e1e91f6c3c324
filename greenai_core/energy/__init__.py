"""Energy: the backend interface, measurements, the meter and the built-in estimate."""

from greenai_core.energy.backend import (
    COMPONENTS,
    CPU,
    DRAM,
    ESTIMATED,
    GPU,
    MEASURED,
    MIXED,
    NO_READING,
    PLATFORM,
    SCOPE_MACHINE,
    SCOPE_PROCESS,
    SCOPES,
    CounterSpec,
    EnergyBackend,
    ProbeResult,
)
from greenai_core.energy.measurement import BackendReport, Measurement, TimelinePoint
from greenai_core.energy.meter import Meter, measure, measure_call, measured

__all__ = [
    "COMPONENTS", "CPU", "DRAM", "ESTIMATED", "GPU", "MEASURED", "MIXED", "NO_READING", "PLATFORM", "SCOPES",
    "SCOPE_MACHINE", "SCOPE_PROCESS", "BackendReport", "CounterSpec", "EnergyBackend", "Measurement", "Meter",
    "ProbeResult", "TimelinePoint", "measure", "measure_call", "measured",
]
