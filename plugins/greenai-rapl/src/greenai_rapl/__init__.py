"""greenai-rapl: RAPL energy counters read from the Linux powercap tree."""

__version__ = "0.1.0"
