"""The plugin SDK: one lazy module with everything plugins need, and the only core module they import."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import greenai_core
from greenai_core import sdk

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_SOURCES = sorted((ROOT / "plugins").glob("*/src/**/*.py"))
GUIDE = ROOT / "docs" / "plugin-guide.md"
#: Libraries a plugin module must be able to import the SDK without pulling in.
HEAVY = ("numpy", "PIL", "psutil", "torch", "onnx", "onnxruntime", "tensorflow", "pynvml")


@pytest.mark.parametrize("name", sdk.__all__)
def test_every_exported_name_resolves_to_its_defining_module(name: str) -> None:
    value = getattr(sdk, name)
    assert value is getattr(importlib.import_module(sdk._EXPORTS[name]), name)


def test_dir_lists_exactly_the_exports_and_unknown_names_raise() -> None:
    assert dir(sdk) == sorted(sdk._EXPORTS) == sdk.__all__
    with pytest.raises(AttributeError, match="no_such_name"):
        sdk.no_such_name  # noqa: B018 - the attribute access is the test


def _new_modules_after(code: str) -> set[str]:
    """Top-level non-stdlib modules that ``code`` imports on top of a bare ``import greenai_core``."""
    script = (
        "import sys\n"
        "import greenai_core\n"
        "before = set(sys.modules)\n"
        f"{code}\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(' '.join(sorted(n for n in new if n not in sys.stdlib_module_names)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_the_sdk_imports_nothing() -> None:
    assert _new_modules_after("import greenai_core.sdk") <= {"greenai_core"}


def test_what_a_plugin_module_imports_at_discovery_stays_light() -> None:
    """hookimpl and the base classes a plugin module defines its classes with: pluggy, no framework."""
    new = _new_modules_after(
        "from greenai_core.sdk import (hookimpl, ModelFormat, Model, InputSpec, EnergyBackend, CounterSpec,\n"
        "    ProbeResult, ModelFormatError, read_head)"
    )
    assert new <= {"greenai_core", "pluggy"}
    assert not new & set(HEAVY)


def _core_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every import of a ``greenai_core`` module in ``path``, type-checking ones too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "greenai_core":
                found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name, []) for a in node.names if a.name.split(".")[0] == "greenai_core")
    return found


def test_plugin_sources_are_found() -> None:
    assert any(p.parts[-4] == "_template" for p in PLUGIN_SOURCES)
    assert len({p.relative_to(ROOT / "plugins").parts[0] for p in PLUGIN_SOURCES}) >= 4


@pytest.mark.parametrize("path", PLUGIN_SOURCES, ids=lambda p: str(p.relative_to(ROOT / "plugins")))
def test_plugins_import_from_the_core_only_the_sdk(path: Path) -> None:
    bad = [f"line {line}: {module}" for line, module, _ in _core_imports(path) if module != "greenai_core.sdk"]
    assert not bad, f"{path.relative_to(ROOT)} imports core modules other than greenai_core.sdk: {bad}"


@pytest.mark.parametrize("path", PLUGIN_SOURCES, ids=lambda p: str(p.relative_to(ROOT / "plugins")))
def test_plugins_import_only_names_the_sdk_exports(path: Path) -> None:
    names = [n for _, module, names in _core_imports(path) if module == "greenai_core.sdk" for n in names]
    assert not set(names) - set(sdk.__all__)


#: What a plugin's tests may import from the core: the public API a user has, and the SDK. Never the core's
#: rooms (greenai_core.models.x, .energy.x, .plugins, .errors): the tests would break when the core moves them.
PUBLIC_FOR_TESTS = {"greenai_core", "greenai_core.sdk", "greenai_core.compat", "greenai_core.testing",
                    "greenai_core.distributed"}
PLUGIN_TESTS = sorted((ROOT / "plugins").glob("*/tests/**/*.py"))
@pytest.mark.parametrize("path", PLUGIN_TESTS, ids=lambda p: str(p.relative_to(ROOT / "plugins")))
def test_plugin_tests_import_only_the_public_api_and_the_sdk(path: Path) -> None:
    imports = _core_imports(path)
    bad = [f"line {line}: {module}" for line, module, _ in imports if module not in PUBLIC_FOR_TESTS]
    assert not bad, f"{path.relative_to(ROOT)} imports core modules that are not public: {bad}"
    top = [n for _, module, names in imports if module == "greenai_core" for n in names]
    assert not set(top) - set(greenai_core.__all__), f"{path.relative_to(ROOT)}: {set(top) - set(greenai_core.__all__)}"
    sdk_names = [n for _, module, names in imports if module == "greenai_core.sdk" for n in names]
    assert not set(sdk_names) - set(sdk.__all__)


def test_plugin_tests_are_found() -> None:
    assert {p.relative_to(ROOT / "plugins").parts[0] for p in PLUGIN_TESTS} >= {
        "_template", "greenai-onnx", "greenai-torch", "greenai-rapl"}


def test_the_plugin_guide_documents_every_sdk_name() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    assert not [n for n in sdk.__all__ if f"`{n}" not in guide]


def test_type_checkers_see_exactly_the_exported_names_from_their_modules() -> None:
    """The TYPE_CHECKING block re-exports (``Name as Name``) what ``_EXPORTS`` loads, from the same modules."""
    tree = ast.parse(Path(sdk.__file__).read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    seen = {a.name: node.module for node in block.body if isinstance(node, ast.ImportFrom) for a in node.names}
    assert seen == sdk._EXPORTS
    assert all(a.asname == a.name for node in block.body if isinstance(node, ast.ImportFrom) for a in node.names)


def _pins(pyproject: Path) -> list[str]:
    text = pyproject.read_text(encoding="utf-8")
    return [m.replace(" ", "") for m in re.findall(r'"(greenai-core[^"]*)"', text)]


@pytest.mark.parametrize("folder", sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml")),
                         ids=lambda p: p.name)
def test_plugins_pin_a_core_range_that_holds_this_core(folder: Path) -> None:
    """``greenai-core>=X.Y,<X.(Y+1)``: the SDK's contract is kept within a minor version."""
    (pin,) = _pins(folder / "pyproject.toml")
    match = re.fullmatch(r"greenai-core>=(\d+)\.(\d+),<(\d+)\.(\d+)", pin)
    assert match, f"{folder.name} pins {pin!r}, not a >=X.Y,<X.(Y+1) range"
    low, high = (int(match[1]), int(match[2])), (int(match[3]), int(match[4]))
    core = tuple(int(x) for x in greenai_core.__version__.split(".")[:2])
    assert low <= core < high and high == (low[0], low[1] + 1)
    package = next((folder / "src").glob("*/__init__.py"))
    declared = re.search(r'^version = "([^"]+)"', (folder / "pyproject.toml").read_text(), re.M)
    assert declared and f'__version__ = "{declared[1]}"' in package.read_text(encoding="utf-8")
