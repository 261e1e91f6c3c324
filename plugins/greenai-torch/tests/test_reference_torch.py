"""greenai-torch's trainable reference family: it builds, loads without trust, counts its parameters exactly, and a
real short training calibration round-trips through its file and grades a training report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from greenai_torch.reference import WIDTHS, cnn_parameters, make_cnn
from PIL import Image

from greenai_core import Reference, calibrate, get_registry, grade, load_model, profile_training

NAMES = [f"torch-cnn-w{w}" for w in WIDTHS]


def image_folder(root: Path) -> Path:
    """A labelled folder like the calibration's: 4 classes x 32 random 32 x 32 RGB images."""
    rng = np.random.default_rng(1)
    for label in range(4):
        (root / f"c{label}").mkdir(parents=True)
        for index in range(32):
            pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels, "RGB").save(root / f"c{label}" / f"{index}.png")
    return root


def test_the_family_is_registered_as_training_references_of_strictly_increasing_size() -> None:
    refs = get_registry().reference_models()
    assert [name for name in refs if name.startswith("torch-cnn-")] == NAMES
    assert len(NAMES) >= 5
    counts = [refs[name].parameters for name in NAMES]
    assert counts == [18 * w * w + 38 * w + 4 for w in WIDTHS] and counts[0] == 444 and counts[-1] == 76_164
    assert all(a < b for a, b in zip(counts, counts[1:], strict=False))
    assert all(refs[name].trains and refs[name].format == "torch" for name in NAMES)
    assert get_registry().reference_owner(NAMES[0]) == "torch"


@pytest.mark.parametrize("width", [WIDTHS[0], WIDTHS[-1]])
def test_each_builds_loads_and_counts_its_parameters_exactly(width: int, tmp_path: Path) -> None:
    state = torch.random.get_rng_state()
    ref = get_registry().reference_models()[f"torch-cnn-w{width}"]
    path = ref.build(tmp_path)
    assert torch.equal(torch.random.get_rng_state(), state)  # the fixed seed leaves the caller's random state alone
    assert path == tmp_path / f"torch-cnn-w{width}.pt2"
    module = make_cnn(width)
    assert sum(p.numel() for p in module.parameters()) == cnn_parameters(width) == ref.parameters
    assert torch.equal(module[0].weight, make_cnn(width)[0].weight)  # seeded: the same weights every time
    with load_model(path, format="torch") as model:  # an exported program: no trust needed
        assert model.num_parameters == model.trainable_parameters == ref.parameters
        assert model.input_spec.shape == (None, 3, 32, 32) and model.details["kind"] == "export"
        out = model.predict(torch.rand(2, 3, 32, 32).numpy())
    assert out.shape == (2, 4)


def test_a_real_training_calibration_round_trips_and_grades_a_training_report(tmp_path: Path) -> None:
    told: list[str] = []
    out = tmp_path / "ref-training.json"
    ref = calibrate(training=True, models=NAMES[:5], backends=["estimate"], batch_size=32, epochs=1, out=out,
                    progress=told.append)
    assert told[0] == "[1/5] torch-cnn-w4 (444 parameters, training)" and len(told) == 5
    assert ref.metric == "energy_per_step_j"
    assert [e["name"] for e in ref.entries] == NAMES[:5]
    assert [e["parameters"] for e in ref.entries] == [cnn_parameters(w) for w in WIDTHS[:5]]
    assert all(e["value"] > 0 and e["n"] == 4 and e["format"] == "torch" for e in ref.entries)
    assert ref.settings["epochs"] == 1 and ref.settings["batch_size"] == 32 and ref.settings["backends"] == ["estimate"]
    loaded = Reference.load(out)
    assert loaded.to_dict() == ref.to_dict()
    # a training report made alike (a width-12 member of the same family) grades against the file, cleanly
    model_path = tmp_path / "mine.pt2"
    torch.export.save(torch.export.export(make_cnn(12), (torch.zeros(2, 3, 32, 32),),
                                          dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=64)},)),
                      str(model_path))
    with load_model(model_path) as model:
        report = profile_training(model, str(image_folder(tmp_path / "data")), batch_size=32,
                                  backends=["estimate"], baseline_s=0.0, timeline=False, seed=0)
    result = grade(report, out)
    assert result.metric == "energy_per_step_j" and result.letter in "ABCDE" and 1 <= result.stars <= 5
    assert result.reference is not None and result.reference["path"] == str(out)
    assert not [w for w in result.warnings if w.startswith(("settings differ", "hardware differs", "energy backends"))]
