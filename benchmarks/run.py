"""Run every benchmark section whose plugins are installed and print one table.

    nox -s bench              # or: python benchmarks/run.py [--repeats N] [--json PATH]

Figures are medians over fresh processes; targets are for a 2-core machine with no sensor.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import Row  # noqa: E402

SECTIONS = [("bench_core", None), ("bench_rapl", "greenai_rapl"), ("bench_onnx", "greenai_onnx"),
            ("bench_tf", "tensorflow"), ("bench_sniff", None), ("bench_profile", "greenai_onnx"),
            ("bench_distributed", "torch")]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the rows as JSON here")
    args = parser.parse_args()
    rows: list[Row] = []
    for module, needs in SECTIONS:
        if not (Path(__file__).parent / f"{module}.py").exists():
            continue
        if needs and importlib.util.find_spec(needs) is None:
            print(f"(section {module} skipped: {needs} not installed)")
            continue
        rows += importlib.import_module(module).run(args.repeats)
    print(f"\ngreenai benchmarks on {platform.node()} ({platform.processor() or platform.machine()}), "
          f"Python {platform.python_version()}, medians of {args.repeats}+ fresh runs\n")
    widths = (18, 62, 10, 5, 10, 5)
    header = ("section", "figure", "value", "unit", "target", "ok")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        ok = "" if r.ok is None else ("yes" if r.ok else "NO")
        cells = (r.section, r.name, f"{r.value:.4g}", r.unit, r.target, ok)
        line = "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))
        print(line + (f"  ({r.note})" if r.note else ""))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
