"""greenai-onnx: ONNX image classifiers through onnxruntime."""

__version__ = "0.1.0"
