"""``load_model``: one call for every installed format, chosen by content."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from greenai_core.errors import GreenAIError, ModelFormatError, one_line
from greenai_core.models.devices import parse_device
from greenai_core.models.format import select_format
from greenai_core.models.model import Model


def load_model(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    device: str = "cpu",
    trust: bool = False,
    **options: Any,
) -> Model:
    """Load a model file or folder with whichever installed plugin recognises its content.

    ``format`` forces a format by name; ``device`` is "cpu", "cuda" or "cuda:N";
    ``trust=True`` allows formats that run code from the file (full pickles, Keras lambdas)
    and must only be used for files you trust. Other options go to the format (e.g.
    ``model_class`` for a PyTorch state_dict, ``layout``, ``normalize``).
    """
    from greenai_core.plugins import get_registry

    p = Path(path)
    parse_device(device)
    fmt = select_format(p, get_registry().formats(), wanted=format)
    try:
        model = fmt.load(p, device=device, trust=trust, **options)
    except GreenAIError:
        raise
    except TypeError as exc:
        raise ModelFormatError(f"{p}: bad option for the {fmt.name} format: {exc}") from exc
    except Exception as exc:  # a plugin's unexpected error still names the file, in one line
        raise ModelFormatError(
            f"{p}: the {fmt.name} format failed to load it: {type(exc).__name__}: {one_line(exc)}"
        ) from exc
    if not isinstance(model, Model):
        raise ModelFormatError(f"{p}: the {fmt.name} format returned {type(model).__name__}, not a Model")
    return model
