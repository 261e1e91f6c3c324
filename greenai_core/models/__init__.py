"""Model formats, the Model contract and loading."""

from greenai_core.models.format import ModelFormat, select_format

__all__ = ["ModelFormat", "select_format"]
