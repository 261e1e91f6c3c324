"""The compare page: self-contained, escaped, and its chart's points, error bars and front present in Chromium's DOM."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_compare import DATASET, FIGURES, entry
from test_profiling_reports import (
    HOSTILE,
    _Elements,
    _run_chromium,
    chromium,  # noqa: F401 - the session fixture, used through browser()
)

from greenai_core.comparison.report import CompareReport
from greenai_core.comparison.scatter import Axis


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> str:
    """The chromium the profiling page's tests use (installed there when missing)."""
    return str(request.getfixturevalue("chromium"))


def elements(browser: str, page: Path, profile: Path) -> list[tuple[str, dict[str, str | None]]]:
    dom = _run_chromium(browser, profile, "--dump-dom", page.as_uri()).stdout
    parser = _Elements()
    parser.feed(dom)
    return parser.found


def test_accuracy_chart_in_chromium(browser: str, tmp_path: Path) -> None:
    figures = [(HOSTILE if name == "C" else name, *rest) for name, *rest in FIGURES]
    report = CompareReport.build([entry(*f) for f in figures], data=DATASET)  # type: ignore[arg-type]
    page = report.write_html(tmp_path / "compare.html")
    text = page.read_text()
    assert "<script" not in text and "http" not in text.replace("http-equiv", "")  # loads nothing
    found = elements(browser, page, tmp_path / "profile")
    tags = [tag for tag, _ in found]
    assert "svg" in tags and "img" not in tags and "script" not in tags
    points = [attrs for tag, attrs in found if tag == "circle" and attrs.get("class") == "point"]
    assert [a["data-model"] for a in points] == ["A", "B", HOSTILE, "D", "E", "F"]
    assert [a["data-front"] for a in points] == ["false", "true", "false", "true", "false", "false"]
    assert [float(a["data-x"] or "") for a in points] == [70.0, 80.0, 80.0, 95.0, 90.0, 95.0]
    bars = [attrs for tag, attrs in found if tag == "line" and attrs.get("class") == "error-bar"]
    assert len(bars) == 6
    # Each bar spans its interval: the lower end is drawn lower on the page (a larger y).
    assert all(float(b["y1"] or 0) > float(b["y2"] or 0) for b in bars)
    (front,) = [attrs for tag, attrs in found if tag == "polyline" and attrs.get("class") == "pareto-front"]
    corners = [tuple(float(v) for v in c.split(",")) for c in (front["points"] or "").split()]
    b, d = (next(a for a in points if a["data-model"] == n) for n in ("B", "D"))
    # From B up to D's energy at B's accuracy, then across to D.
    assert corners == [(float(b["cx"] or 0), float(b["cy"] or 0)), (float(b["cx"] or 0), float(d["cy"] or 0)),
                       (float(d["cx"] or 0), float(d["cy"] or 0))]


def test_parameters_chart_without_data_in_chromium(browser: str, tmp_path: Path) -> None:
    entries = [entry(n, m, lo, hi, None) for n, m, lo, hi, _ in FIGURES[:3]]
    for e, parameters in zip(entries, (1_000, 50_000, 2_000_000), strict=True):
        e["num_parameters"] = parameters
    page = CompareReport.build(entries).write_html(tmp_path / "compare.html")
    found = elements(browser, page, tmp_path / "profile")
    points = [attrs for tag, attrs in found if tag == "circle" and attrs.get("class") == "point"]
    assert [(a["data-model"], a["data-x"], a["data-front"]) for a in points] == [
        ("A", "1000.0", "true"), ("B", "50000.0", "true"), ("C", "2000000.0", "false")]
    assert not [a for tag, a in found if tag == "polyline"]  # no front line without accuracy
    assert "parameters (log scale)" in page.read_text()


def test_axes_by_hand() -> None:
    linear = Axis([0.5, 1.0, 2.0], 100.0, 0.0, unit="J")
    assert (linear.low, linear.high, linear.log) == (0.0, 2.5, False)
    assert linear(0.0) == 100.0 and linear(2.5) == 0.0 and linear(1.25) == 50.0
    log = Axis([1e3, 1e6], 0.0, 300.0, unit="")
    assert log.log and (log.low, log.high) == (1e3, 1e6) and log(1e4) == 100.0
    assert [label for _, label in log.ticks()] == ["1 k", "10 k", "100 k", "1 M"]
    percent = Axis([70.0, 95.0], 0.0, 100.0, unit="%", percent=True, zero=False)
    assert (percent.low, percent.high) == (65.0, 100.0)


def test_labels_of_points_on_top_of_each_other_do_not_overlap() -> None:
    from greenai_core.comparison.scatter import LINE_HEIGHT, place_labels

    # Three models at one spot (same accuracy, tied energy) and one far away: the first label sits beside its point
    # (baseline 6 px above it), the next two a line below and a line above; the far one is left alone.
    spots = [(200.0, 300.0, "resnet18.onnx"), (200.0, 300.0, "resnet18_q.onnx"), (200.0, 300.0, "r.onnx"),
             (600.0, 100.0, "far.onnx")]
    placed = place_labels(spots, 88, 928, 28, 448)
    assert placed == [(208.0, 294.0, "start"), (208.0, 294.0 + LINE_HEIGHT, "start"),
                      (208.0, 294.0 - LINE_HEIGHT, "start"), (608.0, 94.0, "start")]
    # Near the right edge labels go to the left of their point; at the bottom they stay inside the plot.
    assert place_labels([(900.0, 447.0, "x")], 88, 928, 28, 448) == [(892.0, 441.0, "end")]
    low = place_labels([(300.0, 448.0, "a"), (300.0, 448.0, "b")], 88, 928, 28, 448)
    assert low == [(308.0, 442.0, "start"), (308.0, 442.0 - LINE_HEIGHT, "start")]
