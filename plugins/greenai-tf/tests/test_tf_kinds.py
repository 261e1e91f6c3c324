"""The three kinds, recognised by content: exact counts, input spec, predict equal to the model's own call."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tf_models import Saved

from greenai_core import load_model

KINDS = ("keras", "h5", "savedmodel")


@pytest.mark.parametrize("kind", KINDS)
def test_counts_equal_keras_own(saved: Saved, kind: str) -> None:
    with load_model(saved.kinds()[kind]) as model:
        assert model.format == "tf"
        assert model.details["kind"] == kind
        assert model.num_parameters == saved.model.count_params() == 143
        trainable = sum(int(np.prod(w.shape)) for w in saved.model.trainable_weights)
        assert model.trainable_parameters == trainable == 135  # batch norm's moving statistics are not trainable


@pytest.mark.parametrize("kind", KINDS)
def test_input_spec_is_nhwc_with_any_height_and_width(saved: Saved, kind: str) -> None:
    with load_model(saved.kinds()[kind]) as model:
        assert model.input_spec.shape == (None, None, None, 3)
        assert model.input_spec.layout == "NHWC"
        assert model.input_spec.dtype == "float32"
        assert model.num_classes == 3
        assert model.image_size == (224, 224)


@pytest.mark.parametrize("kind", KINDS)
def test_predict_on_an_array_equals_the_models_call(saved: Saved, kind: str) -> None:
    x = np.random.default_rng(1).random((5, 12, 10, 3), dtype=np.float32)
    expected = saved.model(x, training=False).numpy()
    with load_model(saved.kinds()[kind]) as model:
        got = model.predict(x, batch_size=2)
    assert got.shape == (5, 3)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_predict_on_images_prepares_them_as_the_core_does(saved: Saved, tmp_path: Path) -> None:
    from PIL import Image

    Image.fromarray(np.full((20, 30, 3), 200, np.uint8)).save(tmp_path / "a.png")
    with load_model(saved.keras, image_size=(8, 8)) as model:
        batch = model.prepare([tmp_path / "a.png"])
        assert batch.shape == (1, 8, 8, 3)
        np.testing.assert_allclose(model.predict(tmp_path / "a.png"), saved.model(batch, training=False).numpy(),
                                   rtol=1e-5, atol=1e-6)


def test_savedmodel_with_trailing_slash_and_content_over_suffix(saved: Saved, tmp_path: Path) -> None:
    with load_model(str(saved.savedmodel) + "/") as model:
        assert model.details["kind"] == "savedmodel"
    renamed = tmp_path / "weights.bin"  # a .keras zip under another name: content decides
    shutil.copy(saved.keras, renamed)
    with load_model(renamed) as model:
        assert model.details["kind"] == "keras"
        assert model.num_parameters == 143
    h5_renamed = tmp_path / "model.dat"
    shutil.copy(saved.h5, h5_renamed)
    with load_model(h5_renamed) as model:
        assert model.details["kind"] == "h5"


def test_class_names_the_model_carries(saved: Saved, tmp_path: Path) -> None:
    keras_file = tmp_path / "named.keras"
    with zipfile.ZipFile(saved.keras) as src, zipfile.ZipFile(keras_file, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "metadata.json":
                data = json.dumps({**json.loads(data), "class_names": ["cat", "dog", "fox"]}).encode()
            dst.writestr(item, data)
    with load_model(keras_file) as model:
        assert model.labels == ["cat", "dog", "fox"]
        assert model.labels_source == "model file"
    folder = tmp_path / "sm"
    shutil.copytree(saved.savedmodel, folder)
    (folder / "assets").mkdir(exist_ok=True)
    (folder / "assets" / "labels.txt").write_text("cat\ndog\nfox\n")
    with load_model(folder) as model:
        assert model.labels == ["cat", "dog", "fox"]


def test_describe_says_the_kind_and_counting_rule(saved: Saved) -> None:
    with load_model(saved.savedmodel) as model:
        facts = model.describe()
    assert facts["kind"] == "savedmodel" and facts["signature"] == "serving_default"
    assert facts["num_parameters"] == 143


def test_discovery_and_sniffing_do_not_import_tensorflow(saved: Saved) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from greenai_core.sdk import Registry\n"
        "reg = Registry(strict=False)\n"
        "fmt = reg.formats()['tf']\n"
        f"assert fmt.sniff(Path({str(saved.keras)!r})) and fmt.sniff(Path({str(saved.h5)!r}))\n"
        f"assert fmt.sniff(Path({str(saved.savedmodel)!r}))\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'h5py') if m in sys.modules)\n"
        "print(' '.join(heavy) or 'none')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "none"


def test_the_entry_point_is_declared() -> None:
    from importlib.metadata import entry_points

    assert [ep.value for ep in entry_points(group="greenai") if ep.name == "tf"] == ["greenai_tf.plugin"]


def test_device_kinds_and_a_missing_gpu(saved: Saved) -> None:
    from greenai_core.sdk import DeviceError

    if tf.config.list_physical_devices("GPU"):  # a GPU machine: a device index past the last one
        bad = f"cuda:{len(tf.config.list_physical_devices('GPU'))}"
    else:
        bad = "cuda"
    with pytest.raises(DeviceError, match="GPU"):
        load_model(saved.keras, device=bad)


def test_h5_class_names_attribute(saved: Saved, tmp_path: Path) -> None:
    import h5py

    copy = tmp_path / "named.h5"
    shutil.copy(saved.h5, copy)
    with h5py.File(copy, "a") as f:
        f.attrs["class_names"] = ["cat", "dog", "fox"]
    with load_model(copy) as model:
        assert model.labels == ["cat", "dog", "fox"]


def test_savedmodel_parameters_are_the_variables_its_serving_signature_reads(saved: Saved) -> None:
    """The loaded object's variables also hold Keras's random-generator state (Dropout's seed, 2 int64),
    which count_params() leaves out: counting what the signature reads gives Keras's own figure."""
    loaded = tf.saved_model.load(str(saved.savedmodel))
    assert sum(int(v.shape.num_elements()) for v in loaded.variables) == 145
    with load_model(saved.savedmodel) as model:
        assert (model.num_parameters, model.trainable_parameters) == (143, 135)
        assert model.details["parameters_counted"] == "the variables its serving signature reads"


@pytest.mark.parametrize("spelling", ["cpu", "CPU", "cpu:0"])
def test_inference_runs_on_the_chosen_device(saved: Saved, spelling: str) -> None:
    with load_model(saved.keras, device=spelling) as model:
        assert model.tf_device == "/CPU:0"  # type: ignore[attr-defined]
        assert str(model.device) == "cpu"
