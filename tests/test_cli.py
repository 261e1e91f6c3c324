"""The CLI as a user runs it: a real process, real exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BROKEN_PLUGIN = "raise RuntimeError('this plugin is broken on purpose')\n"


def greenai(*args: str, env: dict[str, str] | None = None, **kw: object) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "greenai_core", *args], capture_output=True, text=True,
                          env=full_env, timeout=120, **kw)  # type: ignore[call-overload]


@pytest.fixture
def broken_plugin_path(tmp_path: Path) -> str:
    """An installed distribution (a dist-info with an entry point) whose module raises at import."""
    site = tmp_path / "site"
    (site / "greenai_broken").mkdir(parents=True)
    (site / "greenai_broken" / "__init__.py").write_text(BROKEN_PLUGIN)
    info = site / "greenai_broken-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: greenai-broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[greenai]\nbroken = greenai_broken\n")
    return str(site)


def test_measure_passes_output_and_exit_code_through() -> None:
    r = greenai("measure", "--", sys.executable, "-c", "import sys; print('child says hi'); sys.exit(7)")
    assert r.returncode == 7
    assert r.stdout == "child says hi\n"
    assert "total" in r.stderr and "estimated" in r.stderr


def test_measure_json_to_file_and_stdout(tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    r = greenai("measure", "--json", str(out), "--", sys.executable, "-c", "pass")
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["method"] == "estimated" and "cpu" in data["domains"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # written atomically
    r = greenai("measure", "--json", "-", "--", sys.executable, "-c", "pass")
    assert json.loads(r.stdout)["backends"][0]["name"] == "estimate"


def test_measure_usage_errors_are_one_line() -> None:
    for args, needle in [(("measure",), "no command to measure"),
                         (("measure", "--backend", "nope", "--", "true"), "unknown energy backend 'nope'"),
                         (("bogus",), "invalid choice")]:
        r = greenai(*args)
        assert r.returncode == 2, args
        assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
    missing = greenai("measure", "--", "no-such-command-xyz")
    assert missing.returncode == 127 and "command not found" in missing.stderr


def test_debug_shows_the_traceback() -> None:
    r = greenai("--debug", "measure", "--backend", "nope", "--", "true")
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_plugins_lists_builtin_and_probe() -> None:
    r = greenai("plugins", "--json")
    data = json.loads(r.stdout)
    assert data["backends"]["estimate"]["available"] is True
    assert any(p["name"] == "estimate" and p["status"] == "loaded" for p in data["plugins"])
    table = greenai("plugins")
    assert table.returncode == 0 and "estimate" in table.stdout


def test_broken_plugin_is_listed_and_everything_else_works(broken_plugin_path: str) -> None:
    env = {"PYTHONPATH": broken_plugin_path, "GREENAI_STRICT_PLUGINS": "0"}
    r = greenai("plugins", "--json", env=env)
    assert r.returncode == 0, r.stderr
    broken = next(p for p in json.loads(r.stdout)["plugins"] if p["name"] == "broken")
    assert broken["status"] == "error" and "this plugin is broken on purpose" in broken["error"]
    assert broken["distribution"] == "greenai-broken"
    m = greenai("measure", "--", sys.executable, "-c", "print(1)", env=env)
    assert m.returncode == 0 and m.stdout == "1\n"


def test_strict_mode_fails_on_a_broken_plugin(broken_plugin_path: str) -> None:
    env = {"PYTHONPATH": broken_plugin_path, "GREENAI_STRICT_PLUGINS": "1"}
    r = greenai("plugins", env=env)
    assert r.returncode == 2
    assert "plugin 'broken'" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_disable_skips_a_broken_plugin_even_in_strict_mode(broken_plugin_path: str) -> None:
    env = {"PYTHONPATH": broken_plugin_path, "GREENAI_STRICT_PLUGINS": "1", "GREENAI_DISABLE_PLUGINS": "broken"}
    r = greenai("measure", "--", sys.executable, "-c", "pass", env=env)
    assert r.returncode == 0, r.stderr


def test_import_loads_no_plugin_and_no_heavy_library() -> None:
    code = ("import sys, greenai_core; heavy = {'pluggy', 'numpy', 'psutil', 'importlib.metadata', 'torch', "
            "'onnxruntime', 'tensorflow'} & set(sys.modules); print(sorted(heavy))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
