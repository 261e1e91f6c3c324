"""Load options that mean the same for every format, applied by the core.

``load_model(path, **options)`` splits the options: the core's own (``CORE_OPTIONS``) are
parsed here before anything is loaded and applied to the loaded ``Model``; the rest must be
declared by the chosen format (``ModelFormat.options``) and are the only ones its ``load``
sees. An option neither knows is one ``UsageError`` listing the valid ones.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.errors import UsageError
from greenai_core.models.preprocess import Normalization, check_image_size, normalization
from greenai_core.models.spec import guess_layout

if TYPE_CHECKING:
    from greenai_core.models.model import Model

#: The core's options: name -> one line for ``--help`` and error messages.
CORE_OPTIONS: Mapping[str, str] = {
    "normalize": "'imagenet' (default), None to skip, or (mean, std) per channel",
    "image_size": "(H, W) or N: the size images are resized to where the model's input size is dynamic",
    "layout": "NCHW or NHWC: override the input layout read from (or guessed for) the file",
    "labels": "class names: a list, or a text file with one name per line",
}
#: A class-names file larger than this is not a class-names file.
MAX_LABELS_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class CoreOptions:
    """The core options a user gave, parsed; ``given`` names those that were given."""

    given: frozenset[str] = frozenset()
    normalize: Normalization | None = None
    image_size: tuple[int, int] | None = None
    layout: str | None = None
    labels: tuple[str, ...] | None = None
    labels_source: str | None = None


def split_options(format_name: str, format_options: Mapping[str, str],
                  options: Mapping[str, Any]) -> tuple[CoreOptions, dict[str, Any]]:
    """(the core's options parsed, the format's own options); unknown names are one UsageError."""
    unknown = sorted(k for k in options if k not in CORE_OPTIONS and k not in format_options)
    if unknown:
        valid = ", ".join(sorted({*CORE_OPTIONS, *format_options}))
        names = ", ".join(repr(k) for k in unknown)
        raise UsageError(f"unknown option{'s' if len(unknown) > 1 else ''} {names} for the {format_name} format "
                         f"(valid: {valid})")
    own = {k: v for k, v in options.items() if k not in CORE_OPTIONS}
    core = {k: v for k, v in options.items() if k in CORE_OPTIONS}
    labels, source = (parse_labels(core["labels"]) if "labels" in core else (None, None))
    return CoreOptions(
        given=frozenset(core),
        normalize=normalization(core["normalize"]) if "normalize" in core else None,
        image_size=parse_image_size(core["image_size"]) if core.get("image_size") is not None else None,
        layout=guess_layout((None,) * 4, core["layout"]) if core.get("layout") is not None else None,
        labels=labels,
        labels_source=source,
    ), own


def parse_image_size(value: Any) -> tuple[int, int]:
    """(H, W) from ``N`` or ``(H, W)`` of positive integers."""
    if _is_int(value):
        value = (value, value)
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_int(v) for v in value):
        h, w = int(value[0]), int(value[1])
        if h > 0 and w > 0:
            check_image_size((h, w), "image_size")
            return h, w
    raise UsageError(f"image_size must be N or (H, W) of positive integers, not {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_labels(value: Any) -> tuple[tuple[str, ...] | None, str | None]:
    """(class names, where they came from) from a list of strings or a file with one name per line."""
    if value is None:
        return None, None
    if isinstance(value, (str, os.PathLike)):
        return read_labels_file(Path(value)), f"file {value}"
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        if not value:
            raise UsageError("labels: the list of class names is empty")
        return tuple(value), "option"
    raise UsageError(f"labels must be a list of class names or a file path, not {type(value).__name__}")


def read_labels_file(path: Path) -> tuple[str, ...]:
    """Class names, one per line (trailing empty lines dropped), read in a bounded amount."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO or device could block or never end
                raise UsageError(f"{path}: cannot read labels (not a regular file)")
            data = fh.read(MAX_LABELS_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read labels ({exc.strerror or exc})") from None
    if len(data) > MAX_LABELS_BYTES:
        raise UsageError(f"{path}: cannot read labels (over {MAX_LABELS_BYTES // 2**20} MiB: not a class-names file)")
    try:
        lines = data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise UsageError(f"{path}: cannot read labels (not UTF-8 text)") from None
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise UsageError(f"{path}: cannot read labels (the file holds no class names)")
    return tuple(line.strip() for line in lines)


def apply_core_options(model: Model, core: CoreOptions) -> None:
    """Set what the user gave on a loaded model, and check the class names against its outputs.

    Class names a model carries (e.g. ONNX metadata) whose count does not match the outputs are
    dropped with a note in ``details``: the file is wrong, the model still runs.
    """
    if "normalize" in core.given:
        model.normalize = core.normalize
    if core.image_size is not None:
        model.image_size = core.image_size
    if core.layout is not None and core.layout != model.input_spec.layout:
        model.input_spec = model._with_layout(core.layout)
    classes = model.num_classes
    if core.labels is not None:
        if classes is not None and len(core.labels) != classes:
            raise UsageError(f"{model.path}: {len(core.labels)} class names given ({core.labels_source}) "
                             f"but the model has {classes} outputs")
        model.labels = list(core.labels)
        model.labels_source = core.labels_source
    elif model.labels is not None and classes is not None and len(model.labels) != classes:
        model.details["labels_ignored"] = (f"the file names {len(model.labels)} classes but the model has "
                                           f"{classes} outputs")
        model.labels, model.labels_source = None, None
