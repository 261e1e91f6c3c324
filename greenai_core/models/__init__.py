"""Model formats, the Model contract and loading.

Names load on first access: the plugin registry imports ``models.format`` to check what
plugins register, and that must not pull in the model, preprocessing or loading code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenai_core._lazy import lazy_exports

_EXPORTS = {
    "ModelFormat": "greenai_core.models.format",
    "select_format": "greenai_core.models.format",
    "load_model": "greenai_core.models.loading",
    "Model": "greenai_core.models.model",
    "NCHW": "greenai_core.models.spec",
    "NHWC": "greenai_core.models.spec",
    "InputSpec": "greenai_core.models.spec",
    "TensorSpec": "greenai_core.models.spec",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from greenai_core.models.format import ModelFormat, select_format
    from greenai_core.models.loading import load_model
    from greenai_core.models.model import Model
    from greenai_core.models.spec import NCHW, NHWC, InputSpec, TensorSpec


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
