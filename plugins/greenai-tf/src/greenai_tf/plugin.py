"""Entry point module: registers the "tf" model format. TensorFlow itself loads when a TF model is loaded."""

from __future__ import annotations

from typing import Any

from greenai_core.sdk import hookimpl


@hookimpl
def register_model_formats(register: Any) -> None:
    from greenai_tf.format import TFFormat

    register(TFFormat())
