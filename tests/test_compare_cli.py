"""``greenai compare`` in-process, on in-test models of known cost: the table, the outputs, errors, Ctrl-C."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from compare_world import (
    LARGE,
    MEDIUM,
    SENSOR,
    SMALL,
    World,
    brightness_model,
    known_cost_world,
    labelled_folder,
    sized_models,
)

from greenai_core.cli import main
from greenai_core.data import DATA
from greenai_core.plugins import Registry

FAST = ["--runs", "4", "--warmup", "1", "--repeats", "3", "--baseline", "0", "--backend", SENSOR]


@pytest.fixture
def world(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with known_cost_world(registry, monkeypatch) as state:
        yield state


@pytest.fixture(autouse=True)
def _no_default_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENAI_REFERENCE", str(tmp_path / "no-reference.json"))


def run(*args: str) -> int:
    try:
        return main(["compare", *args])
    except SystemExit as exc:
        return int(exc.code or 0)


def rows_of(out: str) -> dict[str, list[str]]:
    """The table's rows by model name (columns split on two spaces or more)."""
    import re

    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("model"))
    rows = {}
    for line in lines[start + 2:]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells
    return rows


def test_table_and_every_output(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = [str(p) for p in sized_models(tmp_path, LARGE, SMALL, MEDIUM)]
    out_json, out_csv, out_html = tmp_path / "c.json", tmp_path / "c.csv", tmp_path / "c.html"
    code = run(*paths, *FAST, "--json", str(out_json), "--csv", str(out_csv), "--html", str(out_html))
    printed = capsys.readouterr()
    assert code == 0, printed.err
    rows = rows_of(printed.out)
    # energy per inference: 32 W x parameters / 1024 s: 12.06 J, 812.5 mJ, 3.062 J; one value each, no spread
    assert rows["m0.lin"][:4] == ["m0.lin", "386", "377 ms", "12.06 ± 0 J"]
    assert rows["m1.lin"][:4] == ["m1.lin", "26", "25.39 ms", "812.5 ± 0 mJ"]
    assert rows["m2.lin"][:4] == ["m2.lin", "98", "95.7 ms", "3.062 ± 0 J"]
    # accuracy and grade "-" (no data, no reference), ranks by energy, the cheapest marked
    assert [r[4:] for r in rows.values()] == [["-", "-", "3"], ["-", "-", "1", "*"], ["-", "-", "2"]]
    assert "Cheapest: m1.lin" in printed.out
    assert "greenai grade --calibrate" in printed.out
    report = json.loads(out_json.read_text())
    jsonschema.validate(report, json.loads((DATA / "schemas" / "compare-report-1.json").read_text()))
    assert [e["rank"] for e in report["models"]] == [3, 1, 2]
    assert out_csv.read_text().splitlines()[0].startswith("name,path,format")
    assert len(out_csv.read_text().splitlines()) == 4
    assert "<svg" in out_html.read_text() and "<script" not in out_html.read_text()
    assert f"JSON report: {out_json}" in printed.out


def rows_header_index(out: str, column: str) -> int:
    import re

    header = next(line for line in out.splitlines() if line.startswith("model"))
    return re.split(r"\s{2,}", header.strip()).index(column)


def test_accuracy_column_and_front_with_labelled_data(world: World, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    data = labelled_folder(tmp_path / "data", {"dark": [0, 10, 30, 250], "light": [200, 230, 255]})
    good = brightness_model(tmp_path / "good.lin")
    bad = brightness_model(tmp_path / "bad.lin", swapped=True)
    assert run(str(good), str(bad), "--data", str(data), *FAST) == 0
    out = capsys.readouterr().out
    rows = rows_of(out)
    accuracy = rows_header_index(out, "accuracy")
    assert rows["good.lin"][accuracy] == "85.7 % (6/7)" and rows["bad.lin"][accuracy] == "14.3 % (1/7)"
    assert "Pareto front: good.lin" in out
    assert "accuracy: outputs matched to the data's classes by sorted folder index" in out


def test_images_among_the_arguments_are_the_inputs(world: World, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (model,) = sized_models(tmp_path, SMALL)
    data = labelled_folder(tmp_path / "data", {"x": [128]})
    image = data / "x" / "0.png"
    assert run(str(model), str(image), *FAST) == 0
    assert f"inputs: {image};" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["m.png"], "give at least one model to compare"),
    (["MODEL", "--data", "missing"], "missing: not a folder of class subfolders"),
    (["MODEL", "--json", "same", "--csv", "same"], "--json and --csv name the same file"),
    (["MODEL", "--warmup", "0"], "--warmup 0 needs --runs N"),
    (["MODEL", "--random", "--images", "."], "give one source of inputs, not --images and --random"),
])
def test_errors_are_one_line_before_any_work(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch, args: list[str], message: str) -> None:
    (model,) = sized_models(tmp_path, SMALL)
    monkeypatch.chdir(tmp_path)
    argv = [str(model) if a == "MODEL" else a for a in args]
    assert run(*argv, "--backend", SENSOR) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert world.forwards == []


def test_class_count_mismatch_names_the_model(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = labelled_folder(tmp_path / "data", {"a": [0], "b": [255], "c": [128]})
    (model,) = sized_models(tmp_path, SMALL)
    assert run(str(model), "--data", str(data), *FAST) == 2
    err = capsys.readouterr().err
    assert f"{model}: the model gives 2 class scores but {data} has 3 class folders" in err
    assert world.forwards == []


def test_ctrl_c_writes_the_finished_models_and_exits_130(world: World, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    paths = [str(p) for p in sized_models(tmp_path, SMALL, LARGE)]
    world.interrupt_at = 13 + 2  # in the second model's first repeat: nothing of it is kept
    out_json = tmp_path / "c.json"
    assert run(*paths, *FAST, "--json", str(out_json)) == 130
    printed = capsys.readouterr()
    assert "interrupted; the finished models are in the report, marked incomplete" in printed.err
    report = json.loads(out_json.read_text())
    assert report["complete"] is False and [e["name"] for e in report["models"]] == ["m0.lin"]
    assert list(rows_of(printed.out)) == ["m0.lin"]


def test_a_file_that_is_no_model_is_one_line(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (model,) = sized_models(tmp_path, SMALL)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model at all")
    assert run(str(model), str(junk), *FAST) == 2
    err = capsys.readouterr().err
    assert err.startswith("greenai: error: ") and str(junk) in err and len(err.strip().splitlines()) == 1
    assert world.forwards == []


def test_grade_column_from_a_reference(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from compare_world import energy_per_inference

    from greenai_core.grading import Reference

    small = energy_per_inference(26)
    reference = tmp_path / "ref.json"
    Reference.from_values("energy_per_inference_j", [small * k for k in (2, 3, 4, 5, 6)], hardware={},
                          settings={}).save(reference)
    paths = [str(p) for p in sized_models(tmp_path, SMALL, LARGE)]
    assert run(*paths, *FAST, "--reference", str(reference)) == 0
    out = capsys.readouterr().out
    grade = rows_header_index(out, "grade")
    assert [r[grade] for r in rows_of(out).values()] == ["A (5*)", "E (1*)"]
    assert "greenai grade --calibrate" not in out


def test_an_option_for_one_model_only(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from numpy_models import LinearFormat

    monkeypatch.setattr(LinearFormat, "loads", 0)
    small, large = (str(p) for p in sized_models(tmp_path, SMALL, LARGE))
    # "fail" is the in-test format's option that makes its load raise: given to the second model only, the error
    # names that model, and the first loaded without it.
    assert run(small, large, *FAST, "-o", f"{large}:fail=RuntimeError") == 2
    err = capsys.readouterr().err
    assert large in err and "backend exploded" in err and len(err.strip().splitlines()) == 1
    assert LinearFormat.loads == 2 and world.forwards == []
    # An option for one model, another for all: each model gets what is its own.
    assert run(small, large, *FAST, "-o", f"{small}:hide_outputs=true", "-o", "hide_outputs=false") == 0
    assert LinearFormat.last_call is not None and LinearFormat.last_call[2] == {"hide_outputs": False}
    capsys.readouterr()
    # An option every model gets that a format does not take: the model named, and how to give it to some only.
    assert run(small, large, *FAST, "-o", "input_shape=[3,2,2]") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"greenai: error: {small}: unknown option 'input_shape' for the linear format")
    assert "-o MODEL:KEY=VALUE" in err and len(err.strip().splitlines()) == 1


def test_split_options_by_model_argument() -> None:
    from greenai_core.cli.compare_cmd import split_options

    shared, own = split_options(["a.pt:x=1", "model_class=pkg.mod:Net", "a.pt:x:y=2", "b=c", "a.pt:x:z=3"],
                                ["a.pt", "a.pt:x", "b.onnx"])
    assert shared == ["model_class=pkg.mod:Net", "b=c"]
    assert own == [["x=1"], ["y=2", "z=3"], []]  # "a.pt:x:y=2" is the longer name's, a.pt:x
