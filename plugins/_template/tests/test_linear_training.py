"""Training ``example-linear`` models through the core's loop, with the template's numpy ``Trainer``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from greenai_example import save_example_model
from greenai_example.linear import LinearTrainer

from greenai_core import load_model
from greenai_core.sdk import Registry, UnsupportedOperationError


def separable(n: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class 0 images are bright in channel 0, class 1 in channel 1: a linear model separates them."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    images = rng.uniform(0.0, 0.2, (n, 2, 2, 2)).astype(np.float32)
    images[np.arange(n), labels] += 1.0
    return images, labels


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_core_loop_trains_it_to_separate_two_classes(registry: Registry, tmp_path: Path, optimizer: str) -> None:
    path = save_example_model(tmp_path / "m.glin", input_shape=(2, 2, 2), classes=2, weights=np.zeros((8, 2)),
                              bias=np.zeros(2))
    losses: list[float] = []
    with load_model(path) as model:
        result = model.train(separable(), epochs=5, batch_size=8, optimizer=optimizer, lr=0.5, seed=1,
                             on_step=lambda info: losses.append(info.loss))
        probs = model.predict(separable(8, seed=2)[0])
    assert [e.steps for e in result.epochs] == [3] * 5 and len(losses) == 15
    assert losses[0] == pytest.approx(np.log(2), rel=1e-6)  # zero weights: every class at 1/2
    assert result.epochs[-1].loss < result.epochs[0].loss / 4
    assert result.epochs[-1].accuracy == 1.0
    assert (probs.argmax(axis=1) == np.arange(8) % 2).all()


def test_one_sgd_step_follows_the_cross_entropy_gradient(registry: Registry, tmp_path: Path) -> None:
    """From zero weights, softmax is uniform: the gradient is x^T (1/2 - onehot) / n, exactly."""
    path = save_example_model(tmp_path / "m.glin", input_shape=(1, 1, 2), classes=2, weights=np.zeros((2, 2)),
                              bias=np.zeros(2))
    x = np.array([[[[1.0, 0.0]]], [[[0.0, 2.0]]]], dtype=np.float32)
    labels = np.array([0, 1])
    with load_model(path) as model:
        trainer = model._trainer(optimizer="sgd", lr=0.1, loss="cross_entropy", seed=None)
        assert isinstance(trainer, LinearTrainer)
        step = trainer.step(x, labels)
        grad = x.reshape(2, -1).T @ (np.full((2, 2), 0.5) - np.eye(2)) / 2
        np.testing.assert_allclose(model.weights, -0.1 * grad, rtol=1e-6)
        np.testing.assert_allclose(model.bias, [0.0, 0.0], atol=1e-7)  # (0.5 - 1 + 0.5) / 2 per class
    assert step.loss == pytest.approx(np.log(2), rel=1e-6) and step.correct == 1  # argmax of a tie is class 0


def test_saved_through_the_core_it_reloads_identically(registry: Registry, tmp_path: Path) -> None:
    path = save_example_model(tmp_path / "m.glin", input_shape=(2, 2, 2), classes=2, labels=["a", "b"])
    out = tmp_path / "trained.glin"
    with load_model(path) as model:
        result = model.train(separable(), epochs=1, batch_size=8, optimizer="adam", lr=0.1, save_to=out)
        weights, bias = model.weights.copy(), model.bias.copy()
    assert result.saved_to == str(out)
    with load_model(out) as again:
        np.testing.assert_array_equal(again.weights, weights)
        np.testing.assert_array_equal(again.bias, bias)
        assert again.labels == ["a", "b"]


def test_framework_callables_are_refused_in_one_line(registry: Registry, tmp_path: Path) -> None:
    path = save_example_model(tmp_path / "m.glin", input_shape=(2, 2, 2), classes=2)
    with load_model(path) as model, pytest.raises(UnsupportedOperationError, match="named optimizers"):
        model.train(separable(), optimizer=lambda params: None)
