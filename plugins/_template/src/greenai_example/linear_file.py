"""The ``example-linear`` file: a self-describing linear softmax classifier, all little-endian::

    MAGIC (16 bytes) | header length (uint32) | JSON header | weights (float32, D x K) | bias (float32, K)

The header is ``{"version": 1, "input_shape": [C, H, W], "classes": K, "labels": [...]}``
(``labels`` optional) with D = C * H * W. Reading is bounded: the header length is capped,
and the file's size must equal what the header describes before any weight is read.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.sdk import ModelFormatError, open_regular

if TYPE_CHECKING:
    import numpy as np

FORMAT_NAME = "example-linear"
# A non-ASCII first byte (as .npy has) keeps text files from ever matching.
MAGIC = b"\x93GREENAI-LINEAR\n"
FORMAT_VERSION = 1
#: The header is read whole: a header length beyond this is refused, not trusted.
MAX_HEADER_BYTES = 64 * 1024
_LENGTH = struct.Struct("<I")
FLOAT32 = 4


def read_linear_file(path: Path) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """The header, weights (D x K) and bias (K) of ``path``; a ``ModelFormatError`` naming it otherwise."""
    import numpy as np

    try:
        fh = open_regular(path)  # never blocks on a FIFO, refuses devices and folders
    except OSError as exc:
        raise ModelFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    with fh:
        head = fh.read(len(MAGIC) + _LENGTH.size)
        if len(head) < len(MAGIC) + _LENGTH.size or not head.startswith(MAGIC):
            raise ModelFormatError(f"{path}: not an {FORMAT_NAME} file (no magic bytes)")
        (header_len,) = _LENGTH.unpack(head[len(MAGIC):])
        if header_len > MAX_HEADER_BYTES:
            raise ModelFormatError(f"{path}: header of {header_len} bytes, more than {MAX_HEADER_BYTES}")
        try:
            header = json.loads(fh.read(header_len).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ModelFormatError(f"{path}: unreadable header: {exc}") from exc
        (channels, height, width), classes = _check_header(path, header)
        count = channels * height * width * classes + classes
        expected = len(head) + header_len + FLOAT32 * count
        size = os.fstat(fh.fileno()).st_size
        if size != expected:  # checked before reading: the header cannot make us read more than the file
            raise ModelFormatError(f"{path}: {size} bytes, but its header describes {expected}")
        values = np.fromfile(fh, dtype="<f4", count=count)
    if values.size != count:
        raise ModelFormatError(f"{path}: truncated while reading (did the file change?)")
    if not np.isfinite(values).all():
        raise ModelFormatError(f"{path}: weights contain NaN or infinity")
    values = values.astype(np.float32)
    split = count - classes
    return header, values[:split].reshape(-1, classes), values[split:]


def _check_header(path: Path, header: Any) -> tuple[tuple[int, int, int], int]:
    if not isinstance(header, dict) or header.get("version") != FORMAT_VERSION:
        raise ModelFormatError(f"{path}: header is not a version {FORMAT_VERSION} {FORMAT_NAME} header")
    shape: Any = header.get("input_shape")
    classes: Any = header.get("classes")
    labels: Any = header.get("labels")
    if not (isinstance(shape, list) and len(shape) == 3 and all(_positive_int(d) for d in shape)):
        raise ModelFormatError(f"{path}: input_shape must be three positive integers [C, H, W], not {shape!r}")
    if not _positive_int(classes):
        raise ModelFormatError(f"{path}: classes must be a positive integer, not {classes!r}")
    if labels is not None and not (
        isinstance(labels, list) and len(labels) == classes and all(isinstance(x, str) for x in labels)
    ):
        raise ModelFormatError(f"{path}: labels must be a list of {classes} strings")
    return (int(shape[0]), int(shape[1]), int(shape[2])), int(classes)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def save_example_model(
    path: str | os.PathLike[str],
    *,
    input_shape: tuple[int, int, int] = (3, 8, 8),
    classes: int = 3,
    weights: Any = None,
    bias: Any = None,
    labels: list[str] | None = None,
    seed: int = 0,
) -> Path:
    """Write an ``example-linear`` file; weights and bias default to small random numbers from ``seed``.

    A helper for tests and demos: it writes ``path`` in place. (``Model.save`` is the atomic way.)
    """
    import numpy as np

    features = int(np.prod(input_shape))
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.1, (features, classes)) if weights is None else np.asarray(weights)
    b = rng.normal(0.0, 0.1, classes) if bias is None else np.asarray(bias)
    if w.shape != (features, classes) or b.shape != (classes,):
        raise ValueError(f"weights must be {(features, classes)} and bias {(classes,)}, not {w.shape} and {b.shape}")
    header: dict[str, Any] = {"version": FORMAT_VERSION, "input_shape": list(input_shape), "classes": classes}
    if labels is not None:
        header["labels"] = list(labels)
    raw = json.dumps(header).encode("utf-8")
    target = Path(path)
    with open(target, "wb") as fh:
        fh.write(MAGIC + _LENGTH.pack(len(raw)) + raw)
        fh.write(w.astype("<f4").tobytes() + b.astype("<f4").tobytes())
    return target
