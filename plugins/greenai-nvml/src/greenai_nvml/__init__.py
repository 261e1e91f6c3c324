"""greenai-nvml: NVIDIA GPU energy through NVML."""

__version__ = "0.2.0"
