"""What would run code from a TensorFlow model file, found before TensorFlow or Keras opens it.

Keras configs (``config.json`` of a ``.keras`` zip, the ``model_config`` attribute of a legacy
``.h5``) are JSON: walked without deserialising anything. Refused without ``trust``:
- a ``Lambda`` layer, or a serialised Python function (``__lambda__``, ``function_type:
  lambda``): its bytecode would run (Keras's ``safe_mode`` refuses these in ``.keras`` files
  too, and it is passed; legacy ``.h5`` loaders of older Keras did not check it);
- an object whose ``module`` lies outside Keras's own packages: deserialising it imports that
  module (custom layers, or a crafted file naming any installed module).

SavedModels are graphs, not Python, but a graph can reach outside the model when run (read
and write files, call back into Python, print to a file, talk over RPC). Every op of every
meta graph and function in ``saved_model.pb`` is checked against :data:`DENIED_OP_PARTS`;
the saver's own functions (reached only from the nodes ``saver_def`` names) may also save and
restore checkpoints. This is a denylist of op families, not a proof: pass ``trust=True`` only
for files you trust, as TensorFlow's own security guide says of any SavedModel.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from greenai_core.sdk import ModelFormatError, UnsafeModelError, open_regular

#: Keras packages whose modules a config may name.
KERAS_MODULES = ("keras", "keras_hub", "keras_cv", "keras_nlp")
#: Parts of op names that reach outside the model: files, readers, datasets, summaries, Python
#: callbacks, RPC, printing (PrintV2 can write to a file), protos (descriptor files), debugging
#: dumps, checkpoints, memory-mapped constants, cross-device sends and collectives.
DENIED_OP_PARTS = ("File", "Reader", "Dataset", "Summary", "PyFunc", "Rpc", "Print", "Proto", "Debug",
                   "Save", "Restore", "Checkpoint", "LoadAndRemap", "Remapping", "Send", "Recv", "Collective",
                   "Iterator", "ImmutableConst")
#: What the saver's own functions do (allowed there only).
SAVER_OPS = frozenset({"SaveV2", "RestoreV2", "MergeV2Checkpoints", "ShardedFilename"})
#: Largest saved_model.pb read (protobuf's own limit is 2 GiB).
MAX_SAVED_MODEL_PB = 2 * 1024**3
#: Largest Keras config read (JSON).
MAX_CONFIG_BYTES = 64 * 1024 * 1024
_TRUST_HINT = "Pass trust=True (CLI: --trust) only for a file you trust"


def parse_config(raw: bytes | str, path: Path, what: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ModelFormatError(f"{path}: its {what} is not readable JSON ({type(exc).__name__})") from None


def _nodes(config: Any) -> Any:
    """Every dict in a JSON value, without recursion (a hostile file may nest deeply)."""
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _is_keras_module(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in KERAS_MODULES)


def audit_keras_config(config: Any, path: Path, what: str) -> None:
    """Raise ``UnsafeModelError`` if deserialising ``config`` would run or import code."""
    for node in _nodes(config):
        cls = node.get("class_name")
        name = ""
        inner = node.get("config")
        if isinstance(inner, dict) and isinstance(inner.get("name"), str):
            name = f" {inner['name']!r}"
        if cls == "Lambda" or cls == "__lambda__" or node.get("function_type") == "lambda":
            raise UnsafeModelError(
                f"{path}: its {what} holds a Lambda layer{name} carrying Python code, which would run when "
                f"loaded; refused. {_TRUST_HINT}"
            )
        module = node.get("module")
        if isinstance(cls, str) and isinstance(module, str) and not _is_keras_module(module):
            raise UnsafeModelError(
                f"{path}: its {what} names {cls}{name} from module {module!r}, outside Keras: loading would "
                f"import that module (custom code); refused. {_TRUST_HINT}"
            )


def read_saved_model_pb(folder: Path) -> bytes:
    pb = folder / "saved_model.pb"
    try:
        size = os.stat(pb).st_size
        if size > MAX_SAVED_MODEL_PB:
            raise ModelFormatError(f"{folder}: saved_model.pb holds {size} bytes (limit {MAX_SAVED_MODEL_PB})")
        with open_regular(pb) as fh:
            data = fh.read(MAX_SAVED_MODEL_PB + 1)
    except OSError as exc:
        raise ModelFormatError(f"{folder}: cannot read saved_model.pb ({exc.strerror or exc})") from None
    if len(data) > MAX_SAVED_MODEL_PB:
        raise ModelFormatError(f"{folder}: saved_model.pb grew past {MAX_SAVED_MODEL_PB} bytes while read")
    return data


def parse_saved_model(folder: Path) -> Any:
    """The ``SavedModel`` protobuf (TensorFlow's own message class; nothing in it runs)."""
    from google.protobuf.message import DecodeError
    from tensorflow.core.protobuf import saved_model_pb2

    message = saved_model_pb2.SavedModel()
    try:
        message.ParseFromString(read_saved_model_pb(folder))
    except (DecodeError, RecursionError, ValueError) as exc:
        raise ModelFormatError(f"{folder}: saved_model.pb is corrupt or truncated ({exc or 'undecodable'})") from None
    if not message.meta_graphs:
        raise ModelFormatError(f"{folder}: saved_model.pb holds no meta graph")
    return message


def _called(node_def: Any, functions: dict[str, Any]) -> list[str]:
    """Functions a node calls: its op when the op is a function, and every function-valued attribute."""
    out = [node_def.op] if node_def.op in functions else []
    for attr in node_def.attr.values():
        if attr.HasField("func"):
            out.append(attr.func.name)
        if attr.HasField("list"):
            out.extend(f.name for f in attr.list.func)
    return out


def _reach(nodes: list[Any], functions: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    stack = [name for n in nodes for name in _called(n, functions)]
    while stack:
        name = stack.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        stack.extend(c for n in functions[name].node_def for c in _called(n, functions))
    return seen


def _denied(op: str, allowed: frozenset[str]) -> bool:
    return op not in allowed and any(part in op for part in DENIED_OP_PARTS)


def audit_saved_model(folder: Path, message: Any) -> None:
    """Raise ``UnsafeModelError`` if any op of the SavedModel reaches outside the model (module docstring)."""
    for meta in message.meta_graphs:
        graph = meta.graph_def
        functions = {f.signature.name: f for f in graph.library.function}
        saver = meta.saver_def
        saver_names = {t.split(":")[0] for t in (saver.save_tensor_name, saver.restore_op_name) if t}
        saver_nodes = [n for n in graph.node if n.name in saver_names]
        other_nodes = [n for n in graph.node if n.name not in saver_names]
        saver_only = _reach(saver_nodes, functions) - _reach(other_nodes, functions)
        checks: list[tuple[str, list[Any], frozenset[str]]] = [("graph", other_nodes, frozenset())]
        checks.append(("saver", saver_nodes, SAVER_OPS))
        for name, fn in functions.items():
            checks.append((f"function {name}", list(fn.node_def), SAVER_OPS if name in saver_only else frozenset()))
        for where, nodes, allowed in checks:
            for node in nodes:
                if _denied(node.op, allowed):
                    raise UnsafeModelError(
                        f"{folder}: the SavedModel's {where} runs op {node.op} (node {node.name}), which reaches "
                        f"outside the model (files, Python, network or printing) when run; refused. {_TRUST_HINT}"
                    )
