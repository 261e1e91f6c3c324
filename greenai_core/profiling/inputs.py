"""Random inputs shaped as a model takes them: profiling and comparing without images."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: Height and width of random inputs when neither the model nor an option fixes them.
DEFAULT_SIDE = 224


def random_inputs(model: Any, count: int) -> np.ndarray:
    """``count`` random samples shaped as the model takes them (a fixed batch size wins), seed 0.

    Floats are standard-normal, as normalised images are; integer inputs (raw uint8 pixels) are 0..255.
    """
    import numpy as np

    spec = model.input_spec
    side_h, side_w = model.image_size or (DEFAULT_SIDE, DEFAULT_SIDE)
    batch = spec.batch or count
    height, width, channels = spec.height or side_h, spec.width or side_w, spec.channels or 3
    shape = (batch, channels, height, width) if spec.layout == "NCHW" else (batch, height, width, channels)
    rng = np.random.default_rng(0)
    dtype = np.dtype(spec.dtype)
    if np.issubdtype(dtype, np.integer):
        randoms: np.ndarray = rng.integers(0, 256, size=shape).astype(dtype)
        return randoms
    normal: np.ndarray = rng.standard_normal(shape).astype(dtype)
    return normal
