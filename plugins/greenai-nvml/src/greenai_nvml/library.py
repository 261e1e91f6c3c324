"""The NVML library, initialised once per process (thread-safe) and shut down at exit.

``pynvml`` (from the ``nvidia-ml-py`` distribution) is imported here, on first use, never
at plugin discovery. A failure to initialise is not kept: the next probe tries again (a
driver loaded later is found).
"""

from __future__ import annotations

import atexit
import sys
import threading
from typing import Any

#: The file pynvml loads on Linux (``ctypes.CDLL``), and nothing else does.
LINUX_LIBRARY = "libnvidia-ml.so.1"

#: One human line per NVML error met while starting, by the name of pynvml's error class.
_INIT_REASONS = {
    "NVMLError_LibraryNotFound": "the NVML library (libnvidia-ml.so.1) was not found: no NVIDIA driver is "
                                 "installed here",
    "NVMLError_DriverNotLoaded": "the NVIDIA driver is not loaded (no NVIDIA GPU, or the kernel module failed)",
    "NVMLError_NoPermission": "permission denied opening the NVIDIA device files (/dev/nvidia*): add the user "
                              "to their group (often 'video') or run with access to them",
    "NVMLError_LibRmVersionMismatch": "the NVML library and the loaded NVIDIA driver differ in version (a driver "
                                      "update without a reboot?)",
    "NVMLError_FunctionNotFound": "the NVIDIA driver is too old for this NVML function",
}


class NvmlUnavailable(Exception):
    """NVML cannot be used here; the message is one line saying why."""


def describe_error(exc: BaseException) -> str:
    """An NVML error as one line: its class name and text (``NVMLError_GpuIsLost: GPU is lost``)."""
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def init_reason(exc: BaseException) -> str:
    """Why NVML could not start, for a probe."""
    reason = _INIT_REASONS.get(type(exc).__name__)
    return reason if reason else f"NVML could not start ({describe_error(exc)})"


def _check_library_file() -> None:
    """``NvmlUnavailable`` when the dynamic loader cannot find NVML's library, as pynvml would say.

    Most machines a first measurement runs on have no NVIDIA driver: loading the library the
    way pynvml does (``ctypes.CDLL``) tells that without importing pynvml and its thousands of
    definitions. Where the library loads, pynvml's own load gets the same handle.
    """
    import ctypes

    try:
        ctypes.CDLL(LINUX_LIBRARY)
    except OSError:
        raise NvmlUnavailable(_INIT_REASONS["NVMLError_LibraryNotFound"]) from None


class NvmlLibrary:
    """``pynvml``, after ``nvmlInit``; one per process (``LIBRARY``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._module: Any = None
        self._exit_hook = False
        self._closed = False

    def get(self) -> Any:
        """The initialised ``pynvml`` module; raises ``NvmlUnavailable`` with the reason."""
        module = self._module
        if module is not None:
            return module
        with self._lock:
            if self._module is not None:
                return self._module
            if self._closed:  # a poll during interpreter exit must not start NVML again
                raise NvmlUnavailable("NVML was shut down (the interpreter is exiting)")
            if sys.platform.startswith("linux") and "pynvml" not in sys.modules:
                _check_library_file()  # no driver: said in 4 ms, without importing pynvml (40 ms)
            try:
                import pynvml
            except ImportError as exc:
                raise NvmlUnavailable(f"the nvidia-ml-py package (module pynvml) is not importable: {exc}") from None
            try:
                pynvml.nvmlInit()
            except pynvml.NVMLError as exc:
                raise NvmlUnavailable(init_reason(exc)) from None
            except OSError as exc:  # a broken library file: ctypes' own error
                raise NvmlUnavailable(f"the NVML library could not be loaded: {exc}") from None
            if not self._exit_hook:
                atexit.register(self.shutdown)
                self._exit_hook = True
            self._module = pynvml
            return pynvml

    def shutdown(self) -> None:
        """``nvmlShutdown`` once (at exit); reads after it fail and are contained by the core."""
        with self._lock:
            module, self._module, self._closed = self._module, None, True
        if module is not None:
            try:
                module.nvmlShutdown()
            except Exception:  # noqa: S110 - at exit, nothing to tell and nobody to tell it to
                pass

    def forget(self) -> None:
        """Drop the module without shutting it down (tests that swap ``pynvml`` in ``sys.modules``)."""
        with self._lock:
            self._module, self._closed = None, False


LIBRARY = NvmlLibrary()
