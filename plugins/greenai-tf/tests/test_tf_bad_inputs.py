"""Bad input: corrupt zip or HDF5, HDF5 without a model, SavedModels without a serving signature, TF missing."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import tensorflow as tf
from tf_models import Saved

from greenai_core import load_model
from greenai_core.sdk import GreenAIError, ModelFormatError


def central_entry(data: bytes | bytearray, name: bytes) -> int:
    """Where a zip's central directory entry for member ``name`` starts (its name follows 46 bytes of header)."""
    at = data.index(b"PK\x01\x02")
    while data[at + 46:at + 46 + len(name)] != name:
        at = data.index(b"PK\x01\x02", at + 1)
    return at


def test_a_truncated_keras_zip_is_one_line(saved: Saved, tmp_path: Path) -> None:
    bad = tmp_path / "cut.keras"
    bad.write_bytes(saved.keras.read_bytes()[:200])
    with pytest.raises(ModelFormatError, match=r"cut.keras: not recognised as tf: the zip archive is corrupt") as info:
        load_model(bad)
    assert "\n" not in str(info.value)


def test_a_zip_without_config_json_is_not_a_keras_file(tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "other.keras", "w") as zf:
        zf.writestr("model.weights.h5", b"x")
    with pytest.raises(ModelFormatError, match="a zip archive without config.json"):
        load_model(tmp_path / "other.keras")


def test_an_hdf5_file_without_a_keras_model_is_refused(saved: Saved, tmp_path: Path) -> None:
    with h5py.File(tmp_path / "data.h5", "w") as f:
        f["x"] = np.arange(10)
    with pytest.raises(ModelFormatError, match="an HDF5 file without a Keras model in it"):
        load_model(tmp_path / "data.h5")
    saved.model.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ModelFormatError, match="no model_config attribute"):
        load_model(tmp_path / "w.weights.h5")


def test_a_corrupt_hdf5_model_is_one_line(saved: Saved, tmp_path: Path) -> None:
    data = bytearray(saved.h5.read_bytes())
    bad = tmp_path / "cut.h5"
    bad.write_bytes(bytes(data[: len(data) // 3]))
    with pytest.raises(ModelFormatError, match=r"cut.h5: corrupt or truncated HDF5 file") as info:
        load_model(bad)
    assert "\n" not in str(info.value)


def test_a_savedmodel_without_a_serving_signature(tmp_path: Path) -> None:
    module = tf.Module()
    module.v = tf.Variable(1.0)
    tf.saved_model.save(module, str(tmp_path / "nosig"))
    with pytest.raises(ModelFormatError, match=r"nosig: the SavedModel has no serving signature 'serving_default' "
                                               r"\(signatures: none\)"):
        load_model(tmp_path / "nosig")


def test_a_corrupt_saved_model_pb_and_a_folder_without_one(saved: Saved, tmp_path: Path) -> None:
    folder = tmp_path / "sm"
    shutil.copytree(saved.savedmodel, folder)
    (folder / "saved_model.pb").write_bytes(b"\xff\xff\xff\xff garbage")
    with pytest.raises(ModelFormatError, match=r"sm: saved_model.pb is corrupt or truncated"):
        load_model(folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFormatError, match="a folder without saved_model.pb"):
        load_model(tmp_path / "empty")


def test_tensorflow_missing_is_one_line_saying_how_to_install(saved: Saved, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # `import tensorflow` now raises ImportError
    with pytest.raises(GreenAIError, match=r"cnn.keras: TensorFlow is not installed .*pip install 'greenai-tf\[cpu\]'"):
        load_model(saved.keras)


def test_a_keras_zip_bomb_is_refused_before_keras_extracts_it(saved: Saved, tmp_path: Path) -> None:
    data = bytearray(saved.keras.read_bytes())
    at = central_entry(data, b"model.weights.h5")
    data[at + 24:at + 28] = (2**32 - 1).to_bytes(4, "little")  # declares 4 GiB uncompressed
    bomb = tmp_path / "bomb.keras"
    bomb.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match=r"bomb.keras: member model.weights.h5 expands \d+ bytes to "
                                               r"4294967295 \(a zip bomb\?\); refused"):
        load_model(bomb)
