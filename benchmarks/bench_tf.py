"""What ``Model.predict(array)`` adds to the Keras model's own call (``model(x, training=False)``), batch 1.

The same tiny Keras CNN, saved as ``.keras`` and loaded through greenai; alternating blocks in
one process (same model, same array), so drift hits both alike. Keras's eager call costs far
more than onnxruntime's ``session.run``; the added microseconds are compared with the ONNX
section's figure (same target). The SavedModel's serving signature is timed the same way.
Keras's eager call varies by hundreds of microseconds between blocks on a busy VM: read the
.keras figure as "within the noise" when it is near zero or below.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from common import Row


def per_call_us(fn, calls: int) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t) / calls * 1e6


def _added(raw_fn, wrapped_fn, repeats: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    raw, wrapped = [], []
    for _ in range(4 * repeats):
        raw.append(per_call_us(raw_fn, 100))
        wrapped.append(per_call_us(wrapped_fn, 100))
    return statistics.median(raw), statistics.median(wrapped)


def run(repeats: int = 5) -> list[Row]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np
    import tensorflow as tf

    from greenai_core import load_model

    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(2, 1)(inputs)
    outputs = keras.layers.GlobalAveragePooling2D()(x)
    net = keras.Model(inputs, outputs)
    arr = np.ones((1, 4, 4, 3), np.float32)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        net.save(Path(tmp) / "tiny.keras")
        net.export(str(Path(tmp) / "tiny_sm"), verbose=False)
        with load_model(Path(tmp) / "tiny.keras") as model:
            keras_model = model.model  # type: ignore[attr-defined]

            def raw() -> None:
                with tf.device("/CPU:0"):  # as predict places it
                    keras_model(tf.convert_to_tensor(arr), training=False).numpy()

            raw_us, wrapped_us = _added(raw, lambda: model.predict(arr), repeats)
        sec = "tf predict"
        added = wrapped_us - raw_us
        rows += [
            Row(sec, "Keras model(x, training=False).numpy(), tiny .keras, batch 1", raw_us, "us"),
            Row(sec, "Model.predict(array), same model and array", wrapped_us, "us"),
            Row(sec, "added by predict (.keras)", added, "us", "<= 50 us", added <= 50,
                note="beside the onnx section's figure"),
        ]
        with load_model(Path(tmp) / "tiny_sm") as model:
            fn, name = model.signature, model.input_name  # type: ignore[attr-defined]

            def serve() -> None:
                with tf.device("/CPU:0"):
                    fn(**{name: tf.convert_to_tensor(arr)})["output_0"].numpy()

            raw_us, wrapped_us = _added(serve, lambda: model.predict(arr), repeats)
        added = wrapped_us - raw_us
        rows += [
            Row(sec, "serving signature call, tiny SavedModel, batch 1", raw_us, "us"),
            Row(sec, "added by predict (SavedModel)", added, "us", "<= 50 us", added <= 50),
        ]
    return rows
