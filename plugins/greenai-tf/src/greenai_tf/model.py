"""``TFModel``: inference with ``training=False`` on the chosen device, training primitives, saving by kind.

Saving: the core writes atomically and calls ``_save`` with a temporary path: a file for a
``.keras`` or ``.h5`` model; for a SavedModel (``folder_marker`` set) a new empty folder that the
core swaps into place (atomically on Linux); an existing target must be empty or a SavedModel.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.sdk import Model
from greenai_tf.kinds import H5, KERAS, SAVED_MODEL_PB, SAVEDMODEL
from greenai_tf.training import TRAIN_OPTIONS

if TYPE_CHECKING:
    import numpy as np

    from greenai_core.sdk import Trainer


class TFModel(Model):
    train_options = TRAIN_OPTIONS

    def __init__(self, model: Any, *, kind: str, tf_device: str, signature: Any = None, signature_name: str = "",
                 input_name: str = "", output_key: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: The Keras model (kinds keras, h5) or the object ``tf.saved_model.load`` returned (savedmodel).
        self.model = model
        self.kind = kind
        self.tf_device = tf_device
        self.signature = signature  # SavedModel: the serving ConcreteFunction, called with {input_name: batch}
        self.signature_name = signature_name
        self.input_name = input_name
        self.output_key = output_key
        if kind == SAVEDMODEL:
            self.folder_marker = SAVED_MODEL_PB

    def call(self, x: Any, *, training: bool = False) -> Any:
        """The model's outputs for a tensor, as a tensor (the first output when it has several)."""
        if self.kind == SAVEDMODEL:  # the serving function was traced for inference: training has no effect
            return self.signature(**{self.input_name: x})[self.output_key]
        out = self.model(x, training=training)
        if isinstance(out, dict):
            out = out[sorted(out)[0]]
        if isinstance(out, (list, tuple)):
            out = out[0]
        return out

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        with tf.device(self.tf_device):
            out = self.call(tf.convert_to_tensor(batch), training=False)
        result: np.ndarray = out.numpy()  # copies to host memory: waits for the device
        return result

    def _trainer(self, *, optimizer: Any, lr: float, loss: Any, seed: int | None, **options: Any) -> Trainer:
        from greenai_tf.training import TFTrainer

        return TFTrainer(self, optimizer=optimizer, lr=lr, loss=loss, seed=seed, **options)

    def sync(self) -> None:
        if self.tf_device.startswith("/GPU"):
            import tensorflow as tf

            tf.test.experimental.sync_devices()

    # -- saving ------------------------------------------------------------------------------
    def _save(self, path: Path) -> None:
        """Write a .keras or .h5 model to ``path`` (the core's temporary file; it does the atomic replace).

        Keras picks the kind from the name's suffix, which ``path`` need not have: Keras writes into
        a private folder beside it, and that file is renamed onto ``path``.
        """
        from greenai_tf.tfimport import quiet

        if self.kind == SAVEDMODEL:  # ``path`` is then the new, empty folder the core swaps into place
            self._save_folder(path)
            return
        suffix = {KERAS: ".keras", H5: ".h5"}[self.kind]
        tmp = tempfile.mkdtemp(prefix=".greenai-tf-", dir=path.parent)
        try:
            written = Path(tmp) / f"model{suffix}"
            with quiet():
                self.model.save(str(written))
            os.replace(written, path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _save_folder(self, folder: Path) -> None:
        import tensorflow as tf

        from greenai_tf.tfimport import quiet

        with quiet():
            tf.saved_model.save(self.model, str(folder), signatures={self.signature_name: self.signature})

    def _close(self) -> None:
        self.model = None
        self.signature = None
