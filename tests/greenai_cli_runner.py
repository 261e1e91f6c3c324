"""Running ``greenai`` as users do (a real process) and installing throwaway plugin distributions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

#: The command, as ``python -m`` runs it (the installed ``greenai`` script runs the same main()).
GREENAI = [sys.executable, "-m", "greenai_core.cli"]


def greenai(*args: str, env: dict[str, str] | None = None, **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run ``greenai ARGS`` to the end; text output captured unless ``kw`` says otherwise."""
    kw.setdefault("capture_output", True)
    return subprocess.run([*GREENAI, *args], text=True, env={**os.environ, **(env or {})}, timeout=120, **kw)


def install_distribution(site: Path, dist: str, entry_points: dict[str, str], modules: dict[str, str],
                         version: str = "1.0") -> None:
    """Write an installed distribution into ``site`` (a dist-info with entry points in group ``greenai``).

    ``modules`` maps a module name to its source. Put ``site`` on PYTHONPATH to install it.
    """
    site.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (site / f"{module}.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[greenai]\n{lines}")
