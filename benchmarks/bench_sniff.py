"""Recognising a hostile 1 GiB file: sniffing time and peak memory, per installed model format.

Two sparse 1 GiB files (no disk used): one starting like a zip (``PK\\x03\\x04``, then a hole:
the zip readers look for an end record and give up) and one of zeros. Each figure is taken
in a fresh process that imports the format's module and sniffs a small file first (so only
the hostile file's cost is measured): wall time of ``sniff`` + ``explain``, and how much the
peak RSS grew. Targets: well under a second and well under 100 MiB.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from common import Row, json_from

GIB = 1024 ** 3

SNIFF = """
import json, resource, time
from pathlib import Path
from greenai_core.plugins import get_registry
fmt = get_registry().formats()[{name!r}]
small = Path({small!r})
fmt.sniff(small); fmt.explain(small)  # imports and first-use costs out of the measured part
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
fmt.sniff(Path({path!r})); fmt.explain(Path({path!r}))
seconds = time.perf_counter() - t
grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({{"ms": seconds * 1000, "mib": grew}}))
"""


def sparse(path: Path, head: bytes) -> Path:
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(GIB)
    return path


def run(repeats: int = 5) -> list[Row]:
    from greenai_core.plugins import get_registry

    section = "sniff 1 GiB"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        import zipfile

        small = Path(tmp) / "small.bin"  # a small zip that is no model: warms the zip-reading code up too
        with zipfile.ZipFile(small, "w") as zf:
            zf.writestr("archive/notes.txt", "not a model")
        files = {"zip head": sparse(Path(tmp) / "giant.pt", b"PK\x03\x04"),
                 "zeros": sparse(Path(tmp) / "giant.onnx", b"\x00" * 4)}
        for name in sorted(get_registry().formats()):
            for label, path in files.items():
                runs = [json_from(SNIFF.format(name=name, small=str(small), path=str(path)))
                        for _ in range(repeats)]
                ms = statistics.median(r["ms"] for r in runs)
                mib = max(r["mib"] for r in runs)
                rows.append(Row(section, f"{name}: sniff + explain, {label}", ms, "ms", "<= 100 ms", ms <= 100))
                rows.append(Row(section, f"{name}: peak RSS growth, {label} (max of runs)", mib, "MiB", "<= 20 MiB",
                                mib <= 20))
    return rows
