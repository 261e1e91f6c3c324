"""The few exceptions greenai raises on purpose.

Every error a user can cause (a bad file, an unknown backend, a broken plugin) is a
``GreenAIError``: the CLI prints its message as one line and exits non-zero.
"""

from __future__ import annotations


def one_line(exc: BaseException, limit: int = 300) -> str:
    """A framework's (often multi-line) error message as one short line, for our one-line errors."""
    return " ".join(str(exc).split())[:limit] or type(exc).__name__


class GreenAIError(Exception):
    """Base class of every error greenai raises on purpose."""


class UsageError(GreenAIError):
    """Bad arguments or options (CLI usage, invalid values)."""


class PluginError(GreenAIError):
    """A plugin failed to load, its hook raised, or it registered something invalid."""


class BackendUnavailableError(GreenAIError):
    """An energy backend was asked for by name but cannot be read here; carries the probe's reason."""

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"energy backend {backend!r} is unavailable: {reason}")
        self.backend = backend
        self.reason = reason


class SensorError(GreenAIError):
    """A sensor that was available stopped answering or answered nonsense."""


class ModelFormatError(GreenAIError):
    """A model file is missing, unreadable, of no known format, or malformed."""


class UnsafeModelError(ModelFormatError):
    """Loading this model file would run code from it; pass ``trust=True`` only for files you trust."""


class UnsupportedOperationError(GreenAIError):
    """The operation exists in the API but this model format or backend cannot do it."""


class DeviceError(GreenAIError):
    """The requested device (e.g. ``cuda:1``) is not available for this model format."""


class GradeError(UsageError):
    """A report cannot be graded: it holds no energy, no reference exists, or a reference file is bad."""
