"""``calibrate`` in a world of known power: in-test reference models whose forward pass takes time in proportion
to their size, a fake counter backend; exact energies, the reference round trip, and the refusals."""

from __future__ import annotations

import types
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy_models import random_linear
from profiling_world import ClockedFormat, ClockedModel, world_of

from greenai_core import calibrate, grade
from greenai_core.errors import GradeError, PluginError, UsageError
from greenai_core.hookspecs import hookimpl
from greenai_core.plugins import Registry
from greenai_core.sdk import ReferenceModel

#: A forward pass takes this many seconds per parameter of the model.
SECONDS_PER_PARAMETER = 1e-4
WIDTHS = (1, 2, 3, 4, 5, 6)
CLASSES = 2


class SizedModel(ClockedModel):
    def _forward(self, batch: np.ndarray) -> np.ndarray:
        assert self.world is not None
        self.world.events.append("forward")
        self.world.advance(self.num_parameters * SECONDS_PER_PARAMETER, self.world.busy_w)
        out: np.ndarray = batch.reshape(len(batch), -1) @ self.weights.T + self.bias
        return out.astype(np.float32)


class SizedFormat(ClockedFormat):
    name = "sized"
    suffixes = (".sz",)
    model_class = SizedModel


def parameters(width: int) -> int:
    return CLASSES * 3 * 2 * width + CLASSES  # input (3, 2, width), a linear layer to 2 classes


def build(width: int, folder: Path) -> Path:
    return random_linear(folder / f"lin-{width}.sz", shape=(3, 2, width), classes=CLASSES)


def reference_plugin(widths: tuple[int, ...] = WIDTHS) -> Any:
    def register_reference_models(register: Any) -> None:
        for w in widths:
            register(ReferenceModel(name=f"lin-w{w}", parameters=parameters(w), build=partial(build, w),
                                    format="sized", family="lin"))

    return types.SimpleNamespace(register_reference_models=hookimpl(register_reference_models))


def test_calibrate_stores_each_models_gross_energy_per_inference(registry: Registry, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with world_of(registry, tmp_path, monkeypatch) as (world, _):
        registry.add_plugin(types.SimpleNamespace(register_model_formats=hookimpl(
            lambda register: register(SizedFormat()))), name="sized")
        registry.add_plugin(reference_plugin(), name="refs")
        told: list[str] = []
        out = tmp_path / "ref.json"
        ref = calibrate(out=out, backends=[world.backend], repeats=2, min_duration_s=0.5, warmup=1,
                        progress=told.append)
    assert told[0] == "[1/6] lin-w1 (14 parameters)" and len(told) == 6
    assert [e["name"] for e in ref.entries] == [f"lin-w{w}" for w in WIDTHS]
    assert [e["parameters"] for e in ref.entries] == [parameters(w) for w in WIDTHS]
    for entry, width in zip(ref.entries, WIDTHS, strict=True):
        # two domains at busy_w for the forward pass's time, per inference (batch 1)
        expected = 2 * world.busy_w * parameters(width) * SECONDS_PER_PARAMETER
        assert entry["value"] == pytest.approx(expected, rel=1e-9)
        assert entry["power_w"] == pytest.approx(2 * world.busy_w, rel=1e-9)
        assert entry["ci95"] == pytest.approx([expected, expected], rel=1e-9)
        assert entry["method"] == "measured"
    assert ref.metric == "energy_per_inference_j"
    assert ref.settings["method"] == "measured" and ref.settings["batch_size"] == 1
    assert ref.settings["backends"] == ["fake"]
    assert [b["name"] for b in ref.hardware["backends"]] == ["fake"]
    loaded = type(ref).load(out)
    assert loaded.to_dict() == ref.to_dict()


def test_a_report_profiled_alike_grades_cleanly_against_it(registry: Registry, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from greenai_core import load_model, profile_inference
    from greenai_core.data import sample_image_path

    with world_of(registry, tmp_path, monkeypatch) as (world, _):
        registry.add_plugin(types.SimpleNamespace(register_model_formats=hookimpl(
            lambda register: register(SizedFormat()))), name="sized")
        registry.add_plugin(reference_plugin(), name="refs")
        ref = calibrate(backends=[world.backend], repeats=2, min_duration_s=0.5, warmup=1)
        graded = random_linear(tmp_path / "graded.sz", shape=(3, 2, 2), classes=3)  # 3 x 12 + 3 = 39 parameters
        with load_model(graded, format="sized") as model:
            report = profile_inference(model, [str(sample_image_path())], repeats=2, min_duration_s=0.5, warmup=1,
                                       backends=[world.backend], baseline_s=0.0, timeline=False)
    result = grade(report, ref)
    # values in proportion to the parameters 14, 26, 38, 50, 62, 74 (x 0.002 J); boundaries at positions
    # 5 q = 1, 2, 3, 4 -> 26, 38, 50, 62, and star edges at 14 + 12 k -> the same: 39 is C, 3 stars.
    assert result.value == pytest.approx(2 * world.busy_w * 39 * SECONDS_PER_PARAMETER, rel=1e-9)
    assert (result.letter, result.stars) == ("C", 3)
    assert result.warnings == []


def test_no_plugin_with_reference_models_names_the_one_to_install(registry: Registry) -> None:
    with pytest.raises(GradeError, match="no installed plugin provides reference models for calibration: "
                                         "pip install greenai-onnx"):
        calibrate()


def test_too_few_or_unknown_models_are_refused(registry: Registry) -> None:
    registry.add_plugin(reference_plugin((1, 2, 3, 4)), name="refs")
    with pytest.raises(GradeError, match="needs at least 5 reference models, 4 chosen"):
        calibrate()
    with pytest.raises(GradeError, match="unknown reference model 'nope'"):
        calibrate(models=["nope"])


def test_an_unwritable_output_is_refused_before_any_work(registry: Registry, tmp_path: Path) -> None:
    registry.add_plugin(reference_plugin(), name="refs")
    with pytest.raises(UsageError, match="is a directory"):
        calibrate(out=tmp_path)


def test_bad_reference_registrations_are_plugin_errors() -> None:
    reg = Registry(entry_points=False, strict=True, disabled=())
    bad = types.SimpleNamespace(register_reference_models=hookimpl(lambda register: register("a model")))
    with pytest.raises(PluginError, match="which is not a ReferenceModel"):
        reg.add_plugin(bad, name="bad")
    reg.add_plugin(reference_plugin((1,)), name="refs")
    with pytest.raises(PluginError, match="reference model 'lin-w1' is already registered by 'refs'"):
        reg.add_plugin(reference_plugin((1,)), name="again")
    assert list(reg.reference_models()) == ["lin-w1"] and reg.reference_owner("lin-w1") == "refs"
