"""Nothing from a model file runs without trust: Lambda layers, foreign modules, SavedModel ops reaching outside."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import pytest
import tensorflow as tf
from tf_models import Saved, lambda_model

from greenai_core import load_model
from greenai_core.sdk import Registry, UnsafeModelError


@pytest.fixture(scope="module")
def lambda_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("lambda")
    marker = folder / "payload-ran"
    model = lambda_model(marker)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(folder / "lam.keras")
        model.save(folder / "lam.h5")
    marker.unlink()  # building the model ran the function; from now on only a load can
    return folder / "lam.keras", folder / "lam.h5", marker


@pytest.mark.parametrize("which", [0, 1], ids=["keras", "h5"])
def test_a_lambda_layer_is_refused_without_trust_and_its_code_never_runs(lambda_files: tuple[Path, Path, Path],
                                                                         which: int) -> None:
    path, marker = lambda_files[which], lambda_files[2]
    with pytest.raises(UnsafeModelError, match=r"Lambda layer 'lambda'.*trust=True"):
        load_model(path)
    assert not marker.exists()


@pytest.mark.parametrize("which", [0, 1], ids=["keras", "h5"])
def test_trust_loads_a_lambda_layer(lambda_files: tuple[Path, Path, Path], which: int) -> None:
    path, marker = lambda_files[which], lambda_files[2]
    with load_model(path, trust=True) as model:
        assert model.num_parameters == 4 * 4 * 3 * 2 + 2
    assert marker.exists()  # trusted: Keras rebuilt the model and ran the layer's code
    marker.unlink()


def test_a_config_naming_a_module_outside_keras_is_refused(saved: Saved, tmp_path: Path) -> None:
    crafted = tmp_path / "crafted.keras"
    with zipfile.ZipFile(saved.keras) as src, zipfile.ZipFile(crafted, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                config["config"]["layers"][1]["module"] = "os"
                data = json.dumps(config).encode()
            dst.writestr(item, data)
    with pytest.raises(UnsafeModelError, match=r"from module 'os', outside Keras"):
        load_model(crafted)


def test_a_savedmodel_that_writes_files_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "written-by-graph"

    class Writer(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable(tf.ones((3, 2)))

        @tf.function(input_signature=[tf.TensorSpec((None, 4, 4, 3), tf.float32)])
        def serve(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
            tf.io.write_file(str(marker), "ran")
            return {"out": tf.reduce_mean(x, axis=[1, 2]) @ self.w}

    module = Writer()
    tf.saved_model.save(module, str(tmp_path / "writer"), signatures={"serving_default": module.serve})
    with pytest.raises(UnsafeModelError, match=r"op WriteFile .*trust=True"):
        load_model(tmp_path / "writer")
    assert not marker.exists()
    with load_model(tmp_path / "writer", trust=True) as model:
        assert model.num_parameters == 6
        model.predict(tf.ones((1, 4, 4, 3)).numpy())
    assert marker.read_text() == "ran"


@pytest.mark.parametrize("which", [0, 1], ids=["keras", "h5"])
def test_recognising_a_lambda_file_runs_none_of_its_code(lambda_files: tuple[Path, Path, Path], which: int,
                                                         registry: Registry) -> None:
    fmt = registry.formats()["tf"]
    path, marker = lambda_files[which], lambda_files[2]
    assert fmt.sniff(path) and fmt.explain(path) == ""
    assert not marker.exists()


def test_keras_safe_mode_is_on_without_trust(saved: Saved, tmp_path: Path) -> None:
    """A TFSMLayer (a Keras layer, so no audit finding) loads another SavedModel, unaudited: only Keras's
    safe_mode refuses it, so this fails if safe_mode=True were not passed."""
    import keras

    inputs = keras.Input((None, None, 3))
    outer = keras.Model(inputs, keras.layers.TFSMLayer(str(saved.savedmodel), call_endpoint="serving_default")(inputs))
    outer.save(tmp_path / "outer.keras")
    with pytest.raises(UnsafeModelError, match=r"outer.keras: Keras refused it in safe mode \(.*TFSMLayer.*trust=True"):
        load_model(tmp_path / "outer.keras")
    with load_model(tmp_path / "outer.keras", trust=True) as model:
        assert model.details["kind"] == "keras"
