"""The light entry-point reader finds what importlib.metadata finds, by the same rules."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points as metadata_entry_points
from pathlib import Path

import pytest

from greenai_core.entry_points import entry_points


def test_the_same_entry_points_as_importlib_metadata_here() -> None:
    for group in ("greenai", "console_scripts", "pytest11"):
        ours = sorted((ep.name, ep.value, ep.dist_name, ep.dist_version) for ep in entry_points(group))
        theirs = sorted((ep.name, ep.value, ep.dist.metadata["Name"] if ep.dist else None,
                         ep.dist.version if ep.dist else None) for ep in metadata_entry_points(group=group))
        assert ours == theirs, group
    assert any(ep.name == "estimate" or ep.dist_name == "greenai-hello" for ep in entry_points("greenai"))


def dist(site: Path, folder: str, metadata: str, entry_points_txt: str) -> None:
    info = site / folder
    info.mkdir(parents=True)
    (info / "METADATA").write_text(metadata)
    (info / "entry_points.txt").write_text(entry_points_txt)


def test_first_on_the_path_wins_and_names_are_normalised(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    dist(first, "Green_AI.Demo-1.0.dist-info", "Metadata-Version: 2.1\nName: Green_AI.Demo\nVersion: 1.0\n\nName: no",
         "# comment\n[greenai]\ndemo = demo_pkg.plugin:hooks.obj [extra]\n\n[other]\nx = y\n")
    dist(second, "green_ai_demo-2.0.dist-info", "Name: green-ai-demo\nVersion: 2.0\n", "[greenai]\ndemo = old\n")
    found = entry_points("greenai", [str(first), str(second), str(tmp_path / "missing")])
    assert [(ep.name, ep.value, ep.dist_name, ep.dist_version) for ep in found] == [
        ("demo", "demo_pkg.plugin:hooks.obj [extra]", "Green_AI.Demo", "1.0")]


def test_load_imports_the_module_and_walks_the_attribute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ep_demo_mod.py").write_text("class hooks:\n    obj = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    dist(tmp_path, "ep_demo-0.1.dist-info", "Name: ep-demo\nVersion: 0.1\n", "[greenai]\nd = ep_demo_mod:hooks.obj\n")
    (ep,) = entry_points("greenai", [str(tmp_path)])
    assert ep.load() == 42


def test_a_fifo_in_place_of_entry_points_txt_never_blocks(tmp_path: Path) -> None:
    info = tmp_path / "fifo_dist-1.0.dist-info"
    info.mkdir()
    os.mkfifo(info / "entry_points.txt")
    os.mkfifo(info / "METADATA")
    code = f"from greenai_core.entry_points import entry_points; print(entry_points('greenai', [{str(tmp_path)!r}]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.strip() == "[]"


def test_discovery_does_not_import_importlib_metadata() -> None:
    code = ("import sys, greenai_core; greenai_core.get_registry(); "
            "print('importlib.metadata' in sys.modules, 'email' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr
