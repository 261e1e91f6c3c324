"""Models saved as folders (a TensorFlow SavedModel): checked before training, swapped into place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from numpy_models import LinearModel, install, random_linear, separable

from greenai_core import load_model
from greenai_core.errors import UsageError
from greenai_core.io_folders import atomic_folder, check_writable_folder
from greenai_core.plugins import Registry

MARKER = "model.pb"


def folder_model(registry: Registry, tmp_path: Path) -> LinearModel:
    """The in-test linear model, saved as a folder holding MARKER and its weights."""
    install(registry)
    model = load_model(random_linear(tmp_path / "m.lin"))
    assert isinstance(model, LinearModel)
    model.folder_marker = MARKER
    original = LinearModel._save

    def save_folder(path: Path) -> None:
        assert path.is_dir() and not os.listdir(path)  # the core hands over a new, empty folder
        original(model, path / "weights.lin")
        (path / MARKER).write_text("saved")

    model._save = save_folder  # type: ignore[method-assign]
    return model


def test_a_folder_model_saves_into_a_new_folder_and_replaces_an_old_one(registry: Registry, tmp_path: Path) -> None:
    model = folder_model(registry, tmp_path)
    target = tmp_path / "out"
    assert model.save(str(target) + "/") == target  # a trailing separator is the same folder
    assert sorted(os.listdir(target)) == [MARKER, "weights.lin"]
    (target / "stale.txt").write_text("from the previous save")
    model.save(target)
    assert sorted(os.listdir(target)) == [MARKER, "weights.lin"]  # the old folder is gone, not merged
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]  # no temporary folder left behind


def test_save_to_an_unrelated_folder_is_refused_before_the_first_step(registry: Registry, tmp_path: Path) -> None:
    model = folder_model(registry, tmp_path)
    unrelated = tmp_path / "photos"
    unrelated.mkdir()
    (unrelated / "cat.jpg").write_bytes(b"...")
    before = LinearModel.steps_taken
    with pytest.raises(UsageError, match=r"photos: is a folder that holds other files, not a saved model"):
        model.train(separable(8), epochs=1, batch_size=4, save_to=unrelated)
    assert LinearModel.steps_taken == before and os.listdir(unrelated) == ["cat.jpg"]
    result = model.train(separable(8), epochs=1, batch_size=4, save_to=tmp_path / "trained")
    assert result.saved_to == str(tmp_path / "trained") and (tmp_path / "trained" / MARKER).is_file()


def test_a_failed_save_leaves_the_old_folder_untouched(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / MARKER).write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_folder(target, marker=MARKER) as new:
        (new / MARKER).write_text("half-written")
        raise KeyboardInterrupt
    assert os.listdir(target) == [MARKER] and (target / MARKER).read_text() == "old"
    assert os.listdir(tmp_path) == ["model"]


def test_a_symlink_to_a_model_folder_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / MARKER).write_text("old")
    link = tmp_path / "link"
    link.symlink_to(real)
    assert check_writable_folder(link, marker=MARKER) == real
    with atomic_folder(link, marker=MARKER) as new:
        (new / MARKER).write_text("new")
    assert link.is_symlink() and (real / MARKER).read_text() == "new"


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.write_text("a file"), "exists and is not a folder"),
    (lambda p: p.symlink_to(p.parent / "nowhere"), "is a dangling symlink"),
])
def test_what_is_no_model_folder_is_refused(tmp_path: Path, make: object, message: str) -> None:
    target = tmp_path / "t"
    make(target)  # type: ignore[operator]
    with pytest.raises(UsageError, match=message):
        check_writable_folder(target, marker=MARKER)
    with pytest.raises(UsageError, match="does not exist"):
        check_writable_folder(tmp_path / "missing" / "t", marker=MARKER)
