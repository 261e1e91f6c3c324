"""The seed README's DLModelFactory example, and the original model energy methods under each profiler name.

The figures come from the profiling protocol in a world of known power (``profiling_world``): one
forward pass takes 1/128 s at 10 W on each of two domains, a training step 0.5 s; so energy per
inference is 2 x 10 W x 1/128 s = 0.15625 J, per step 10 J, then given in each profiler's unit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from numpy_models import separable
from PIL import Image
from profiling_world import world_of

from greenai_core import compat
from greenai_core.plugins import Registry

#: The seed README's CNN example; only the import and the two paths are changed.
SEED_MODEL_EXAMPLE = """
from greenai_core.compat import DLModelFactory

path_to_the_model = "path/to/the/model.onnx"

factory = DLModelFactory()
# The predefined format are :
# ".pt", ".pt" saved with jit, ".onnx", ".h5" and TensorFlow SavedModels (ending with "/")
factory.register_predefined_formats()

model_constructor = factory.get_model(path_to_the_model)
model = model_constructor(path_to_the_model,enable_GPU=False)
n = model.get_number_of_parameters()
print("My model has ",n,"parameters.")
output = model.run("path/to/an/image")
"""

#: Joules -> the profiler's unit, by hand (Codecarbon at 400 g CO2e/kWh and PUE 1).
IN_UNIT = {"PyJoulesProfiler": 1e6, "PerfProfiler": 1.0, "LikwidProfiler": 1.0, "NvidiaProfiler": 1.0,
           "EnergyUsageProfiler": 1 / 3.6e6, "CodecarbonProfiler": 400 / 3.6e6 / 1000}


@pytest.mark.parametrize("name", sorted(IN_UNIT))
def test_the_seed_model_example_and_the_original_energy_methods_under_each_profiler(
        name: str, registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "image.png"
    Image.new("RGB", (4, 4), (200, 10, 10)).save(image)
    with world_of(registry, tmp_path, monkeypatch) as (w, _):
        model_path = str(tmp_path / "m.clk")
        namespace: dict[str, object] = {}
        exec(SEED_MODEL_EXAMPLE.replace("path/to/the/model.onnx", model_path)  # noqa: S102 - our own text
             .replace("path/to/an/image", str(image)), namespace)
        model = namespace["model"]
        assert namespace["n"] == 3 * 2 * 2 * 2 + 2  # a linear 12 -> 2 classifier
        assert capsys.readouterr().out == "My model has  26 parameters.\n"
        assert namespace["output"].shape == (1, 2)  # type: ignore[attr-defined]

        cls = getattr(compat, name)
        extra = {"carbon_intensity": 400} if name == "CodecarbonProfiler" else {}
        profiler = cls(0.1, backends=[w.backend], **extra)
        per_inference = model.inference_energy_consumption(profiler, 0.25, str(image), safe_delay=0.5)  # type: ignore[attr-defined]
        assert per_inference == pytest.approx(0.15625 * IN_UNIT[name], rel=1e-12)
        per_step = model.training_energy_consumption(profiler, 60, separable(8), None, safe_delay=0,  # type: ignore[attr-defined]
                                                     batch_size=4, number_of_epochs=1)
        assert per_step == pytest.approx(10.0 * IN_UNIT[name], rel=1e-12)
        if name in ("PerfProfiler", "LikwidProfiler", "NvidiaProfiler"):  # joules: exact
            assert (per_inference, per_step) == (0.15625, 10.0)
