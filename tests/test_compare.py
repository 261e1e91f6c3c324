"""Compare's arithmetic on injected figures: ties, ranks, the Pareto front hand-checked; JSON schema; CSV rows."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from profiling_fixtures import inference_report

from greenai_core.comparison.pareto import Point, cheapest, dominates, front_steps, pareto_front, ranks, tie_groups
from greenai_core.comparison.report import CSV_COLUMNS, CompareReport, entry_of, warning_lines
from greenai_core.comparison.run import display_names
from greenai_core.data import DATA
from greenai_core.errors import UsageError

# (name, mean, ci95_low, ci95_high, accuracy), worked by hand in the comments of the tests below.
FIGURES = [("A", 1.0, 0.9, 1.1, 0.70), ("B", 1.05, 1.0, 1.2, 0.80), ("C", 2.0, 1.9, 2.1, 0.80),
           ("D", 3.0, 2.5, 3.5, 0.95), ("E", 3.2, 3.1, 3.3, 0.90), ("F", 5.0, 4.0, 6.0, 0.95)]
POINTS = [Point(n, m, lo, hi, acc) for n, m, lo, hi, acc in FIGURES]
DATASET = {"path": "/data/val", "classes": ["cat", "dog"], "images": 20}


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "schemas" / "compare-report-1.json").read_text())
    return loaded


def entry(name: str, mean: float, low: float, high: float, accuracy: float | None,
          path: str | None = None) -> dict[str, Any]:
    """An entry over a real-shaped inference report whose energy statistic is the one given."""
    report = copy.deepcopy(inference_report())
    report["model"]["path"] = path or f"/models/{name}.onnx"
    report["stats"]["energy_per_inference_j"] = {"mean": mean, "std": 0.1, "ci95_low": low, "ci95_high": high,
                                                 "n": 5, "method": "student-t"}
    hits = None if accuracy is None else {"accuracy": accuracy, "correct": round(accuracy * 20), "evaluated": 20,
                                          "class_mapping": "model class names"}
    return entry_of(name, report, hits)


def test_ranks_chain_overlapping_intervals_into_ties() -> None:
    # By mean: A 1.0, B 1.05 (overlaps A: 1.0 <= 1.1), C 2.0 (1.9 > 1.2: new group), D 3.0 (2.5 > 2.1: new),
    # E 3.2 (3.1 <= 3.5: joins D), F 5.0 (4.0 > 3.5: new). Competition ranks: 1 1 3 4 4 6.
    assert ranks(POINTS) == {"A": (1, True), "B": (1, True), "C": (3, False), "D": (4, True), "E": (4, True),
                             "F": (6, False)}
    assert [[p.name for p in g] for g in tie_groups(POINTS)] == [["A", "B"], ["C"], ["D", "E"], ["F"]]
    # X and Z alone would separate, but Y overlaps both: one group, never ordered.
    chained = [Point("Z", 4.0, 3.0, 5.0), Point("X", 1.0, 0.0, 2.0), Point("Y", 2.5, 1.5, 3.5)]
    assert ranks(chained) == {"X": (1, True), "Y": (1, True), "Z": (1, True)}
    # A dear model with a wide interval reaching down to the cheapest one (seen on a real run: a noisy TorchScript
    # model beside two ONNX ones): by mean the order is s, b, w, but w's interval [0, 54.7] overlaps s's: one group.
    wide = [Point("s", 0.0317, 0.0164, 0.0469), Point("w", 13.5, 0.0, 54.7), Point("b", 1.26, 0.567, 1.94)]
    assert ranks(wide) == {"s": (1, True), "b": (1, True), "w": (1, True)}
    assert [[p.name for p in g] for g in tie_groups(wide)] == [["s", "b", "w"]]
    # ...but b's interval lies wholly above s's: not among the cheapest (w, overlapping s, is).
    assert cheapest(wide) == ["s", "w"]
    assert pareto_front([Point(p.name, p.energy, p.ci_low, p.ci_high, 0.5) for p in wide]) == ["s", "w"]
    # Zero-width intervals: equal figures tie, different ones are ordered.
    exact = [Point("p", 2.0, 2.0, 2.0), Point("q", 2.0, 2.0, 2.0), Point("r", 1.0, 1.0, 1.0)]
    assert ranks(exact) == {"r": (1, False), "p": (2, True), "q": (2, True)}


def test_pareto_front_by_hand() -> None:
    # A: B is more accurate (0.80 > 0.70) and tied in energy -> dominated. C: B as accurate, cheaper beyond the
    # intervals (1.2 < 1.9) -> dominated. E: D more accurate, tied in energy -> dominated. F: D as accurate and
    # cheaper (3.5 < 4.0) -> dominated. B and D: nothing beats them.
    assert pareto_front(POINTS) == ["B", "D"]
    assert dominates(POINTS[1], POINTS[0]) and not dominates(POINTS[0], POINTS[1])
    twins = [Point("s", 1.0, 0.5, 1.5, 0.5), Point("t", 1.2, 0.7, 1.7, 0.5)]  # same accuracy, tied energy
    assert pareto_front(twins) == ["s", "t"]
    assert not dominates(Point("u", 1.0, 1.0, 1.0, None), Point("v", 2.0, 2.0, 2.0, None))
    # The step line: up at B's accuracy to D's energy, then across to D.
    assert front_steps(POINTS, ["B", "D"]) == [(0.80, 1.05), (0.80, 3.0), (0.95, 3.0)]
    assert cheapest(POINTS) == ["A", "B"]


def test_report_marks_ranks_ties_and_the_front_and_validates() -> None:
    entries = [entry(*f) for f in FIGURES]
    report = CompareReport.build(entries, created_at="2025-11-30T21:00:00Z", settings={
        "batch_size": 1, "runs": None, "repeats": 5, "warmup": 10, "min_duration_s": 2.0, "baseline_s": 3.0,
        "cooldown_s": 0.0, "backends": None, "baseline": "measured before each model", "inputs": "random"},
        inputs="random", data=DATASET, environment=inference_report()["environment"])
    assert [(e["name"], e["rank"], e["tie"], e["front"]) for e in report.models] == [
        ("A", 1, True, False), ("B", 1, True, True), ("C", 3, False, False), ("D", 4, True, True),
        ("E", 4, True, False), ("F", 6, False, False)]
    assert report.front["kind"] == "pareto" and report.front["members"] == ["B", "D"]
    data = report.to_dict()
    jsonschema.validate(data, schema())
    assert CompareReport.from_dict(data).to_dict() == data


def test_without_accuracy_the_cheapest_ties_are_marked_and_said() -> None:
    report = CompareReport.build([entry(n, m, lo, hi, None) for n, m, lo, hi, _ in FIGURES])
    assert report.front["kind"] == "cheapest" and report.front["members"] == ["A", "B"]
    assert "cheapest" in report.front["note"] and "no accuracy" in report.front["note"]
    assert [e["front"] for e in report.models] == [True, True, False, False, False, False]


def test_mixed_methods_and_missing_intervals_are_warned() -> None:
    estimated = entry("G", 1.0, 1.0, 1.0, None)
    estimated["method"] = "estimated"
    report = CompareReport.build([entry("H", 2.0, 2.0, 2.0, None), estimated])
    assert any("not all obtained the same way" in w and "G: estimated" in w for w in report.warnings)
    # Repeats that agree exactly (n = 5, zero width) are an exact interval: told apart, no warning about it.
    assert [(e["rank"], e["tie"]) for e in report.models] == [(2, False), (1, False)]
    assert not any("confidence interval" in w for w in report.warnings)
    # One repeat has no interval at all: tied with every model, whatever the means, and said.
    single = entry("K", 0.5, 0.5, 0.5, 0.9)
    single["energy_per_inference_j"].update(std=0.0, n=1, method="single run")
    report = CompareReport.build([entry("H", 2.0, 2.0, 2.0, 0.5), single, entry("L", 9.0, 8.0, 10.0, 0.5)],
                                 data=DATASET)
    assert [(e["rank"], e["tie"]) for e in report.models] == [(1, True), (1, True), (1, True)]
    assert "no confidence interval for K (one repeat): no difference can be told, so it is tied with every " \
           "model; give more repeats" in report.warnings
    # K is the most accurate and tied with both in energy: it dominates them; H still dominates L beyond intervals.
    assert report.front["members"] == ["K"]
    alone, exact = Point("K", 0.5, 0.5, 0.5, 0.5, interval=False), Point("H", 2.0, 2.0, 2.0, 0.5)
    assert not dominates(alone, exact) and pareto_front([alone, exact]) == ["K", "H"]


def test_with_data_the_front_is_over_accuracy_even_empty_and_a_missing_accuracy_is_said() -> None:
    from greenai_core.comparison.report import PARETO_NOTE, PARTIAL_ACCURACY_NOTE

    nothing = CompareReport.build([], data=DATASET, complete=False, interrupted="KeyboardInterrupt")
    assert nothing.front == {"kind": "pareto", "members": [], "note": PARETO_NOTE}
    # An entry without accuracy among others with one (built by hand): no front, the cheapest marked, and why.
    mixed = CompareReport.build([entry("A", 1.0, 0.9, 1.1, 0.7), entry("B", 2.0, 1.9, 2.1, None)], data=DATASET)
    assert mixed.front == {"kind": "cheapest", "members": ["A"], "note": PARTIAL_ACCURACY_NOTE}


def test_a_model_without_figures_is_listed_unranked() -> None:
    empty = entry("I", 1.0, 1.0, 1.0, None)
    empty["energy_per_inference_j"] = None
    report = CompareReport.build([empty, entry("J", 2.0, 1.0, 3.0, None)])
    assert [(e["rank"], e["front"]) for e in report.models] == [(None, False), (1, True)]
    # Damaged figures (a hand-made dict): listed, never ranked or drawn, and the page still renders.
    broken = [entry("N", 1.0, 0.5, 1.5, None), entry("M", 1.0, 0.5, 1.5, None), entry("J", 2.0, 1.0, 3.0, None)]
    broken[0]["energy_per_inference_j"]["mean"] = float("nan")
    broken[1]["energy_per_inference_j"]["ci95_high"] = None
    report = CompareReport.build(broken)
    assert [(e["rank"], e["front"]) for e in report.models] == [(None, False), (None, False), (1, True)]
    report.models[0]["energy_per_inference_j"]["mean"] = 1.0  # NaN would be refused by to_dict (never written)
    assert report.to_html().count('class="point"') == 2


def test_csv_rows_one_per_model_exact() -> None:
    entries = [entry("A", 1.0, 0.9, 1.1, 0.7), entry("=B", 2.0, 1.9, 2.1, 0.8, path="=cmd|' /C calc'!A0.onnx")]
    entries[0]["grade"] = {"letter": "B", "stars": 4}
    report = CompareReport.build(entries, data=DATASET)
    rows = report.to_csv_rows()
    latency = inference_report()["stats"]["latency_s"]
    assert rows[0] == {
        "name": "A", "path": "/models/A.onnx", "format": "onnx", "device": "cpu", "num_parameters": 21150,
        "method": "measured", "complete": "true", "energy_per_inference_j": 1.0, "energy_std_j": 0.1,
        "energy_ci95_low_j": 0.9, "energy_ci95_high_j": 1.1, "repeats": 5, "latency_s": latency["mean"],
        "latency_ci95_low_s": latency["ci95_low"], "latency_ci95_high_s": latency["ci95_high"], "accuracy": 0.7,
        "correct": 14, "evaluated": 20, "class_mapping": "model class names", "grade": "B", "stars": 4, "rank": 1,
        "tie": "false", "front": "true", "warnings": " | ".join(inference_report()["warnings"])}
    assert rows[1]["rank"] == 2 and rows[1]["front"] == "true" and rows[1]["grade"] is None
    parsed = list(csv.DictReader(io.StringIO(report.to_csv())))
    assert list(parsed[0]) == list(CSV_COLUMNS) and len(parsed) == 2
    assert parsed[1]["name"] == "'=B" and parsed[1]["path"] == "'=cmd|' /C calc'!A0.onnx"  # never a formula
    assert parsed[0]["energy_per_inference_j"] == "1.0" and parsed[0]["grade"] == "B" and parsed[1]["grade"] == ""


def test_json_and_csv_are_written_atomically(tmp_path: Path) -> None:
    report = CompareReport.build([entry("A", 1.0, 0.9, 1.1, None)])
    assert json.loads((report.write_json(tmp_path / "c.json")).read_text()) == report.to_dict()
    assert report.write_csv(tmp_path / "c.csv").read_bytes().decode() == report.to_csv()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "c.json"]  # no temporary file left


def test_not_a_compare_report_is_refused() -> None:
    with pytest.raises(UsageError, match="not a greenai compare report: schema is 'greenai.inference-report/1'"):
        CompareReport.from_dict(inference_report())
    with pytest.raises(UsageError, match="missing 'complete'"):
        CompareReport.from_dict({"schema": "greenai.compare-report/1"})


def test_display_names_tell_models_apart() -> None:
    class Named:
        def __init__(self, path: str) -> None:
            self.path = Path(path)

    models = [Named("/a/net.onnx"), Named("/b/net.onnx"), Named("/c/big.pt"), Named("/c/big.pt")]
    assert display_names(models) == ["/a/net.onnx", "/b/net.onnx", "/c/big.pt", "/c/big.pt #2"]  # type: ignore[arg-type]


def test_warnings_shared_by_every_model_are_said_once() -> None:
    first, second = entry("A", 1.0, 0.9, 1.1, None), entry("B", 2.0, 1.9, 2.1, None)
    second["warnings"].append("not graded: no energy")
    report = CompareReport.build([first, second], warnings=["the run's own"])
    shared = inference_report()["warnings"]
    assert warning_lines(report.to_dict()) == ["the run's own", *shared, "B: not graded: no energy"]
    alone = CompareReport.build([entry("C", 1.0, 0.9, 1.1, None)])
    assert warning_lines(alone.to_dict()) == [f"C: {w}" for w in shared]


def test_greenai_core_compare_is_the_function_whatever_was_imported_first() -> None:
    import greenai_core
    import greenai_core.comparison.report  # noqa: F401 - a submodule first: the package is "comparison"

    assert callable(greenai_core.compare) and greenai_core.compare.__module__ == "greenai_core.comparison.run"
    assert greenai_core.CompareReport is CompareReport
