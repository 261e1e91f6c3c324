"""``Model``: one loaded model, whatever its file format.

Plugins subclass it and implement ``_forward`` (a prepared array in, an array out) and,
where their framework can, ``train``. Everything users touch (input handling, image
preprocessing, batching to a fixed batch size, the original greenAI aliases) lives here
once, so every format behaves the same.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from greenai_core.errors import UnsupportedOperationError, UsageError
from greenai_core.models.preprocess import IMAGENET, Normalization, images_to_batch, normalization
from greenai_core.models.spec import InputSpec, TensorSpec, format_shape

if TYPE_CHECKING:
    import numpy as np

_UNSET: Any = object()


class Model(ABC):
    """A loaded image classifier. Use ``with`` or ``close()`` to free it."""

    def __init__(
        self,
        *,
        path: str | os.PathLike[str],
        format: str,
        device: str,
        input_spec: InputSpec,
        output_spec: TensorSpec | None,
        num_parameters: int,
        trainable_parameters: int | None,
        normalize: Any = IMAGENET,
        details: dict[str, Any] | None = None,
        image_size: tuple[int, int] | None = None,
    ) -> None:
        self.path = Path(path)
        self.format = format
        self.device = device
        self.input_spec = input_spec
        self.output_spec = output_spec
        self.num_parameters = num_parameters
        self.trainable_parameters = trainable_parameters
        self.normalize: Normalization | None = normalization(normalize)
        #: Format-specific facts for ``greenai info`` (e.g. the PyTorch file kind).
        self.details: dict[str, Any] = dict(details or {})
        #: (H, W) images are resized to where the input's height/width are dynamic; None keeps the image's size.
        self.image_size = image_size
        self.closed = False

    # -- what a plugin implements ----------------------------------------------------------
    @abstractmethod
    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """Run the model on one prepared batch (the input spec's layout and dtype)."""

    def train(self, data: Any, **options: Any) -> Any:
        """Train in place; formats that can train override this."""
        raise UnsupportedOperationError(f"{self.path}: training is not supported for {self.format} models")

    def _close(self) -> None:  # noqa: B027 - optional hook, nothing to free by default
        """Free framework resources (sessions, GPU memory)."""

    # -- what users call -------------------------------------------------------------------
    def predict(self, x: Any, *, normalize: Any = _UNSET) -> np.ndarray:
        """Outputs for ``x``, batch first.

        ``x``: an image path, a PIL image, a list of those (a batch), or a numpy array
        already shaped for the model, which is passed through untouched.
        """
        import numpy as np

        if self.closed:
            raise UsageError(f"{self.path}: this model was closed")
        if isinstance(x, np.ndarray):
            self.check_array(x)
            return self._run_batched(x)
        items = list(x) if isinstance(x, (list, tuple)) else [x]
        return self._run_batched(self.prepare(items, normalize=normalize))

    def prepare(self, images: list[Any], *, normalize: Any = _UNSET) -> np.ndarray:
        """The batch ``predict`` would feed the model for these images (the shared preprocessing)."""
        norm = self.normalize if normalize is _UNSET else normalization(normalize)
        return images_to_batch(images, self.input_spec, norm, self.input_spec.dtype, self.image_size)

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
        if str(x.dtype) != spec.dtype:
            raise UsageError(
                f"{self.path}: input array is {x.dtype} but the model takes {spec.dtype}; "
                f"convert it with x.astype('{spec.dtype}')"
            )

    def _run_batched(self, batch: np.ndarray) -> np.ndarray:
        """A model with a fixed batch size N gets the batch in chunks of N."""
        import numpy as np

        fixed = self.input_spec.batch
        if fixed is None or batch.shape[0] == fixed:
            return self._forward(batch)
        if batch.shape[0] % fixed:
            raise UsageError(
                f"{self.path}: the model takes batches of exactly {fixed}; got {batch.shape[0]} inputs"
            )
        return np.concatenate([self._forward(batch[i:i + fixed]) for i in range(0, batch.shape[0], fixed)])

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

