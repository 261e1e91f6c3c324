"""CSV rows and the self-contained HTML page of a profiling report, the page rendered by a real Chromium."""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from profiling_fixtures import inference_report, tiny_inference_report, training_report

from greenai_core.errors import UsageError
from greenai_core.profiling.csv_report import to_csv, to_csv_rows, write_csv
from greenai_core.profiling.html_report import to_html, write_html
from greenai_core.profiling.report import InferenceReport, TrainingReport
from greenai_core.profiling.svg_chart import MAX_POINTS_PER_DOMAIN, downsample

HOSTILE = "<img src=x onerror=alert(1)>"
TINY_CSV = """\
row,report,model,format,device,method,backends,created_at,report_complete,baseline_power_w,index,predict_calls,\
inferences,duration_s,energy_j,net_energy_j,attributed_energy_j,cpu_time_s,energy_per_inference_j,latency_s,\
throughput_per_s,partial,energy_j[pkg],warnings,name,unit,mean,std,ci95_low,ci95_high,n,stat_method
repeat,inference,'=cmd|' /C calc'!A0.onnx,onnx,cpu,mixed,fake; estimate,2025-01-02T03:04:05Z,false,0.5,1,2,4,0.5,\
2.0,1.75,,0.25,0.5,0.25,8.0,false,2.0,,,,,,,,,
repeat,inference,'=cmd|' /C calc'!A0.onnx,onnx,cpu,mixed,fake; estimate,2025-01-02T03:04:05Z,false,0.5,2,2,4,0.0,\
1.0,1.0,,0.125,0.25,0.0,,true,1.0,"cut short | a, b",,,,,,,,
stat,inference,'=cmd|' /C calc'!A0.onnx,onnx,cpu,mixed,fake; estimate,2025-01-02T03:04:05Z,false,0.5,,,,,,,,,,,,,,,\
energy_per_inference_j,J,0.5,0.25,0.25,0.75,2,student-t
stat,inference,'=cmd|' /C calc'!A0.onnx,onnx,cpu,mixed,fake; estimate,2025-01-02T03:04:05Z,false,0.5,,,,,,,,,,,,,,,\
wh_per_1000_inferences,Wh,0.125,0.0625,0.0625,0.1875,2,student-t
stat,inference,'=cmd|' /C calc'!A0.onnx,onnx,cpu,mixed,fake; estimate,2025-01-02T03:04:05Z,false,0.5,,,,,,,,,,,,,,,\
latency_s,s,0.125,0.0,0.125,0.125,1,single run
stat,inference,'=cmd|' /C calc'!A0.onnx,onnx,cpu,mixed,fake; estimate,2025-01-02T03:04:05Z,false,0.5,,,,,,,,,,,,,,,\
throughput_per_s,1/s,8.0,0.0,8.0,8.0,1,single run
stat,inference,'=cmd|' /C calc'!A0.onnx,onnx,cpu,mixed,fake; estimate,2025-01-02T03:04:05Z,false,0.5,,,,,,,,,,,,,,,\
energy_per_inference_j[pkg],J,0.5,0.25,0.25,0.75,2,student-t
warning,inference,'=cmd|' /C calc'!A0.onnx,onnx,cpu,mixed,fake; estimate,2025-01-02T03:04:05Z,false,0.5,,,,,,,,,,,,\
,,repeat 2 was cut short,,,,,,,,
"""


# -- the fixtures are what the design says a report is ------------------------------------------------------------

@pytest.mark.parametrize(("make", "schema"), [(inference_report, "inference"), (tiny_inference_report, "inference"),
                                             (training_report, "training")])
def test_the_hand_built_reports_follow_the_shipped_schema(make: Any, schema: str) -> None:
    import jsonschema  # a test dependency, installed by every nox session running tests/
    text = resources.files("greenai_core").joinpath(f"data/schemas/{schema}-report-1.json").read_text()
    jsonschema.Draft202012Validator(json.loads(text)).validate(make())


@pytest.mark.parametrize(("schema", "break_it"), [
    ("inference", lambda r: r.pop("environment")),
    ("inference", lambda r: r.update(schema="greenai.inference-report/2")),
    ("inference", lambda r: r["stats"]["energy_per_inference_j"].update(std=-1.0)),
    ("inference", lambda r: r["stats"]["latency_s"].pop("method")),
    ("inference", lambda r: r["repeats"][0].update(energy_j="12")),
    ("inference", lambda r: r["environment"]["backends"][0].pop("scopes")),
    ("training", lambda r: r["epochs"][0].pop("loss")),
    ("training", lambda r: r.update(kind="inference")),
])
def test_the_shipped_schema_refuses_a_broken_report(schema: str, break_it: Any) -> None:
    import jsonschema
    text = resources.files("greenai_core").joinpath(f"data/schemas/{schema}-report-1.json").read_text()
    report = inference_report() if schema == "inference" else training_report()
    break_it(report)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json.loads(text)).validate(report)


# -- CSV -----------------------------------------------------------------------------------------------------------

def test_csv_file_is_exact_for_a_small_report(tmp_path: Path) -> None:
    written = write_csv(tiny_inference_report(), tmp_path / "r.csv")
    assert written == tmp_path / "r.csv"
    # RFC 4180 line ends; the formula-like model path is neutralised with an apostrophe; None cells empty.
    assert written.read_bytes() == TINY_CSV.replace("\n", "\r\n").encode()
    assert os.listdir(tmp_path) == ["r.csv"]  # atomic: no temporary file left behind


def test_csv_rows_keep_values_unquoted_and_typed() -> None:
    rows = to_csv_rows(tiny_inference_report())
    assert [r["row"] for r in rows] == ["repeat", "repeat", "stat", "stat", "stat", "stat", "stat", "warning"]
    assert all(list(r) == list(rows[0]) for r in rows)  # one header: every row has every column, in order
    first, second = rows[0], rows[1]
    assert first["model"] == "=cmd|' /C calc'!A0.onnx"  # rows hold the value; only the file neutralises it
    assert (first["energy_j"], first["energy_per_inference_j"], first["latency_s"], first["throughput_per_s"]) == (
        2.0, 0.5, 0.25, 8.0)
    assert second["throughput_per_s"] is None  # a zero-duration window: no division, an empty cell
    assert second["partial"] == "true" and second["warnings"] == "cut short | a, b"


def test_csv_of_a_full_inference_report() -> None:
    report = inference_report()
    rows = to_csv_rows(report)
    repeats = [r for r in rows if r["row"] == "repeat"]
    assert [r["index"] for r in repeats] == [1, 2, 3, 4, 5]
    assert [r["energy_j[package-0]"] for r in repeats] == [82.0, 82.5, 83.0, 83.5, 84.0]
    assert [r["energy_j[core-0]"] for r in repeats] == [60.0, 60.4, 60.8, 61.2, 61.6]
    stats = {r["name"]: r for r in rows if r["row"] == "stat"}
    assert set(stats) == {"energy_per_inference_j", "net_energy_per_inference_j", "wh_per_1000_inferences",
                          "net_wh_per_1000_inferences", "latency_s", "throughput_per_s",
                          "attributed_energy_per_inference_j", "energy_per_inference_j[package-0]",
                          "energy_per_inference_j[core-0]", "energy_per_inference_j[dram-0]", "g_co2_per_inference"}
    energy = report["stats"]["energy_per_inference_j"]
    assert {k: stats["energy_per_inference_j"][k] for k in ("mean", "std", "ci95_low", "ci95_high", "n")} == {
        k: energy[k] for k in ("mean", "std", "ci95_low", "ci95_high", "n")}
    assert (stats["wh_per_1000_inferences"]["unit"], stats["g_co2_per_inference"]["unit"],
            stats["throughput_per_s"]["unit"], stats["latency_s"]["unit"]) == ("Wh", "g", "1/s", "s")
    assert [r["warnings"] for r in rows if r["row"] == "warning"] == report["warnings"]
    # Rows stand alone: the run's identity on every one.
    assert {(r["model"], r["method"], r["backends"], r["baseline_power_w"]) for r in rows} == {
        ("/data/models/sample_cnn.onnx", "measured", "rapl", 12.5)}
    parsed = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert len(parsed) == len(rows) and parsed[0]["energy_j[dram-0]"] == "12.0"


def test_csv_of_a_training_report() -> None:
    rows = to_csv_rows(training_report())
    epochs = [r for r in rows if r["row"] == "epoch"]
    assert [(r["index"], r["steps"], r["samples"], r["energy_j"], r["energy_per_sample_j"], r["partial"])
            for r in epochs] == [(1, 10, 320, 54.0, 54.0 / 320, "false"), (2, 10, 320, 55.0, 55.0 / 320, "false")]
    assert epochs[0]["net_energy_j"] is None and epochs[0]["baseline_power_w"] is None
    names = [r["name"] for r in rows if r["row"] == "stat"]
    assert names == ["energy_per_epoch_j", "energy_per_step_j", "energy_per_sample_j", "wh_per_1000_samples",
                     "steps.energy_j"]
    assert next(r for r in rows if r["name"] == "steps.energy_j")["n"] == 20
    assert {r["method"] for r in rows} == {"estimated"}


def test_csv_and_html_accept_the_report_objects_themselves() -> None:
    data = inference_report()
    assert to_csv_rows(InferenceReport.from_dict(data)) == to_csv_rows(data)
    assert to_html(InferenceReport.from_dict(data)) == to_html(data)
    assert to_html(TrainingReport.from_dict(training_report())) == to_html(training_report())
    with pytest.raises(UsageError, match="not a greenai profiling report"):
        to_csv_rows(42)


@pytest.mark.parametrize("write", [write_csv, write_html])
def test_writers_refuse_a_folder_and_replace_a_file(write: Any, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        write(inference_report(), tmp_path)
    target = tmp_path / "out"
    target.write_text("old")
    write(training_report(), target)
    assert target.read_text(encoding="utf-8").startswith(("row,", "<!DOCTYPE html>"))
    assert os.listdir(tmp_path) == ["out"]


# -- HTML ----------------------------------------------------------------------------------------------------------

def _svg(page: str) -> ET.Element:
    match = re.search(r"<svg\b.*?</svg>", page, re.S)
    assert match, "no chart in the page"
    return ET.fromstring(match.group(0))


def _polylines(svg: ET.Element) -> dict[str, list[tuple[float, float]]]:
    lines = {}
    for line in svg.iter("polyline"):
        pairs = [p.split(",") for p in line.attrib["points"].split()]
        lines[line.attrib["data-domain"]] = [(float(x), float(y)) for x, y in pairs]
    return lines


def _inside(svg: ET.Element, points: list[tuple[float, float]]) -> bool:
    _, _, width, height = (float(v) for v in svg.attrib["viewBox"].split())
    return all(0 <= x <= width and 0 <= y <= height for x, y in points)


def test_page_is_self_contained_and_escapes_untrusted_text() -> None:
    report = inference_report()
    report["model"]["path"] = f"/tmp/{HOSTILE}.onnx"
    report["warnings"].append(f"backend said {HOSTILE}")
    report["environment"]["backends"][0]["summary"] = HOSTILE
    report["timeline"][0]["watts"] = {HOSTILE: 1.0}
    page = to_html(report)
    assert "<script" not in page.lower() and "http://" not in page and "https://" not in page
    assert "url(" not in page and "@import" not in page and "<link" not in page and "<img" not in page
    assert HOSTILE not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "default-src 'none'" in page  # the browser itself refuses to load anything
    assert "<title>greenai inference profile: &lt;img src=x onerror=alert(1)&gt;.onnx (2025-11-30T20:15:00Z)" in page


def test_page_summary_warnings_and_tables() -> None:
    page = to_html(inference_report())
    assert '<section class="warnings"><h2>Warnings (2)</h2>' in page
    assert "2 logical CPUs were busy with other work during repeat 4" in page
    # mean 0.476 J shown in mJ with its interval, and the same run as Wh per 1,000 inferences.
    assert "<b>476 mJ</b> \u00b1" in page and "n = 5, student-t" in page and "<b>132.2 mWh</b>" in page
    assert "attribution by CPU time (as Scaphandre, PowerJoular)" in page
    assert "<b>12.5 W</b> over 3 s" in page and "given by the user, never looked up" in page
    assert page.count("<tr><td>") >= 5 and "rapl: 61.04 \u00b5J, updates every 1 ms" in page
    assert "Incomplete" not in page and "estimate</span>" not in page  # measured: no estimate label


def test_page_of_an_interrupted_report_with_nothing_finished() -> None:
    report = tiny_inference_report()
    report.update(stats=None, repeats=[], timeline=[], phases=[])
    page = to_html(report)
    assert "Incomplete run (KeyboardInterrupt)" in page and "the 0 repeat(s) finished" in page
    assert "none: nothing was finished" in page and "No repeat finished." in page
    assert "No timeline recorded" in page and "<svg" not in page


def test_training_page_labels_the_estimate() -> None:
    page = to_html(training_report())
    assert "Energy per training step: tiny.pt" in page and "<b>5.495 J</b>" in page
    assert 'estimated <span class="estimate">estimate</span>' in page
    assert "cpu (estimate) \u2014 estimated" in page and 'stroke-dasharray="6 4"' in page
    assert "<h2>Epochs</h2>" in page and "<h2>Training result</h2>" in page
    svg = _svg(page)
    assert [r.attrib["data-phase"] for r in svg.iter("rect") if "data-phase" in r.attrib] == ["epoch 1", "epoch 2"]


def test_chart_has_one_polyline_per_domain_inside_the_view_and_the_phases() -> None:
    svg = _svg(to_html(inference_report()))
    lines = _polylines(svg)
    assert list(lines) == ["package-0", "core-0", "dram-0"]
    assert all(len(points) == 280 and _inside(svg, points) for points in lines.values())
    phases = {r.attrib["data-phase"]: r for r in svg.iter("rect") if "data-phase" in r.attrib}
    assert list(phases) == ["baseline", "warmup", "repeat 1", "repeat 2", "repeat 3", "repeat 4", "repeat 5"]
    texts = [t.text for t in svg.iter("text")]
    assert "baseline (idle)" in texts and "repeat 5" in texts and "power (W)" in texts
    assert "time from the run's start (s)" in texts
    # Time runs left to right and higher power is higher up: the baseline's package line sits below the repeats'.
    package = lines["package-0"]
    assert package == sorted(package)
    baseline_right = float(phases["baseline"].attrib["x"]) + float(phases["baseline"].attrib["width"])
    assert max(y for x, y in package if x < baseline_right) > min(y for x, y in package if x > baseline_right) + 100


def test_chart_of_a_huge_timeline_is_downsampled_keeping_peaks() -> None:
    report = inference_report()
    count = 60_000
    report["timeline"] = [{"t_s": k * 0.001, "backend": "rapl", "watts": {"package-0": 10.0, "dram-0": 2.0}}
                          for k in range(count)]
    report["timeline"][31_337]["watts"]["package-0"] = 500.0  # one spike must survive
    page = to_html(report)
    svg = _svg(page)
    lines = _polylines(svg)
    assert list(lines) == ["package-0", "dram-0"]
    assert all(len(p) <= MAX_POINTS_PER_DOMAIN and _inside(svg, p) for p in lines.values())
    top = min(y for _, y in lines["package-0"])
    assert top < min(y for _, y in lines["dram-0"]) - 200  # the spike is drawn far above the rest
    assert f"{sum(len(p) for p in lines.values())} of {2 * count} points" in page


@pytest.mark.parametrize("timeline", [
    [{"t_s": 1.5, "backend": "rapl", "watts": {"package-0": 7.0}}],  # one point
    [{"t_s": 0.0, "backend": "rapl", "watts": {"package-0": 0.0}},
     {"t_s": 0.0, "backend": "rapl", "watts": {"package-0": 0.0}}],  # zero duration and zero watts
    [{"t_s": 2.0, "backend": "rapl", "watts": {"package-0": 3.0, "dram-0": float("nan")}},
     {"t_s": float("inf"), "backend": "rapl", "watts": {"package-0": 1.0}},
     {"t_s": 1.0, "backend": "rapl", "watts": {"package-0": -4.0, "dram-0": 2.0}}],  # unusable values left out
])
def test_chart_of_tiny_or_degenerate_timelines(timeline: list[dict[str, Any]]) -> None:
    report = inference_report()
    report.update(timeline=timeline, phases=[{"name": "repeat 1", "start_s": 0.0, "end_s": 0.0}])
    svg = _svg(to_html(report))
    lines = _polylines(svg)
    assert lines and all(points and _inside(svg, points) for points in lines.values())
    assert all(math_ok(float(v)) for c in svg.iter("circle") for v in (c.attrib["cx"], c.attrib["cy"]))


def math_ok(value: float) -> bool:
    return value == value and abs(value) != float("inf")


def test_a_timeline_of_only_unusable_points_is_no_timeline() -> None:
    report = inference_report()
    report["timeline"] = [{"t_s": 1.0, "backend": "rapl", "watts": {"package-0": float("nan")}}, "junk"]
    assert "No timeline recorded" in to_html(report)


def test_downsample_keeps_order_extremes_and_short_series() -> None:
    points = [(float(t), float((t * 7919) % 101)) for t in range(10_001)]
    kept = downsample(points, 100)
    assert len(kept) <= 100 and kept == sorted(kept) and kept[0] == (0.0, 0.0)
    assert max(w for _, w in kept) == 100.0 and min(w for _, w in kept) == 0.0
    assert downsample(points[:5], 100) == points[:5]


# -- the page in a real browser ------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium; installed with apt-get when missing (as root, which CI is)."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.fail("the HTML render test needs Debian's chromium: install it as root (apt-get install -y chromium), "
                    "as .ci/run does")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            pytest.fail(f"could not install Debian's chromium for the HTML render test: {' '.join(command)} exited "
                        f"{done.returncode}: {(done.stderr or done.stdout).strip()[-500:]}")
    found = shutil.which("chromium")
    if not found:
        pytest.fail("apt-get installed chromium but no 'chromium' command is on PATH")
    return found


def _run_chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
               f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**os.environ, "HOME": str(profile)})
    assert done.returncode == 0, f"chromium exited {done.returncode}: {done.stderr[-800:]}"
    return done


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def test_page_renders_in_headless_chromium(chromium: str, tmp_path: Path) -> None:
    report = copy.deepcopy(inference_report())
    report["model"]["path"] = f"/tmp/{HOSTILE}.onnx"
    page = write_html(report, tmp_path / "report.html")
    dom = _run_chromium(chromium, tmp_path / "profile-dom", "--dump-dom", page.as_uri()).stdout
    parser = _Elements()
    parser.feed(dom)
    tags = [tag for tag, _ in parser.found]
    assert "svg" in tags and "img" not in tags and "script" not in tags
    polylines = [attrs for tag, attrs in parser.found if tag == "polyline"]
    assert [a["data-domain"] for a in polylines] == ["package-0", "core-0", "dram-0"]
    assert all(len((a["points"] or "").split()) == 280 for a in polylines)
    assert "Energy per inference: &lt;img src=x onerror=alert(1)&gt;.onnx" in dom

    shot = tmp_path / "report.png"
    _run_chromium(chromium, tmp_path / "profile-shot", "--hide-scrollbars", "--window-size=1200,2400",
                  f"--screenshot={shot}", page.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    from PIL import Image  # a core dependency

    with Image.open(shot) as image:
        assert image.size == (1200, 2400)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    # The first domain's colour (#0072B2) is painted: the chart's lines and legend were drawn.
    assert sum(n for n, rgb in colours if rgb == (0x00, 0x72, 0xB2)) > 50
