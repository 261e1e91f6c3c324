"""Images to model input: the one preprocessing shared by inference and training.

Steps: open (PIL), convert to RGB (grey, palette and RGBA images included; alpha is
dropped, as torchvision's loaders do) or to L for one-channel models, resize to the
model's height x width with bilinear filtering (any aspect ratio; where H/W are dynamic,
to the model's ``image_size`` if it has one, e.g. PyTorch's documented 224 x 224 default,
else the image keeps its size and a batch takes its first image's size), scale to [0, 1],
normalise per channel with ``mean``/``std`` (ImageNet's by default, ``None`` to skip),
then lay out as NCHW or NHWC with the batch first. As torchvision's and Keras's loaders do,
the pixels are taken as stored: an EXIF orientation tag is not applied (training and inference
then see the same array) and an animated image gives its first frame. A target size over the
decompression-bomb limit (a hostile model's declared input, a huge ``image_size``) is refused
before anything is allocated.

Scaling to [0, 1] follows the image's mode, not a fixed 255: 8-bit modes divide by 255;
16-bit grey (``I;16``, ``I;16B``, ``I;16L``, ``I;16N``) by 65535; ``I`` (32-bit integers,
which is how PIL opens some 16-bit PNGs and PGMs) is taken as 16-bit and divided by 65535,
and refused if a value falls outside 0..65535; ``F`` (32-bit float) is taken as already in
[0, 1] and refused if a value falls outside it (or is NaN). High-bit-depth images are
resized in floating point, so no precision is lost to 8 bits, and replicated to three
channels for RGB models.

Untrusted files: FIFOs, sockets and devices are refused before they are opened (reading
one would block or never end), and an image over PIL's decompression-bomb limit
(``PIL.Image.MAX_IMAGE_PIXELS``; its warning too, not only its error) is an ``ImageError``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.errors import GreenAIError, UsageError, one_line
from greenai_core.models.sniff import open_regular, special_file
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
        if not all(math.isfinite(v) for v in (*self.mean, *self.std)):  # NaN or inf would make every output NaN
            raise UsageError(f"normalize: mean and std must be finite numbers, not {self.mean} and {self.std}")
        if any(s <= 0 for s in self.std):
            raise UsageError("normalize: every std value must be positive")


IMAGENET = Normalization()


def normalization(value: Any) -> Normalization | None:
    """Accepts ``"imagenet"`` (default), ``None`` (skip), ``(mean, std)`` or a Normalization."""
    if value is None or isinstance(value, Normalization):
        return value
    if isinstance(value, str):
        if value.strip().lower() == "imagenet":
            return IMAGENET
        if value.strip().lower() == "none":  # what a CLI user types for None (-o normalize=none)
            return None
        raise UsageError(f"unknown normalization {value!r} (use 'imagenet', 'none' or (mean, std))")
    try:
        mean, std = value
        return Normalization(tuple(float(m) for m in mean), tuple(float(s) for s in std))
    except (TypeError, ValueError):
        raise UsageError(f"normalize must be 'imagenet', None or (mean, std), not {value!r}") from None


#: Modes whose samples exceed 8 bits, and the value that maps to 1.0.
HIGH_BIT_DEPTH_SCALE: dict[str, float] = {
    "I;16": 65535.0, "I;16B": 65535.0, "I;16L": 65535.0, "I;16N": 65535.0, "I": 65535.0, "F": 1.0,
}


def open_image(source: str | os.PathLike[str] | Image.Image) -> Image.Image:
    """A loaded PIL image from a path (a PIL image is returned as is); ``ImageError`` naming the file otherwise."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    if isinstance(source, Image.Image):
        return source
    path = Path(source)
    special = special_file(path)
    if special is not None:
        raise ImageError(f"{path}: is {special}, not an image file; refused without reading it")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image file")
    try:
        with warnings.catch_warnings():
            # PIL only warns between MAX_IMAGE_PIXELS and twice that: refuse there too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with open_regular(path) as fh, Image.open(fh) as img:
                img.load()  # read it all now: the file closes when the with block ends
                img.filename = str(path)  # opened from a descriptor: name it for later messages
                loaded: Image.Image = img
                return loaded
    except FileNotFoundError:
        raise ImageError(f"{path}: no such image file") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{path}: refused as a decompression bomb ({one_line(exc)}); raise "
                         "PIL.Image.MAX_IMAGE_PIXELS if you trust it") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file PIL can read") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt image data
        raise ImageError(f"{path}: unreadable image ({one_line(exc)})") from None


def _image_name(img: Image.Image) -> str:
    return str(getattr(img, "filename", "") or f"a {img.mode} image")


def _unit_float(img: Image.Image) -> Image.Image:
    """A high-bit-depth image as mode F scaled to [0, 1] by its mode's range (see the module docstring)."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(img)
    if arr.ndim != 2:  # pragma: no cover - these modes are single-channel in PIL
        raise ImageError(f"{_image_name(img)}: unsupported {img.mode} image layout {arr.shape}")
    values = arr.astype(np.float64)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if img.mode == "F":
        if not (np.isfinite(values).all() and low >= 0.0 and high <= 1.0):
            raise ImageError(f"{_image_name(img)}: a float (F) image must hold values in [0, 1]; "
                             f"it holds {low:g} to {high:g} (scale it yourself, or pass an array)")
    elif low < 0 or high > 65535:
        raise ImageError(f"{_image_name(img)}: a 32-bit integer (I) image is read as 16-bit (0..65535); "
                         f"it holds {low:g} to {high:g} (scale it yourself, or pass an array)")
    scaled = (values / HIGH_BIT_DEPTH_SCALE[img.mode]).astype(np.float32)
    return Image.fromarray(scaled, mode="F")


def image_to_hwc(img: Image.Image, size: tuple[int, int] | None, channels: int,
                 norm: Normalization | None) -> np.ndarray:
    """One image as a float32 H x W x C array, resized, scaled to [0, 1] by its mode's range, and normalised."""
    import numpy as np
    from PIL import Image

    if img.mode in HIGH_BIT_DEPTH_SCALE:
        img = _unit_float(img)  # values already in [0, 1]
        scale = np.float32(1.0)
    else:
        img = img.convert("L" if channels == 1 else "RGB")
        scale = np.float32(255.0)
    if size is not None and (img.height, img.width) != size:
        img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    arr: np.ndarray = np.asarray(img, dtype=np.float32) / scale
    if arr.ndim == 2:
        arr = arr[:, :, None]
        if channels != 1:  # a high-bit-depth grey image for an RGB model: replicate, as convert("RGB") does
            arr = np.repeat(arr, 3, axis=2)
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
                    dtype: str = "float32", image_size: tuple[int, int] | None = None,
                    model_name: str | None = None) -> np.ndarray:
    """Paths or PIL images -> one batch laid out as ``spec`` says.

    Where the spec's height/width are dynamic, images go to ``image_size`` (H, W) if given,
    else keep the first image's size. ``model_name`` (the model's path) names the model in errors.
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
    check_image_size(size, f"{model_name + ': ' if model_name else ''}the size images are resized to")
    channels = spec.channels or 3
    batch = np.stack([image_to_hwc(img, size, channels, norm) for img in opened])
    if spec.layout == NCHW:
        batch = batch.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(batch, dtype=dtype)


def check_image_size(size: tuple[int, int] | None, what: str) -> None:
    """Refuse a height x width over PIL's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``).

    Resizing to it would allocate more than any image greenai accepts as input: a model file
    declaring a 100000 x 100000 input, or such an ``image_size``, would exhaust memory.
    """
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    if size is not None and limit is not None and size[0] * size[1] > limit:
        raise UsageError(f"{what}, {size[0]} x {size[1]}, is over PIL's decompression-bomb limit of {limit} "
                         "pixels; refused (raise PIL.Image.MAX_IMAGE_PIXELS if you mean it)")
