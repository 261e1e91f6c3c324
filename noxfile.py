"""Test sessions generated from the plugin folders; each installs only what it needs.

    nox                      # every test session: core, each plugin, all plugins together
    nox -s plugin-onnx       # one plugin with only the core and its own framework
    nox -s lint | bench      # ruff + mypy on the core | the benchmark table
"""

from __future__ import annotations

import os
from pathlib import Path

import nox
import tomllib

ROOT = Path(__file__).parent
PLUGIN_DIRS = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").is_file())
TEST_PLUGIN = "tests/plugins/greenai-hello"
# Fails at import on purpose: installed beside the template, whose tests must pass anyway
# (a plugin's own tests must not depend on every other installed plugin being healthy).
BROKEN_PLUGIN = "tests/plugins/greenai-broken"
# Frameworks pinned here (not in plugin metadata, which keeps ranges): an unpinned torch
# pulls a multi-GB CUDA build, while 2.13.0 CPU is a wheel on this kind of machine.
PINS = {"greenai-torch": ["torch==2.13.0"], "greenai-tf": ["tensorflow-cpu==2.21.*"]}
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}

REAL_PLUGINS = [p for p in PLUGIN_DIRS if not p.name.startswith("_")]  # the template is no real plugin

nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


def distribution(folder: Path) -> str:
    return str(tomllib.loads((folder / "pyproject.toml").read_text())["project"]["name"])


def short_name(folder: Path) -> str:
    return "template" if folder.name == "_template" else folder.name.removeprefix("greenai-")


def real_plugins_with_pins() -> list[str]:
    """What to install for "every plugin": their framework pins, then the plugins."""
    return [pin for p in REAL_PLUGINS for pin in PINS.get(distribution(p), [])] + [str(p) for p in REAL_PLUGINS]


def strict_env() -> dict[str, str]:
    return {**QUIET_ENV, "GREENAI_STRICT_PLUGINS": os.environ.get("GREENAI_STRICT_PLUGINS", "1")}


@nox.session
def tests_core(session: nox.Session) -> None:
    """The core alone (plus the in-repo test plugin distribution)."""
    session.install(".", TEST_PLUGIN, "pytest", "jsonschema")
    session.run("pytest", "tests", *session.posargs, env=strict_env())


def _plugin_session(folder: Path) -> None:
    @nox.session(name=f"plugin-{short_name(folder)}")
    def run(session: nox.Session) -> None:
        beside = [BROKEN_PLUGIN] if folder.name == "_template" else []
        session.install(*PINS.get(distribution(folder), []), ".", str(folder), *beside, "pytest")
        session.run("pytest", str(folder / "tests"), *session.posargs, env=strict_env())

    run.__doc__ = f"{distribution(folder)}: its own tests with only the core and its framework."


for _folder in PLUGIN_DIRS:
    _plugin_session(_folder)


@nox.session
def all_plugins(session: nox.Session) -> None:
    """The core suite, and every plugin's, with every real plugin installed together.

    Catches what one plugin's presence changes for another (two formats claiming a file).
    The template is no real plugin and stays out.
    """
    session.install(".", *real_plugins_with_pins(), TEST_PLUGIN, "pytest", "jsonschema")
    session.run("pytest", "tests", *[str(p / "tests") for p in REAL_PLUGINS], *session.posargs, env=strict_env())


@nox.session
def lint(session: nox.Session) -> None:
    """ruff on everything, mypy (strict) on the core and on the template plugin authors copy."""
    session.install("ruff", "mypy", ".", "plugins/_template")
    session.run("ruff", "check", "greenai_core", "plugins", "tests", "benchmarks", "noxfile.py")
    session.run("mypy", "greenai_core")
    session.run("mypy", "--strict", "plugins/_template/src")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks as ratios side by side in one run (see benchmarks/README.md)."""
    session.install(".", *real_plugins_with_pins())
    session.run("python", "benchmarks/run.py", *session.posargs, env=QUIET_ENV)


@nox.session
def demo(session: nox.Session) -> None:
    """The quickstart's main job: profile the bundled sample model on whatever sensor exists (else the estimate).

    ``greenai demo`` writes ./greenai-demo.html and says so; arguments after ``--`` go to it (``--json r.json``).
    """
    session.install(".", *[str(p) for p in PLUGIN_DIRS if p.name in ("greenai-onnx", "greenai-rapl")])
    session.run("greenai", "demo", *session.posargs, env=QUIET_ENV)


nox.options.sessions = ["tests_core", *[f"plugin-{short_name(p)}" for p in PLUGIN_DIRS], "all_plugins"]
