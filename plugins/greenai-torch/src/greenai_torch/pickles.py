"""Reading a pickle's global references without executing it, and the allowlists they are checked against.

A pickle runs code only through the globals it references (``GLOBAL``/``INST`` opcodes, or
``STACK_GLOBAL`` with two strings on the stack) or the copyreg extension registry (``EXT*``).
:func:`pickle_globals` walks the opcodes with ``pickletools`` (which executes nothing) and
tracks the stack and memo abstractly, so a ``STACK_GLOBAL`` whose names come from the memo
(as every repeated module name does) is resolved exactly; where the names cannot be known,
or an extension code is used, the pickle is :class:`UnverifiablePickle`, treated as unsafe.
"""

from __future__ import annotations

import pickletools
from collections.abc import Callable, Iterable
from typing import Any

#: What torch 2.13's ``weights_only=True`` unpickler allows (``torch._weights_only_unpickler._get_allowed_globals``),
#: as "module name", plus Python 2 spellings protocol-2 pickles use for builtins. A test checks it
#: stays a subset of the installed torch's own list.
_STORAGES = ("BFloat16", "Bool", "Byte", "Char", "ComplexDouble", "ComplexFloat", "Double", "Float", "Half", "Int",
             "Long", "Short")
_TENSORS = ("BFloat16", "Bool", "Byte", "Char", "Double", "Float", "Half", "Int", "Long", "Short")
_DTYPES = ("bfloat16", "bits16", "bits1x8", "bits2x4", "bits4x2", "bits8", "bool", "complex128", "complex32",
           "complex64", "float16", "float32", "float4_e2m1fn_x2", "float64", "float8_e4m3fn", "float8_e4m3fnuz",
           "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu", "qint32", "qint8", "quint2x4", "quint4x2", "quint8",
           *(f"int{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64)),
           *(f"uint{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64)))
_QSCHEMES = ("per_channel_affine", "per_channel_affine_float_qparams", "per_channel_symmetric", "per_tensor_affine",
             "per_tensor_symmetric")
_REBUILDERS = ("_rebuild_device_tensor_from_cpu_tensor", "_rebuild_device_tensor_from_numpy",
               "_rebuild_meta_tensor_no_storage", "_rebuild_nested_tensor", "_rebuild_parameter",
               "_rebuild_parameter_with_state", "_rebuild_qtensor", "_rebuild_sparse_tensor", "_rebuild_tensor",
               "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_wrapper_subclass")
WEIGHTS_ONLY_GLOBALS: frozenset[str] = frozenset({
    "_codecs encode", "builtins bytearray", "builtins complex", "builtins set",
    "__builtin__ bytearray", "__builtin__ complex", "__builtin__ set",
    "collections Counter", "collections OrderedDict",
    "torch Size", "torch Tensor", "torch device", "torch.nn.parameter Parameter", "torch.serialization _get_layout",
    "torch.storage TypedStorage", "torch.storage UntypedStorage", "torch._tensor _rebuild_from_type_v2",
    *(f"torch {s}Storage" for s in (*_STORAGES, "QInt32", "QInt8", "QUInt2x4", "QUInt4x2", "QUInt8")),
    *(f"torch.cuda {s}Storage" for s in _STORAGES),
    *(f"{m} {t}Tensor" for m in ("torch", "torch.cuda") for t in _TENSORS),
    *(f"{m} {t}Tensor" for m in ("torch.sparse", "torch.cuda.sparse") for t in _TENSORS if t != "Bool"),
    *(f"torch {d}" for d in (*_DTYPES, *_QSCHEMES)),
    *(f"torch._utils {f}" for f in _REBUILDERS),
})

#: Globals TorchScript's C++ unpickler resolves besides the weights-only ones: its own list
#: builders, and classes compiled from the archive's ``code/`` (``__torch__.*``), not imported.
_TORCHSCRIPT_MODULES = ("torch.jit._pickle",)


def weights_only_allows(ref: str) -> bool:
    return ref in WEIGHTS_ONLY_GLOBALS


def torchscript_allows(ref: str) -> bool:
    module = ref.partition(" ")[0]
    return module == "__torch__" or module.startswith("__torch__.") or module in _TORCHSCRIPT_MODULES \
        or ref in WEIGHTS_ONLY_GLOBALS


class UnverifiablePickle(ValueError):
    """Not a pickle we can read to the end, or one whose globals cannot be known without running it."""


_MARK: Any = object()
_STRING_OPS = {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8"}
_MAX_ITEMS = 2_000_000  # stack or memo entries: beyond this a pickle is refused, not simulated


class PickleTooLong(UnverifiablePickle):
    """More opcodes than the caller's budget: not verified (which says nothing against it)."""


def pickle_globals(data: bytes, max_ops: int | None = None) -> list[str]:
    """The ``"module name"`` globals the first pickle in ``data`` references, read without executing it.

    Raises :class:`UnverifiablePickle` for malformed data, extension-registry codes, or a
    ``STACK_GLOBAL`` whose operands are not known strings; :class:`PickleTooLong` past
    ``max_ops`` opcodes (walking them costs ~3 us each: a budget bounds the time).
    """
    found: list[str] = []
    stack: list[Any] = []
    memo: dict[int, Any] = {}
    try:
        for count, (opcode, arg, _pos) in enumerate(pickletools.genops(data)):
            if max_ops is not None and count >= max_ops:
                raise PickleTooLong(f"over {max_ops} pickle opcodes")
            _step(opcode, arg, stack, memo, found)
            if len(stack) > _MAX_ITEMS or len(memo) > _MAX_ITEMS:
                raise UnverifiablePickle("pickle too large to verify")
    except UnverifiablePickle:
        raise
    except (ValueError, IndexError, KeyError, TypeError, EOFError) as exc:
        raise UnverifiablePickle(f"not a readable pickle ({exc})") from None
    return found


def _step(opcode: pickletools.OpcodeInfo, arg: Any, stack: list[Any], memo: dict[int, Any], found: list[str]) -> None:
    name = opcode.name
    if name.startswith("EXT"):
        raise UnverifiablePickle(f"uses the copyreg extension registry ({name})")
    if name in ("GLOBAL", "INST"):
        found.append(str(arg))
    elif name == "STACK_GLOBAL":
        attr, module = stack.pop(), stack.pop()
        if not (isinstance(module, str) and isinstance(attr, str)):
            raise UnverifiablePickle("STACK_GLOBAL on operands that are not plain strings")
        found.append(f"{module} {attr}")
        stack.append(None)
        return
    if name in _STRING_OPS:
        stack.append(arg if isinstance(arg, str) else None)
    elif name in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"):
        if stack[-1] is _MARK:  # the real unpickler fails here; never simulate past a divergence
            raise UnverifiablePickle(f"{name} of a mark")
        memo[len(memo) if name == "MEMOIZE" else int(arg)] = stack[-1]
    elif name in ("GET", "BINGET", "LONG_BINGET"):
        stack.append(memo[int(arg)])
    elif name == "DUP":
        stack.append(stack[-1])
    elif name == "MARK":
        stack.append(_MARK)
    elif name == "POP":  # pops an item, or the mark itself when nothing follows it
        stack.pop()
    else:
        _generic(opcode, stack)


def _generic(opcode: pickletools.OpcodeInfo, stack: list[Any]) -> None:
    """Pop what ``opcode`` consumes (to the mark where it takes a slice) and push unknowns for what it makes."""
    before = opcode.stack_before
    if pickletools.markobject in before:
        while stack.pop() is not _MARK:
            pass
        for _ in range(before.index(pickletools.markobject)):
            stack.pop()
    else:
        for _ in before:
            if stack.pop() is _MARK:
                raise UnverifiablePickle(f"{opcode.name} consumed a mark")
    stack.extend([None] * len(opcode.stack_after))


def unsafe_globals(data: bytes, allows: Callable[[str], bool], max_ops: int | None = None) -> list[str]:
    """The globals of the pickle in ``data`` that ``allows`` rejects (sorted, unique); raises UnverifiablePickle."""
    return sorted({ref for ref in pickle_globals(data, max_ops) if not allows(ref)})


def describe(refs: Iterable[str], limit: int = 4) -> str:
    refs = list(refs)
    shown = ", ".join(r.replace(" ", ".") for r in refs[:limit])
    return shown + (f" and {len(refs) - limit} more" if len(refs) > limit else "")
