"""Energy: the backend interface, measurements, the meter and the built-in estimate."""

from greenai_core.energy.backend import ESTIMATED, MEASURED, MIXED, CounterSpec, EnergyBackend, ProbeResult
from greenai_core.energy.measurement import BackendReport, Measurement, TimelinePoint
from greenai_core.energy.meter import Meter, measure, measure_call, measured

__all__ = [
    "ESTIMATED", "MEASURED", "MIXED", "BackendReport", "CounterSpec", "EnergyBackend", "Measurement",
    "Meter", "ProbeResult", "TimelinePoint", "measure", "measure_call", "measured",
]
