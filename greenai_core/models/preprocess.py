"""Images to model input: the one preprocessing shared by inference and training.

Steps: open (PIL), convert to RGB (grey, palette and RGBA images included; alpha is
dropped, as torchvision's loaders do) or to L for one-channel models, resize to the
model's height x width with bilinear filtering (any aspect ratio; where H/W are dynamic,
to the model's ``image_size`` if it has one, e.g. PyTorch's documented 224 x 224 default,
else the image keeps its size and a batch takes its first image's size), scale to [0, 1],
normalise per channel with ``mean``/``std`` (ImageNet's by default, ``None`` to skip),
then lay out as NCHW or NHWC with the batch first.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.errors import GreenAIError, UsageError
from greenai_core.models.spec import NCHW, InputSpec

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageError(GreenAIError):
    """An image file is missing, unreadable or not an image."""


@dataclass(frozen=True)
class Normalization:
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD

    def __post_init__(self) -> None:
        if len(self.mean) != len(self.std) or not self.mean:
            raise UsageError("normalize: mean and std need the same, non-zero number of values")
        if any(s <= 0 for s in self.std):
            raise UsageError("normalize: every std value must be positive")


IMAGENET = Normalization()


def normalization(value: Any) -> Normalization | None:
    """Accepts ``"imagenet"`` (default), ``None`` (skip), ``(mean, std)`` or a Normalization."""
    if value is None or isinstance(value, Normalization):
        return value
    if isinstance(value, str):
        if value.lower() == "imagenet":
            return IMAGENET
        raise UsageError(f"unknown normalization {value!r} (use 'imagenet', None or (mean, std))")
    try:
        mean, std = value
        return Normalization(tuple(float(m) for m in mean), tuple(float(s) for s in std))
    except (TypeError, ValueError):
        raise UsageError(f"normalize must be 'imagenet', None or (mean, std), not {value!r}") from None


def open_image(source: str | os.PathLike[str] | Image.Image) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    if isinstance(source, Image.Image):
        return source
    path = Path(source)
    try:
        with Image.open(path) as img:
            img.load()  # read it all now: the file closes when the with block ends
            loaded: Image.Image = img
            return loaded
    except FileNotFoundError:
        raise ImageError(f"{path}: no such image file") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file PIL can read") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt image data
        raise ImageError(f"{path}: unreadable image ({exc})") from None


def image_to_hwc(img: Image.Image, size: tuple[int, int] | None, channels: int,
                 norm: Normalization | None) -> np.ndarray:
    """One image as a float32 H x W x C array, resized, scaled and normalised."""
    import numpy as np
    from PIL import Image

    img = img.convert("L" if channels == 1 else "RGB")
    if size is not None and (img.height, img.width) != size:
        img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    arr: np.ndarray = np.asarray(img, dtype=np.float32) / np.float32(255.0)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if norm is not None:
        mean = np.asarray(norm.mean, dtype=np.float32)
        std = np.asarray(norm.std, dtype=np.float32)
        if channels == 1 and mean.size > 1:  # grey model with RGB statistics: use their average
            mean, std = mean.mean(keepdims=True), std.mean(keepdims=True)
        if mean.size not in (1, arr.shape[2]):
            raise UsageError(f"normalize has {mean.size} values but the model takes {arr.shape[2]} channels")
        arr = (arr - mean) / std
    return arr


def images_to_batch(images: Sequence[Any], spec: InputSpec, norm: Normalization | None,
                    dtype: str = "float32", image_size: tuple[int, int] | None = None) -> np.ndarray:
    """Paths or PIL images -> one batch laid out as ``spec`` says.

    Where the spec's height/width are dynamic, images go to ``image_size`` (H, W) if given,
    else keep the first image's size.
    """
    import numpy as np

    opened = [open_image(i) for i in images]
    if not opened:
        raise UsageError("no images given")
    if spec.height is not None and spec.width is not None:
        size: tuple[int, int] | None = (spec.height, spec.width)
    else:
        first = opened[0]
        fallback = image_size or (first.height, first.width)
        size = (spec.height or fallback[0], spec.width or fallback[1])
    channels = spec.channels or 3
    batch = np.stack([image_to_hwc(img, size, channels, norm) for img in opened])
    if spec.layout == NCHW:
        batch = batch.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(batch, dtype=dtype)
