"""``load_model``: one call for every installed format, chosen by content.

The order is fixed so that every mistake a user can make is caught before a plugin runs:
parse the device, choose the format by content, split the options (the core's own
are parsed, unknown ones refused), check the format can use the device, then load. What a
plugin's ``load`` raises that is not a ``GreenAIError`` is contained: one ``ModelFormatError``
naming the file and the plugin.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.errors import DeviceError, GreenAIError, ModelFormatError, one_line
from greenai_core.models.devices import Device
from greenai_core.models.format import ModelFormat, select_format
from greenai_core.models.model import Model
from greenai_core.models.options import apply_core_options, split_options

if TYPE_CHECKING:
    from greenai_core.plugins import Registry


def load_model(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    device: str | Device = "cpu",
    trust: bool = False,
    **options: Any,
) -> Model:
    """Load a model file or folder with whichever installed plugin recognises its content.

    ``format`` forces a format by name; ``device`` is a ``Device`` or a spelling of one
    ("cpu", "cuda", "cuda:1"; case and spaces do not matter); ``trust=True`` allows formats that
    run code from the file (full pickles, Keras lambdas) and must only be used for files you
    trust. Options every format shares, applied by the core: ``normalize``, ``image_size``,
    ``layout`` and ``labels`` (class names: a list or a file, one name per line). Other options
    go to the format, which declares them (e.g. ``model_class`` for a PyTorch state_dict); an
    unknown option is a ``UsageError`` listing the valid ones.
    """
    from greenai_core.plugins import get_registry

    p = Path(path)
    dev = Device.parse(device)
    registry = get_registry()
    fmt = _select(p, registry, format)
    core, own = split_options(fmt.name, fmt.options, options)
    if dev.kind not in fmt.device_kinds:
        raise DeviceError(f"{p}: the {fmt.name} format cannot use device {str(dev)!r} "
                          f"(it runs on: {', '.join(fmt.device_kinds)})")
    owner = registry.format_owner(fmt.name) or "unknown"
    try:
        model = fmt.load(p, device=dev, trust=trust, **own)
    except GreenAIError:
        raise
    except Exception as exc:  # options were checked above: any error here, TypeError included, is the plugin's
        raise ModelFormatError(
            f"{p}: the {fmt.name} format (plugin {owner}) failed to load it: {type(exc).__name__}: {one_line(exc)}"
        ) from exc
    if not isinstance(model, Model):
        raise ModelFormatError(f"{p}: the {fmt.name} format (plugin {owner}) returned {type(model).__name__}, "
                               "not a Model")
    try:
        apply_core_options(model, core)
    except BaseException:
        model.close()
        raise
    return model


def _select(path: Path, registry: Registry, wanted: str | None) -> ModelFormat:
    """``select_format``; a format whose sniffer raised is recorded against its plugin (``greenai plugins``)."""

    def on_sniff_error(fmt: ModelFormat, exc: Exception) -> None:
        registry.record_format_error(fmt.name, f"sniff({path.name}) raised {type(exc).__name__}: {one_line(exc)}")

    return select_format(path, registry.formats(), wanted=wanted, on_sniff_error=on_sniff_error)
