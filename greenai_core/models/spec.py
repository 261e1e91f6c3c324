"""What a model takes and gives: tensor specs with dynamic dimensions and an image layout."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

NCHW, NHWC = "NCHW", "NHWC"
LAYOUTS = (NCHW, NHWC)
#: Channel counts that mark an axis of a rank-4 image input as the channel axis.
CHANNEL_COUNTS = (1, 3, 4)


@dataclass(frozen=True)
class TensorSpec:
    """A named tensor; ``None`` in ``shape`` is a dynamic (symbolic) dimension."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class InputSpec(TensorSpec):
    """The image input: rank 4, laid out ``NCHW`` or ``NHWC``."""

    layout: str = NCHW

    @property
    def batch(self) -> int | None:
        return self.shape[0]

    @property
    def channels(self) -> int | None:
        return self.shape[1] if self.layout == NCHW else self.shape[3]

    @property
    def height(self) -> int | None:
        return self.shape[2] if self.layout == NCHW else self.shape[1]

    @property
    def width(self) -> int | None:
        return self.shape[3] if self.layout == NCHW else self.shape[2]


def guess_layout(shape: tuple[int | None, ...], hint: str | None = None) -> str:
    """NCHW or NHWC from a rank-4 shape: the axis holding 1, 3 or 4 channels decides.

    An explicit ``hint`` wins; where the shape cannot tell (both or neither axis looks like
    channels, e.g. all dynamic), NCHW, the convention of PyTorch and ONNX exports.
    """
    if hint is not None:
        if not isinstance(hint, str) or hint.upper() not in LAYOUTS:
            from greenai_core.errors import UsageError

            raise UsageError(f"layout must be NCHW or NHWC, not {hint!r}")
        return hint.upper()
    c_first = shape[1] in CHANNEL_COUNTS
    c_last = shape[3] in CHANNEL_COUNTS
    return NHWC if c_last and not c_first else NCHW


def format_shape(shape: tuple[int | None, ...]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"
