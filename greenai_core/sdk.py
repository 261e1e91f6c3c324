"""The plugin SDK: everything a format or backend plugin needs, from one place.

Plugins import only from here (``from greenai_core.sdk import ModelFormat, Model, ...``);
the core may move its rooms without breaking them. Names are loaded on first access, so
importing this module from a plugin's entry-point module costs nothing.
See ``docs/plugin-guide.md`` for the contract behind each name.

Adding a name: one line in ``_EXPORTS`` and the same name in the ``TYPE_CHECKING`` block
below it (``Name as Name``: what mypy and IDEs see); ``tests/test_sdk.py`` checks both agree
and that the guide mentions the name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenai_core._lazy import lazy_exports

#: public name -> the core module that defines it
_EXPORTS: dict[str, str] = {
    # hooks
    "hookimpl": "greenai_core.hookspecs",
    # errors
    "GreenAIError": "greenai_core.errors",
    "UsageError": "greenai_core.errors",
    "ModelFormatError": "greenai_core.errors",
    "UnsafeModelError": "greenai_core.errors",
    "UnsupportedOperationError": "greenai_core.errors",
    "DeviceError": "greenai_core.errors",
    "SensorError": "greenai_core.errors",
    "one_line": "greenai_core.errors",
    # energy backends
    "EnergyBackend": "greenai_core.energy.backend",
    "CounterSpec": "greenai_core.energy.backend",
    "ProbeResult": "greenai_core.energy.backend",
    "MEASURED": "greenai_core.energy.backend",
    "ESTIMATED": "greenai_core.energy.backend",
    "CPU": "greenai_core.energy.backend",
    "DRAM": "greenai_core.energy.backend",
    "GPU": "greenai_core.energy.backend",
    "PLATFORM": "greenai_core.energy.backend",
    "COMPONENTS": "greenai_core.energy.backend",
    "SCOPE_MACHINE": "greenai_core.energy.backend",
    "SCOPE_PROCESS": "greenai_core.energy.backend",
    "SCOPES": "greenai_core.energy.backend",
    "meter_clock": "greenai_core.energy.counters",
    # model formats
    "ModelFormat": "greenai_core.models.format",
    "Model": "greenai_core.models.model",
    "InputSpec": "greenai_core.models.spec",
    "TensorSpec": "greenai_core.models.spec",
    "NCHW": "greenai_core.models.spec",
    "NHWC": "greenai_core.models.spec",
    "guess_layout": "greenai_core.models.spec",
    "format_shape": "greenai_core.models.spec",
    "read_head": "greenai_core.models.sniff",
    "is_zip": "greenai_core.models.sniff",
    "zip_names": "greenai_core.models.sniff",
    "zip_has": "greenai_core.models.sniff",
    "dir_has": "greenai_core.models.sniff",
    "open_zip": "greenai_core.models.sniff",
    "check_member": "greenai_core.models.sniff",
    "read_member": "greenai_core.models.sniff",
    "zip_problem": "greenai_core.models.sniff",
    "special_file": "greenai_core.models.sniff",
    "open_regular": "greenai_core.models.sniff",
    "Device": "greenai_core.models.devices",
    "parse_device": "greenai_core.models.devices",
    # training: the framework's primitives; the core owns the loop (greenai_core/models/trainer.py)
    "Trainer": "greenai_core.models.trainer",
    "StepResult": "greenai_core.models.trainer",
    "OPTIMIZERS": "greenai_core.models.trainer",
    "LOSSES": "greenai_core.models.trainer",
    # testing a plugin: a registry of one's own (see docs/plugin-guide.md, "Testing a plugin")
    "Registry": "greenai_core.plugins",
    "set_registry": "greenai_core.plugins",
    # writing results and models: atomic, regular files only (greenai_core/io.py)
    "atomic_write_text": "greenai_core.io",
    "check_writable": "greenai_core.io",
    "atomic_path": "greenai_core.io",
    # models saved as folders (a TensorFlow SavedModel): greenai_core/io_folders.py
    "atomic_folder": "greenai_core.io_folders",
    "check_writable_folder": "greenai_core.io_folders",
    # reference architectures for `greenai grade --calibrate` (hook register_reference_models)
    "ReferenceModel": "greenai_core.grading.architectures",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # type checkers see the real names; at run time __getattr__ loads each on first use
    from greenai_core.energy.backend import (
        COMPONENTS as COMPONENTS,
        CPU as CPU,
        DRAM as DRAM,
        ESTIMATED as ESTIMATED,
        GPU as GPU,
        MEASURED as MEASURED,
        PLATFORM as PLATFORM,
        SCOPE_MACHINE as SCOPE_MACHINE,
        SCOPE_PROCESS as SCOPE_PROCESS,
        SCOPES as SCOPES,
        CounterSpec as CounterSpec,
        EnergyBackend as EnergyBackend,
        ProbeResult as ProbeResult,
    )
    from greenai_core.energy.counters import (
        meter_clock as meter_clock,
    )
    from greenai_core.errors import (
        DeviceError as DeviceError,
        GreenAIError as GreenAIError,
        ModelFormatError as ModelFormatError,
        SensorError as SensorError,
        UnsafeModelError as UnsafeModelError,
        UnsupportedOperationError as UnsupportedOperationError,
        UsageError as UsageError,
        one_line as one_line,
    )
    from greenai_core.grading.architectures import (
        ReferenceModel as ReferenceModel,
    )
    from greenai_core.hookspecs import (
        hookimpl as hookimpl,
    )
    from greenai_core.io import (
        atomic_path as atomic_path,
        atomic_write_text as atomic_write_text,
        check_writable as check_writable,
    )
    from greenai_core.io_folders import (
        atomic_folder as atomic_folder,
        check_writable_folder as check_writable_folder,
    )
    from greenai_core.models.devices import (
        Device as Device,
        parse_device as parse_device,
    )
    from greenai_core.models.format import (
        ModelFormat as ModelFormat,
    )
    from greenai_core.models.model import (
        Model as Model,
    )
    from greenai_core.models.sniff import (
        check_member as check_member,
        dir_has as dir_has,
        is_zip as is_zip,
        open_regular as open_regular,
        open_zip as open_zip,
        read_head as read_head,
        read_member as read_member,
        special_file as special_file,
        zip_has as zip_has,
        zip_names as zip_names,
        zip_problem as zip_problem,
    )
    from greenai_core.models.spec import (
        NCHW as NCHW,
        NHWC as NHWC,
        InputSpec as InputSpec,
        TensorSpec as TensorSpec,
        format_shape as format_shape,
        guess_layout as guess_layout,
    )
    from greenai_core.models.trainer import (
        LOSSES as LOSSES,
        OPTIMIZERS as OPTIMIZERS,
        StepResult as StepResult,
        Trainer as Trainer,
    )
    from greenai_core.plugins import (
        Registry as Registry,
        set_registry as set_registry,
    )

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
