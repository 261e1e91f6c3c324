"""The meter against a ~2 s pure-Python function, import cost, first measurement, memory."""

from __future__ import annotations

import statistics

from common import Row, json_from, median_process_time

WORK = """
import time
def work():
    s = 0
    for i in range({n}):
        s += i * i
    return s
"""

ALONE = WORK + """
import json
t = time.perf_counter(); work(); print(json.dumps({{"s": time.perf_counter() - t}}))
"""

# The same process times the function alone and inside a window, in an order that
# alternates between processes: this pairs away the large process-to-process noise
# (memory layout, frequency) of a small shared machine.
PAIRED = WORK + """
import json, greenai_core
greenai_core.Meter().start().stop()  # discovery and first reads out of the timed part
def alone():
    t = time.perf_counter(); work(); return time.perf_counter() - t
def metered():
    t = time.perf_counter(); m = greenai_core.Meter(); m.start(); work(); m.stop(); return time.perf_counter() - t
first, second = (alone, metered) if {flip} else (metered, alone)
a, b = first(), second()
out = {{"alone": a, "metered": b}} if {flip} else {{"alone": b, "metered": a}}
print(json.dumps(out))
"""

EDGES = """
import json, time, statistics, greenai_core
greenai_core.Meter().start().stop()
starts, stops = [], []
for _ in range(200):
    m = greenai_core.Meter()
    t0 = time.perf_counter(); m.start(); t1 = time.perf_counter(); m.stop(); t2 = time.perf_counter()
    starts.append(t1 - t0); stops.append(t2 - t1)
print(json.dumps({"start": statistics.median(starts), "stop": statistics.median(stops)}))
"""

# One start + stop pair per window, alone and with 1,000 other windows open on the same backends.
WINDOWS = """
import json, time, statistics, greenai_core
from greenai_core import Meter
{setup}
Meter(backends).start().stop()
def pairs(n):
    t = time.perf_counter()
    for _ in range(n):
        Meter(backends).start().stop()
    return (time.perf_counter() - t) / n
sequential = statistics.median(pairs(200) for _ in range(5))
opened = [Meter(backends) for _ in range(1000)]
t = time.perf_counter()
for m in opened:
    m.start()
open_each = (time.perf_counter() - t) / 1000
crowded = statistics.median(pairs(200) for _ in range(5))
t = time.perf_counter()
for m in opened:
    m.stop()
close_each = (time.perf_counter() - t) / 1000
print(json.dumps({{"sequential": sequential, "crowded": crowded, "open": open_each, "close": close_each}}))
"""


def window_rows(section: str, setup: str, repeats: int, note: str = "") -> list[Row]:
    """Per-window cost of a start + stop pair, alone and among 1,000 open windows (medians of fresh processes)."""
    runs = [json_from(WINDOWS.format(setup=setup)) for _ in range(max(repeats // 2, 2))]
    seq = statistics.median(r["sequential"] for r in runs) * 1e6
    crowded = statistics.median(r["crowded"] for r in runs) * 1e6
    opened = statistics.median(r["open"] for r in runs) * 1e6
    closed = statistics.median(r["close"] for r in runs) * 1e6
    return [
        Row(section, "start + stop pair, one window at a time", seq, "us", "<= 1000 us", seq <= 1000, note),
        Row(section, "start + stop pair, with 1,000 windows open", crowded, "us", "<= 1000 us", crowded <= 1000),
        Row(section, "  ratio: with 1,000 open / alone", crowded / seq, "x", "<= 2 x", crowded / seq <= 2),
        Row(section, "opening 1,000 windows, per window (start)", opened, "us"),
        Row(section, "closing 1,000 windows, per window (stop)", closed, "us"),
    ]


FIRST = """
import greenai_core
greenai_core.Meter().start().stop()
import resource, json
print(json.dumps({"rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

BARE_RSS = "import resource, json; print(json.dumps({'rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))"


def calibrate(seconds: float = 2.0) -> int:
    n = 1_000_000
    t = json_from(ALONE.format(n=n))["s"]
    return int(n * seconds / t)


def run(repeats: int = 5) -> list[Row]:
    n = calibrate()
    pairs = [json_from(PAIRED.format(n=n, flip=i % 2 == 0)) for i in range(max(repeats, 5) + 2)]
    a = statistics.median(p["alone"] for p in pairs)
    m = statistics.median(p["metered"] for p in pairs)
    ratios = sorted((p["metered"] - p["alone"]) / p["alone"] * 100 for p in pairs)
    overhead = statistics.median(ratios)
    edges = [json_from(EDGES) for _ in range(repeats)]
    start_ms = statistics.median(e["start"] for e in edges) * 1e3
    stop_ms = statistics.median(e["stop"] for e in edges) * 1e3
    bare = median_process_time("pass", repeats * 2)
    imported = median_process_time("import greenai_core", repeats * 2)
    first = median_process_time(FIRST, repeats * 2)
    rss = statistics.median(json_from(FIRST)["rss_kib"] for _ in range(3)) / 1024
    bare_rss = json_from(BARE_RSS)["rss_kib"] / 1024
    sec = "meter (estimate)"
    return [
        Row(sec, "2 s function alone", a, "s"),
        Row(sec, "2 s function, start..stop around it", m, "s"),
        Row(sec, "overhead (median of paired runs)", overhead, "%", "<= 1 %", overhead <= 1.0,
            f"{len(pairs)} fresh processes, each timing both; spread {ratios[0]:+.1f} .. {ratios[-1]:+.1f} %: "
            "machine noise, the start + stop row is the meter's own cost"),
        Row(sec, "overhead from start + stop cost alone", (start_ms + stop_ms) / 1e3 / a * 100, "%", "<= 1 %",
            (start_ms + stop_ms) / 1e3 / a * 100 <= 1.0),
        Row(sec, "start", start_ms, "ms", "<= 5 ms", start_ms <= 5),
        Row(sec, "stop latency", stop_ms, "ms", "<= 1 ms", stop_ms <= 1),
        Row(sec, "bare python -c pass", bare * 1e3, "ms"),
        Row(sec, "import greenai_core, over bare", (imported - bare) * 1e3, "ms", "<= 40 ms", imported - bare <= 0.040),
        Row(sec, "first measurement (import, discovery, start, stop), over bare", (first - bare) * 1e3, "ms",
            "<= 150 ms", first - bare <= 0.150),
        Row(sec, "peak RSS at first measurement", rss, "MiB", "<= 30 MiB", rss <= 30,
            f"bare interpreter: {bare_rss:.1f} MiB"),
        *window_rows("windows (estimate)", "backends = None", repeats, "default selection: the estimate"),
    ]
