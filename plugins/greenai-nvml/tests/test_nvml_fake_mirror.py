"""The fake pynvml must be nvidia-ml-py's shape, or every test on it proves nothing.

Checked against the real module installed beside it: each fake function exists there with the
same parameters, every ``pynvml`` function the backend calls is both real and faked, and the
error classes are the real ones (the same objects, picked by the real factory).
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from fake_pynvml import FakeGpu, FakeNvml, real

SOURCES = Path(__file__).resolve().parents[1] / "src" / "greenai_nvml"


def _parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_every_fake_function_is_a_real_one_with_the_same_parameters() -> None:
    fake = FakeNvml([]).module
    names = sorted(n for n in vars(fake) if n.startswith("nvml"))
    assert len(names) == 13  # a new fake function is checked here too
    for name in names:
        assert hasattr(real, name), f"{name} is not an nvidia-ml-py function"
        assert _parameters(getattr(fake, name)) == _parameters(getattr(real, name)), name


def test_every_pynvml_function_the_backend_calls_is_real_and_faked() -> None:
    called = set()
    for source in SOURCES.glob("*.py"):
        called |= set(re.findall(r"\bnv\.(nvml\w+)", source.read_text()))
        called |= set(re.findall(r"\bpynvml\.(nvml\w+)", source.read_text()))
    assert {"nvmlInit", "nvmlDeviceGetTotalEnergyConsumption", "nvmlDeviceGetPowerUsage"} <= called
    fake = FakeNvml([]).module
    assert sorted(n for n in called if not hasattr(real, n)) == []
    assert sorted(n for n in called if not hasattr(fake, n)) == []


def test_the_error_classes_are_the_real_factorys() -> None:
    fake = FakeNvml([]).module
    assert fake.NVMLError is real.NVMLError
    for name in ("NVMLError_NotSupported", "NVMLError_GpuIsLost", "NVMLError_LibraryNotFound",
                 "NVMLError_FunctionNotFound", "NVMLError_NoPermission", "NVMLError_DriverNotLoaded"):
        assert getattr(fake, name) is getattr(real, name)
    lost = real.NVMLError(real.NVML_ERROR_GPU_IS_LOST)
    assert type(lost) is real.NVMLError_GpuIsLost and str(lost) == "GPU is lost"


@pytest.mark.parametrize(("function", "unit"), [
    ("nvmlDeviceGetTotalEnergyConsumption", "c_millijoules"),
    ("nvmlDeviceGetPowerUsage", "c_watts"),  # named so, but NVML documents milliwatts
    ("nvmlDeviceGetEnforcedPowerLimit", "c_limit"),
    ("nvmlDeviceGetPowerManagementLimit", "c_limit"),
])
def test_the_real_functions_return_integers_as_the_fake_does(function: str, unit: str) -> None:
    source = inspect.getsource(getattr(real, function))
    assert f"return {unit}.value" in source  # a ctypes integer's value: a Python int, as the fake returns
    gpu = FakeGpu(energy_mj=1, power_mw=2, enforced_limit_mw=3, management_limit_mw=4)
    assert type(getattr(FakeNvml([gpu]).module, function)(gpu)) is int
