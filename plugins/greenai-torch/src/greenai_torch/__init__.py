"""greenai-torch: PyTorch models in four file kinds, inference and training."""

__version__ = "0.2.0"
