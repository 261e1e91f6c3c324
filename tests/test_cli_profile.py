"""``greenai profile``, ``train`` and ``demo``: the real protocol under a sensor of known power, as users run them.

In-process runs drive the protocol with the meter's fake clock: every predict call (or training
step) takes exactly ``CALL_S`` seconds and draws ``BUSY_W`` on top of ``IDLE_W``, read by an
in-test counter backend, so every figure the CLI prints and writes is known exactly. Real
processes (the ONNX sample model) cover the terminal, the progress bar and ``greenai demo``.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_backends import FakeCounterBackend
from greenai_cli_runner import greenai
from numpy_models import LinearFormat, LinearModel, LinearTrainer, install, random_linear, separable
from PIL import Image

from greenai_core import hookimpl
from greenai_core.cli import main
from greenai_core.cli.profile_summary import figure
from greenai_core.cli.progress import Progress
from greenai_core.data import DATA, sample_model_path
from greenai_core.energy import counters
from greenai_core.plugins import Registry
from greenai_core.profiling import windows
from greenai_core.testing import FakeClock, fake_clock

IDLE_W = 10.0
BUSY_W = 30.0
CALL_S = 0.5
SAMPLE_ONNX = str(sample_model_path())


class SteadySensor(FakeCounterBackend):
    """package-0: IDLE_W all the time plus BUSY_W while a model computes (the test's model says when)."""

    name = "steady"
    busy_j = 0.0

    def __init__(self) -> None:
        super().__init__(["package-0"], name="steady")

    def read(self) -> dict[str, float]:  # type: ignore[override]
        return {"package-0": IDLE_W * counters._now() + SteadySensor.busy_j}


@pytest.fixture
def clock(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    """The numpy model format and the steady sensor installed; each forward takes CALL_S on the fake clock."""
    install(registry)
    registry.add_plugin(types.SimpleNamespace(register_energy_backends=hookimpl(lambda register: register(
        SteadySensor))), "steady-tests")
    SteadySensor.busy_j = 0.0
    with fake_clock() as fake:
        monkeypatch.setattr(windows, "sleep", fake.advance)
        forward = LinearModel._forward

        def timed_forward(self: LinearModel, batch: np.ndarray) -> np.ndarray:
            fake.advance(CALL_S)
            SteadySensor.busy_j += BUSY_W * CALL_S
            return forward(self, batch)

        monkeypatch.setattr(LinearModel, "_forward", timed_forward)
        yield fake


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return random_linear(tmp_path / "m.lin", shape=(3, 2, 2))


def profile(*args: str) -> int:
    return main(["profile", *args, "--backend", "steady"])


def exit_code(*argv: str) -> int:
    """main()'s exit status, whether it returns it or argparse exits with it."""
    try:
        return main(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)


def valid(report: dict[str, Any]) -> dict[str, Any]:
    """``report``, after checking it against the JSON Schema the core ships for its kind."""
    import jsonschema

    schema = json.loads((DATA / "schemas" / f"{report['kind']}-report-1.json").read_text())
    jsonschema.validate(report, schema)
    return report


def stat(mean: float, n: int) -> dict[str, Any]:
    return {"mean": pytest.approx(mean), "std": pytest.approx(0.0, abs=1e-9), "ci95_low": pytest.approx(mean),
            "ci95_high": pytest.approx(mean), "n": n, "method": "student-t"}


# -- the figures, the summary and the files ----------------------------------------------------------------


def test_profile_prints_and_writes_the_exact_figures_of_a_known_power(
        clock: FakeClock, model_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Batch 2, 4 calls per repeat, 3 repeats: 40 W x 0.5 s per call / 2 inferences = 10 J gross, 7.5 J net."""
    out = tmp_path / "r.json"
    code = profile(str(model_file), "--random", "--batch-size", "2", "--runs", "4", "--repeats", "3",
                   "--warmup", "1", "--baseline", "2", "--json", str(out), "--carbon-intensity", "360",
                   "--pue", "1.5")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = valid(json.loads(out.read_text()))
    assert report["complete"] is True and report["kind"] == "inference"
    assert [r["energy_j"] for r in report["repeats"]] == pytest.approx([80.0] * 3)
    stats = report["stats"]
    assert stats["energy_per_inference_j"] == stat(10.0, 3)
    assert stats["net_energy_per_inference_j"] == stat(7.5, 3)
    assert stats["wh_per_1000_inferences"]["mean"] == pytest.approx(10.0 / 3.6)
    assert stats["latency_s"] == stat(0.5, 3)
    assert stats["throughput_per_s"] == stat(4.0, 3)
    assert stats["g_co2_per_inference"]["mean"] == pytest.approx(10.0 / 3.6e6 * 360 * 1.5)
    assert report["baseline"]["power_w"] == pytest.approx(IDLE_W)
    assert report["settings"] == {**report["settings"], "batch_size": 2, "runs": 4, "inferences_per_repeat": 8,
                                  "warmup": 1, "repeats": 3, "baseline_s": 2.0, "backends": ["steady"],
                                  "runs_chosen_by": "option"}
    lines = captured.out.splitlines()
    assert f"model                 {model_file} (linear on cpu, 26 parameters)" in lines
    assert "inputs                random, [2, 3, 2, 2] float32 (seed 0)" in lines
    assert ("protocol              3 repeats x 8 inferences (4 predict calls of batch 2, fixed by --runs); "
            "warm-up: 1 predict call") in lines
    assert "energy per inference  10 ± 0 J   2.778 ± 0 Wh per 1,000 inferences" in lines
    assert "  net of idle         7.5 ± 0 J   2.083 ± 0 Wh per 1,000 inferences" in lines
    assert "latency               500 ± 0 ms per predict call" in lines
    assert "throughput            4 ± 0 inferences/s" in lines
    assert "carbon                0.0015 ± 0 g CO2e per inference (360 g/kWh, PUE 1.5, given by you)" in lines
    assert "method                measured by steady" in lines
    assert "baseline              10 W idle, measured over 2 s before the run" in lines
    assert f"JSON report: {out}" in lines
    assert "± is the half-width of the 95 % confidence interval over the 3 repeats." in lines


def test_the_summary_shows_the_interval_half_width_in_the_means_unit() -> None:
    spread = {"mean": 1.2e-3, "std": 1e-4, "ci95_low": 1.1e-3, "ci95_high": 1.3e-3, "n": 5, "method": "student-t"}
    from greenai_core.cli.output import joules

    assert figure(spread, joules) == "1.2 ± 0.1 mJ"
    assert figure({**spread, "ci95_low": 0.0, "ci95_high": 3.2e-3}, joules) == "1.2 ± 2 mJ"  # the low end cut at 0
    assert figure({**spread, "n": 1, "method": "single run"}, joules) == "1.2 mJ (one value: no spread)"
    assert figure({**spread, "mean": float("nan")}, joules) == "invalid"
    assert figure(None, joules) == "-"


def test_profile_on_image_files_and_a_folder_uses_one_batch_of_them(
        clock: FakeClock, model_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    for name in ("b.png", "a.png", "c.jpg"):
        Image.new("RGB", (2, 2), (10, 20, 30)).save(folder / name)
    (folder / "notes.txt").write_text("not an image")
    assert profile(str(model_file), "--images", str(folder), "--batch-size", "2", "--runs", "1", "--repeats", "1",
                   "--warmup", "0", "--baseline", "0") == 0
    out = capsys.readouterr().out
    assert f"2 images ({folder / 'a.png'} ... {folder / 'b.png'})" in out
    assert "baseline              none (--baseline 0): net figures not computed" in out
    assert profile(str(model_file), str(folder / "c.jpg"), "--batch-size", "3", "--runs", "1", "--repeats", "1",
                   "--warmup", "0", "--baseline", "0") == 0
    assert f"inputs                {folder / 'c.jpg'}, repeated to fill the batch of 3" in capsys.readouterr().out


def test_csv_and_html_reports_are_written_from_the_same_report(
        clock: FakeClock, model_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv, html, js = tmp_path / "r.csv", tmp_path / "r.html", tmp_path / "r.json"
    assert profile(str(model_file), "--runs", "2", "--repeats", "2", "--warmup", "1", "--baseline", "1",
                   "--csv", str(csv), "--html", str(html), "--json", str(js)) == 0
    from greenai_core.profiling.csv_report import to_csv_rows
    from greenai_core.profiling.html_report import to_html

    report = json.loads(js.read_text())
    lines = capsys.readouterr().out.splitlines()
    assert [f"JSON report: {js}", f"CSV report: {csv}", f"HTML report: {html}"] == lines[-3:]
    assert csv.read_text().count("\n") == len(to_csv_rows(report)) + 1  # a header and one line per row
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert page.split("created")[0] == to_html(report).split("created")[0]


def test_json_to_stdout_moves_the_summary_to_stderr(
        clock: FakeClock, model_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert profile(str(model_file), "--runs", "1", "--repeats", "2", "--warmup", "1", "--baseline", "0",
                   "--json", "-") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["stats"]["energy_per_inference_j"]["mean"] == pytest.approx(40.0 * CALL_S)
    assert "energy per inference  20 ± 0 J" in captured.err


# -- Ctrl-C ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("interrupted_call", "finished"), [(7, [1]), (1, [])])
def test_ctrl_c_writes_the_finished_repeats_to_every_output_and_exits_130(
        clock: FakeClock, model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], interrupted_call: int, finished: list[int]) -> None:
    """A KeyboardInterrupt in a predict call: the 7th (warm-up 1 and repeat 1 of 4 calls done), or the warm-up's."""
    timed = LinearModel._forward
    calls = [0]

    def interrupted(self: LinearModel, batch: np.ndarray) -> np.ndarray:
        calls[0] += 1
        if calls[0] == interrupted_call:
            raise KeyboardInterrupt
        return timed(self, batch)

    monkeypatch.setattr(LinearModel, "_forward", interrupted)
    js, csv, html = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "r.html"
    code = profile(str(model_file), "--runs", "4", "--repeats", "3", "--warmup", "1", "--baseline", "0",
                   "--json", str(js), "--csv", str(csv), "--html", str(html))
    captured = capsys.readouterr()
    assert code == 130
    report = valid(json.loads(js.read_text()))
    assert report["complete"] is False and report["interrupted"] == "KeyboardInterrupt"
    assert [r["index"] for r in report["repeats"]] == finished
    if finished:
        assert report["stats"]["energy_per_inference_j"]["mean"] == pytest.approx(40.0 * CALL_S)
    else:
        assert report["stats"] is None
    assert csv.stat().st_size > 0 and html.read_text().startswith("<!DOCTYPE html>")
    assert f"protocol              {len(finished)} of 3 repeats" in captured.out
    assert (f"warning: incomplete (KeyboardInterrupt): the figures cover the {len(finished)} repeats finished"
            in captured.out)
    assert "greenai: interrupted; the finished repeats are in the report, marked incomplete" in captured.err


def test_ctrl_c_in_training_writes_the_finished_epoch_and_saves_nothing(
        clock: FakeClock, model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    step, steps = LinearTrainer.step, [0]

    def interrupted(self: LinearTrainer, images: np.ndarray, labels: np.ndarray) -> Any:
        steps[0] += 1
        if steps[0] == 4:  # 2 steps per epoch: the second epoch's second step
            raise KeyboardInterrupt
        return step(self, images, labels)

    monkeypatch.setattr(LinearTrainer, "step", interrupted)
    data, js, saved = image_folder(tmp_path / "data", 8), tmp_path / "t.json", tmp_path / "trained.lin"
    code = main(["train", str(model_file), "--data", str(data), "--epochs", "3", "--batch-size", "4",
                 "--baseline", "0", "--backend", "steady", "--save-to", str(saved), "--json", str(js)])
    captured = capsys.readouterr()
    assert code == 130
    report = json.loads(js.read_text())
    assert report["complete"] is False and [e["epoch"] for e in report["epochs"]] == [1]
    assert report["steps"]["count"] == 3
    assert not saved.exists() and "model saved" not in captured.out
    assert "warning: incomplete (KeyboardInterrupt): the figures cover the 1 epochs finished" in captured.out
    assert "greenai: interrupted; the finished part is in the report, marked incomplete" in captured.err


def image_folder(root: Path, count: int) -> Path:
    """``count`` 2 x 2 images in two class folders (the separable set, as PNG)."""
    images, labels = separable(count)
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        (root / f"class{label}").mkdir(parents=True, exist_ok=True)
        pixels = ((np.clip(image, -1, 1) + 1) * 127).astype(np.uint8).transpose(1, 2, 0)
        Image.fromarray(pixels).save(root / f"class{label}" / f"{i}.png")
    return root


# -- refused before anything runs ----------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (["--runs", "0"], "argument --runs: must be at least 1, not 0"),
    (["--runs", "3", "--min-duration", "1"], "argument --min-duration: not allowed with argument --runs"),
    (["--repeats", "two"], "argument --repeats: 'two' is not a whole number"),
    (["--baseline", "-1"], "argument --baseline: must be a finite number, 0 or more, not -1"),
    (["--min-duration", "inf"], "argument --min-duration: must be a finite number above 0, not inf"),
    (["--carbon-intensity", "nan"], "argument --carbon-intensity: must be a finite number, 0 or more, not nan"),
    (["--carbon-intensity", "100", "--pue", "0.9"], "argument --pue: must be a finite number, 1 or more"),
    (["--pue", "1.2"], "--pue applies to the carbon figure: give --carbon-intensity too"),
    (["--warmup", "0"], "--warmup 0 needs --runs N"),
    (["IMG.png", "--random"], "give one source of inputs, not IMAGE arguments and --random"),
    (["--images", "NOWHERE"], "NOWHERE: no such folder"),
    (["--images", "EMPTY"], "EMPTY: no image files in the folder"),
    (["--json", "NOWHERE/r.json"], "NOWHERE/r.json: cannot write, folder NOWHERE does not exist"),
    (["--csv", "EMPTY"], "EMPTY: is a directory; give a file path"),
    (["--json", "same.out", "--html", "same.out"], "--json and --html name the same file same.out"),
])
def test_bad_arguments_are_one_line_exit_2_and_nothing_runs(
        clock: FakeClock, model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "EMPTY").mkdir()
    loads, reads = LinearFormat.loads, clock.t
    code = exit_code("profile", str(model_file), *args, "--backend", "steady")
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and message in err, err
    assert LinearFormat.loads == loads and clock.t == reads  # no model loaded, no time measured
    assert sorted(p.name for p in tmp_path.iterdir()) == ["EMPTY", "m.lin"]  # nothing written


def test_train_refuses_bad_options_and_paths_before_loading(
        clock: FakeClock, model_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    (data / "cat").mkdir(parents=True)
    Image.new("RGB", (2, 2)).save(data / "cat" / "1.png")
    loads = LinearFormat.loads
    assert main(["train", str(model_file), "--data", str(tmp_path / "none")]) == 2
    assert "none: not a folder of class subfolders" in capsys.readouterr().err
    assert main(["train", str(model_file), "--data", str(data), "--save-to", str(tmp_path / "no" / "m.lin")]) == 2
    assert "cannot write, folder" in capsys.readouterr().err
    assert main(["train", str(model_file), "--data", str(data), "--save-to", "/dev/null"]) == 2
    assert "/dev/null: is not a regular file" in capsys.readouterr().err
    for bad in (["--optimizer", "rmsprop"], ["--epochs", "0"], ["--lr", "0"]):
        assert exit_code("train", str(model_file), "--data", str(data), *bad) == 2
        assert capsys.readouterr().err.count("\n") == 1
    assert LinearFormat.loads == loads


def test_train_prints_energy_per_epoch_step_and_sample_and_saves(
        clock: FakeClock, model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """8 images, batch 4, 2 epochs: each step takes CALL_S at 40 W, so 20 J per step, 5 J per sample, 40 J per epoch."""
    step = LinearTrainer.step

    def timed_step(self: LinearTrainer, images: np.ndarray, labels: np.ndarray) -> Any:
        clock.advance(CALL_S)
        SteadySensor.busy_j += BUSY_W * CALL_S
        return step(self, images, labels)

    monkeypatch.setattr(LinearTrainer, "step", timed_step)
    data = image_folder(tmp_path / "data", 8)
    js, saved = tmp_path / "t.json", tmp_path / "trained.lin"
    code = main(["train", str(model_file), "--data", str(data), "--epochs", "2", "--batch-size", "4",
                 "--optimizer", "sgd", "--lr", "0.1", "--seed", "1", "--baseline", "0", "--backend", "steady",
                 "--save-to", str(saved), "--json", str(js)])
    out = capsys.readouterr().out
    assert code == 0
    report = valid(json.loads(js.read_text()))
    assert report["kind"] == "training" and report["complete"] is True
    assert [e["steps"] for e in report["epochs"]] == [2, 2] and report["steps"]["count"] == 4
    assert saved.is_file()
    assert f"data               {data} (8 images, 2 classes)" in out
    assert "training           2 epochs, 4 steps, batch 4, sgd lr 0.1" in out
    assert report["stats"]["energy_per_step_j"] == stat(20.0, 4)
    assert report["stats"]["energy_per_epoch_j"] == stat(40.0, 2)
    assert report["stats"]["energy_per_sample_j"] == stat(5.0, 4)
    assert "energy per epoch   40 ± 0 J" in out
    assert "energy per step    20 ± 0 J" in out
    assert "energy per sample  5 ± 0 J   1.389 ± 0 Wh per 1,000 samples" in out
    assert f"model saved: {saved}" in out
    assert f"JSON report: {js}" in out


# -- terminals and real processes ----------------------------------------------------------------------------


class _Terminal:
    """A text stream that says it is a terminal."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> int:
        self.text += s
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_the_bar_is_drawn_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.delenv("GREENAI_NO_PROGRESS", raising=False)
    pipe = io.StringIO()
    with Progress(3, "profiling", stream=pipe) as bar:  # type: ignore[arg-type]
        bar.advance()
        bar.note("repeat 1")
    assert not bar.shown and pipe.getvalue() == ""
    tty = _Terminal()
    with Progress(3, "profiling", stream=tty) as bar:  # type: ignore[arg-type]
        assert bar.shown
        bar.advance()
        bar.note("repeat 1")
    assert "profiling" in tty.text and "1/3" in tty.text and "repeat 1" in tty.text
    monkeypatch.setenv("GREENAI_NO_PROGRESS", "1")
    assert not Progress(3, "profiling", stream=_Terminal()).shown  # type: ignore[arg-type]


def test_demo_refuses_an_unwritable_report_before_running(tmp_path: Path) -> None:
    for bad, message in ((["--html", str(tmp_path / "no" / "demo.html")], "cannot write, folder"),
                         (["--json", str(tmp_path)], "is a directory; give a file path")):
        done = greenai("demo", *bad, cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and message in done.stderr
        assert done.stdout == "" and list(tmp_path.iterdir()) == []


def test_demo_without_the_onnx_plugin_says_what_to_install(tmp_path: Path) -> None:
    done = greenai("demo", cwd=tmp_path, env={"GREENAI_DISABLE_PLUGINS": "onnx"})
    assert done.returncode == 2 and "ONNX plugin is not installed" in done.stderr
    assert not (tmp_path / "greenai-demo.html").exists()


def test_help_lists_the_three_commands() -> None:
    done = greenai("--help")
    assert all(name in done.stdout for name in ("profile", "train", "demo"))


def test_wh_per_1000_reads_with_a_prefix_not_an_exponent() -> None:
    from greenai_core.cli.profile_summary import energy_line, watt_hours

    assert [watt_hours(v) for v in (2.7778, 0.0001092, 4.2e-8, 0.0, 1234.5)] == [
        "2.778 Wh", "109.2 uWh", "42 nWh", "0 Wh", "1.234 kWh"]
    stat = {"mean": 0.0001092, "std": 2e-5, "ci95_low": 0.0000822, "ci95_high": 0.0001362, "n": 5,
            "method": "student-t"}
    joule = {**stat, "mean": 0.393, "ci95_high": 0.49}
    assert energy_line("energy", joule, stat, "inferences") == (
        "energy", "393 ± 97 mJ   109.2 ± 27 uWh per 1,000 inferences")
