"""The core's model layer without any ML framework: options, class names, devices, load containment, CLI."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from numpy_models import FrozenFormat, LinearFormat, LinearModel, install, random_linear

from greenai_core import Device, load_model
from greenai_core.cli import main
from greenai_core.errors import DeviceError, ModelFormatError, UsageError
from greenai_core.models.devices import parse_device
from greenai_core.models.preprocess import Normalization
from greenai_core.plugins import Registry


@pytest.fixture
def linear(registry: Registry, tmp_path: Path) -> Path:
    install(registry)
    return random_linear(tmp_path / "model.lin", classes=3)


# -- devices --------------------------------------------------------------------------------
@pytest.mark.parametrize(("spelling", "kind", "index", "canonical"), [
    ("cpu", "cpu", 0, "cpu"), ("CPU", "cpu", 0, "cpu"), ("cpu:0", "cpu", 0, "cpu"), (" Cpu ", "cpu", 0, "cpu"),
    ("cuda", "cuda", 0, "cuda:0"), ("cuda:1", "cuda", 1, "cuda:1"), (" Cuda:0 ", "cuda", 0, "cuda:0"),
    ("CUDA:12", "cuda", 12, "cuda:12"), (Device("cuda", 3), "cuda", 3, "cuda:3"),
])
def test_device_spellings(spelling: object, kind: str, index: int, canonical: str) -> None:
    device = Device.parse(spelling)
    assert (device.kind, device.index, str(device)) == (kind, index, canonical)
    assert Device.parse(str(device)) == device and parse_device(spelling) == (kind, index)


@pytest.mark.parametrize("bad", ["gpu", "tpu:0", "cpu:1", "cuda:-1", "cuda:x", "cuda:", ":0", "", "cuda 1", 0, None])
def test_bad_device_spellings_are_one_device_error(bad: object) -> None:
    with pytest.raises(DeviceError, match=r"unknown device .*use 'cpu', 'cuda' or 'cuda:N'"):
        Device.parse(bad)


def test_device_values_are_checked_and_frozen() -> None:
    with pytest.raises(DeviceError):
        Device("cpu", 1)
    with pytest.raises(DeviceError):
        Device("cuda", True)
    with pytest.raises(DeviceError):
        Device("tpu")
    with pytest.raises(AttributeError):
        Device("cpu").index = 1  # type: ignore[misc]


def test_format_gets_a_parsed_device_and_model_device_is_canonical(linear: Path) -> None:
    with load_model(linear, device=" CPU:0 ") as model:
        assert model.device == "cpu"
    assert LinearFormat.last_call is not None and LinearFormat.last_call[0] == Device("cpu", 0)


def test_device_the_format_cannot_use_is_refused_before_loading(linear: Path) -> None:
    before = LinearFormat.loads
    with pytest.raises(DeviceError, match=r"model.lin: the linear format cannot use device 'cuda:1' \(it runs on: cpu"):
        load_model(linear, device="Cuda:1")
    with pytest.raises(DeviceError, match="unknown device 'gpu'"):
        load_model(linear, device="gpu")
    assert LinearFormat.loads == before


# -- options --------------------------------------------------------------------------------
def test_unknown_option_is_one_line_listing_the_valid_ones(linear: Path) -> None:
    with pytest.raises(UsageError) as info:
        load_model(linear, model_class="x", normalise=None)
    assert str(info.value) == ("unknown options 'model_class', 'normalise' for the linear format (valid: fail, "
                               "hide_outputs, image_size, labels, layout, normalize)")


def test_format_sees_only_its_own_options_and_the_core_applies_the_shared_ones(linear: Path) -> None:
    with load_model(linear, hide_outputs=False, normalize=([0.5], [0.25]), image_size=7, layout="nhwc",
                    labels=["a", "b", "c"]) as model:
        assert LinearFormat.last_call == (Device("cpu"), False, {"hide_outputs": False})
        assert model.normalize == Normalization((0.5,), (0.25,)) and model.image_size == (7, 7)
        assert model.input_spec.layout == "NHWC" and model.input_spec.shape == (None, 3, 2, 2)  # relabelled
        assert model.labels == ["a", "b", "c"] and model.labels_source == "option"
    with load_model(linear, normalize=None, image_size=(4, 6)) as model:
        assert model.normalize is None and model.image_size == (4, 6)
    with load_model(linear, normalize=" None ") as model:  # what `-o normalize=none` hands over
        assert model.normalize is None
    with load_model(linear) as model:  # defaults untouched
        assert model.normalize == Normalization() and model.image_size is None and model.labels is None


@pytest.mark.parametrize(("options", "message"), [
    ({"image_size": (0, 4)}, "image_size must be N or (H, W) of positive integers"),
    ({"image_size": True}, "image_size must be N or (H, W)"),
    ({"layout": "CHW"}, "layout must be NCHW or NHWC"),
    ({"normalize": "pixels"}, "unknown normalization 'pixels'"),
    ({"labels": 3}, "labels must be a list of class names or a file path, not int"),
    ({"labels": []}, "the list of class names is empty"),
])
def test_bad_core_options_fail_before_loading(linear: Path, options: dict[str, object], message: str) -> None:
    before = LinearFormat.loads
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_model(linear, **options)
    assert LinearFormat.loads == before


def test_class_names_from_the_model_a_list_or_a_file(registry: Registry, tmp_path: Path) -> None:
    install(registry)
    carrying = random_linear(tmp_path / "named.lin", classes=2, labels=["cat", "dog"])
    with load_model(carrying) as model:
        assert model.labels == ["cat", "dog"] and model.labels_source == "model file"
        assert model.describe()["labels"] == 2
    names = tmp_path / "names.txt"
    names.write_text("\ufefftabby cat\r\nbig dog \n\n\n", encoding="utf-8")
    with load_model(carrying, labels=str(names)) as model:  # the option wins over the file's names
        assert model.labels == ["tabby cat", "big dog"] and model.labels_source == f"file {names}"
    with pytest.raises(UsageError, match=r"named.lin: 3 class names given \(option\) but the model has 2 outputs"):
        load_model(carrying, labels=["a", "b", "c"])
    wrong = random_linear(tmp_path / "wrong.lin", classes=2, labels=["only one"])
    with load_model(wrong) as model:  # the file's names do not fit: dropped, and info says why
        assert model.labels is None
        assert model.details["labels_ignored"] == "the file names 1 classes but the model has 2 outputs"
    with load_model(wrong, hide_outputs=True, labels=["x", "y", "z"]) as model:  # output size unknown: kept
        assert model.labels == ["x", "y", "z"]


def test_bad_labels_files_are_one_line_and_a_fifo_never_hangs(linear: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(UsageError, match="empty.txt: cannot read labels \\(the file holds no class names\\)"):
        load_model(linear, labels=empty)
    with pytest.raises(UsageError, match="missing.txt: cannot read labels \\(No such file"):
        load_model(linear, labels=tmp_path / "missing.txt")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(UsageError, match="not UTF-8 text"):
        load_model(linear, labels=binary)
    fifo = tmp_path / "labels.fifo"
    os.mkfifo(fifo)
    errors: list[BaseException] = []
    worker = threading.Thread(target=lambda: _capture(errors, lambda: load_model(linear, labels=fifo)), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "reading class names from a FIFO hung"
    assert len(errors) == 1 and "labels.fifo: cannot read labels (not a regular file)" in str(errors[0])


def _capture(errors: list[BaseException], call: object) -> None:
    try:
        call()  # type: ignore[operator]
    except BaseException as exc:  # noqa: BLE001 - handed to the test thread
        errors.append(exc)


# -- load containment ----------------------------------------------------------------------
@pytest.mark.parametrize("failure", ["RuntimeError", "TypeError"])
def test_a_plugin_error_names_the_file_and_plugin_in_one_line(linear: Path, failure: str) -> None:
    with pytest.raises(ModelFormatError) as info:
        load_model(linear, fail=failure)
    message = str(info.value)
    assert message.startswith(f"{linear}: the linear format (plugin numpy-tests) failed to load it: {failure}: ")
    assert "\n" not in message and "bad option" not in message
    assert isinstance(info.value.__cause__, RuntimeError if failure == "RuntimeError" else TypeError)


def test_a_plugin_returning_no_model_is_refused(linear: Path) -> None:
    with pytest.raises(ModelFormatError, match=r"the linear format \(plugin numpy-tests\) returned str, not a Model"):
        load_model(linear, fail="not-a-model")


def test_a_sniffer_that_raises_is_recorded_and_others_still_load(registry: Registry, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    class Broken(LinearFormat):
        name = "broken"
        suffixes = (".lin",)

        def sniff(self, path: Path) -> bool:
            raise ValueError("sniffer bug")

    install(registry, Broken(), LinearFormat())
    with load_model(random_linear(tmp_path / "m.lin")) as model:
        assert model.format == "linear"
    record = {p.name: p for p in registry.plugins()}["numpy-tests"]
    assert record.errors == ["model format 'broken': sniff(m.lin) raised ValueError: sniffer bug"]
    assert main(["plugins"]) == 0  # the plugins table of this process shows the fault against the plugin
    rows = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    assert "numpy-tests model format 'broken': sniff(m.lin) raised ValueError: sniffer bug" in rows


# -- batched predict -----------------------------------------------------------------------
def _images(folder: Path, count: int, size: tuple[int, int] = (2, 2)) -> list[Path]:
    from PIL import Image

    folder.mkdir(exist_ok=True)
    paths = []
    for i in range(count):
        paths.append(folder / f"{i}.png")
        Image.new("RGB", (size[1], size[0]), (i * 30, 100, 200 - i * 20)).save(paths[-1])
    return paths


def test_predict_decodes_a_long_list_batch_by_batch(linear: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from greenai_core.models import preprocess

    paths = _images(tmp_path / "imgs", 5)
    events: list[str] = []
    real_open = preprocess.open_image
    monkeypatch.setattr(preprocess, "open_image", lambda p: events.append("decode") or real_open(p))
    with load_model(linear) as model:
        assert isinstance(model, LinearModel)
        whole = model.predict(paths)
        events.clear()
        model.forward_sizes.clear()
        real_forward = model._forward
        monkeypatch.setattr(model, "_forward", lambda b: events.append("run") or real_forward(b))
        chunked = model.predict(paths, batch_size=2)
        np.testing.assert_allclose(chunked, whole, rtol=1e-6)
        assert model.forward_sizes == [2, 2, 1]
        assert events == ["decode", "decode", "run", "decode", "decode", "run", "decode", "run"]
        for bad in (0, -1, True, 2.0):
            with pytest.raises(UsageError, match="batch_size must be a positive integer"):
                model.predict(paths, batch_size=bad)  # type: ignore[arg-type]


def test_cannot_train_without_a_trainer(registry: Registry, tmp_path: Path) -> None:
    from greenai_core.errors import UnsupportedOperationError

    install(registry, FrozenFormat())
    with load_model(random_linear(tmp_path / "m.frz")) as model:
        with pytest.raises(UnsupportedOperationError, match="training is not supported for frozen models"):
            model.train([])
        with pytest.raises(UnsupportedOperationError, match="saving is not supported for frozen models"):
            model.save(tmp_path / "out.frz")


# -- CLI -----------------------------------------------------------------------------------
def test_greenai_run_shows_class_names_and_info_their_count(registry: Registry, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    install(registry)
    model = random_linear(tmp_path / "named.lin", classes=2, labels=["cat", "dog"])
    image = _images(tmp_path / "imgs", 1)[0]
    assert main(["run", str(model), str(image), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "cat" in out and "dog" in out and "class names: model file" in out
    names = tmp_path / "names.txt"
    names.write_text("tabby\nhound\n")
    assert main(["run", str(model), str(image), "--labels", str(names), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {t["label"] for t in data["images"][0]["top"]} == {"tabby", "hound"}
    assert main(["info", str(model)]) == 0
    assert "labels      2 (model file)" in capsys.readouterr().out
    assert main(["info", str(model), "-o", "nope=1"]) == 2
    assert "unknown option 'nope' for the linear format (valid:" in capsys.readouterr().err
