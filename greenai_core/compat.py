"""The original greenAI API as a thin layer over greenai_core.

The original README's examples run with only their imports changed::

    from greenai_core.compat import PyJoulesProfiler    # or Perf, Likwid, Nvidia, EnergyUsage, Codecarbon
    profiler = PyJoulesProfiler(delay_between_measures)
    total_time, energy_consumed, result = profiler.evaluate(fib, n, show_every_step=True)
    print(..., energy_consumed, profiler.get_unit())

    from greenai_core.compat import DLModelFactory
    factory = DLModelFactory()
    factory.register_predefined_formats()
    model = factory.get_model(path)(path, enable_GPU=False)
    n = model.get_number_of_parameters(); output = model.run("path/to/an/image")
    joules = model.inference_energy_consumption("path/to/an/image")    # per inference, by the profiling protocol
    joules = model.training_energy_consumption("path/to/class/folders")  # per training step
    energy = model.inference_energy_consumption(profiler, 10, "path/to/an/image")  # the original form,
                                                                                   # in profiler.get_unit()

The profiler classes (their sensors, units, fallbacks and extra methods) are in ``compat_profilers``.
Unlike the original, stopping never waits for a sampling tick: counters are read at the
edges. ``delay_between_measures``, when given, only sets the period of the power timeline.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.compat_profilers import (
    CodecarbonProfiler,
    EnergyProfiler,
    EnergyUsageProfiler,
    LikwidProfiler,
    NvidiaProfiler,
    PerfProfiler,
    PyJoulesProfiler,
    SensorProfiler,
)
from greenai_core.errors import ModelFormatError, UnsupportedOperationError, UsageError
from greenai_core.models.loading import load_model
from greenai_core.models.model import Model

if TYPE_CHECKING:
    from greenai_core.profiling.report import ProfilingReport

__all__ = [
    "CodecarbonProfiler", "DLLibrary", "DLModelFactory", "EnergyProfiler", "EnergyUsageProfiler", "LikwidProfiler",
    "NvidiaProfiler", "PerfProfiler", "PyJoulesProfiler", "SensorProfiler", "inference_energy_consumption",
    "training_energy_consumption",
]


def inference_energy_consumption(model: Model, *args: Any, **options: Any) -> float:
    """Joules per inference (gross, the mean over the repeats) of ``model`` on images or an array.

    The original greenAI name, computed by ``profile_inference`` (warm-up, repeats, baseline). Two forms:

    - ``(inputs, **options)``: ``options`` are ``profile_inference``'s keywords (``batch_size``,
      ``runs``, ``repeats``, ``backends``, ``baseline_s``...);
    - the original ``(profiler, test_duration, input_data, safe_delay=5)``: the profiler's backends
      are read; ``test_duration`` seconds of measured work are split over the repeats (each at least
      ``test_duration / repeats``); the original's idle ``safe_delay`` is measured as the baseline;
      the figure is in the profiler's unit (``profiler.get_unit()``: µJ for PyJoulesProfiler...).
    """
    from greenai_core.profiling.inference import profile_inference

    if args and isinstance(args[0], EnergyProfiler):
        profiler, test_duration, inputs, safe_delay = _original_arguments(
            "inference_energy_consumption", args, options, ("test_duration", "input_data", "safe_delay"))
        options.pop("preprocess", None)  # the original's own preprocessing: the model's prepare() does it here
        repeats = options.setdefault("repeats", 5)
        options.setdefault("backends", profiler.backends)
        options.setdefault("baseline_s", safe_delay)
        if options.get("runs") is None:
            options.setdefault("min_duration_s", _seconds(test_duration, "test_duration")
                               / (repeats if isinstance(repeats, int) and repeats > 0 else 1))
        report = profile_inference(model, inputs, **options)
        _warn_if_unsure(report, "inference_energy_consumption",
                        any(r.get("partial") for r in report.repeats))
        return float(profiler.in_unit(report.energy_per_inference_j))
    if len(args) != 1:
        raise UsageError("inference_energy_consumption takes (inputs, **options) or the original "
                         "(profiler, test_duration, input_data, safe_delay=5)")
    return profile_inference(model, args[0], **options).energy_per_inference_j


def training_energy_consumption(model: Model, *args: Any, **options: Any) -> float:
    """Joules per training step (the mean over the steps) of training ``model``; the model is trained in place.

    The original greenAI name, computed by ``profile_training``. Two forms:

    - ``(data, **options)``: ``options`` are its keywords and ``Model.train``'s (``epochs``, ``batch_size``, ``lr``...);
    - the original ``(profiler, test_duration, train_data_path, test_data_path, safe_delay=5, batch_size=...,
      number_of_epochs=..., optimizer=...)``: the profiler's backends are read, ``test_data_path`` is the
      validation set (None or "" for none), ``safe_delay`` is measured as the idle baseline and
      ``number_of_epochs`` (default 1) sets the work: ``test_duration`` is accepted but the epochs decide;
      the figure is in the profiler's unit.
    """
    from greenai_core.profiling.training import profile_training

    if args and isinstance(args[0], EnergyProfiler):
        profiler, _test_duration, data, validation, safe_delay = _original_arguments(
            "training_energy_consumption", args, options,
            ("test_duration", "train_data_path", "test_data_path", "safe_delay"))
        for ignored in ("print_every", "preprocess"):
            options.pop(ignored, None)
        if options.get("scheduler") is not None:
            raise UsageError("training_energy_consumption: scheduler is not supported; give lr (and optimizer)")
        options.pop("scheduler", None)
        if "number_of_epochs" in options:
            options["epochs"] = options.pop("number_of_epochs")
        options.setdefault("backends", profiler.backends)
        options.setdefault("baseline_s", safe_delay)
        if validation not in (None, ""):
            options.setdefault("validation", validation)
        training = profile_training(model, data, **options)
        _warn_if_unsure(training, "training_energy_consumption", False)
        return float(profiler.in_unit(training.energy_per_step_j))
    if len(args) != 1:
        raise UsageError("training_energy_consumption takes (data, **options) or the original "
                         "(profiler, test_duration, train_data_path, test_data_path, safe_delay=5)")
    return profile_training(model, args[0], **options).energy_per_step_j


def _warn_if_unsure(report: ProfilingReport, name: str, partial: bool) -> None:
    """The original form returns a bare number: a profile with no reading, or only a lower bound, says so."""
    if report.method == "none":
        warnings.warn(f"{name}: nothing could be read: the 0 is no measurement ({'; '.join(report.warnings)[:300]})",
                      RuntimeWarning, stacklevel=3)
    elif partial:
        warnings.warn(f"{name}: some repeats are partial (a sensor fault): the figure is a lower bound "
                      f"({'; '.join(report.warnings)[:300]})", RuntimeWarning, stacklevel=3)


#: The original methods' idle wait before measuring (seconds): here it is measured as the idle baseline.
ORIGINAL_SAFE_DELAY_S = 5.0


def _original_arguments(name: str, args: tuple[Any, ...], options: dict[str, Any],
                        names: tuple[str, ...]) -> tuple[Any, ...]:
    """``(profiler, *values of names)`` from the original positional/keyword call; safe_delay defaults to 5 s."""
    values: dict[str, Any] = dict(zip(names, args[1:], strict=False))
    if len(args) - 1 > len(names):
        raise UsageError(f"{name}: too many arguments for the original form (profiler, {', '.join(names)})")
    for key in names:
        if key in options:
            if key in values:
                raise UsageError(f"{name}: {key} given twice")
            values[key] = options.pop(key)
    values.setdefault("safe_delay", ORIGINAL_SAFE_DELAY_S)
    values.setdefault("test_data_path", None)
    missing = [key for key in names if key not in values]
    if missing:
        raise UsageError(f"{name}: the original form needs {', '.join(missing)}")
    return (args[0], *(values[key] for key in names))


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise UsageError(f"{what} must be a finite number of seconds above 0, not {value!r}")
    return float(value)


class DLLibrary:
    """Base class of an original-greenAI-style model class: ``cls(path, enable_GPU=False)``.

    Subclasses implement ``get_number_of_parameters()`` and ``run(image_path)``.
    """

    def __init__(self, path: str, enable_GPU: bool = False) -> None:  # noqa: N803 - the original name
        self.path = path
        self.enable_GPU = enable_GPU

    def get_number_of_parameters(self) -> int:
        raise UnsupportedOperationError(f"{type(self).__name__} does not count parameters")

    def run(self, image_path: str) -> Any:
        raise UnsupportedOperationError(f"{type(self).__name__} cannot run images")


class _InstalledFormat:
    """A constructor the original way, ``ctor(path, enable_GPU=False)``, over ``load_model``."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix

    def __call__(self, path: str, enable_GPU: bool = False, **options: Any) -> Model:  # noqa: N803
        # The original PyTorchLibrary's ``model_constructor`` (the class of a state_dict's model) is
        # greenai-torch's ``model_class``; None, its default, means no class, as there.
        constructor = options.pop("model_constructor", None)
        if constructor is not None:
            if "model_class" in options:
                raise UsageError("give model_constructor (the original name) or model_class, not both")
            options["model_class"] = constructor
        model = load_model(path, device="cuda" if enable_GPU else "cpu", **options)
        # The original model classes measured their own energy: the same names, by the profiling protocol.
        setattr(model, "inference_energy_consumption", functools.partial(inference_energy_consumption, model))  # noqa: B010
        setattr(model, "training_energy_consumption", functools.partial(training_energy_consumption, model))  # noqa: B010
        return model

    def __repr__(self) -> str:
        return f"<installed formats for {self.suffix!r}>"


class DLModelFactory:
    """The original factory: suffix -> model constructor.

    ``register_predefined_formats()`` maps every suffix the installed plugins claim to
    ``load_model`` (which still recognises files by content, so ".pt" covers pickles,
    TorchScript and exported programs alike); ``"/"`` stands for model folders.
    """

    def __init__(self) -> None:
        self._constructors: dict[str, Callable[..., Any]] = {}

    def register_predefined_formats(self) -> None:
        from greenai_core.plugins import get_registry

        for fmt in get_registry().formats().values():
            for suffix in fmt.suffixes:
                self._constructors.setdefault(suffix.lower(), _InstalledFormat(suffix.lower()))

    def register_format(self, ext: str, cls: Callable[..., Any]) -> None:
        if not ext or not callable(cls):
            raise UsageError("register_format(ext, cls) needs a suffix such as '.onnx' and a class")
        self._constructors[ext.lower()] = cls

    def get_model(self, path: str) -> Callable[..., Any]:
        p = Path(path)
        suffix = "/" if str(path).endswith("/") or p.is_dir() else p.suffix.lower()
        try:
            return self._constructors[suffix]
        except KeyError:
            known = ", ".join(sorted(self._constructors)) or "none (call register_predefined_formats())"
            raise ModelFormatError(f"{path}: no format registered for suffix {suffix or '(none)'!r} "
                                   f"(registered: {known})") from None
