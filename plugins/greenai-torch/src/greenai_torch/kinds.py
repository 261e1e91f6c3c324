"""Telling PyTorch's file kinds apart by content, without importing torch or unpickling.

All four are zip archives:
- TorchScript (``torch.jit.save``): ``code/`` members and ``constants.pkl``;
- torch.export (``torch.export.save``): ``archive_format`` holding ``pt2``, ``models/*.json``;
- ``torch.save``: ``data.pkl``. Its pickle's global references are read with
  ``pickletools`` (which executes nothing): a state_dict references only containers and
  torch's tensor rebuilders; anything else (a module class, ``os.system``...) means a full
  pickle, which runs code when loaded and so needs ``trust=True``.
"""

from __future__ import annotations

import pickletools
import zipfile
from pathlib import Path

from greenai_core.models.sniff import is_zip, zip_names

PICKLE, STATE_DICT, TORCHSCRIPT, EXPORT = "pickle", "state_dict", "torchscript", "export"
#: Globals a plain dict of tensors may reference (what torch's weights_only loader allows for it).
_SAFE_MODULES = {"collections", "torch._utils", "torch._tensor"}
_SAFE_TORCH_NAMES = {"device", "Size", "dtype"}


def _member(names: list[str], suffix: str) -> str | None:
    return next((n for n in names if n.endswith(suffix) and n.count("/") == 1), None)


def pickle_globals(data: bytes) -> list[str]:
    """The ``module name`` globals a pickle references, read without executing it."""
    found: list[str] = []
    strings: list[str] = []
    for opcode, arg, _ in pickletools.genops(data):
        if opcode.name == "GLOBAL":
            found.append(str(arg))
        elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
            found.append(f"{strings[-2]} {strings[-1]}")
        elif opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
            strings.append(str(arg))
    return found


def _is_safe(ref: str) -> bool:
    module, _, name = ref.partition(" ")
    if module in _SAFE_MODULES:
        return True
    if module == "torch":
        return name.endswith("Storage") or name in _SAFE_TORCH_NAMES or name in _DTYPES
    return module == "__builtin__" and name == "set" or module == "builtins" and name == "set"


_DTYPES = {"float32", "float16", "bfloat16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool",
           "complex64", "complex128", "float", "half", "double", "long", "int"}


def detect_kind(path: Path) -> str | None:
    """One of the four kinds, or None when this is no PyTorch archive."""
    names = zip_names(path)
    if not names:
        return None
    fmt = _member(names, "archive_format")
    if fmt is not None or any(n.endswith("serialized_exported_program.json") for n in names):
        return EXPORT
    if _member(names, "constants.pkl") and any("/code/" in n for n in names):
        return TORCHSCRIPT
    data = _member(names, "data.pkl")
    if data is None:
        return None
    refs = _data_pickle_globals(path, data)
    if refs is None:  # not a readable pickle: no PyTorch file we can load (explain() says why)
        return None
    return STATE_DICT if all(_is_safe(r) for r in refs) else PICKLE


def _data_pickle_globals(path: Path, member: str) -> list[str] | None:
    try:
        with zipfile.ZipFile(path) as zf:
            return pickle_globals(zf.read(member))
    except Exception:
        return None


def explain(path: Path) -> str:
    if path.is_dir():
        return "it is a folder"
    if not is_zip(path):
        return "PyTorch files are zip archives and this is not one"
    names = zip_names(path)
    if not names:
        return "the zip archive is corrupt or truncated"
    data = _member(names, "data.pkl")
    if data is not None and _data_pickle_globals(path, data) is None:
        return f"its {data} is not a readable pickle (corrupt file)"
    return "a zip archive without data.pkl, TorchScript code or an exported program"
