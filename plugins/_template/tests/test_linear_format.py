"""Format ``example-linear``: real files written by ``save_example_model``, loaded through ``load_model``."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from greenai_example import save_example_model
from greenai_example.linear import LinearFormat, LinearModel
from greenai_example.linear_file import MAGIC, MAX_HEADER_BYTES, read_linear_file
from PIL import Image

from greenai_core import load_model
from greenai_core.sdk import NCHW, DeviceError, GreenAIError, ModelFormatError, Registry


def reference(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """softmax(x W + b), computed independently in float64."""
    logits = x.reshape(x.shape[0], -1).astype(np.float64) @ w.astype(np.float64) + b
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_loads_by_content_with_exact_parameters_and_specs(registry: Registry, tmp_path: Path) -> None:
    path = save_example_model(tmp_path / "no-suffix.bin", input_shape=(3, 4, 5), classes=7)
    with load_model(path) as model:
        assert isinstance(model, LinearModel) and model.format == "example-linear"
        assert model.num_parameters == model.trainable_parameters == 3 * 4 * 5 * 7 + 7
        spec = model.input_spec
        assert (spec.shape, spec.layout, spec.dtype) == ((None, 3, 4, 5), NCHW, "float32")
        assert model.output_spec is not None and model.output_spec.shape == (None, 7)
        assert model.num_classes == 7 and model.labels is None


def test_predict_on_arrays_matches_the_formula(registry: Registry, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    w, b = rng.normal(size=(2 * 3 * 3, 4)), rng.normal(size=4)
    path = save_example_model(tmp_path / "m.glin", input_shape=(2, 3, 3), classes=4, weights=w, bias=b)
    x = rng.normal(size=(5, 2, 3, 3)).astype(np.float32)
    with load_model(path) as model:
        probs = model.predict(x)
    assert probs.shape == (5, 4) and probs.dtype == np.float32
    np.testing.assert_allclose(probs, reference(x, w.astype(np.float32), b.astype(np.float32)), rtol=1e-5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


def test_predict_on_an_image_goes_through_the_core_preprocessing(registry: Registry, tmp_path: Path) -> None:
    """Class 0 sums the red channel, class 1 the blue one: a red picture is class 0 by exactly e^4 : 1."""
    w = np.zeros((3 * 2 * 2, 2))
    w[0:4, 0] = 1.0  # NCHW flattening: the 4 red pixels come first
    w[8:12, 1] = 1.0  # then green, then blue
    path = save_example_model(tmp_path / "rb.glin", input_shape=(3, 2, 2), classes=2, weights=w, bias=np.zeros(2),
                              labels=["red", "blue"])
    red = Image.new("RGB", (6, 6), (255, 0, 0))
    with load_model(path) as model:
        probs = model.predict(red, normalize=None)
        assert (model.labels, model.labels_source) == (["red", "blue"], "model file")
    np.testing.assert_allclose(probs, [[np.exp(4) / (np.exp(4) + 1), 1 / (np.exp(4) + 1)]], rtol=1e-6)


def test_sniff_reads_the_magic_and_never_raises(tmp_path: Path) -> None:
    fmt = LinearFormat()
    good = save_example_model(tmp_path / "good")
    text = tmp_path / "notes.glin"
    text.write_text("GREENAI-LINEAR but text")
    assert fmt.sniff(good)
    assert not fmt.sniff(text) and not fmt.sniff(tmp_path) and not fmt.sniff(tmp_path / "missing")


def _with_header(tmp_path: Path, header: object, payload: bytes = b"", length: int | None = None) -> Path:
    raw = json.dumps(header).encode()
    path = tmp_path / "bad.glin"
    path.write_bytes(MAGIC + struct.pack("<I", len(raw) if length is None else length) + raw + payload)
    return path


@pytest.mark.parametrize(
    ("header", "payload", "length", "message"),
    [
        ({"version": 1, "input_shape": [1, 1, 2], "classes": 2}, b"\0" * 4 * 5, None, "header describes"),
        ({"version": 1, "input_shape": [1, 1, 2], "classes": 2}, b"\0" * 4 * 7, None, "header describes"),
        ({"version": 1, "input_shape": [1, 1, 2], "classes": 2}, b"", MAX_HEADER_BYTES + 1, "more than"),
        ({"version": 2, "input_shape": [1, 1, 2], "classes": 2}, b"", None, "version 1"),
        ({"version": 1, "input_shape": [1, 0, 2], "classes": 2}, b"", None, "input_shape"),
        ({"version": 1, "input_shape": [1, 1, 2], "classes": True}, b"", None, "classes"),
        ({"version": 1, "input_shape": [1, 1, 2], "classes": 2, "labels": ["a"]}, b"\0" * 24, None, "labels"),
        ([1, 2], b"", None, "header"),
    ],
)
def test_bad_files_are_one_line_errors_naming_the_file(
    registry: Registry, tmp_path: Path, header: object, payload: bytes, length: int | None, message: str
) -> None:
    path = _with_header(tmp_path, header, payload, length)
    with pytest.raises(ModelFormatError, match=message) as err:
        load_model(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_unreadable_header_and_non_finite_weights(registry: Registry, tmp_path: Path) -> None:
    garbled = tmp_path / "garbled.glin"
    garbled.write_bytes(MAGIC + struct.pack("<I", 3) + b"\xff{x")
    with pytest.raises(ModelFormatError, match="unreadable header"):
        load_model(garbled)
    nan = save_example_model(tmp_path / "nan.glin", input_shape=(1, 1, 1), classes=2,
                             weights=[[np.nan, 0.0]], bias=[0.0, 0.0])
    with pytest.raises(ModelFormatError, match="NaN or infinity"):
        load_model(nan)


def test_a_wrong_file_with_the_suffix_says_why(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "model.glin"
    path.write_bytes(b"\0" * 100)
    with pytest.raises(ModelFormatError, match="does not start with the example-linear magic bytes"):
        load_model(path)


def test_the_core_refuses_other_devices_and_undeclared_options(registry: Registry, tmp_path: Path) -> None:
    path = save_example_model(tmp_path / "m.glin")
    with pytest.raises(DeviceError, match="cannot use device 'cuda:0'"):
        load_model(path, device="cuda:0")  # refused by the core from the format's device_kinds
    with pytest.raises(GreenAIError, match="'colour'"):
        load_model(path, colour="green")  # refused by the core: the format declares no options


def test_importing_the_plugin_module_imports_no_numpy() -> None:
    code = "import sys, greenai_example.plugin; print(sorted({'numpy', 'PIL'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    """Called directly (the core refuses special files before any format sees them): no hang, one line."""
    fifo = tmp_path / "model.glin"
    os.mkfifo(fifo)
    assert not LinearFormat().sniff(fifo)
    with pytest.raises(ModelFormatError, match="not a regular file"):
        read_linear_file(fifo)
