"""The original greenAI names on models from compat's factory, computed by the profiling protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy_models import separable
from profiling_world import world_of

from greenai_core.compat import DLModelFactory
from greenai_core.errors import UsageError
from greenai_core.plugins import Registry


def test_energy_per_inference_and_per_step_through_the_original_factory(
        registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with world_of(registry, tmp_path, monkeypatch) as (w, _):
        factory = DLModelFactory()
        factory.register_predefined_formats()
        path = str(tmp_path / "m.clk")
        model = factory.get_model(path)(path, enable_GPU=False)
        joules = model.inference_energy_consumption(np.ones((2, 3, 2, 2), np.float32), batch_size=2, runs=8,
                                                    warmup=1, repeats=2, baseline_s=0, backends=[w.backend],
                                                    timeline=False)
        assert joules == 2 * w.busy_w * w.forward_s / 2  # two domains at busy_w, two inferences per call
        per_step = model.training_energy_consumption(separable(8), epochs=1, batch_size=4, baseline_s=0,
                                                     backends=[w.backend], timeline=False)
        assert per_step == 2 * w.busy_w * w.step_s


def test_the_original_signatures_with_a_profiler_duration_and_safe_delay(
        registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The original greenAI: ``(profiler, test_duration, input_data, safe_delay=5)`` and
    ``(profiler, test_duration, train_data_path, test_data_path, safe_delay=5, batch_size=, number_of_epochs=)``."""
    from greenai_core.compat import EnergyProfiler

    with world_of(registry, tmp_path, monkeypatch) as (w, _):
        factory = DLModelFactory()
        factory.register_predefined_formats()
        path = str(tmp_path / "m.clk")
        model = factory.get_model(path)(path, enable_GPU=False)
        profiler = EnergyProfiler(backends=[w.backend])
        began = w.clock.t
        joules = model.inference_energy_consumption(profiler, 0.25, np.ones((1, 3, 2, 2), np.float32), safe_delay=1.0)
        assert joules == 2 * w.busy_w * w.forward_s
        # safe_delay measured as a 1 s baseline; 0.25 s over 5 repeats: >= 0.05 s each, 7 calls of 1/128 s; warm-up
        # 10, then timing chunks of 1, 2, 4, 8 calls (8/128 s is the first to last a whole 0.05 s window)
        assert w.events.count("forward") == 10 + 15 + 5 * 7
        assert w.clock.t - began == 1.0 + 60 * w.forward_s
        assert w.events[:2] == ["sync", "sync"]  # the baseline's window, before any forward pass

        w.events.clear()
        per_step = model.training_energy_consumption(profiler, 60, separable(8), separable(8, seed=2), safe_delay=0,
                                                     batch_size=4, number_of_epochs=2, print_every=5)
        assert per_step == 2 * w.busy_w * w.step_s
        assert w.events.count("step") == 4 and w.events.count("forward") == 4  # 2 validation batches per epoch

        with pytest.raises(UsageError, match="needs input_data"):
            model.inference_energy_consumption(profiler, 1.0)
        with pytest.raises(UsageError, match="scheduler is not supported"):
            model.training_energy_consumption(profiler, 1.0, separable(8), None, scheduler=object())
        with pytest.raises(UsageError, match="test_duration must be"):
            model.inference_energy_consumption(profiler, float("nan"), np.ones((1, 3, 2, 2), np.float32))


def test_the_original_form_never_returns_a_bare_number_it_cannot_stand_behind(
        registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from greenai_core.compat import PerfProfiler

    with world_of(registry, tmp_path, monkeypatch) as (w, _):
        factory = DLModelFactory()
        factory.register_predefined_formats()
        path = str(tmp_path / "m.clk")
        model = factory.get_model(path)(path, enable_GPU=False)
        profiler = PerfProfiler(0.1, backends=[w.backend])
        w.backend.fail_with = OSError("the sensor vanished")
        with pytest.warns(RuntimeWarning, match="inference_energy_consumption: nothing could be read: the 0 is no "
                                                "measurement"):
            assert model.inference_energy_consumption(profiler, 0.05, np.ones((1, 3, 2, 2), np.float32),
                                                      safe_delay=0) == 0.0
        with pytest.warns(RuntimeWarning, match="training_energy_consumption: nothing could be read"):
            assert model.training_energy_consumption(profiler, 1, separable(8), None, safe_delay=0,
                                                     batch_size=4) == 0.0


def test_a_partial_repeat_in_the_original_form_is_said(registry: Registry, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from greenai_core.compat import LikwidProfiler

    with world_of(registry, tmp_path, monkeypatch) as (w, _):
        factory = DLModelFactory()
        factory.register_predefined_formats()
        path = str(tmp_path / "m.clk")
        model = factory.get_model(path)(path, enable_GPU=False)
        reads = 0
        real_read = w.backend.read

        def read_failing_once() -> Any:
            nonlocal reads
            reads += 1
            if reads == 4:  # the second repeat's end: that repeat is partial, the others are whole
                raise OSError("a transient sensor fault")
            return real_read()

        monkeypatch.setattr(w.backend, "read", read_failing_once)
        with pytest.warns(RuntimeWarning, match="inference_energy_consumption: some repeats are partial"):
            energy = model.inference_energy_consumption(LikwidProfiler(0.1, backends=[w.backend]), 0.05,
                                                        np.ones((1, 3, 2, 2), np.float32), safe_delay=0)
        assert 0 < energy <= 2 * w.busy_w * w.forward_s
