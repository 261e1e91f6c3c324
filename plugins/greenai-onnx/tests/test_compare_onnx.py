"""``compare`` on real ONNX models run by onnxruntime, under the CPU-time estimate at a known power.

Three generated models of very different cost all call an image bright or dark by its mean
pixel (a fixed linear path); the two larger ones also run a wide random MLP branch whose
output is scaled by 1e-6 before it is added, far too little to change a decision, so every
model's accuracy on the generated folder is the hand count, while its cost grows with the
branch. The estimate backend charges ``GREENAI_CPU_WATTS`` per CPU-second of this process.

onnxruntime runs with one intra-op thread: its default thread pool spin-waits between runs,
and that spinning is CPU time of this process, charged by the estimate, whose amount follows
the machine's load rather than the model (it made a small model's interval reach a large
one's on a busy machine: a flaky tie). One thread leaves CPU time that is the model's work,
about 30 times more for the large model than for the small one, with narrow intervals.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from greenai_core import CompareReport, compare

SIDE = 16
FEATURES = 3 * SIDE * SIDE
#: The wide branch: hidden widths (none for the small model).
BRANCHES = {"small.onnx": [], "medium.onnx": [256], "large.onnx": [1024, 1024, 1024]}
#: One onnxruntime thread: no spin-waiting pool whose CPU time would follow the machine's load (module docstring).
ONE_THREAD = {"intra_op_num_threads": 1}
PROTOCOL = {"min_duration_s": 0.2, "warmup": 5, "repeats": 3, "baseline_s": 0, "backends": ["estimate"],
            "load_options": ONE_THREAD}


def brightness_mlp(path: Path, hidden: list[int], seed: int = 0) -> Path:
    """scores = x . [-w, w] (mean brightness, class 1 bright) + 1e-6 x MLP(x) over the hidden widths."""
    rng = np.random.default_rng(seed)
    row = np.full((FEATURES, 1), 1.0 / FEATURES, np.float32)
    inits = [numpy_helper.from_array(np.concatenate([-row, row], axis=1), "bright_w")]
    nodes = [helper.make_node("Flatten", ["x"], ["flat"]), helper.make_node("MatMul", ["flat", "bright_w"], ["base"])]
    last, width = "flat", FEATURES
    for i, size in enumerate([*hidden, 2] if hidden else []):
        weight = rng.normal(0, 1 / np.sqrt(width), (width, size)).astype(np.float32)
        inits.append(numpy_helper.from_array(weight, f"w{i}"))
        nodes.append(helper.make_node("MatMul", [last, f"w{i}"], [f"h{i}"]))
        last, width = f"h{i}", size
        if i < len(hidden):
            nodes.append(helper.make_node("Relu", [last], [f"r{i}"]))
            last = f"r{i}"
    if hidden:
        inits.append(numpy_helper.from_array(np.array(1e-6, np.float32), "tiny"))
        nodes += [helper.make_node("Mul", [last, "tiny"], ["small_branch"]),
                  helper.make_node("Add", ["base", "small_branch"], ["scores"])]
    else:
        nodes.append(helper.make_node("Identity", ["base"], ["scores"]))
    graph = helper.make_graph(nodes, "brightness", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, ["N", 3, SIDE, SIDE])], [helper.make_tensor_value_info(
            "scores", TensorProto.FLOAT, ["N", 2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="greenai-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save_model(model, str(path))
    return path


def labelled_folder(root: Path) -> Path:
    """dark: levels 0, 20, 40 and a misfiled bright 240; light: 200, 225, 255. A brightness model gets 6 of 7."""
    for name, levels in {"dark": [0, 20, 40, 240], "light": [200, 225, 255]}.items():
        (root / name).mkdir(parents=True)
        for i, level in enumerate(levels):
            Image.new("RGB", (SIDE, SIDE), (level, level, level)).save(root / name / f"{i}.png")
    return root


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    monkeypatch.setenv("GREENAI_CPU_WATTS", "10")
    monkeypatch.setenv("GREENAI_REFERENCE", str(tmp_path / "no-reference.json"))
    return [brightness_mlp(tmp_path / name, hidden) for name, hidden in BRANCHES.items()]


def test_the_small_model_is_cheaper_and_accuracy_is_the_hand_count(models: list[Path], tmp_path: Path) -> None:
    data = labelled_folder(tmp_path / "data")
    report = compare(models, data=data, **PROTOCOL)
    assert isinstance(report, CompareReport) and report.complete
    small, medium, large = report.models
    assert [e["format"] for e in report.models] == ["onnx"] * 3
    assert small["num_parameters"] < medium["num_parameters"] < large["num_parameters"]
    assert [(e["correct"], e["evaluated"], e["class_mapping"]) for e in report.models] == \
        [(6, 7, "sorted folder index")] * 3
    assert all(e["method"] == "estimated" for e in report.models)
    # The small model's whole interval lies below the large one's: cheaper, never tied with it directly.
    assert small["energy_per_inference_j"]["ci95_high"] < large["energy_per_inference_j"]["ci95_low"]
    bounds = {e["name"]: (e["energy_per_inference_j"]["ci95_low"], e["energy_per_inference_j"]["ci95_high"])
              for e in report.models}

    def overlap(a: str, b: str) -> bool:
        return not (bounds[a][1] < bounds[b][0] or bounds[b][1] < bounds[a][0])

    # Ties chain: the medium model's interval may reach both (a noisy run), then all three are one group.
    chained = overlap("medium.onnx", "small.onnx") and overlap("medium.onnx", "large.onnx")
    assert small["rank"] == 1 and small["tie"] == overlap("small.onnx", "medium.onnx")
    expected = (1, True) if chained else (2, True) if overlap("large.onnx", "medium.onnx") else (3, False)
    assert (large["rank"], large["tie"]) == expected
    # Same accuracy everywhere: the front is what is cheapest beyond the intervals.
    assert report.front["kind"] == "pareto" and "small.onnx" in report.front["members"]
    assert "large.onnx" not in report.front["members"]
    assert report.inputs == f"the first 1 image of {data}"


def test_greenai_compare_end_to_end(models: list[Path], tmp_path: Path) -> None:
    out_json, out_html = tmp_path / "c.json", tmp_path / "c.html"
    done = subprocess.run([sys.executable, "-m", "greenai_core.cli", "compare", *map(str, models), "--random",
                           "--min-duration", "0.2", "--repeats", "3", "--baseline", "0", "--backend", "estimate",
                           "-o", "intra_op_num_threads=1",
                           "--json", str(out_json), "--html", str(out_html)],
                          text=True, capture_output=True, timeout=180, env={**os.environ, "GREENAI_NO_PROGRESS": "1"})
    assert done.returncode == 0, done.stderr
    assert "Cheapest: small.onnx" in done.stdout
    report = json.loads(out_json.read_text())
    assert [e["name"] for e in report["models"]] == list(BRANCHES)
    assert report["models"][0]["rank"] == 1 and report["front"]["members"][0] == "small.onnx"
    assert "large.onnx" not in report["front"]["members"]
    page = out_html.read_text()
    assert page.count('class="point"') == 3 and "<script" not in page
