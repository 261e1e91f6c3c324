"""profile_inference on a world of known power: exact joules per inference, baseline, attribution, interrupts."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from profiling_world import World, world_of

import greenai_core
from greenai_core.data import DATA
from greenai_core.energy import SCOPE_PROCESS
from greenai_core.errors import UsageError
from greenai_core.plugins import Registry
from greenai_core.profiling import InferenceReport, ProfilingInterrupted, Stat, profile_inference

DOMAINS = 2  # the fake backend's package-0 and dram-0 each draw the world's power


def schema(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((DATA / "schemas" / f"{name}.json").read_text())
    return loaded


def batch(rows: int = 1) -> np.ndarray:
    return np.ones((rows, 3, 2, 2), np.float32)


@pytest.fixture
def world(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with world_of(registry, tmp_path, monkeypatch) as pair:
        yield pair


def test_energy_per_inference_is_power_times_window_over_count(world: tuple[World, object]) -> None:
    w, model = world
    report = profile_inference(model, batch(4), batch_size=4, runs=8, warmup=2, repeats=3, baseline_s=0,
                               backends=[w.backend], timeline=False)
    window_s = 8 * w.forward_s
    per_inference = DOMAINS * w.busy_w * window_s / (8 * 4)
    assert report.complete and report.interrupted is None and report.method == "measured"
    assert [r["inferences"] for r in report.repeats] == [32, 32, 32]
    for r in report.repeats:
        assert r["duration_s"] == window_s
        assert r["energy_j"] == DOMAINS * w.busy_w * window_s
        assert r["energy_j_by_domain"] == {"package-0": w.busy_w * window_s, "dram-0": w.busy_w * window_s}
        assert r["net_energy_j"] is None
    stats = report.stats
    assert stats is not None
    assert stats["energy_per_inference_j"] == Stat(per_inference, 0.0, per_inference, per_inference, 3)
    assert report.energy_per_inference_j == per_inference
    assert stats["wh_per_1000_inferences"].mean == pytest.approx(per_inference * 1000 / 3600, rel=1e-12)
    assert stats["latency_s"].mean == w.forward_s
    assert stats["throughput_per_s"].mean == 4 / w.forward_s
    assert stats["energy_per_inference_j_by_domain"]["dram-0"].mean == per_inference / 2
    assert stats["net_energy_per_inference_j"] is None and stats["g_co2_per_inference"] is None
    assert [p["name"] for p in report.phases] == ["warmup", "repeat 1", "repeat 2", "repeat 3"]


def test_baseline_subtraction_removes_exactly_the_idle_power(world: tuple[World, object]) -> None:
    w, model = world
    report = profile_inference(model, batch(), runs=16, warmup=1, repeats=2, baseline_s=3.0, backends=[w.backend],
                               timeline=False, carbon_intensity=400.0, pue=1.5)
    assert report.baseline is not None
    assert report.baseline["duration_s"] == 3.0
    assert report.baseline["power_w"] == DOMAINS * w.idle_w
    assert report.baseline["power_w_by_domain"] == {"package-0": w.idle_w, "dram-0": w.idle_w}
    window_s = 16 * w.forward_s
    for r in report.repeats:
        assert r["net_energy_j"] == pytest.approx(DOMAINS * (w.busy_w - w.idle_w) * window_s, rel=1e-12)
    stats = report.stats
    assert stats is not None
    net = stats["net_energy_per_inference_j"]
    assert net.mean == pytest.approx(DOMAINS * (w.busy_w - w.idle_w) * w.forward_s, rel=1e-12)
    gross = DOMAINS * w.busy_w * w.forward_s
    assert stats["g_co2_per_inference"].mean == pytest.approx(gross / 3.6e6 * 400.0 * 1.5, rel=1e-12)
    assert report.carbon == {"intensity_g_per_kwh": 400.0, "pue": 1.5, "note": "given by the user, never looked up"}
    assert report.phases[0] == {"name": "baseline", "start_s": 0.0, "end_s": 3.0}


def test_a_run_below_the_baseline_is_clamped_at_zero_with_a_warning(world: tuple[World, object]) -> None:
    w, model = world
    w.busy_w = 1.0  # less than the idle 2 W
    report = profile_inference(model, batch(), runs=4, warmup=1, repeats=2, baseline_s=1.0, backends=[w.backend],
                               timeline=False)
    assert [r["net_energy_j"] for r in report.repeats] == [0.0, 0.0]
    assert any("less than the idle baseline" in x for x in report.warnings)


def test_runs_are_chosen_from_min_duration_and_the_sensors_update_period(
        registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with world_of(registry, tmp_path, monkeypatch, update_period_s=0.0625) as (w, model):
        report = profile_inference(model, batch(), warmup=3, repeats=2, min_duration_s=0.25, baseline_s=0,
                                   backends=[w.backend], timeline=False)
        # window >= max(0.25 s, 10 x 0.0625 s) = 0.625 s at 1/128 s per call: 80 calls
        assert report.settings["runs"] == 80 and report.settings["runs_chosen_by"] == "min_duration_s"
        assert report.repeats[0]["duration_s"] == 0.625
        short = profile_inference(model, batch(), runs=10, warmup=1, repeats=1, baseline_s=0, backends=[w.backend],
                                  timeline=False)
        assert any("shorter than 10 x the slowest sensor's update period" in x for x in short.warnings)
    with world_of(registry, tmp_path, monkeypatch) as (w, model):
        report = profile_inference(model, batch(), warmup=3, repeats=1, min_duration_s=0.5, baseline_s=0,
                                   backends=[w.backend], timeline=False)
        assert report.settings["runs"] == 64


def test_a_slow_warm_up_does_not_choose_short_repeats(registry: Registry, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The warm-up's calls compile and fill caches: N comes from the timing pass after it."""
    with world_of(registry, tmp_path, monkeypatch) as (w, model):
        def faster_after_warm_up() -> None:
            w.events.append("forward")
            w.advance(1 / 128 if w.events.count("forward") <= 4 else 1 / 512, w.busy_w)

        w.forward = faster_after_warm_up  # type: ignore[method-assign]
        report = profile_inference(model, batch(), warmup=4, repeats=1, min_duration_s=0.5, baseline_s=0,
                                   backends=[w.backend], timeline=False)
        # timing: chunks of 1, 2, ..., 128 calls at 1/512 s until one lasts 0.2 s (128/512 = 0.25 s)
        assert report.settings["runs"] == 256 and report.repeats[0]["duration_s"] == 0.5  # 256 x 1/512 s
        assert w.events.count("forward") == 4 + (2 * 128 - 1) + 256
        assert not any("ran shorter than" in x for x in report.warnings)


def test_calls_that_speed_up_after_the_timing_pass_are_said(registry: Registry, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Calls change speed after the timing pass (a GPU heating up, another job ending): short repeats are said."""
    timed = 4 + (1 + 2 + 4 + 8 + 16 + 32)  # the warm-up, then chunks at 1/128 s until 32/128 s >= 0.2 s
    with world_of(registry, tmp_path, monkeypatch) as (w, model):
        original = w.forward

        def slower_after_timing() -> None:
            original()
            if w.events.count("forward") > timed:
                w.advance(1 / 128, w.busy_w)

        w.forward = slower_after_timing  # type: ignore[method-assign]
        report = profile_inference(model, batch(), warmup=4, repeats=1, min_duration_s=0.5, baseline_s=0,
                                   backends=[w.backend], timeline=False)
        assert report.settings["runs"] == 64 and report.repeats[0]["duration_s"] == 1.0  # 64 calls x 1/64 s
        assert not any("ran shorter than" in x for x in report.warnings)  # longer is fine
        w.forward = original  # type: ignore[method-assign]

        def faster_after_timing() -> None:
            w.events.append("forward")
            w.advance(1 / 128 if w.events.count("forward") <= timed else 1 / 512, w.busy_w)

        w.forward = faster_after_timing  # type: ignore[method-assign]
        w.events.clear()
        report = profile_inference(model, batch(), warmup=4, repeats=1, min_duration_s=0.5, baseline_s=0,
                                   backends=[w.backend], timeline=False)
        assert report.settings["runs"] == 64 and report.repeats[0]["duration_s"] == 0.125  # 64 calls x 1/512 s
        assert any("repeat windows ran shorter than the 0.5 s asked (the repeats' calls were faster than the "
                   "timing pass's after the warm-up)" in x for x in report.warnings)


def test_preprocessing_happens_once_outside_every_window(world: tuple[World, object]) -> None:
    w, model = world
    image = str(DATA / "sample.png")
    report = profile_inference(model, [image], batch_size=2, runs=5, warmup=2, repeats=3, baseline_s=1.0,
                               backends=[w.backend], timeline=False)
    # one prepare, before the first window; then each window is sync, its forwards, sync (Meter(sync=model.sync))
    window = ["sync", *["forward"] * 5, "sync"]
    assert w.events == ["prepare", "sync", "sync", "sync", "forward", "forward", "sync", *window * 3]
    assert report.repeats[0]["inferences"] == 10


def test_attribution_by_cpu_time_where_every_counted_domain_is_machine_scoped(world: tuple[World, object]) -> None:
    w, model = world
    w.forward_s = 0.25  # whole clock ticks of the fake /proc/stat per call
    report = profile_inference(model, batch(), runs=64, warmup=1, repeats=2, baseline_s=0, backends=[w.backend],
                               timeline=False)
    for r in report.repeats:
        assert r["cpu_time_s"] == pytest.approx(w.cpu_share * 64 * w.forward_s, rel=1e-12)
        assert r["attributed_energy_j"] == pytest.approx(w.cpu_share * r["energy_j"], rel=1e-9)
    assert report.stats is not None
    assert report.stats["attributed_energy_per_inference_j"].mean == pytest.approx(
        w.cpu_share * DOMAINS * w.busy_w * w.forward_s, rel=1e-9)


def test_no_attribution_for_a_process_scoped_figure(registry: Registry, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with world_of(registry, tmp_path, monkeypatch, scope=SCOPE_PROCESS) as (w, model):
        report = profile_inference(model, batch(), runs=4, warmup=1, repeats=2, baseline_s=1.0,
                                   backends=[w.backend], timeline=False)
    assert [r["attributed_energy_j"] for r in report.repeats] == [None, None]
    assert report.stats is not None and report.stats["attributed_energy_per_inference_j"] is None
    assert any("only this process's CPU time" in x for x in report.warnings)


def test_no_attribution_when_proc_stat_is_unreadable(world: tuple[World, object], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    w, model = world
    from greenai_core.profiling import windows

    monkeypatch.setattr(windows, "PROC_STAT", str(tmp_path / "missing"))
    report = profile_inference(model, batch(), runs=4, warmup=1, repeats=1, baseline_s=0, backends=[w.backend],
                               timeline=False)
    assert report.repeats[0]["attributed_energy_j"] is None
    assert any("unreadable" in x for x in report.warnings)


def test_interrupt_keeps_the_finished_repeats(world: tuple[World, object], tmp_path: Path) -> None:
    w, model = world
    w.interrupt_at_forward = 2 + 2 * 4 + 3  # warm-up 2, repeats 1 and 2 of 4 calls, then mid repeat 3
    with pytest.raises(ProfilingInterrupted) as caught:
        profile_inference(model, batch(), runs=4, warmup=2, repeats=5, baseline_s=0, backends=[w.backend],
                          timeline=False)
    assert isinstance(caught.value, KeyboardInterrupt)
    report = caught.value.report
    assert isinstance(report, InferenceReport)
    assert not report.complete and report.interrupted == "KeyboardInterrupt"
    assert [r["index"] for r in report.repeats] == [1, 2]
    assert [p["name"] for p in report.phases] == ["warmup", "repeat 1", "repeat 2"]
    assert report.stats is not None and report.stats["energy_per_inference_j"].n == 2
    jsonschema.validate(report.to_dict(), schema("inference-report-1"))
    written = report.write_json(tmp_path / "partial.json")
    assert json.loads(written.read_text())["repeats"][1]["index"] == 2


def test_interrupt_before_any_repeat_still_carries_a_valid_report(world: tuple[World, object]) -> None:
    w, model = world
    w.interrupt_at_forward = 1
    with pytest.raises(ProfilingInterrupted) as caught:
        profile_inference(model, batch(), warmup=2, baseline_s=1.0, backends=[w.backend])
    report = caught.value.report
    assert report.repeats == [] and report.stats is None and report.settings["runs"] is None  # type: ignore[attr-defined]
    jsonschema.validate(report.to_dict(), schema("inference-report-1"))


def test_report_json_validates_and_round_trips(world: tuple[World, object]) -> None:
    w, model = world
    report = profile_inference(model, batch(), runs=32, warmup=1, repeats=3, baseline_s=1.0, backends=[w.backend],
                               timeline=True, carbon_intensity=50, pue=1.2)
    data = json.loads(report.to_json())
    jsonschema.validate(data, schema("inference-report-1"))
    assert data["schema"] == "greenai.inference-report/1" and data["kind"] == "inference"
    assert data["environment"]["backends"][0]["scopes"] == {"package-0": "machine", "dram-0": "machine"}
    assert data["environment"]["greenai"] == greenai_core.__version__
    assert data["timeline"] and all(p["backend"] == "fake" for p in data["timeline"])
    assert InferenceReport.from_dict(data) == report
    with pytest.raises(UsageError, match="not a greenai inference report"):
        InferenceReport.from_dict({**data, "schema": "greenai.training-report/1"})


@pytest.mark.parametrize("bad", [{"repeats": 0}, {"runs": 0}, {"warmup": -1}, {"min_duration_s": 0.0},
                                 {"baseline_s": float("nan")}, {"pue": 1.2}, {"carbon_intensity": -1},
                                 {"warmup": 0}, {"batch_size": True}])
def test_bad_settings_are_one_usage_error_before_any_window(world: tuple[World, object],
                                                            bad: dict[str, object]) -> None:
    w, model = world
    with pytest.raises(UsageError):
        profile_inference(model, batch(), backends=[w.backend], **bad)  # type: ignore[arg-type]
    assert "sync" not in w.events


def test_the_public_api_exports_the_protocol() -> None:
    assert greenai_core.profile_inference is profile_inference
    assert greenai_core.ProfilingInterrupted is ProfilingInterrupted


def test_mean_std_and_interval_over_unequal_repeats_equal_a_hand_computation(world: tuple[World, object]) -> None:
    w, model = world
    powers = iter([12.0, 17.0])

    def next_power(repeat: dict[str, object]) -> None:
        w.busy_w = next(powers, w.busy_w)  # repeat 1 at 10 W, repeat 2 at 12 W, repeat 3 at 17 W

    report = profile_inference(model, batch(), runs=8, warmup=1, repeats=3, baseline_s=0, backends=[w.backend],
                               timeline=False, on_repeat=next_power)
    # Per inference (1/128 s, two domains): 2 x 10/128, 2 x 12/128, 2 x 17/128 = 0.15625, 0.1875, 0.265625 J.
    # mean 0.203125; deviations -0.046875, -0.015625, 0.0625; sum of squares 0.00634765625; / (n - 1) = 2:
    # std sqrt(0.003173828125) = 0.0563367387; half-width t(0.975, 2) x std / sqrt(3) = 4.3027 x 0.0325260... =
    # 0.1399497546; the interval [0.0631752454, 0.3430747546].
    assert [r["energy_j"] / r["inferences"] for r in report.repeats] == [0.15625, 0.1875, 0.265625]
    assert report.stats is not None
    energy = report.stats["energy_per_inference_j"]
    assert (energy.mean, energy.n, energy.method) == (0.203125, 3, "student-t")
    assert energy.std == pytest.approx(0.05633673867912483, abs=1e-15)
    assert energy.ci95_low == pytest.approx(0.06317524537651673, abs=1e-15)
    assert energy.ci95_high == pytest.approx(0.34307475462348325, abs=1e-15)
    wh = report.stats["wh_per_1000_inferences"]
    assert wh.mean == pytest.approx(0.203125 / 3.6, abs=1e-15) and wh.std == pytest.approx(0.05633673867912483 / 3.6)
    assert report.stats["energy_per_inference_j_by_domain"]["package-0"].mean == pytest.approx(0.203125 / 2)
    # the same windows' time per call, so latency has no spread
    assert report.stats["latency_s"] == Stat(w.forward_s, 0.0, w.forward_s, w.forward_s, 3)


def test_a_framework_error_in_a_repeat_is_the_model_run_error_predict_raises(
        world: tuple[World, object], monkeypatch: pytest.MonkeyPatch) -> None:
    _, model = world
    calls = {"n": 0}
    real = model._forward  # type: ignore[attr-defined]

    def flaky(batch_: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 5:  # in the first repeat: two warm-up calls come first
            raise RuntimeError("out of memory\nsecond line")
        return real(batch_)  # type: ignore[no-any-return]

    monkeypatch.setattr(model, "_forward", flaky)
    with pytest.raises(greenai_core.ModelRunError) as caught:
        profile_inference(model, batch(), runs=4, warmup=2, repeats=2, baseline_s=0)
    message = str(caught.value)
    assert message.startswith(f"{model.path}: the ")  # type: ignore[attr-defined]
    assert "batch of shape [1, 3, 2, 2]" in message and message.endswith("RuntimeError: out of memory second line")
    assert "\n" not in message and calls["n"] == 5


def test_a_usage_error_inside_the_forward_pass_is_not_rewrapped(
        world: tuple[World, object], monkeypatch: pytest.MonkeyPatch) -> None:
    _, model = world

    def refuses(batch_: np.ndarray) -> np.ndarray:
        raise UsageError("the plugin's own one-line reason")

    monkeypatch.setattr(model, "_forward", refuses)
    with pytest.raises(UsageError, match="^the plugin's own one-line reason$"):
        profile_inference(model, batch(), runs=4, warmup=2, repeats=2, baseline_s=0)


@pytest.mark.parametrize(("intensity", "pue", "message"), [
    (1e308, None, "carbon intensity must be a number of g CO2e per kWh from 0 to 10000"),
    (-1.0, None, "carbon intensity must be a number"),
    (float("nan"), None, "carbon intensity must be a number"),
    (400.0, 11.0, "pue must be a number from 1 to 10, not 11.0"),
    (400.0, 0.9, "pue must be a number from 1 to 10, not 0.9"),
])
def test_carbon_settings_out_of_any_real_range_are_refused(world: tuple[World, object], intensity: float,
                                                           pue: float | None, message: str) -> None:
    _, model = world
    with pytest.raises(UsageError, match=message):
        profile_inference(model, batch(), runs=1, warmup=0, repeats=1, baseline_s=0,
                          carbon_intensity=intensity, pue=pue)
