"""ONNX through the core's shared options: class names from metadata, layout override, own options, devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx_models import CLASSES, save, tiny_cnn
from PIL import Image

from greenai_core import Device, DeviceError, UsageError, load_model

NAMES = ["cat", "dog", "fox", "owl", "yak"]


def with_metadata(tmp_path: Path, name: str, **props: str) -> Path:
    proto = tiny_cnn()[0]
    onnx.helper.set_model_props(proto, props)
    return save(proto, tmp_path / name)


@pytest.mark.parametrize(("key", "value"), [
    ("labels", json.dumps(NAMES)),
    ("classes", "\n".join(NAMES) + "\n"),
    ("class_names", json.dumps({str(i): n for i, n in enumerate(NAMES)})),
])
def test_class_names_from_metadata(tmp_path: Path, key: str, value: str) -> None:
    with load_model(with_metadata(tmp_path, "named.onnx", **{key: value})) as model:
        assert model.labels == NAMES and model.labels_source == "model file"


def test_metadata_names_that_do_not_fit_are_dropped_and_the_option_wins(tmp_path: Path) -> None:
    path = with_metadata(tmp_path, "three.onnx", labels=json.dumps(["a", "b", "c"]))
    with load_model(path) as model:
        assert model.labels is None and "the file names 3 classes but the model has 5 outputs" in str(model.details)
    with load_model(path, labels=[f"n{i}" for i in range(CLASSES)]) as model:
        assert model.labels == ["n0", "n1", "n2", "n3", "n4"]
    with pytest.raises(UsageError, match="2 class names given"):
        load_model(path, labels=["x", "y"])


def test_greenai_run_shows_the_files_class_names(tmp_path: Path) -> None:
    path = with_metadata(tmp_path, "named.onnx", labels=json.dumps(NAMES))
    image = tmp_path / "red.png"
    Image.new("RGB", (8, 8), (255, 0, 0)).save(image)
    expected = load_model(path).predict(image)[0]
    r = subprocess.run([sys.executable, "-m", "greenai_core", "run", str(path), str(image), "--top", "2"],
                       capture_output=True, text=True, timeout=120, env={**os.environ, "GREENAI_STRICT_PLUGINS": "1"})
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[3].split()
    assert first[0] == NAMES[int(np.argmax(expected))] and "class names: model file" in r.stdout


def test_layout_override_own_options_and_devices(tmp_path: Path, cnn_path: Path) -> None:
    with load_model(cnn_path, layout="NHWC", intra_op_num_threads=1) as model:  # relabelled: shape as in the file
        assert model.input_spec.layout == "NHWC" and model.input_spec.shape == (None, 3, 8, 8)
    with pytest.raises(UsageError, match="unknown option 'model_class' for the onnx format .*intra_op_num_threads"):
        load_model(cnn_path, model_class="x")
    with load_model(cnn_path, device=Device.parse(" CPU ")) as model:
        assert model.device == "cpu"
    with pytest.raises(DeviceError):
        load_model(cnn_path, device="cuda:99")


def test_batched_predict_keeps_the_first_images_size_for_dynamic_inputs(tmp_path: Path) -> None:
    path = save(tiny_cnn(shape=["N", 3, "H", "W"])[0], tmp_path / "dyn.onnx")
    images = [Image.new("RGB", (6 + i, 4 + 2 * i), (40 * i, 90, 200)) for i in range(5)]
    with load_model(path) as model:
        whole = model.predict(images)  # one batch: every image resized to the first one's size
        np.testing.assert_allclose(model.predict(images, batch_size=2), whole, rtol=1e-5, atol=1e-6)
        assert whole.shape == (5, CLASSES)
