"""The original greenAI names on models from compat's factory, computed by the profiling protocol."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy_models import separable
from profiling_world import world_of

from greenai_core.compat import DLModelFactory
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
