"""A fake ``pynvml`` at the module boundary: same function names, units and error classes as nvidia-ml-py.

The error classes and constants are the real module's (``NVMLError(code)`` maps a code to its
``NVMLError_*`` subclass through nvidia-ml-py's own factory), so the backend meets exactly the
exceptions it meets on a real machine; only the functions that talk to the driver are fakes.
Units are nvidia-ml-py's: energy in millijoules (an int), power and limits in milliwatts
(ints), ``nvmlDeviceIsMigDeviceHandle`` a ctypes ``c_uint``.
"""

from __future__ import annotations

import ctypes
import types
from collections.abc import Callable
from dataclasses import dataclass, field

import pynvml as real


def error(code: int) -> real.NVMLError:
    """The exception nvidia-ml-py raises for an NVML return code (its own factory picks the subclass)."""
    return real.NVMLError(code)


@dataclass(eq=False)
class FakeGpu:
    name: str = "NVIDIA H200"
    uuid: str = "GPU-00000000-0000-0000-0000-000000000000"
    energy_mj: int = 0
    power_mw: int = 0
    has_counter: bool = True
    enforced_limit_mw: int | None = 700_000
    management_limit_mw: int | None = 700_000
    #: When set, every energy or power query raises NVMLError(fail_code) (a lost GPU, an Xid).
    fail_code: int | None = None
    migs: list[FakeMig] = field(default_factory=list)

    def add_mig(self, uuid: str) -> FakeMig:
        mig = FakeMig(uuid, self)
        self.migs.append(mig)
        return mig


@dataclass(eq=False)
class FakeMig:
    uuid: str
    parent: FakeGpu


class FakeNvml:
    """The fake driver: GPUs the test moves, and a module to put in ``sys.modules['pynvml']``."""

    def __init__(self, gpus: list[FakeGpu], *, init_code: int | None = None) -> None:
        self.gpus = gpus
        self.init_code = init_code
        self.calls: list[str] = []
        module = types.ModuleType("pynvml")
        for name in dir(real):  # the real error classes, their factory and every NVML_* constant
            if name.startswith(("NVMLError", "NVML_")):
                setattr(module, name, getattr(real, name))
        for name in dir(self):
            if name.startswith("nvml"):
                setattr(module, name, getattr(self, name))
        self.module = module

    def _call(self, name: str) -> None:
        self.calls.append(name)

    def _gpu(self, handle: object) -> FakeGpu:
        if not isinstance(handle, FakeGpu):
            raise error(real.NVML_ERROR_INVALID_ARGUMENT)
        if handle.fail_code is not None:
            raise error(handle.fail_code)
        return handle

    def nvmlInit(self) -> None:
        self._call("nvmlInit")
        if self.init_code is not None:
            raise error(self.init_code)

    def nvmlShutdown(self) -> None:
        self._call("nvmlShutdown")

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeGpu:
        if not 0 <= index < len(self.gpus):
            raise error(real.NVML_ERROR_INVALID_ARGUMENT)
        return self.gpus[index]

    def nvmlDeviceGetHandleByUUID(self, uuid: str) -> FakeGpu | FakeMig:
        for gpu in self.gpus:
            if gpu.uuid == uuid:
                return gpu
            for mig in gpu.migs:
                if mig.uuid == uuid:
                    return mig
        raise error(real.NVML_ERROR_NOT_FOUND)

    def nvmlDeviceGetUUID(self, handle: FakeGpu | FakeMig) -> str:
        return handle.uuid

    def nvmlDeviceGetName(self, handle: FakeGpu) -> str:
        return handle.name

    def nvmlDeviceIsMigDeviceHandle(self, device: object) -> ctypes.c_uint:
        return ctypes.c_uint(1 if isinstance(device, FakeMig) else 0)

    def nvmlDeviceGetDeviceHandleFromMigDeviceHandle(self, migDevice: object) -> FakeGpu:  # noqa: N803 - real name
        if not isinstance(migDevice, FakeMig):
            raise error(real.NVML_ERROR_INVALID_ARGUMENT)
        return migDevice.parent

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: FakeGpu) -> int:
        self._call("nvmlDeviceGetTotalEnergyConsumption")
        gpu = self._gpu(handle)
        if not gpu.has_counter:
            raise error(real.NVML_ERROR_NOT_SUPPORTED)
        return gpu.energy_mj

    def nvmlDeviceGetPowerUsage(self, handle: FakeGpu) -> int:
        self._call("nvmlDeviceGetPowerUsage")
        return self._gpu(handle).power_mw

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: FakeGpu) -> int:
        if handle.enforced_limit_mw is None:
            raise error(real.NVML_ERROR_NOT_SUPPORTED)
        return handle.enforced_limit_mw

    def nvmlDeviceGetPowerManagementLimit(self, handle: FakeGpu) -> int:
        if handle.management_limit_mw is None:
            raise error(real.NVML_ERROR_NOT_SUPPORTED)
        return handle.management_limit_mw


#: The ``install_nvml`` fixture's type (here, not in conftest: ``from conftest import`` depends on collection order).
Install = Callable[..., FakeNvml]
