"""Training through the core's loop with torch's primitives: loss, counts, callbacks, saving in the original kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from tiny_nets import TinyNet
from torch_models import Saved, image_folder

from greenai_core import DatasetError, GreenAIError, StepInfo, UsageError, load_model

OPTIONS = {"pickle": {"trust": True}, "state_dict": {"model_class": TinyNet}, "torchscript": {}, "export": {}}


@pytest.mark.parametrize("kind", ["state_dict", "pickle", "torchscript", "export"])
def test_two_epochs_lower_the_loss_and_the_model_saves_in_its_kind(saved: Saved, kind: str, tmp_path: Path) -> None:
    folder = image_folder(tmp_path / "data")
    model = load_model(saved.paths[kind], image_size=(16, 16), **OPTIONS[kind])  # type: ignore[arg-type]
    out = tmp_path / f"trained{saved.paths[kind].suffix}"
    steps: list[StepInfo] = []
    result = model.train(folder, epochs=2, batch_size=8, optimizer="sgd", lr=0.05, seed=0, save_to=str(out),
                         on_step=steps.append)
    assert [(s.epoch, s.step, s.samples) for s in steps] == [(e, i, 8) for e in (1, 2) for i in (1, 2, 3)]
    assert result.classes == ["bright", "dark"]
    assert [e.samples for e in result.epochs] == [24, 24] and [e.steps for e in result.epochs] == [3, 3]
    assert (result.samples, result.steps) == (48, 6)
    assert result.losses[1] < result.losses[0], result.losses
    # Saved in the original kind, and it predicts what the trained model predicts.
    x = model.prepare(sorted(folder.rglob("*.png"))[:4])
    reloaded = load_model(out, **OPTIONS[kind])  # type: ignore[arg-type]
    assert reloaded.details["kind"] == kind
    np.testing.assert_allclose(reloaded.predict(x), model.predict(x), rtol=1e-4, atol=1e-5)
    assert not np.allclose(load_model(saved.paths[kind], **OPTIONS[kind]).predict(x), model.predict(x))  # type: ignore[arg-type]


def test_training_batches_equal_inference_preprocessing(saved: Saved, tmp_path: Path) -> None:
    folder = image_folder(tmp_path / "data", per_class=3)
    model = load_model(saved.paths["torchscript"], image_size=(16, 16))
    # Classes in sorted folder order, files in sorted order: what inference preprocessing makes of them.
    expected = model.prepare([p for name in ("bright", "dark") for p in sorted((folder / name).glob("*.png"))])
    batches: list[tuple[np.ndarray, np.ndarray]] = []
    make_trainer = model._trainer  # the plugin's own primitives, watched: the batches the core's loop hands them

    def watched(**kwargs: Any) -> Any:
        trainer = make_trainer(**kwargs)
        step = trainer.step
        trainer.step = lambda images, labels: batches.append((images.copy(), labels.copy())) or step(images, labels)
        return trainer

    model._trainer = watched  # type: ignore[method-assign]
    model.train(folder, epochs=1, batch_size=6, shuffle=False)
    assert len(batches) == 1
    np.testing.assert_array_equal(batches[0][0], expected)
    assert batches[0][1].tolist() == [0, 0, 0, 1, 1, 1]


def test_training_on_arrays_with_adam_and_a_callable_loss(saved: Saved) -> None:
    rng = np.random.default_rng(0)
    pairs = []
    for _ in range(4):
        labels = rng.integers(0, 2, 8)
        images = (rng.normal(size=(8, 3, 16, 16)) + labels[:, None, None, None] * 2).astype(np.float32)
        pairs.append((images, labels))
    model = load_model(saved.paths["state_dict"], model_class=TinyNet)
    calls = []

    def loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        return torch.nn.functional.cross_entropy(out, y)

    result = model.train(iter(pairs), epochs=3, optimizer="adam", lr=0.01, loss=loss)
    assert result.steps == 12 and len(calls) == 12 and result.classes is None
    assert result.losses[-1] < result.losses[0]


def test_bad_training_input_gives_clear_errors(saved: Saved, tmp_path: Path) -> None:
    model = load_model(saved.paths["state_dict"], model_class=TinyNet, image_size=(16, 16))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no class subfolders"):
        model.train(tmp_path / "empty")
    (tmp_path / "noimg" / "cats").mkdir(parents=True)
    with pytest.raises(DatasetError, match="hold no images"):
        model.train(tmp_path / "noimg")
    folder = image_folder(tmp_path / "data", per_class=2)
    (folder / "dark" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(GreenAIError, match=r"broken.png: (unreadable image|not an image file)"):
        model.train(folder, shuffle=False)
    with pytest.raises(UsageError, match="optimizer must be one of adam, sgd or a callable"):
        model.train([(np.zeros((1, 3, 16, 16), np.float32), np.zeros(1))], optimizer="lbfgs-ish")
    with pytest.raises(DatasetError, match="2 images but 3 labels"):
        model.train([(np.zeros((2, 3, 16, 16), np.float32), np.zeros(3))])
    with pytest.raises(GreenAIError, match="training data is empty"):
        model.train([])


def test_grey_image_folder_trains_a_three_channel_model(saved: Saved, tmp_path: Path) -> None:
    for name, value in (("a", 30), ("b", 220)):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.new("L", (10, 20), value + i).save(tmp_path / name / f"{i}.png")
    model = load_model(saved.paths["torchscript"], image_size=(16, 16))
    assert model.train(tmp_path, epochs=1, batch_size=4).samples == 6


def test_labels_beyond_the_outputs_fail_before_any_step(saved: Saved) -> None:
    """torch does not say how many outputs a module has: the core finds out with one forward pass."""
    model = load_model(saved.paths["torchscript"])
    before = [p.detach().clone() for p in model.module.parameters()]  # type: ignore[attr-defined]
    images = np.zeros((4, 3, 16, 16), np.float32)
    with pytest.raises(DatasetError, match=r"label 2 is outside the model's 2 outputs \(0 to 1\)"):
        model.train((images, np.array([0, 1, 2, 1])))
    with pytest.raises(UsageError, match="unknown training option 'momentun' for torch models .*momentum"):
        model.train((images, np.array([0, 1, 0, 1])), momentun=0.5)
    after = list(model.module.parameters())  # type: ignore[attr-defined]
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_one_array_pair_is_cut_into_batches_with_momentum_and_weight_decay(saved: Saved) -> None:
    rng = np.random.default_rng(1)
    labels = np.arange(20) % 2
    images = (rng.normal(size=(20, 3, 16, 16)) + labels[:, None, None, None] * 2).astype(np.float32)
    model = load_model(saved.paths["export"])
    result = model.train((images, labels), epochs=3, batch_size=8, optimizer="sgd", lr=0.05, momentum=0.5,
                         weight_decay=1e-4, seed=0)
    assert [e.steps for e in result.epochs] == [3, 3, 3] and result.samples == 60
    assert result.losses[-1] < result.losses[0]
    with pytest.raises(UsageError, match="momentum must be a non-negative number, not -1"):
        model.train((images, labels), optimizer="sgd", momentum=-1)


def test_layout_override_moves_a_guessed_channel_axis(saved: Saved) -> None:
    """The core applies ``layout``; a shape torch guessed from the first Conv2d follows the channel axis."""
    with load_model(saved.paths["torchscript"], layout="NHWC") as model:
        assert model.input_spec.layout == "NHWC" and model.input_spec.shape == (None, None, None, 3)
        assert model.input_spec.channels == 3
    with load_model(saved.paths["state_dict"], model_class=TinyNet, input_shape=(16, 16, 3)) as model:
        assert model.input_spec.layout == "NHWC" and model.input_spec.shape == (None, 16, 16, 3)
    with load_model(saved.paths["export"], layout="NHWC") as model:  # the file's own shape is kept, relabelled
        assert model.input_spec.shape == (None, 3, 16, 16) and model.input_spec.layout == "NHWC"
