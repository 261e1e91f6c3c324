"""The profiling CLI end to end on a real ONNX model: the bundled sample, as `greenai demo` profiles it.

(These need the ONNX plugin, so they live with it; the core's own CLI tests use an in-test format.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

GREENAI = [sys.executable, "-m", "greenai_core.cli"]
SAMPLE_ONNX = str(files("greenai_core") / "data" / "sample_cnn.onnx")


def greenai(*args: str, env: dict[str, str] | None = None, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GREENAI, *args], text=True, capture_output=True, env={**os.environ, **(env or {})},
                          timeout=180, **kw)


def test_a_pipe_gets_no_carriage_return_and_no_ansi(tmp_path: Path) -> None:
    done = greenai("profile", SAMPLE_ONNX, "--runs", "2", "--repeats", "2", "--warmup", "1", "--baseline", "0",
                   env={"GREENAI_NO_PROGRESS": ""})
    assert done.returncode == 0, done.stderr
    both = done.stdout + done.stderr
    assert "\r" not in both and "\x1b" not in both
    assert "energy per inference" in done.stdout


def test_a_terminal_gets_the_bar_on_stderr(tmp_path: Path) -> None:
    master, slave = os.openpty()
    proc = subprocess.Popen([*GREENAI, "profile", SAMPLE_ONNX, "--runs", "2", "--repeats", "2", "--warmup", "1",
                             "--baseline", "0"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                            env={k: v for k, v in os.environ.items() if k != "GREENAI_NO_PROGRESS"})
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=60) == 0
    os.close(master)
    assert proc.stdout is not None and "energy per inference" in proc.stdout.read().decode()
    text = seen.decode(errors="replace")
    assert "profiling" in text and "repeat" in text and "\r" in text


def test_demo_profiles_the_sample_and_names_its_html_report(tmp_path: Path) -> None:
    done = greenai("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    page = tmp_path / "greenai-demo.html"
    assert page.is_file() and "<svg" in page.read_text()
    assert "HTML report: greenai-demo.html" in done.stdout
    assert "open greenai-demo.html in a browser" in done.stdout
    assert "protocol              3 repeats" in done.stdout and "energy per inference" in done.stdout
