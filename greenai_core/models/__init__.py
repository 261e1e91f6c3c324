"""Model formats, the Model contract and loading."""

from greenai_core.models.format import ModelFormat, select_format
from greenai_core.models.loading import load_model
from greenai_core.models.model import Model
from greenai_core.models.spec import NCHW, NHWC, InputSpec, TensorSpec

__all__ = ["NCHW", "NHWC", "InputSpec", "Model", "ModelFormat", "TensorSpec", "load_model", "select_format"]
