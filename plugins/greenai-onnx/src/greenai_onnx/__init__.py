"""greenai-onnx: ONNX image classifiers through onnxruntime."""

__version__ = "0.2.0"
