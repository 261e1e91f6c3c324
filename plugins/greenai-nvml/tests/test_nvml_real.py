"""The real nvidia-ml-py on this machine, the installed entry point, and a light plugin module.

Where no NVIDIA driver is installed (this project's CI), the real library must make the
backend unavailable with its reason, and naming it must be a clear error. On a machine
with a driver the same tests check the other side: the probe finds the GPUs.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
from greenai_nvml.backend import NvmlBackend

import greenai_core
from greenai_core.sdk import Registry

PLUGIN = Path(__file__).resolve().parents[1]


def _driver_installed() -> bool:
    try:
        ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return False
    return True


DRIVER = _driver_installed()


def test_the_real_probe_reports_the_missing_library_with_its_reason() -> None:
    assert "pynvml" not in sys.modules or hasattr(sys.modules["pynvml"], "__file__")  # the real module here
    probe = NvmlBackend().probe()
    if DRIVER:
        assert probe.available or "library" not in probe.reason
    else:
        assert (probe.available, probe.reason) == (
            False, "the NVML library (libnvidia-ml.so.1) was not found: no NVIDIA driver is installed here")


def test_naming_nvml_without_a_driver_is_a_clear_error(registry: Registry) -> None:
    if DRIVER:
        assert greenai_core.Meter(["nvml"]).start().stop().method == "measured"
        return
    with pytest.raises(greenai_core.BackendUnavailableError) as caught:
        greenai_core.Meter(["nvml"]).start()
    message = str(caught.value)
    assert "nvml" in message and "libnvidia-ml.so.1" in message and "\n" not in message


def test_the_default_choice_skips_nvml_with_its_reason(registry: Registry) -> None:
    with greenai_core.measure() as meter:
        pass
    assert meter.result is not None
    if not DRIVER:
        assert [b.name for b in meter.result.backends] == ["estimate"]
        assert any("nvml: the NVML library (libnvidia-ml.so.1) was not found" in w for w in meter.result.warnings)


def test_the_entry_point_is_installed() -> None:
    points = importlib.metadata.entry_points(group="greenai")
    assert [p.value for p in points if p.name == "nvml"] == ["greenai_nvml.plugin"]
    reg = Registry(strict=False)
    assert "nvml" in reg.backend_names()


def test_discovery_and_construction_do_not_import_pynvml() -> None:
    code = ("import sys, greenai_nvml.plugin, greenai_nvml.backend\n"
            "greenai_nvml.backend.NvmlBackend()\n"
            "print('pynvml' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_gpu_check_exits_with_one_line_without_a_gpu() -> None:
    if DRIVER:
        return  # on a GPU machine gpu_check.py is run by hand (it loads the GPU for 10 s)
    done = subprocess.run([sys.executable, str(PLUGIN / "gpu_check.py")], capture_output=True, text=True,
                          timeout=120)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("no NVIDIA GPU: the NVML library (libnvidia-ml.so.1) was not found: no NVIDIA driver is "
                           "installed here\n")


def test_without_a_driver_the_probe_does_not_import_pynvml() -> None:
    code = ("import sys; from greenai_nvml.backend import NvmlBackend; p = NvmlBackend().probe(); "
            "print(p.available, 'pynvml' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == (["True", "True"] if DRIVER else ["False", "False"])


def test_pynvmls_own_missing_library_error_gives_the_same_reason() -> None:
    """With pynvml already imported (another library did it), its nvmlInit is what reports the missing driver."""
    import pynvml
    from greenai_nvml.library import LIBRARY

    assert hasattr(pynvml, "__file__")
    LIBRARY.forget()
    probe = NvmlBackend().probe()
    if not DRIVER:
        assert (probe.available, probe.reason) == (
            False, "the NVML library (libnvidia-ml.so.1) was not found: no NVIDIA driver is installed here")
