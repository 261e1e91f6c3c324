"""``Model``: one loaded model, whatever its file format.

A format plugin's ``load`` returns an instance of a ``Model`` subclass. It must implement
``_forward`` (a prepared array in, an array out); where its framework can, it also
implements ``_trainer`` (training primitives, see ``greenai_core.models.trainer``), ``_save``
(write the model in its original kind to a path) and ``sync`` (wait for queued device work).
Everything users touch (input handling, image preprocessing, batching, the training loop,
atomic saving, class names, the original greenAI aliases) lives here once, so every format
behaves the same.

The constructor's fields, which ``load`` fills: ``path``, ``format`` (the format's name),
``device`` (the ``Device`` it was given), ``input_spec`` (the image input), ``output_spec``
(None when unknown; a known ``[N, K]`` gives the class count), ``num_parameters``,
``trainable_parameters`` (None when the format has no such notion), ``details`` (facts for
``greenai info``), ``image_size`` (a default size for dynamic inputs), ``labels`` (class names
the file carries, if any). ``normalize``, ``image_size``, ``layout`` and ``labels`` given by
the user are applied by the core after ``load`` returns.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from greenai_core.errors import GreenAIError, UnsupportedOperationError, UsageError, one_line
from greenai_core.models.devices import Device
from greenai_core.models.preprocess import IMAGENET, Normalization, images_to_batch, normalization
from greenai_core.models.spec import InputSpec, TensorSpec, format_shape

if TYPE_CHECKING:
    import numpy as np

    from greenai_core.models.trainer import Trainer
    from greenai_core.models.training import EpochResult, StepInfo, TrainingResult

_UNSET: Any = object()


class ModelRunError(GreenAIError):
    """The framework failed to run the model on a prepared batch (e.g. a layout or size its graph rejects)."""


class Model(ABC):
    """A loaded image classifier. Use ``with`` or ``close()`` to free it."""

    #: Framework-specific ``train`` keywords this model's trainer accepts: name -> one-line description.
    train_options: ClassVar[Mapping[str, str]] = {}
    #: None for a model saved as one file. A model saved as a folder (a TensorFlow SavedModel) sets
    #: the file that marks such a folder ("saved_model.pb"): ``save``/``save_to`` then hand ``_save``
    #: a new empty folder beside the target and swap it into place (``io_folders.atomic_folder``); an
    #: existing target is replaced only if it is empty or holds that file.
    folder_marker: str | None = None

    def __init__(
        self,
        *,
        path: str | os.PathLike[str],
        format: str,
        device: str | Device,
        input_spec: InputSpec,
        output_spec: TensorSpec | None,
        num_parameters: int,
        trainable_parameters: int | None,
        normalize: Any = IMAGENET,
        details: dict[str, Any] | None = None,
        image_size: tuple[int, int] | None = None,
        labels: Sequence[str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.format = format
        #: The canonical device string ("cpu", "cuda:1").
        self.device = str(Device.parse(device))
        self.input_spec = input_spec
        self.output_spec = output_spec
        self.num_parameters = num_parameters
        self.trainable_parameters = trainable_parameters
        self.normalize: Normalization | None = normalization(normalize)
        #: Format-specific facts for ``greenai info`` (e.g. the PyTorch file kind).
        self.details: dict[str, Any] = dict(details or {})
        #: (H, W) images are resized to where the input's height/width are dynamic; None keeps the image's size.
        self.image_size = image_size
        #: Class names, index -> name (from the file, or the ``labels`` option, which wins); None if unknown.
        self.labels: list[str] | None = list(labels) if labels is not None else None
        #: Where ``labels`` came from: "model file", "option", "file <path>".
        self.labels_source: str | None = "model file" if labels is not None else None
        self.closed = False

    # -- what a plugin implements ----------------------------------------------------------
    @abstractmethod
    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """Run the model on one prepared batch (the input spec's layout and dtype); outputs batch first."""

    def _trainer(self, *, optimizer: Any, lr: float, loss: Any, seed: int | None,
                 **framework_options: Any) -> Trainer:
        """The framework's training primitives for one ``train`` call; formats that can train override it.

        Arguments arrive validated (see ``greenai_core.models.trainer``); ``framework_options``
        hold only names declared in ``train_options``.
        """
        raise UnsupportedOperationError(f"{self.path}: training is not supported for {self.format} models")

    def _save(self, path: Path) -> None:
        """Write the model, in the kind it was loaded from, to ``path`` (a temporary file the core then
        moves into place atomically). Formats that can save override it."""
        raise UnsupportedOperationError(f"{self.path}: saving is not supported for {self.format} models")

    def sync(self) -> None:  # noqa: B027 - optional hook: nothing is queued on the CPU
        """Wait until work queued on the device is done (e.g. CUDA kernels), so an energy window is complete."""

    def _with_layout(self, layout: str) -> InputSpec:
        """The input spec when the user says the input is laid out as ``layout`` (NCHW or NHWC).

        Default: the same shape, relabelled (the shape came from the file; only which axis is
        the channel axis changes). A format whose shape was guessed from the layout overrides it.
        """
        return dataclasses.replace(self.input_spec, layout=layout)

    def _close(self) -> None:  # noqa: B027 - optional hook, nothing to free by default
        """Free framework resources (sessions, GPU memory)."""

    @property
    def num_classes(self) -> int | None:
        """The number of outputs per image when the output spec says (``[N, K]`` with K known), else None."""
        shape = self.output_spec.shape if self.output_spec else ()
        return shape[1] if len(shape) == 2 and shape[1] is not None else None

    # -- what users call -------------------------------------------------------------------
    def predict(self, x: Any, *, normalize: Any = _UNSET, batch_size: int = 32) -> np.ndarray:
        """Outputs for ``x``, batch first.

        ``x``: an image path, a PIL image, a list of those, or a numpy array already shaped
        for the model, which is passed through untouched. A list is decoded and run
        ``batch_size`` images at a time, so memory follows the batch size, not the list length.
        """
        import numpy as np

        if self.closed:
            raise UsageError(f"{self.path}: this model was closed")
        if isinstance(x, np.ndarray):
            self.check_array(x)
            return self._run_batched(x)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise UsageError(f"batch_size must be a positive integer, not {batch_size!r}")
        items = list(x) if isinstance(x, (list, tuple)) else [x]
        norm = self.normalize if normalize is _UNSET else normalization(normalize)
        if len(items) <= batch_size:
            return self._run_batched(self._prepare(items, norm, self.image_size))
        fixed = self.input_spec.batch
        if fixed is not None:
            if len(items) % fixed:
                raise UsageError(f"{self.path}: the model takes batches of exactly {fixed}; got {len(items)} inputs")
            batch_size = max(fixed, batch_size - batch_size % fixed)
        size = self.image_size
        if size is None and (self.input_spec.height is None or self.input_spec.width is None):
            first = self._prepare(items[:1], norm, None)  # every chunk takes the first image's size, as one batch would
            h_axis = 2 if self.input_spec.layout == "NCHW" else 1
            size = (int(first.shape[h_axis]), int(first.shape[h_axis + 1]))
        outputs = [self._run_batched(self._prepare(items[i:i + batch_size], norm, size))
                   for i in range(0, len(items), batch_size)]
        return np.concatenate(outputs)

    def prepare(self, images: list[Any], *, normalize: Any = _UNSET) -> np.ndarray:
        """The batch ``predict`` would feed the model for these images (the shared preprocessing)."""
        norm = self.normalize if normalize is _UNSET else normalization(normalize)
        return self._prepare(images, norm, self.image_size)

    def _prepare(self, images: list[Any], norm: Normalization | None, size: tuple[int, int] | None) -> np.ndarray:
        return images_to_batch(images, self.input_spec, norm, self.input_spec.dtype, size, str(self.path))

    def train(
        self,
        data: Any,
        *,
        epochs: int = 1,
        batch_size: int = 32,
        optimizer: Any = "adam",
        lr: float = 1e-3,
        loss: Any = "cross_entropy",
        shuffle: bool = True,
        seed: int | None = None,
        save_to: str | os.PathLike[str] | None = None,
        validation: Any = None,
        on_step: Callable[[StepInfo], Any] | None = None,
        on_epoch: Callable[[EpochResult], Any] | None = None,
        **framework_options: Any,
    ) -> TrainingResult:
        """Train in place and return per-epoch loss and accuracy with the step and sample counts.

        ``data`` and ``validation``: an image folder (one subfolder per class), one
        ``(images, labels)`` pair of arrays (cut into batches of ``batch_size``), or an iterable of
        such pairs (one batch each); see ``greenai_core.models.training``. ``optimizer``: "adam"
        or "sgd" (or a framework callable); ``loss``: "cross_entropy" (or a framework callable);
        ``shuffle`` reshuffles every epoch, reproducibly with ``seed``; ``save_to`` is checked
        writable before the first step and written atomically at the end, in the model's
        original kind. ``on_step(StepInfo)`` runs after every step, ``on_epoch(EpochResult)``
        after every epoch; either may raise ``StopTraining`` to end training early (the result
        keeps what was done). A NaN or infinite loss raises ``TrainingDivergedError`` carrying
        the finished epochs. Other keywords are the format's ``train_options`` (e.g. torch's
        ``momentum``, ``weight_decay``).
        """
        from greenai_core.models.train_loop import train_model

        if self.closed:
            raise UsageError(f"{self.path}: this model was closed")
        return train_model(self, data, epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, loss=loss,
                           shuffle=shuffle, seed=seed, save_to=save_to, validation=validation, on_step=on_step,
                           on_epoch=on_epoch, **framework_options)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save in the kind the model was loaded from, atomically, to a regular file (or, for a model
        saved as a folder, a folder swapped into place); returns what was written."""
        from greenai_core.models.train_loop import check_save_to

        check_save_to(self, path)
        if self.folder_marker is not None:
            from greenai_core.io_folders import atomic_folder

            with atomic_folder(path, marker=self.folder_marker) as folder:
                self._save(folder)
            return Path(os.fspath(path).rstrip(os.sep) or os.sep)
        from greenai_core.io import atomic_path

        with atomic_path(os.fspath(path)) as tmp:
            self._save(tmp)
        return Path(path)

    def check_array(self, x: np.ndarray) -> None:
        """Raise a UsageError unless ``x`` fits the input spec (rank, fixed dimensions, dtype)."""
        spec = self.input_spec
        if x.ndim != len(spec.shape):
            raise UsageError(
                f"{self.path}: input array has shape {list(x.shape)} but the model takes "
                f"{format_shape(spec.shape)} ({spec.layout}); add the batch dimension or transpose"
            )
        for axis, (got, want) in enumerate(zip(x.shape, spec.shape, strict=True)):
            if want is not None and got != want and not (axis == 0 and spec.batch is not None):
                raise UsageError(
                    f"{self.path}: input array has shape {list(x.shape)} but the model takes "
                    f"{format_shape(spec.shape)} ({spec.layout})"
                )
        if x.dtype != _np_dtype(spec.dtype):  # np.dtype equality: str(x.dtype) costs ~10 us per call
            raise UsageError(
                f"{self.path}: input array is {x.dtype} but the model takes {spec.dtype}; "
                f"convert it with x.astype('{spec.dtype}')"
            )

    def _run_batched(self, batch: np.ndarray) -> np.ndarray:
        """A model with a fixed batch size N gets the batch in chunks of N."""
        import numpy as np

        fixed = self.input_spec.batch
        if fixed is None or batch.shape[0] == fixed:
            return self._checked_forward(batch)
        if batch.shape[0] % fixed:
            raise UsageError(
                f"{self.path}: the model takes batches of exactly {fixed}; got {batch.shape[0]} inputs"
            )
        return np.concatenate([self._checked_forward(batch[i:i + fixed]) for i in range(0, batch.shape[0], fixed)])

    def _checked_forward(self, batch: np.ndarray) -> np.ndarray:
        """``_forward``; a framework's own error (a layout the graph rejects, memory) becomes one ModelRunError line."""
        try:
            return self._forward(batch)
        except GreenAIError:
            raise
        except Exception as exc:
            raise self._run_error(batch, exc) from exc

    def _run_error(self, batch: np.ndarray, exc: Exception) -> ModelRunError:
        return ModelRunError(
            f"{self.path}: the {self.format} model failed on a batch of shape {list(batch.shape)} "
            f"{self.input_spec.layout} {batch.dtype}: {type(exc).__name__}: {one_line(exc)}"
        )

    def close(self) -> None:
        if not self.closed:
            self._close()
            self.closed = True

    def __enter__(self) -> Model:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        """What ``greenai info`` shows."""
        return {
            "path": str(self.path),
            "format": self.format,
            "device": self.device,
            "num_parameters": self.num_parameters,
            "trainable_parameters": self.trainable_parameters,
            "input": self.input_spec.to_dict(),
            "output": self.output_spec.to_dict() if self.output_spec else None,
            "file_size_bytes": file_size(self.path),
            "image_size": list(self.image_size) if self.image_size else None,
            "labels": len(self.labels) if self.labels is not None else None,
            "labels_source": self.labels_source,
            **self.details,
        }

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.format} {self.path.name} {self.num_parameters} parameters, "
                f"input {format_shape(self.input_spec.shape)} {self.input_spec.layout}>")

    # -- the original greenAI names --------------------------------------------------------
    def get_number_of_parameters(self) -> int:
        return self.num_parameters

    def run(self, image_path: Any) -> np.ndarray:
        return self.predict(image_path)


def file_size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


@functools.lru_cache(maxsize=32)
def _np_dtype(name: str) -> Any:
    import numpy as np

    return np.dtype(name)
