"""Loading and running ONNX models through greenai's one call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnx_models import CLASSES, n_float_params, save, tiny_cnn
from PIL import Image

from greenai_core import DeviceError, UnsupportedOperationError, UsageError, load_model

#: ImageNet's per-channel mean and std, the default normalisation (written out: the test checks the core's constants)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def ort_run(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {session.get_inputs()[0].name: x})[0])


def test_spec_parameters_and_raw_array_equal_onnxruntime(tmp_path: Path) -> None:
    model_proto, w = tiny_cnn()
    path = save(model_proto, tmp_path / "cnn.onnx")
    with load_model(path) as model:
        assert model.format == "onnx" and model.device == "cpu"
        assert model.num_parameters == n_float_params(w) == 4 * 3 * 3 * 3 + 4 + CLASSES * 4 + CLASSES
        assert model.trainable_parameters is None and model.get_number_of_parameters() == model.num_parameters
        spec = model.input_spec
        assert (spec.name, spec.shape, spec.layout, spec.dtype) == ("image", (None, 3, 8, 8), "NCHW", "float32")
        assert model.output_spec is not None and model.output_spec.shape == (None, CLASSES)
        x = np.random.default_rng(1).normal(size=(3, 3, 8, 8)).astype(np.float32)
        np.testing.assert_array_equal(model.predict(x), ort_run(path, x))


def test_preprocessing_equals_a_hand_computation(tmp_path: Path) -> None:
    path = save(tiny_cnn(shape=["N", 3, 3, 2])[0], tmp_path / "small.onnx")  # H=3, W=2: no resize needed
    pixels = np.arange(3 * 2 * 3, dtype=np.uint8).reshape(3, 2, 3) * 13
    img = Image.fromarray(pixels, "RGB")
    expected = ((pixels / 255.0 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)).transpose(2, 0, 1)[None]
    with load_model(path) as model:
        batch = model.prepare([img])
        assert batch.dtype == np.float32 and batch.shape == (1, 3, 3, 2)
        np.testing.assert_allclose(batch, expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(model.predict(img), ort_run(path, expected.astype(np.float32)), rtol=1e-5)
        raw = model.prepare([img], normalize=None)
        np.testing.assert_allclose(raw, (pixels / 255.0).transpose(2, 0, 1)[None], atol=1e-6)


def test_images_of_any_mode_and_size_are_resized_and_converted(tmp_path: Path) -> None:
    path = save(tiny_cnn(shape=["N", 3, 6, 10])[0], tmp_path / "wide.onnx")  # non-square input
    grey = Image.new("L", (31, 17), 128)
    rgba = Image.new("RGBA", (5, 40), (10, 20, 30, 0))
    palette = Image.new("RGB", (12, 12), (200, 100, 50)).convert("P", palette=Image.Palette.ADAPTIVE)
    files = []
    for i, img in enumerate([grey, rgba, palette]):
        files.append(tmp_path / f"img{i}.png")
        img.save(files[-1])
    with load_model(path, normalize=None) as model:
        batch = model.prepare(files)
        assert batch.shape == (3, 3, 6, 10)
        np.testing.assert_allclose(batch[0], 128 / 255, atol=1e-6)  # grey replicated to 3 channels
        np.testing.assert_allclose(batch[1, :, 0, 0], np.array([10, 20, 30]) / 255, atol=1e-6)  # alpha dropped
        assert palette.mode == "P"
        np.testing.assert_allclose(batch[2], (np.array([200, 100, 50]) / 255)[:, None, None] * np.ones((3, 6, 10)),
                                   atol=1e-6)
        assert model.predict(files).shape == (3, CLASSES)
        assert model.predict(str(files[0])).shape == (1, CLASSES)
        np.testing.assert_allclose(model.run(files[0]), model.predict(files[0]))


def test_nhwc_models_get_nhwc_batches(tmp_path: Path) -> None:
    path = save(tiny_cnn(layout="NHWC")[0], tmp_path / "nhwc.onnx")
    img = Image.new("RGB", (8, 8), (255, 0, 0))
    with load_model(path) as model:
        assert model.input_spec.layout == "NHWC" and model.input_spec.shape == (None, 8, 8, 3)
        batch = model.prepare([img])
        assert batch.shape == (1, 8, 8, 3)
        np.testing.assert_allclose(model.predict(img), ort_run(path, batch), rtol=1e-6)


def test_fixed_batch_is_fed_in_chunks_and_dynamic_size_keeps_the_image(tmp_path: Path) -> None:
    fixed = save(tiny_cnn(shape=[1, 3, 8, 8])[0], tmp_path / "b1.onnx")
    imgs = [Image.new("RGB", (9, 9), (i * 40, 0, 0)) for i in range(3)]
    with load_model(fixed) as model:
        assert model.input_spec.batch == 1
        out = model.predict(imgs)
        assert out.shape == (3, CLASSES)
        np.testing.assert_allclose(out[2], model.predict(imgs[2])[0], rtol=1e-6)
    dynamic = save(tiny_cnn(shape=["N", 3, "H", "W"])[0], tmp_path / "dyn.onnx")
    with load_model(dynamic) as model:
        assert model.input_spec.shape == (None, 3, None, None)
        assert model.prepare([Image.new("RGB", (13, 7))]).shape == (1, 3, 7, 13)


def test_external_data_and_initializers_listed_as_inputs(tmp_path: Path) -> None:
    proto, w = tiny_cnn()
    path = save(proto, tmp_path / "ext.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                location="ext.weights", size_threshold=0)
    assert (tmp_path / "ext.weights").stat().st_size > 0
    x = np.ones((2, 3, 8, 8), np.float32)
    with load_model(path) as model:
        assert model.num_parameters == n_float_params(w)
        np.testing.assert_allclose(model.predict(x), ort_run(path, x), rtol=1e-6)
    old_proto, _ = tiny_cnn(initializers_as_inputs=True, ir_version=3)
    old = save(old_proto, tmp_path / "old.onnx")
    with load_model(old) as model:
        assert model.input_spec.name == "image" and model.num_parameters == n_float_params(w)
    (tmp_path / "ext.weights").unlink()
    with pytest.raises(Exception, match="external data file 'ext.weights'.*not found"):
        load_model(path)


def test_wrong_suffix_is_recognised_by_content(tmp_path: Path) -> None:
    path = save(tiny_cnn()[0], tmp_path / "model.bin")
    with load_model(path) as model:
        assert model.format == "onnx"


def test_array_checks_devices_training_and_close(cnn_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = load_model(cnn_path)
    with pytest.raises(UsageError, match=r"shape \[3, 8, 8\].*add the batch dimension"):
        model.predict(np.zeros((3, 8, 8), np.float32))
    with pytest.raises(UsageError, match="astype\\('float32'\\)"):
        model.predict(np.zeros((1, 3, 8, 8), np.float64))
    with pytest.raises(UnsupportedOperationError, match="training is not supported for ONNX models"):
        model.train([])
    model.close()
    with pytest.raises(UsageError, match="closed"):
        model.predict(np.zeros((1, 3, 8, 8), np.float32))
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        load_model(cnn_path, device="tpu")
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(DeviceError, match="CUDAExecutionProvider.*install onnxruntime-gpu"):
        load_model(cnn_path, device="cuda:1")
