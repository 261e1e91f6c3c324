"""The plugin as installed: discovered by greenai, measured through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from powercap_trees import PowercapTree, amd, intel_laptop, server_2s

from greenai_core.sdk import Registry

# A command that moves the tree's counters by known amounts, then exits.
WRITE = """
import os, sys
root = sys.argv[1]
for arg in sys.argv[2:]:
    zone, uj = arg.split("=")
    path = os.path.join(root, zone, "energy_uj")
    value = int(open(path).read()) + int(uj)
    open(path + ".tmp", "w").write(f"{value}\\n"); os.replace(path + ".tmp", path)
"""


def greenai(*args: str, root: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"GREENAI_POWERCAP_ROOT": str(root)} if root else {})}
    return subprocess.run([sys.executable, "-m", "greenai_core", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_entry_point_registers_rapl() -> None:
    record = {p.name: p for p in Registry(strict=True).plugins()}["rapl"]
    assert (record.status, record.distribution, record.backends) == ("loaded", "greenai-rapl", ["rapl"])


def test_plugins_lists_rapl_with_its_probe(tree: PowercapTree, tmp_path: Path) -> None:
    server_2s(tree)
    data = json.loads(greenai("plugins", "--json", root=tree.root).stdout)
    assert data["backends"]["rapl"]["available"] is True
    assert "package-0, dram-0, package-1, dram-1" in data["backends"]["rapl"]["reason"]
    data = json.loads(greenai("plugins", "--json", root=tmp_path / "none").stdout)
    assert data["backends"]["rapl"]["available"] is False


def test_measure_reports_per_domain_joules_matching_the_writer(tree: PowercapTree) -> None:
    intel_laptop(tree)
    r = greenai("measure", "--backend", "rapl", "--json", "-", "--", sys.executable, "-c", WRITE, str(tree.root),
                "intel-rapl:0=3000000", "intel-rapl:0:0=1250000", "intel-rapl:0:2=500000", "intel-rapl:1=7000000",
                root=tree.root)
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    assert m["method"] == "measured"
    assert m["domains"] == pytest.approx({"package-0": 3.0, "core-0": 1.25, "uncore-0": 0.0, "dram-0": 0.5,
                                          "psys": 7.0}, abs=1e-6)
    assert m["energy_j"] == pytest.approx(3.5, abs=1e-6)


def test_default_selection_uses_rapl_or_falls_back_with_the_reason(tree: PowercapTree, tmp_path: Path) -> None:
    amd(tree)
    r = greenai("measure", "--json", "-", "--", sys.executable, "-c", "pass", root=tree.root)
    assert json.loads(r.stdout)["backends"][0]["name"] == "rapl"
    r = greenai("measure", "--json", "-", "--", sys.executable, "-c", "pass", root=tmp_path / "none")
    m = json.loads(r.stdout)
    assert m["method"] == "estimated" and any("rapl: no powercap folder" in w for w in m["warnings"])
    r = greenai("measure", "--backend", "rapl", "--", "true", root=tmp_path / "none")
    assert r.returncode == 2 and "energy backend 'rapl' is unavailable: no powercap folder" in r.stderr
