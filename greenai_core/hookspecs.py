"""Every hook a greenai plugin can implement: the plugin author's contract.

A plugin is a module (or object) with functions decorated by ``greenai_core.hookimpl``,
advertised through an entry point in group ``greenai``. Hooks are called with keyword
arguments only; an implementation may accept fewer arguments than the spec names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pluggy import HookimplMarker, HookspecMarker

PROJECT_NAME = "greenai"

hookspec = HookspecMarker(PROJECT_NAME)
hookimpl = HookimplMarker(PROJECT_NAME)


@hookspec
def register_model_formats(register: Callable[[Any], None]) -> None:
    """Register model file formats.

    Call ``register(fmt)`` once per format, with an instance of a subclass of
    ``greenai_core.sdk.ModelFormat``: it declares a unique ``name``, the ``suffixes``
    it claims (a hint only; two formats may share one) and ``sniff(path)``, which looks at
    the content (magic bytes, zip members, folder contents) and says whether it can load it.
    """


@hookspec
def register_energy_backends(register: Callable[[Any], None]) -> None:
    """Register energy backends.

    Call ``register(cls)`` once per backend, with a subclass of
    ``greenai_core.sdk.EnergyBackend``: a unique ``name``, a ``probe()`` that answers
    available, or unavailable with a one-line human reason, and counters the meter reads
    at the edges of each measured window.
    """


@hookspec
def register_reference_models(register: Callable[[Any], None]) -> None:
    """Register reference architectures for ``greenai grade --calibrate``.

    Call ``register(ref)`` once per model, with a ``greenai_core.sdk.ReferenceModel``: a unique
    ``name``, the exact ``parameters`` count, and ``build(folder)``, which writes the model (random
    weights, generated locally, never downloaded) into ``folder`` and returns the file's path.
    Registering must stay cheap: import the framework inside ``build``, not in the hook.
    """
