"""``compare`` on in-test models of known cost: exact energies, ranks, the front, accuracy by hand count, grades."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from compare_world import (
    BUSY_W,
    IDLE_W,
    LARGE,
    MEDIUM,
    SECONDS_PER_PARAMETER,
    SENSOR,
    SMALL,
    World,
    brightness_model,
    energy_per_inference,
    known_cost_world,
    labelled_folder,
    sized_models,
)
from numpy_models import random_linear

from greenai_core import CompareInterrupted, CompareReport, compare, load_model
from greenai_core.data import DATA
from greenai_core.errors import GradeError, ModelFormatError, UsageError
from greenai_core.grading import Reference, letter_for
from greenai_core.plugins import Registry

FAST = {"runs": 4, "warmup": 1, "repeats": 3, "baseline_s": 0, "backends": [SENSOR]}


def schema(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((DATA / "schemas" / f"{name}.json").read_text())
    return loaded


@pytest.fixture
def world(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with known_cost_world(registry, monkeypatch) as state:
        yield state


@pytest.fixture(autouse=True)
def _no_default_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENAI_REFERENCE", str(tmp_path / "no-reference.json"))


def test_three_sizes_come_out_in_order_of_size_with_exact_energies(world: World, tmp_path: Path) -> None:
    paths = sized_models(tmp_path, LARGE, SMALL, MEDIUM)
    report = compare(paths, **FAST)
    assert isinstance(report, CompareReport) and report.complete and report.interrupted is None
    by_name = {e["name"]: e for e in report.models}
    assert list(by_name) == ["m0.lin", "m1.lin", "m2.lin"]  # the order given
    assert [by_name[n]["num_parameters"] for n in by_name] == [386, 26, 98]
    for entry in report.models:
        expected = energy_per_inference(entry["num_parameters"])
        assert entry["energy_per_inference_j"] == {"mean": expected, "std": 0.0, "ci95_low": expected,
                                                   "ci95_high": expected, "n": 3, "method": "student-t"}
        assert entry["latency_s"]["mean"] == entry["num_parameters"] / 1024
        assert entry["method"] == "measured" and entry["complete"]
        assert entry["accuracy"] is None and entry["grade"] is None
    assert [(by_name[n]["rank"], by_name[n]["tie"]) for n in ("m1.lin", "m2.lin", "m0.lin")] == \
        [(1, False), (2, False), (3, False)]
    # Without data: no Pareto front; the cheapest tie group (the small model alone) is marked, and said so.
    assert report.front["kind"] == "cheapest" and report.front["members"] == ["m1.lin"]
    assert "no accuracy" in report.front["note"]
    assert [e["front"] for e in report.models] == [False, True, False]
    assert report.settings["baseline"] == "none (baseline_s 0): no net figures"
    assert report.inputs == "random, shaped for each model (seed 0)"
    assert any("greenai grade --calibrate" in n for n in report.notes)  # the grade column is "-", with how to fill it
    data = report.to_dict()
    jsonschema.validate(data, schema("compare-report-1"))
    for entry in data["models"]:
        jsonschema.validate(entry["report"], schema("inference-report-1"))
    assert CompareReport.from_dict(json.loads(report.to_json())).to_dict() == data


def test_models_of_the_same_cost_are_tied_not_ordered(world: World, tmp_path: Path) -> None:
    paths = sized_models(tmp_path, MEDIUM, SMALL, MEDIUM)
    report = compare(paths, **FAST)
    assert [(e["rank"], e["tie"]) for e in report.models] == [(2, True), (1, False), (2, True)]


def test_accuracy_is_the_hand_count_by_class_names_or_by_folder_index(world: World, tmp_path: Path) -> None:
    # 3 dark images in "dark", 3 bright in "light", plus one bright image misfiled in "dark": 6 of 7 right.
    data = labelled_folder(tmp_path / "data", {"dark": [0, 10, 30, 250], "light": [200, 230, 255]})
    by_index = brightness_model(tmp_path / "plain.lin")  # output 0 = dark (sorted first), 1 = light
    by_names = brightness_model(tmp_path / "named.lin", labels=["light", "dark"], swapped=True)
    wrong_way = brightness_model(tmp_path / "swapped.lin", swapped=True)  # no names: index mapping, all flipped
    report = compare([by_index, by_names, wrong_way], data=data, **FAST)
    got = {e["name"]: (e["correct"], e["evaluated"], e["class_mapping"]) for e in report.models}
    assert got == {"plain.lin": (6, 7, "sorted folder index"), "named.lin": (6, 7, "model class names"),
                   "swapped.lin": (1, 7, "sorted folder index")}
    assert [e["accuracy"] for e in report.models] == [6 / 7, 6 / 7, 1 / 7]
    assert report.data == {"path": str(data), "classes": ["dark", "light"], "images": 7}
    assert report.inputs == f"the first 1 image of {data}"
    # Same size, same energy: all three tied; the two at 6/7 dominate the one at 1/7.
    assert report.front["kind"] == "pareto" and report.front["members"] == ["plain.lin", "named.lin"]
    jsonschema.validate(report.to_dict(), schema("compare-report-1"))


def test_outputs_past_the_class_names_are_no_class(world: World, tmp_path: Path) -> None:
    import numpy as np
    from numpy_models import write_linear

    # Three outputs, two names: the third, unnamed, wins on bright images (2 x the "light" row), so those are misses.
    # (The output size hidden: where the loader knows it, names of another count are dropped when loading.)
    row = np.full(12, 1 / 12)
    model = write_linear(tmp_path / "three.lin", np.stack([-row, row, 2 * row]), np.zeros(3), (3, 2, 2),
                         ["dark", "light"])
    data = labelled_folder(tmp_path / "data", {"dark": [0, 10], "light": [255]})
    report = compare([model], data=data, load_options={"hide_outputs": True}, **FAST)
    assert [(e["correct"], e["evaluated"], e["class_mapping"]) for e in report.models] == [(2, 3, "model class names")]


def test_a_model_whose_classes_do_not_fit_the_data_is_refused_before_any_profiling(world: World,
                                                                                   tmp_path: Path) -> None:
    data = labelled_folder(tmp_path / "data", {"dark": [0], "light": [255]})
    fits = brightness_model(tmp_path / "fits.lin")
    (three,) = sized_models(tmp_path, ((3, 2, 2), 3))
    with pytest.raises(UsageError, match=r"m0\.lin: the model gives 3 class scores but .* has 2 class folders"):
        compare([fits, three], data=data, **FAST)
    named = brightness_model(tmp_path / "named.lin", labels=["cat", "dark"])
    with pytest.raises(UsageError, match=r"named\.lin: the model's class names do not include the data's class "
                                         r"folder light"):
        compare([fits, named], data=data, **FAST)
    assert world.forwards == []  # nothing ran: refused up front


def test_grades_come_from_the_reference_given(world: World, tmp_path: Path) -> None:
    paths = sized_models(tmp_path, SMALL, LARGE)
    small, large = energy_per_inference(26), energy_per_inference(386)
    values = [small * 2, small * 3, small * 4, small * 5, small * 6]
    ref_path = tmp_path / "ref.json"
    Reference.from_values("energy_per_inference_j", values, hardware={}, settings={}).save(ref_path)
    report = compare(paths, reference=ref_path, **FAST)
    letters = [e["grade"]["letter"] for e in report.models]
    ref = Reference.load(ref_path)
    assert letters == [letter_for(small, ref.boundaries()), letter_for(large, ref.boundaries())] == ["A", "E"]
    assert [e["grade"]["stars"] for e in report.models] == [5, 1]
    assert report.reference is not None and report.reference["count"] == 5
    assert not any("calibrate" in n for n in report.notes)
    with pytest.raises(GradeError):  # a bad reference is refused before anything runs
        bad = tmp_path / "bad.json"
        bad.write_text("{}")
        compare(paths, reference=bad, **FAST)
    assert len(world.forwards) == 2 * (1 + 3 * 4)


def test_ctrl_c_keeps_the_models_finished(world: World, tmp_path: Path) -> None:
    paths = sized_models(tmp_path, SMALL, MEDIUM, LARGE)
    world.interrupt_at = 13 + 1 + 4 + 2  # model 1: 13 calls; model 2: warm-up, repeat 1, then in repeat 2
    with pytest.raises(CompareInterrupted) as caught:
        compare(paths, **FAST)
    report = caught.value.report
    assert isinstance(caught.value, KeyboardInterrupt)
    assert not report.complete and report.interrupted == "KeyboardInterrupt"
    assert [(e["name"], e["complete"]) for e in report.models] == [("m0.lin", True), ("m1.lin", False)]
    assert report.models[1]["energy_per_inference_j"]["n"] == 1
    jsonschema.validate(report.to_dict(), schema("compare-report-1"))


def test_ctrl_c_while_counting_accuracy(world: World, tmp_path: Path) -> None:
    data = labelled_folder(tmp_path / "data", {"dark": [0], "light": [255]})
    first, second = brightness_model(tmp_path / "a.lin"), brightness_model(tmp_path / "b.lin", shape=(3, 4, 4))
    world.interrupt_at = 1  # the first model's accuracy pass: nothing finished
    with pytest.raises(CompareInterrupted) as caught:
        compare([first, second], data=data, **FAST)
    report = caught.value.report
    assert report.models == [] and not report.complete
    assert report.front["kind"] == "pareto" and report.front["members"] == []  # data was given: not "no accuracy"
    jsonschema.validate(report.to_dict(), schema("compare-report-1"))
    world.forwards.clear()
    world.interrupt_at = 1 + 13 + 1  # a: accuracy pass, 13 profile calls; then b's accuracy pass
    with pytest.raises(CompareInterrupted) as caught:
        compare([first, second], data=data, **FAST)
    assert [(e["name"], e["complete"], e["correct"]) for e in caught.value.report.models] == [("a.lin", True, 2)]
    assert caught.value.report.front["members"] == ["a.lin"]


def test_loaded_models_mix_with_paths_and_stay_open(world: World, tmp_path: Path) -> None:
    small, large = sized_models(tmp_path, SMALL, LARGE)
    with load_model(large) as loaded:
        report = compare([small, loaded], **FAST)
        assert not loaded.closed
    assert [e["name"] for e in report.models] == ["m0.lin", "m1.lin"]


def test_bad_arguments_are_one_line_errors(world: World, tmp_path: Path) -> None:
    (small,) = sized_models(tmp_path, SMALL)
    with pytest.raises(UsageError, match="a list of models"):
        compare(str(small))  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="a list of models"):
        compare([])
    with pytest.raises(UsageError, match="not a folder of class subfolders"):
        compare([small], data=tmp_path / "missing", **FAST)
    with pytest.raises(UsageError, match="must be a path or a loaded Model, not int"):
        compare([small, 3], **FAST)  # type: ignore[list-item]


def test_each_model_gets_its_own_idle_baseline(world: World, tmp_path: Path) -> None:
    paths = sized_models(tmp_path, SMALL, MEDIUM)
    report = compare(paths, **{**FAST, "baseline_s": 2.0})
    assert report.settings["baseline"] == "measured before each model"
    for entry in report.models:
        assert entry["report"]["baseline"]["power_w"] == IDLE_W
        net = BUSY_W * entry["num_parameters"] * SECONDS_PER_PARAMETER  # the idle draw taken out
        assert entry["net_energy_per_inference_j"]["mean"] == pytest.approx(net, rel=1e-12)


def test_formats_mix(world: World, tmp_path: Path) -> None:
    linear = random_linear(tmp_path / "a.lin", shape=(3, 2, 2))
    frozen = random_linear(tmp_path / "b.frz", shape=(3, 4, 4))
    report = compare([frozen, linear], **FAST)
    assert [(e["name"], e["format"], e["rank"]) for e in report.models] == [("b.frz", "frozen", 2),
                                                                           ("a.lin", "linear", 1)]
    assert [e["energy_per_inference_j"]["mean"] for e in report.models] == [energy_per_inference(98),
                                                                           energy_per_inference(26)]


def test_model_options_go_to_their_model_only(world: World, tmp_path: Path) -> None:
    from numpy_models import LinearFormat

    small, large = sized_models(tmp_path, SMALL, LARGE)
    with pytest.raises(ModelFormatError, match=r"m1\.lin: .* RuntimeError: backend exploded"):
        compare([small, large], model_options=[None, {"fail": "RuntimeError"}], **FAST)
    assert LinearFormat.last_call is not None and LinearFormat.last_call[2] == {"fail": "RuntimeError"}
    assert world.forwards == []
    report = compare([small, large], load_options={"hide_outputs": False},
                     model_options=[{"hide_outputs": True}, None], **FAST)
    assert LinearFormat.last_call[2] == {"hide_outputs": False} and report.complete
    with pytest.raises(UsageError, match="model_options must be a list of 2 dicts"):
        compare([small, large], model_options=[{}], **FAST)
    with load_model(small) as loaded, pytest.raises(UsageError, match="options for a model already loaded"):
        compare([loaded, large], model_options=[{"hide_outputs": True}, None], **FAST)
