"""What an exported program's JSON may contain before ``torch.export.load`` sees it (no trust).

torch's deserializer does more than read data (torch 2.13, ``torch/_export/serde/serialize.py``
and ``torch/export/_unlift.py``):
- a node's ``target`` string is resolved by ``getattr`` from the ``torch``, ``_operator`` or
  ``math`` module and called when the model runs (``torch.os.system`` resolves too);
- every ``expr_str`` (symbolic shapes) goes through ``sympy.sympify``, which calls ``eval``;
- ``guards_code`` is Python source compiled into the module's input guard;
- a subgraph's name becomes a ``getattr(self, "...")`` in the code fx generates.
So without trust, targets must be ATen/prims/higher-order operators or the few Python
operators torch serialises, expressions must parse as plain arithmetic on symbols and
known sympy functions (an AST allowlist), guards must be absent, and subgraph names must be
identifiers. Anything else is refused (``UnsafeProgram``) rather than guessed about.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator
from typing import Any


class UnsafeProgram(ValueError):
    """The program JSON holds something torch would execute or evaluate that we cannot vouch for."""


#: Python operators and symbolic helpers torch.export serialises by module path (``_SYM_OPS``, getitem).
_OPERATOR_TARGETS = {f"_operator.{n}" for n in (
    "getitem", "eq", "ne", "le", "ge", "lt", "gt", "neg", "pos", "mul", "add", "sub", "floordiv", "mod", "pow",
    "truediv", "and_", "or_", "lshift", "rshift")}
_OTHER_TARGETS = {"math.trunc", "math.ceil", "math.floor", "math.sqrt", *(f"torch.{n}" for n in (
    "sym_not", "sym_int", "sym_float", "sym_ite", "sym_max", "sym_min", "sym_sqrt", "sym_sum"))}
#: ``torch.ops.<namespace>.<op>[.<overload>]``; the namespace must not be one of torch.ops' own methods
#: (``load_library``, ``import_module``), so it is a lower-case name not starting with "_".
_OP_TARGET = re.compile(r"torch\.ops\.([a-z][a-z0-9_]*)\.([A-Za-z0-9_]+)(?:\.([A-Za-z0-9_]+))?")
_OPS_METHODS = {"load_library", "import_module", "loaded_libraries"}

#: sympy callables an ``expr_str`` may call: what torch's printer (``srepr``) writes, and the functions
#: torch's deserializer passes to sympify (torch.utils._sympy.functions).
_SYMPY_CALLS = {
    "Symbol", "Integer", "Float", "Rational", "Add", "Mul", "Pow", "Mod", "Max", "Min", "Abs", "floor", "ceiling",
    "Eq", "Ne", "Lt", "Le", "Gt", "Ge", "Equality", "Unequality", "StrictLessThan", "StrictGreaterThan",
    "LessThan", "GreaterThan", "And", "Or", "Not", "Piecewise", "ExprCondPair",
    "FloorDiv", "ModularIndexing", "Where", "PythonMod", "CleanDiv", "CeilToInt", "FloorToInt", "CeilDiv",
    "LShift", "RShift", "PowByNatural", "FloatPow", "FloatTrueDiv", "IntTrueDiv",
    "IsNonOverlappingAndDenseIndicator", "TruncToFloat", "TruncToInt", "RoundToInt", "RoundDecimal", "ToFloat",
    "Identity",
}
#: Calls whose first argument may be a string (a symbol's name, a decimal), never evaluated.
_STRING_ARG_CALLS = {"Symbol", "Float", "Integer", "Rational"}
_PLAIN_STRING = re.compile(r"[A-Za-z0-9_.+\-]{0,64}")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_BUILTIN_NAMES = set(dir(builtins))
_EXPR_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Tuple, ast.Load,
               ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.keyword)
_MAX_EXPR = 10_000


def check_target(target: str) -> None:
    if target in _OPERATOR_TARGETS or target in _OTHER_TARGETS:
        return
    m = _OP_TARGET.fullmatch(target)
    if m and m.group(1) not in _OPS_METHODS and not any(g and g.startswith("__") for g in m.groups()):
        return
    raise UnsafeProgram(f"operator target {target[:80]!r} is not an ATen/prims/Python operator")


def check_sym_expr(expr: str) -> None:
    """Accept only what sympify can evaluate without running anything but sympy constructors."""
    if len(expr) > _MAX_EXPR:
        raise UnsafeProgram("a symbolic expression longer than 10000 characters")
    try:
        tree = ast.parse(expr, mode="eval")
    except (SyntaxError, ValueError):
        raise UnsafeProgram(f"symbolic expression {expr[:80]!r} is not a plain expression") from None
    string_args: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in _SYMPY_CALLS):
                raise UnsafeProgram(f"symbolic expression {expr[:80]!r} calls something other than sympy")
            if node.func.id in _STRING_ARG_CALLS and node.args:
                string_args.add(id(node.args[0]))
            for kw in node.keywords:
                if kw.arg is None or not (isinstance(kw.value, ast.Constant) and type(kw.value.value) in (bool, int)):
                    raise UnsafeProgram(f"symbolic expression {expr[:80]!r} has a non-constant keyword argument")
        elif isinstance(node, ast.Name):
            if not _NAME.fullmatch(node.id) or node.id in _BUILTIN_NAMES:
                raise UnsafeProgram(f"symbolic expression {expr[:80]!r} names {node.id!r}")
        elif isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, str):
                if id(node) not in string_args or not _PLAIN_STRING.fullmatch(value):
                    raise UnsafeProgram(f"symbolic expression {expr[:80]!r} holds a string where sympy could parse it")
            elif type(value) not in (int, float, bool):
                raise UnsafeProgram(f"symbolic expression {expr[:80]!r} holds a {type(value).__name__} constant")
        elif not isinstance(node, _EXPR_NODES):
            raise UnsafeProgram(f"symbolic expression {expr[:80]!r} uses Python syntax {type(node).__name__}")


def _items(obj: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair of every dict in a JSON document, without recursion."""
    pending = [obj]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                yield str(key), value
                pending.append(value)
        elif isinstance(item, list):
            pending.extend(item)


def check_program(document: Any) -> None:
    """Raise UnsafeProgram unless a ``models/*.json`` (or pre-2.7 ``serialized_exported_program.json``) is benign."""
    for key, value in _items(document):
        if key in ("target", "as_operator") and isinstance(value, str):
            check_target(value)
        elif key == "expr_str" and isinstance(value, str):
            check_sym_expr(value)
        elif key == "guards_code" and value:
            raise UnsafeProgram("it carries guard code (Python source torch compiles and runs)")
        elif key == "as_graph" and isinstance(value, dict):
            name = value.get("name")
            if not (isinstance(name, str) and name.isidentifier()):
                raise UnsafeProgram(f"subgraph name {str(name)[:80]!r} is not an identifier")
