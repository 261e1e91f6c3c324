"""Loading each PyTorch file kind onto a device, counting parameters, finding the input.

Security: a full pickle runs code from the file when loaded, so it is refused unless
``trust=True``; state_dicts load with ``weights_only=True``; TorchScript archives and
exported programs are first checked member by member (audit.py: every pickle torch would
load, the program JSON torch would partly evaluate) and refused without trust unless all
of it passes. No path falls back to an unsafe load.
"""

from __future__ import annotations

import importlib
import os
import pickle
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.sdk import (
    NCHW,
    Device,
    DeviceError,
    InputSpec,
    ModelFormatError,
    TensorSpec,
    UnsafeModelError,
    UsageError,
    guess_layout,
    one_line,
)
from greenai_torch.audit import audit_archive
from greenai_torch.kinds import EXPORT, PICKLE, STATE_DICT, TORCHSCRIPT, classify_fully, detect
from greenai_torch.model import TorchModel

if TYPE_CHECKING:
    import torch

#: Images are resized to this (H, W) when neither an option nor the file tells the input size.
DEFAULT_IMAGE_SIZE = (224, 224)
_CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model")



def torch_device(device: Device, path: Path | None = None) -> torch.device:
    import torch

    where = f"{path}: " if path is not None else ""
    if device.is_cpu:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise DeviceError(f"{where}device {str(device)!r}: CUDA is not available to torch {torch.__version__}")
    if device.index >= torch.cuda.device_count():
        raise DeviceError(f"{where}device {str(device)!r}: only {torch.cuda.device_count()} CUDA device(s) here")
    return torch.device("cuda", device.index)


def resolve_class(spec: Any) -> type:
    """A class, or an import string "package.module:Class" (or "package.module.Class")."""
    if isinstance(spec, type):
        return spec
    if not isinstance(spec, str) or not spec:
        raise UsageError(f"model_class must be a class or 'package.module:Class', not {spec!r}")
    module_name, _, attr = spec.partition(":") if ":" in spec else spec.rpartition(".")
    if os.getcwd() not in sys.path:  # like `python -m`: the user's own modules, also from the greenai script
        sys.path.append(os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, ValueError) as exc:
        raise UsageError(f"model_class {spec!r} cannot be imported: {one_line(exc)}") from None
    if not isinstance(obj, type):
        raise UsageError(f"model_class {spec!r} is not a class")
    return obj


def _load_pickle(path: Path, device: torch.device, trust: bool) -> Any:
    import torch

    if not trust:
        raise UnsafeModelError(
            f"{path}: a fully pickled PyTorch model runs code from the file when loaded; refused. "
            "Pass trust=True (CLI: --trust) only for a file you trust, or save a state_dict instead"
        )
    try:
        return torch.load(str(path), map_location=device, weights_only=False)
    except (AttributeError, ModuleNotFoundError) as exc:
        raise ModelFormatError(
            f"{path}: the pickled model needs its class importable ({one_line(exc)}); define the class in an "
            "importable module, not in __main__, or save a state_dict and pass model_class"
        ) from exc


def _state_dict(path: Path, device: torch.device) -> dict[str, Any]:
    import torch

    try:
        loaded = torch.load(str(path), map_location=device, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only load failed" not in str(exc).lower():
            raise ModelFormatError(f"{path}: unreadable PyTorch state_dict ({one_line(exc)})") from exc
        # A pickle too long to check when recognised (kinds.SNIFF_OPS) that is in fact a full pickle.
        raise UnsafeModelError(
            f"{path}: torch's weights-only loader refused it: it holds more than tensors (a fully pickled model, "
            "whose code runs when loaded?). Pass trust=True (CLI: --trust) only for a file you trust"
        ) from None
    except Exception as exc:
        raise ModelFormatError(f"{path}: unreadable PyTorch state_dict ({one_line(exc)})") from exc
    if isinstance(loaded, dict):
        for key in _CHECKPOINT_KEYS:  # a training checkpoint wrapping the weights
            if isinstance(loaded.get(key), dict):
                loaded = loaded[key]
                break
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise ModelFormatError(f"{path}: holds {type(loaded).__name__}, not a state_dict of tensors")
    return dict(loaded)


def _from_state_dict(path: Path, device: torch.device, model_class: Any, model_kwargs: dict[str, Any] | None) -> Any:
    state = _state_dict(path, device)
    if model_class is None:
        raise ModelFormatError(
            f"{path}: a state_dict holds weights only; pass model_class=YourNet or 'package.module:YourNet' "
            "(CLI: -o model_class=package.module:YourNet), plus model_kwargs if its constructor needs arguments"
        )
    cls = resolve_class(model_class)
    try:
        module = cls(**(model_kwargs or {}))
    except Exception as exc:
        raise UsageError(f"{cls.__name__}(**{model_kwargs or {}}) failed: {one_line(exc)}") from exc
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(state) & set(expected) if tuple(state[k].shape) != tuple(expected[k].shape))
    if missing or unexpected or wrong:
        parts = [f"{label} {names[:5]}{' ...' if len(names) > 5 else ''}"
                 for label, names in (("missing keys", missing), ("unexpected keys", unexpected),
                                      ("keys of another shape", wrong)) if names]
        raise ModelFormatError(f"{path}: the weights do not fit {cls.__name__}: {'; '.join(parts)}")
    module.load_state_dict(state)
    return module.to(device)


def _first_conv_channels(module: Any) -> int | None:
    import torch

    for sub in module.modules():
        if isinstance(sub, torch.nn.Conv2d):
            return int(sub.in_channels)
        if getattr(sub, "original_name", None) == "Conv2d" and hasattr(sub, "weight"):  # TorchScript
            return int(sub.weight.shape[1]) * int(getattr(sub, "groups", 1))
    return None


def _parse_input_shape(value: Any) -> tuple[int | None, ...]:
    """(N, C, H, W) from (C, H, W) or (N, C, H, W) of integers; None or a negative integer is dynamic."""
    bad = UsageError(f"input_shape must be (C, H, W) or (N, C, H, W) of integers (-1 or None: dynamic), "
                     f"not {value!r}")
    if not isinstance(value, (list, tuple)) or len(value) not in (3, 4):
        raise bad
    if not all(d is None or (isinstance(d, int) and not isinstance(d, bool) and d != 0) for d in value):
        raise bad
    dims = tuple(None if d is None or d < 0 else int(d) for d in value)
    return (None, *dims) if len(dims) == 3 else dims


def _input_spec(module: Any, program: Any, input_shape: Any, path: Path) -> tuple[InputSpec, str]:
    """The input spec and where it came from. The layout is guessed from the shape (NCHW where it cannot
    tell); a ``layout`` option is applied by the core afterwards (``TorchModel._with_layout``)."""
    params = list(module.parameters())
    dtype = str(params[0].dtype).removeprefix("torch.") if params else "float32"
    if input_shape is not None:
        dims = _parse_input_shape(input_shape)
        return InputSpec("input", dims, dtype, guess_layout(dims)), "option input_shape"
    if program is not None:
        name = program.graph_signature.user_inputs[0]
        node = next(n for n in program.graph.nodes if n.op == "placeholder" and n.name == name)
        val = node.meta["val"]
        dims = tuple(d if isinstance(d, int) else None for d in val.shape)
        if len(dims) != 4:
            raise ModelFormatError(
                f"{path}: the exported program's input {name} has shape {list(val.shape)}, not an image"
            )
        return (InputSpec(name, dims, str(val.dtype).removeprefix("torch."), guess_layout(dims)),
                "the exported program")
    channels = _first_conv_channels(module)
    if channels is None:
        raise ModelFormatError(f"{path}: cannot tell the model's input (no Conv2d layer); pass input_shape=(C, H, W)")
    return (InputSpec("input", (None, channels, None, None), dtype, NCHW),
            f"first Conv2d (in_channels={channels}); height and width unknown, images resized to image_size")


def load_torch(
    path: Path,
    *,
    device: Device,
    trust: bool = False,
    model_class: Any = None,
    model_kwargs: dict[str, Any] | None = None,
    input_shape: Any = None,
) -> TorchModel:
    import torch

    detected = detect(path)
    kind = detected.kind
    if kind == STATE_DICT and not detected.verified and trust:  # too long to walk when sniffing: walk it now
        kind = classify_fully(path, detected)
    if not trust and kind is not None:
        audit_archive(path, kind)  # before torch opens the file: refuses what would run code
    dev = torch_device(device, path)
    program = None
    try:
        if kind == PICKLE:
            module = _load_pickle(path, dev, trust)
        elif kind == STATE_DICT:
            module = _from_state_dict(path, dev, model_class, model_kwargs)
        elif kind == TORCHSCRIPT:
            with warnings.catch_warnings():  # torch deprecates TorchScript; the file is what the user has
                warnings.simplefilter("ignore", DeprecationWarning)
                module = torch.jit.load(str(path), map_location=dev)
        elif kind == EXPORT:
            program = torch.export.load(str(path))
            if dev.type != "cpu":
                from torch.export.passes import move_to_device_pass

                program = move_to_device_pass(program, dev)
            module = program.module()
        else:
            raise ModelFormatError(f"{path}: not a PyTorch model file")
    except (ModelFormatError, UsageError, DeviceError):
        raise
    except Exception as exc:
        raise ModelFormatError(f"{path}: PyTorch cannot load this {kind} file ({one_line(exc)})") from exc
    if not isinstance(module, torch.nn.Module):
        raise ModelFormatError(f"{path}: holds a {type(module).__name__}, not a torch.nn.Module")
    if program is None:
        module.eval()
    params = list(module.parameters())
    spec, source = _input_spec(module, program, input_shape, path)
    return TorchModel(
        module, kind=kind, program=program, torch_device=dev, path=path, format="torch", device=device,
        input_spec=spec, output_spec=TensorSpec("output", (spec.batch, None), spec.dtype),
        num_parameters=sum(p.numel() for p in params),
        trainable_parameters=sum(p.numel() for p in params if p.requires_grad),
        details={"kind": kind, "input_source": source, "parameters_counted": "parameters() (buffers excluded)"},
        image_size=DEFAULT_IMAGE_SIZE,  # the core replaces it when the user gives image_size
        channels_only=spec.channels if source.startswith("first Conv2d") else None,
    )
