"""The original greenAI energy method on a real ONNX model, under each original profiler name.

Units and exact figures are checked in the core's tests (tests/test_compat_*.py, known-power
backends); here a real onnxruntime session goes through the original signature
``inference_energy_consumption(profiler, test_duration, input_data, safe_delay)`` for each name,
read by the estimate (the sensors the names prefer may not exist on a test machine).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from PIL import Image

import greenai_core.compat as compat

NAMES = ["PyJoulesProfiler", "PerfProfiler", "LikwidProfiler", "NvidiaProfiler", "EnergyUsageProfiler",
         "CodecarbonProfiler"]


@pytest.mark.parametrize("name", NAMES)
def test_original_inference_energy_on_a_real_onnx_model(name: str, cnn_path: Path, tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    Image.new("RGB", (32, 32), (120, 80, 40)).save(image)
    factory = compat.DLModelFactory()
    factory.register_predefined_formats()
    model = factory.get_model(str(cnn_path))(str(cnn_path), enable_GPU=False)
    extra = {"carbon_intensity": 300.0} if name == "CodecarbonProfiler" else {}
    profiler = getattr(compat, name)(0.1, backends=["estimate"], **extra)
    energy = model.inference_energy_consumption(profiler, 0.05, str(image), safe_delay=0, repeats=2, warmup=2)
    assert math.isfinite(energy) and energy > 0  # the estimate counts the session's CPU time
    assert profiler.get_unit() == {"PyJoulesProfiler": "uJ", "EnergyUsageProfiler": "kWh",
                                   "CodecarbonProfiler": "kgCO2eq"}.get(name, "J")
