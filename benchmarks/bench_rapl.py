"""The rapl backend's start and stop cost on a generated 2-socket powercap tree."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_core import window_rows
from common import Row


def two_socket_tree(base: Path) -> Path:
    devices, root = base / "devices", base / "class" / "powercap"
    root.mkdir(parents=True)
    for s in (0, 1):
        for zone, name in ((f"intel-rapl:{s}", f"package-{s}"), (f"intel-rapl:{s}:0", "core"),
                           (f"intel-rapl:{s}:1", "dram")):
            parent = devices if zone.count(":") == 1 else devices / f"intel-rapl:{s}"
            folder = parent / zone
            folder.mkdir(parents=True)
            for f, v in (("name", name), ("energy_uj", "123456789"), ("max_energy_range_uj", "262143328850")):
                (folder / f).write_text(v + "\n")
            os.symlink(folder, root / zone)
    return root


def run(repeats: int = 5) -> list[Row]:
    from greenai_rapl.backend import RaplBackend

    from greenai_core import Meter

    with tempfile.TemporaryDirectory() as tmp:
        backend = RaplBackend(two_socket_tree(Path(tmp)))
        Meter([backend]).start().stop()
        starts, stops = [], []
        for _ in range(200 * repeats):
            m = Meter([backend])
            t0 = time.perf_counter()
            m.start()
            t1 = time.perf_counter()
            m.stop()
            t2 = time.perf_counter()
            starts.append(t1 - t0)
            stops.append(t2 - t1)
    start_ms, stop_ms = statistics.median(starts) * 1e3, statistics.median(stops) * 1e3
    sec = "rapl (2 sockets)"
    note = "6 zones: package, core, dram per socket"
    with tempfile.TemporaryDirectory() as tmp:
        root = two_socket_tree(Path(tmp))
        setup = f"from greenai_rapl.backend import RaplBackend\nbackends = [RaplBackend({str(root)!r})]"
        windows = window_rows("windows (rapl 2s)", setup, repeats, note + "; wrapping: each window polled")
    return [Row(sec, "start", start_ms, "ms", "<= 1 ms", start_ms <= 1, note),
            Row(sec, "stop", stop_ms, "ms", "<= 1 ms", stop_ms <= 1, note), *windows]
