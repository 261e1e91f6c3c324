"""greenai-tf: TensorFlow / Keras models for greenai (format ``tf``)."""

__version__ = "0.2.0"
