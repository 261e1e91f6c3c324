"""Bad files through the API and the CLI; `greenai info` / `greenai run`; the original factory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from onnx_models import CLASSES, save, tiny_cnn
from PIL import Image

from greenai_core import GreenAIError, load_model


def greenai(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "greenai_core", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "GREENAI_STRICT_PLUGINS": "1"})


def no_image_input(path: Path) -> Path:
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "flat",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 10])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor("w", TensorProto.FLOAT, [10, 2], [0.0] * 20)])
    return save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    good = save(tiny_cnn()[0], tmp / "good.onnx").read_bytes()
    (tmp / "truncated.onnx").write_bytes(good[: len(good) // 2])
    (tmp / "random.onnx").write_bytes(np.random.default_rng(0).bytes(4096))
    (tmp / "empty.onnx").write_bytes(b"")
    with zipfile.ZipFile(tmp / "archive.onnx", "w") as zf:
        zf.writestr("notes/readme.txt", b"not a model")
    (tmp / "folder").mkdir()
    return {
        "truncated": (tmp / "truncated.onnx", "truncated or corrupt ONNX file"),
        "random": (tmp / "random.onnx", "not recognised as onnx: it does not start like a serialised ONNX ModelProto"),
        "empty": (tmp / "empty.onnx", "not recognised as onnx: the file is empty"),
        "zip": (tmp / "archive.onnx", "not recognised as onnx: it is a zip archive"),
        "no-image-input": (no_image_input(tmp / "flat.onnx"),
                           "no image-like input (rank 4, NCHW or NHWC); inputs are x[1, 10]"),
        "missing": (tmp / "nope.onnx", "no such file"),
        "folder": (tmp / "folder", "a folder without a model"),
    }


@pytest.mark.parametrize("kind", ["truncated", "random", "empty", "zip", "no-image-input", "missing", "folder"])
def test_bad_files_give_one_line_errors_in_api_and_cli(tmp_path: Path, kind: str) -> None:
    path, reason = bad_files(tmp_path)[kind]
    with pytest.raises(GreenAIError) as info:
        load_model(path)
    message = str(info.value)
    assert str(path) in message and reason in message and "\n" not in message
    r = greenai("info", str(path))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and reason in r.stderr and str(path) in r.stderr


def test_info_json_and_table(cnn_path: Path) -> None:
    r = greenai("info", str(cnn_path), "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["format"] == "onnx" and info["num_parameters"] == 137 and info["trainable_parameters"] is None
    assert info["input"] == {"name": "image", "shape": [None, 3, 8, 8], "dtype": "float32", "layout": "NCHW"}
    assert info["file_size_bytes"] == cnn_path.stat().st_size and info["device"] == "cpu"
    table = greenai("info", str(cnn_path)).stdout
    assert "parameters  137" in table and "image [?, 3, 8, 8] NCHW float32" in table


def test_run_top_k_says_whether_softmax_was_applied(tmp_path: Path) -> None:
    logits = save(tiny_cnn()[0], tmp_path / "logits.onnx")
    probs = save(tiny_cnn(softmax=True)[0], tmp_path / "probs.onnx")
    images = []
    for i, colour in enumerate([(255, 0, 0), (0, 90, 255)]):
        images.append(tmp_path / f"{i}.png")
        Image.new("RGB", (20, 16), colour).save(images[-1])
    expected = load_model(logits).predict(images)
    r = greenai("run", str(logits), *map(str, images), "--top", "3", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["scores"].startswith("softmax")
    for row, result in zip(expected, data["images"], strict=True):
        assert [t["class"] for t in result["top"]] == list(np.argsort(-row)[:3])
        assert sum(t["score"] for t in result["top"]) <= 1.0
    r = greenai("run", str(probs), str(images[0]), "--json")
    assert json.loads(r.stdout)["scores"].startswith("probabilities")
    assert len(json.loads(r.stdout)["images"][0]["top"]) == min(5, CLASSES)
    bad = greenai("run", str(logits), str(tmp_path / "missing.png"))
    assert bad.returncode == 2 and "missing.png: no such image file" in bad.stderr


def test_original_factory_example_runs(cnn_path: Path, tmp_path: Path) -> None:
    from greenai_core.compat import DLLibrary, DLModelFactory

    image = tmp_path / "cat.png"
    Image.new("RGB", (32, 32), (120, 80, 40)).save(image)
    # The original README's example with only the import changed:
    path_to_the_model = str(cnn_path)
    factory = DLModelFactory()
    factory.register_predefined_formats()
    model_constructor = factory.get_model(path_to_the_model)
    model = model_constructor(path_to_the_model, enable_GPU=False)
    n = model.get_number_of_parameters()
    output = model.run(str(image))
    assert n == 137 and output.shape == (1, CLASSES)

    class MyCustomModelClass(DLLibrary):
        def get_number_of_parameters(self) -> int:
            return 42

    factory.register_format(".custom_extension", MyCustomModelClass)
    custom = factory.get_model("path/to/the/model.custom_extension")("path/to/the/model.custom_extension")
    assert isinstance(custom, MyCustomModelClass) and custom.get_number_of_parameters() == 42
    with pytest.raises(GreenAIError, match="no format registered for suffix '.h6'"):
        factory.get_model("model.h6")


def test_sniffing_rejects_other_protobufs(tmp_path: Path) -> None:
    tensor = onnx.numpy_helper.from_array(np.zeros(3, np.float32), "t")
    path = tmp_path / "tensor.onnx"
    path.write_bytes(tensor.SerializeToString())
    with pytest.raises(GreenAIError, match="not recognised as onnx"):
        load_model(path)
