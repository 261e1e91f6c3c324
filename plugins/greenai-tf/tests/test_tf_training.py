"""Training through the core's loop with TensorFlow's step, and saving back to the original kind."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from tf_models import Saved, image_folder, make_cnn, save_all

from greenai_core import load_model
from greenai_core.sdk import UsageError

KINDS = ("keras", "h5", "savedmodel")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return image_folder(tmp_path_factory.mktemp("images"))


@pytest.mark.parametrize("kind", KINDS)
def test_two_epochs_on_an_image_folder_lower_the_loss(saved: Saved, folder: Path, kind: str, tmp_path: Path) -> None:
    copy = tmp_path / saved.kinds()[kind].name
    (shutil.copytree if kind == "savedmodel" else shutil.copy)(saved.kinds()[kind], copy)
    steps: list[float] = []
    with load_model(copy, image_size=(16, 16)) as model:
        result = model.train(folder, epochs=2, batch_size=4, lr=0.05, seed=0, on_step=lambda s: steps.append(s.loss))
    assert [e.samples for e in result.epochs] == [16, 16] and [e.steps for e in result.epochs] == [4, 4]
    assert len(steps) == 8 and all(np.isfinite(steps))
    assert result.epochs[1].loss < result.epochs[0].loss
    assert result.classes == ["class0", "class1"]


@pytest.mark.parametrize("kind", KINDS)
def test_save_to_round_trips_in_the_original_kind(saved: Saved, kind: str, tmp_path: Path) -> None:
    x = np.random.default_rng(2).random((6, 8, 8, 3), dtype=np.float32)
    labels = np.array([0, 1, 2, 0, 1, 2])
    target = tmp_path / ("out" if kind == "savedmodel" else f"out{saved.kinds()[kind].suffix}")
    with load_model(saved.kinds()[kind]) as model:
        result = model.train((x, labels), epochs=1, batch_size=3, optimizer="sgd", lr=0.1, save_to=target)
        trained = model.predict(x)
    assert result.saved_to == str(target)
    assert not np.allclose(trained, saved.model(x, training=False).numpy(), atol=1e-4)  # the weights moved
    with load_model(target) as again:
        assert again.details["kind"] == kind
        np.testing.assert_allclose(again.predict(x), trained, rtol=1e-5, atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out" if kind == "savedmodel" else target.name]


def test_savedmodel_save_replaces_an_existing_savedmodel_and_refuses_other_folders(saved: Saved,
                                                                                   tmp_path: Path) -> None:
    target = tmp_path / "sm"
    shutil.copytree(saved.savedmodel, target)
    (target / "stale.txt").write_text("old")
    with load_model(saved.savedmodel) as model:
        assert model.save(str(target) + "/") == target
        assert not (target / "stale.txt").exists() and (target / "saved_model.pb").is_file()
        other = tmp_path / "photos"
        other.mkdir()
        (other / "holiday.jpg").write_text("x")
        with pytest.raises(UsageError, match="not a saved model .*refusing to replace it"):
            model.train((np.zeros((2, 8, 8, 3), np.float32), np.array([0, 1])), save_to=other)
        assert (other / "holiday.jpg").read_text() == "x"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_keras_file_saved_under_another_suffix_keeps_its_kind(saved: Saved, tmp_path: Path) -> None:
    with load_model(saved.keras) as model:
        model.save(tmp_path / "copy.bin")
    with load_model(tmp_path / "copy.bin") as again:
        assert again.details["kind"] == "keras"


def test_softmax_outputs_train_on_probabilities_and_callables_are_accepted(tmp_path: Path) -> None:
    import keras

    saved = save_all(make_cnn(softmax=True), tmp_path)
    x = np.random.default_rng(3).random((4, 8, 8, 3), dtype=np.float32)
    with load_model(saved.keras) as model:
        result = model.train((x, np.array([0, 1, 2, 0])), batch_size=4,
                             optimizer=lambda: keras.optimizers.RMSprop(1e-3),
                             loss=keras.losses.SparseCategoricalCrossentropy())
        plain = model.train((x, np.array([0, 1, 2, 0])), batch_size=4, seed=1)
    assert 0 < result.epochs[0].loss < 5 and 0 < plain.epochs[0].loss < 5
    with load_model(saved.keras) as model, pytest.raises(UsageError, match="momentum"):
        model.train((x, np.array([0, 1, 2, 0])), optimizer="sgd", momentum=2)


def test_a_savedmodel_without_trainable_variables_cannot_train(tmp_path: Path) -> None:
    import tensorflow as tf

    class Frozen(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable(tf.ones((3, 2)), trainable=False)

        @tf.function(input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32)])
        def serve(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
            return {"out": tf.reduce_mean(x, axis=[1, 2]) @ self.w}

    module = Frozen()
    tf.saved_model.save(module, str(tmp_path / "frozen"), signatures={"serving_default": module.serve})
    with load_model(tmp_path / "frozen", image_size=(4, 4)) as model:
        assert (model.num_parameters, model.trainable_parameters) == (6, 0)
        with pytest.raises(UsageError, match=r"frozen: the model has no trainable parameters"):
            model.train((np.zeros((2, 4, 4, 3), np.float32), np.array([0, 1])))
