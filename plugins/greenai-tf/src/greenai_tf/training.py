"""TensorFlow's training primitives. The loop, data, preprocessing, validation and accounting are
the core's (``Model.train``); this module owns one optimisation step: a ``tf.GradientTape`` over
the model's trainable variables, compiled once with ``tf.function``.

- Keras models (``.keras``, ``.h5``) run with ``training=True`` inside the step (dropout on,
  batch norm updating its statistics).
- SavedModels train through their serving signature, as it was traced: inference behaviour
  (dropout off, batch norm on its stored statistics), the gradient reaching every trainable
  variable the SavedModel exposes.

Besides the core's names, ``optimizer`` may be a callable returning a ``keras.optimizers.Optimizer``
(``lambda: keras.optimizers.RMSprop(1e-3)``) and ``loss`` a callable ``(labels, outputs) -> scalar``
(a ``keras.losses.Loss``). ``cross_entropy`` is taken on the outputs as logits, except for a Keras
model whose last layer is a softmax, where it is taken on those probabilities (Keras's
``from_logits=False``). ``momentum`` (SGD) is TensorFlow's own training option.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from greenai_core.sdk import StepResult, Trainer, UsageError
from greenai_tf.kinds import SAVEDMODEL

if TYPE_CHECKING:
    import numpy as np

    from greenai_tf.model import TFModel

TRAIN_OPTIONS = {"momentum": "SGD momentum (default 0.9)"}


def _momentum(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise UsageError(f"momentum must be a number in [0, 1), not {value!r}")
    return float(value)


def ends_in_softmax(model: TFModel) -> bool:
    """Whether a Keras model's last layer outputs probabilities (a softmax activation or layer)."""
    if model.kind == SAVEDMODEL:
        return False
    layers = getattr(model.model, "layers", None) or []
    if not layers:
        return False
    last = layers[-1]
    activation = getattr(last, "activation", None)
    return type(last).__name__ == "Softmax" or getattr(activation, "__name__", "") == "softmax"


def make_optimizer(keras: Any, spec: Any, lr: float, momentum: float, path: Any) -> Any:
    if callable(spec) and not isinstance(spec, str):
        optimizer = spec()
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            raise UsageError(f"{path}: the optimizer callable must return a keras.optimizers.Optimizer, "
                             f"not {type(optimizer).__name__}")
        return optimizer
    if spec == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=momentum)
    return keras.optimizers.Adam(learning_rate=lr)  # the core allows only sgd and adam by name


class TFTrainer(Trainer):
    def __init__(self, model: TFModel, *, optimizer: Any, lr: float, loss: Any, seed: int | None,
                 momentum: Any = 0.9) -> None:
        from greenai_tf.tfimport import import_tf

        tf, keras = import_tf(model.path)
        self.model = model
        if model.kind == SAVEDMODEL:
            variables = list(model.signature.trainable_variables)  # what the serving function reads and trains
        else:
            variables = list(model.model.trainable_variables)
        if not variables:
            raise UsageError(f"{model.path}: the model exposes no trainable variables")
        if seed is not None:
            keras.utils.set_random_seed(seed)  # Python's, numpy's and TensorFlow's generators, as Keras does
        self.variables = variables
        self.optimizer = make_optimizer(keras, optimizer, lr, _momentum(momentum), model.path)
        if callable(loss) and not isinstance(loss, str):
            self.loss_fn = loss
        else:
            self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=not ends_in_softmax(model))
        self._compiled = tf.function(self._raw_step, reduce_retracing=True)

    def _raw_step(self, images: Any, labels: Any) -> tuple[Any, Any]:
        import tensorflow as tf

        with tf.GradientTape() as tape:
            outputs = self.model.call(images, training=True)
            loss = self.loss_fn(labels, outputs)
        grads = tape.gradient(loss, self.variables)
        self.optimizer.apply_gradients(
            [(g, v) for g, v in zip(grads, self.variables, strict=True) if g is not None])
        ranked_first = tf.argmax(outputs, axis=1, output_type=labels.dtype)
        correct = tf.reduce_sum(tf.cast(tf.equal(ranked_first, labels), tf.int64))
        return loss, correct

    def step(self, images: np.ndarray, labels: np.ndarray) -> StepResult:
        import tensorflow as tf

        with tf.device(self.model.tf_device):
            loss, correct = self._compiled(tf.convert_to_tensor(images), tf.convert_to_tensor(labels))
        return StepResult(float(loss.numpy()), int(correct.numpy()))
