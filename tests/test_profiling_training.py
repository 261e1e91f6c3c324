"""profile_training on a world of known power: per-step and per-epoch windows that add up, exactly."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from numpy_models import separable
from profiling_world import World, world_of

from greenai_core.data import DATA
from greenai_core.models.training import StepInfo, StopTraining
from greenai_core.plugins import Registry
from greenai_core.profiling import ProfilingInterrupted, TrainingReport
from greenai_core.profiling.training import profile_training

DOMAINS = 2


def schema() -> dict[str, object]:
    loaded: dict[str, object] = json.loads((DATA / "schemas" / "training-report-1.json").read_text())
    return loaded


@pytest.fixture
def world(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with world_of(registry, tmp_path, monkeypatch) as pair:
        yield pair


def test_steps_and_epochs_are_measured_and_add_up(world: tuple[World, object]) -> None:
    w, model = world
    report = profile_training(model, separable(8), epochs=2, batch_size=4, backends=[w.backend], baseline_s=1.0,
                              timeline=False, optimizer="sgd", lr=0.1, seed=3)
    step_j = DOMAINS * w.busy_w * w.step_s
    assert report.complete and report.steps["count"] == 4
    assert report.steps["energy_j"].mean == step_j and report.steps["energy_j"].std == 0.0
    assert [e["energy_j"] for e in report.epochs] == [2 * step_j, 2 * step_j]
    assert [e["steps"] for e in report.epochs] == [2, 2] and [e["samples"] for e in report.epochs] == [8, 8]
    assert report.epochs[0]["energy_per_sample_j"] == step_j / 4
    assert report.epochs[0]["net_energy_j"] == pytest.approx(2 * DOMAINS * (w.busy_w - w.idle_w) * w.step_s)
    assert [e["loss"] for e in report.epochs] == [e["loss"] for e in report.training["epochs"]]
    stats = report.stats
    assert stats is not None
    assert stats["energy_per_epoch_j"].mean == 2 * step_j and stats["energy_per_step_j"].mean == step_j
    assert stats["energy_per_sample_j"].mean == step_j / 4
    assert stats["wh_per_1000_samples"].mean == pytest.approx(step_j / 4 * 1000 / 3600, rel=1e-12)
    assert stats["net_energy_per_step_j"].mean == pytest.approx(DOMAINS * (w.busy_w - w.idle_w) * w.step_s)
    assert report.energy_per_step_j == step_j
    assert report.settings["optimizer"] == "sgd" and report.settings["lr"] == 0.1 and report.settings["seed"] == 3
    assert [p["name"] for p in report.phases] == ["baseline", "epoch 1", "epoch 2"]
    assert w.events.count("step") == 4


def test_an_epochs_window_also_holds_its_validation(world: tuple[World, object]) -> None:
    w, model = world
    report = profile_training(model, separable(8), epochs=1, batch_size=4, backends=[w.backend], baseline_s=0,
                              timeline=False, validation=separable(8, seed=2))
    steps_j = 2 * DOMAINS * w.busy_w * w.step_s
    validation_j = 2 * DOMAINS * w.busy_w * w.forward_s  # two validation batches of 4
    assert report.epochs[0]["energy_j"] == pytest.approx(steps_j + validation_j, rel=1e-12)
    assert report.stats is not None and report.stats["energy_per_step_j"].mean == steps_j / 2
    assert report.epochs[0]["val_accuracy"] is not None


def test_stopping_early_keeps_an_incomplete_epoch_out_of_energy_per_epoch(world: tuple[World, object]) -> None:
    w, model = world

    def stop_in_epoch_two(info: StepInfo) -> None:
        if info.epoch == 2:
            raise StopTraining

    report = profile_training(model, separable(8), epochs=3, batch_size=4, backends=[w.backend], baseline_s=0,
                              timeline=False, on_step=stop_in_epoch_two)
    assert not report.complete and report.interrupted is None
    assert [(e["epoch"], e["steps"], e["complete"]) for e in report.epochs] == [(1, 2, True), (2, 1, False)]
    assert report.stats is not None and report.stats["energy_per_epoch_j"].n == 1
    assert report.steps["count"] == 3


def test_interrupt_keeps_finished_epochs_and_steps(world: tuple[World, object], tmp_path: Path) -> None:
    w, model = world

    def ctrl_c(info: StepInfo) -> None:
        if info.epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(ProfilingInterrupted) as caught:
        profile_training(model, separable(8), epochs=3, batch_size=4, backends=[w.backend], baseline_s=0,
                         timeline=True, on_step=ctrl_c)
    assert isinstance(caught.value, KeyboardInterrupt)
    report = caught.value.report
    assert isinstance(report, TrainingReport)
    assert not report.complete and report.interrupted == "KeyboardInterrupt"
    assert [e["epoch"] for e in report.epochs] == [1] and report.steps["count"] == 3
    assert len(report.training["epochs"]) == 1
    jsonschema.validate(report.to_dict(), schema())


def test_report_json_validates_and_round_trips(world: tuple[World, object]) -> None:
    w, model = world
    report = profile_training(model, separable(8), epochs=2, batch_size=4, backends=[w.backend], baseline_s=1.0,
                              timeline=True, carbon_intensity=300.0)
    data = json.loads(report.to_json())
    jsonschema.validate(data, schema())
    assert data["schema"] == "greenai.training-report/1"
    assert data["stats"]["g_co2_per_sample"]["mean"] == pytest.approx(
        DOMAINS * w.busy_w * w.step_s / 4 / 3.6e6 * 300.0, rel=1e-12)
    assert TrainingReport.from_dict(data) == report


@pytest.mark.parametrize(("first_s", "said"), [(2.0, True), (1.5, False)])
def test_a_first_step_carrying_start_up_costs_is_said(world: tuple[World, object], monkeypatch: pytest.MonkeyPatch,
                                                      first_s: float, said: bool) -> None:
    w, model = world
    from profiling_world import ClockedTrainer

    step = ClockedTrainer.step

    def first_slower(self: ClockedTrainer, images, labels):  # type: ignore[no-untyped-def]
        if w.events.count("step") == 0:
            w.advance(first_s - w.step_s, w.busy_w)  # first step: first_s in all, the others 0.5 s
        return step(self, images, labels)

    monkeypatch.setattr(ClockedTrainer, "step", first_slower)
    report = profile_training(model, separable(8), epochs=2, batch_size=4, backends=[w.backend], baseline_s=0,
                              timeline=False)
    step_j = DOMAINS * w.busy_w * w.step_s
    assert report.steps["energy_j"].mean == pytest.approx((first_s / w.step_s + 3) * step_j / 4, rel=1e-12)
    ratio = f"{first_s / w.step_s:.3g}"
    started = [x for x in report.warnings if x.startswith("the first training step cost")]
    assert started == ([f"the first training step cost {ratio} x the median of the others (one-time start-up: "
                        "allocation, first-call compilation); energy per step and per epoch include it: the later "
                        "epochs show the steady cost"] if said else [])


def test_a_grade_of_a_training_report_with_start_up_costs_says_so(world: tuple[World, object],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from profiling_world import ClockedTrainer

    from greenai_core.grading import Reference, grade

    w, model = world
    step = ClockedTrainer.step

    def first_slower(self: ClockedTrainer, images, labels):  # type: ignore[no-untyped-def]
        if w.events.count("step") == 0:
            w.advance(1.5, w.busy_w)  # 2 s in all against 0.5 s for the others: 4 x
        return step(self, images, labels)

    monkeypatch.setattr(ClockedTrainer, "step", first_slower)
    report = profile_training(model, separable(8), epochs=2, batch_size=4, backends=[w.backend], baseline_s=0,
                              timeline=False)
    ref = Reference.from_values("energy_per_step_j", [1.0, 2.0, 3.0, 4.0, 5.0])
    said = [x for x in grade(report, ref).warnings if "start-up" in x]
    assert said == ["the report's first training step carries one-time start-up costs (its own warning says how "
                    "much) that the calibrated references leave out: its energy per step is overstated; grade a "
                    "longer training"]
    monkeypatch.setattr(ClockedTrainer, "step", step)
    steady = profile_training(model, separable(8), epochs=2, batch_size=4, backends=[w.backend], baseline_s=0,
                              timeline=False)
    assert not [x for x in grade(steady, ref).warnings if "start-up" in x]
