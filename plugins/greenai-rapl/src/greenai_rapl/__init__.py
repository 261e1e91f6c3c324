"""greenai-rapl: RAPL energy counters read from the Linux powercap tree."""

__version__ = "0.2.0"
