"""The model layer tried as an adversary and a demanding user would (reviewer R2), with the in-test numpy format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy_models import LinearModel, install, random_linear, separable
from PIL import Image

from greenai_core import load_model
from greenai_core.errors import GreenAIError, UsageError
from greenai_core.models.model import ModelRunError
from greenai_core.models.preprocess import images_to_batch
from greenai_core.models.spec import InputSpec
from greenai_core.models.training import DatasetError, StepInfo, TrainingInterrupted
from greenai_core.plugins import Registry


@pytest.mark.parametrize("value", [[[float("nan")], [1.0]], [[0.0], [float("inf")]], [[float("-inf")], [1.0]]])
def test_a_normalisation_that_is_not_finite_is_refused(registry: Registry, tmp_path: Path, value: object) -> None:
    install(registry)  # NaN in mean or std turned every output into NaN, silently
    with pytest.raises(UsageError, match="finite"):
        load_model(random_linear(tmp_path / "m.lin"), normalize=value)


def test_a_layout_that_is_not_a_string_is_one_usage_error(registry: Registry, tmp_path: Path) -> None:
    install(registry)  # -o layout=5 reached .upper() on an int: a traceback
    with pytest.raises(UsageError, match="layout must be NCHW or NHWC, not 5"):
        load_model(random_linear(tmp_path / "m.lin"), layout=5)


def test_sizes_over_the_decompression_bomb_limit_are_refused_before_allocating(registry: Registry,
                                                                              tmp_path: Path) -> None:
    install(registry)
    path = random_linear(tmp_path / "m.lin")
    with pytest.raises(UsageError, match=r"image_size, 100000 x 100000, is over PIL's decompression-bomb limit"):
        load_model(path, image_size=(100_000, 100_000))  # was a MemoryError, or the OOM killer
    huge = InputSpec("x", (None, 3, 1_000_000_000, 8), "float32", "NCHW")  # what a hostile model file can declare
    with pytest.raises(UsageError, match=r"^m\.lin: the size images are resized to, 1000000000 x 8, is over"):
        images_to_batch([Image.new("RGB", (4, 4))], huge, None, model_name="m.lin")


def test_a_framework_error_in_forward_is_one_line_naming_the_file(model: LinearModel) -> None:
    model.input_spec = InputSpec("x", (None, 3, 4, 4), "float32", "NCHW")  # what the weights (3x2x2) cannot take
    with pytest.raises(ModelRunError) as info:
        model.predict(np.zeros((2, 3, 4, 4), np.float32))
    message = str(info.value)
    assert isinstance(info.value, GreenAIError) and "\n" not in message
    assert message.startswith(f"{model.path}: the linear model failed on a batch of shape [2, 3, 4, 4] NCHW float32: "
                              "ValueError: ")


def test_ctrl_c_in_an_epoch_keeps_the_finished_epochs(model: LinearModel, tmp_path: Path) -> None:
    images, labels = separable(8)

    def interrupt(step: StepInfo) -> None:
        if step.epoch == 3 and step.step == 2:
            raise KeyboardInterrupt

    target = tmp_path / "out.lin"
    with pytest.raises(TrainingInterrupted) as info:
        model.train((images, labels), epochs=5, batch_size=4, on_step=interrupt, save_to=target)
    assert isinstance(info.value, KeyboardInterrupt)  # still Ctrl-C for the caller (the CLI exits 130)
    assert [e.epoch for e in info.value.result.epochs] == [1, 2]
    assert info.value.result.steps == 4 and info.value.result.samples == 16
    assert "after 2 finished epochs" in str(info.value)
    assert not target.exists()  # a half-done epoch is not saved behind the user's back


def test_labels_too_large_for_int64_are_refused_by_name(model: LinearModel) -> None:
    images, _ = separable(4)
    with pytest.raises(DatasetError, match=r"label 1e\+30 is not a plausible class index"):
        model.train((images, np.full(4, 1e30)))  # was "must not be negative (found -9223372036854775808)"


def test_exif_orientation_is_not_applied_and_animations_give_their_first_frame(tmp_path: Path) -> None:
    """As torchvision's and Keras's loaders do: the pixels as stored, so training and inference agree."""
    spec = InputSpec("x", (None, 3, None, None), "float32", "NCHW")
    rotated = Image.new("RGB", (8, 4), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    rotated.save(tmp_path / "r.jpg", exif=exif)
    assert images_to_batch([tmp_path / "r.jpg"], spec, None).shape == (1, 3, 4, 8)
    frames = [Image.new("RGB", (2, 2), c) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    first = images_to_batch([tmp_path / "a.gif"], spec, None)
    assert first[0, :, 0, 0].tolist() == [1.0, 0.0, 0.0]
