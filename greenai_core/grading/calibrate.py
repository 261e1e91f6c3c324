"""``calibrate``: profile the installed reference architectures and store their energies as a ``Reference``.

(``calibrate(training=True)`` trains the reference models that train instead: ``calibrate_training``.)

Every model a plugin registers through ``register_reference_models`` (greenai-onnx: a tiny CNN
family, ~1 k to ~1 M parameters) is built into a temporary folder with random weights, loaded with
``load_model`` and profiled by ``profile_inference`` on the bundled sample image, with the settings
given. Each entry stores the *gross* mean energy per inference (``value``, what reports are graded
by, like with like), its 95 % interval, the parameters, the mean power (energy / duration) and the
latency. The idle baseline (``baseline_s``, default 0) only adds net figures to the profiles and
does not change the stored values.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.errors import GradeError, UsageError
from greenai_core.grading.reference import MIN_ENTRIES, Reference

if TYPE_CHECKING:
    from greenai_core.energy.selection import BackendSpec

METRIC = "energy_per_inference_j"
INSTALL_HINT = "pip install greenai-onnx"


def reference_entry(ref: Any, report: Any, metric: str, windows: str, what: str, *,
                    latency: bool = False) -> dict[str, Any]:
    """One reference entry from a model's profile (inference or training); ``GradeError`` when it holds no energy.

    ``windows``: the report's attribute listing its measured windows (``repeats``, ``epochs``), whose
    energy / duration is the entry's mean power; ``what``: the calibration named in the error;
    ``latency``: add the mean latency (``latency_s``).
    """
    stat = (report.stats or {}).get(metric)
    if stat is None or not stat.mean > 0:
        raise GradeError(f"{what}: measured no energy for reference model {ref.name!r} "
                         f"(method {report.method!r}); cannot make a reference")
    seconds = sum(w["duration_s"] for w in getattr(report, windows))
    joules = sum(w["energy_j"] for w in getattr(report, windows))
    entry = {
        "name": ref.name, "family": ref.family, "format": report.model.get("format"),
        "parameters": report.model.get("num_parameters", ref.parameters), "value": stat.mean,
        "ci95": [stat.ci95_low, stat.ci95_high], "n": stat.n,
        "power_w": joules / seconds if seconds > 0 else None,
    }
    if latency:
        found = (report.stats or {}).get("latency_s")
        entry["latency_s"] = found.mean if found is not None else None
    entry.update(method=report.method, warnings=list(report.warnings))
    return entry


#: ``calibrate``'s training-only options and their defaults (refused with ``training=False`` when changed)
TRAINING_DEFAULTS: dict[str, Any] = {"epochs": 1, "optimizer": "adam", "lr": 1e-3}
#: ``calibrate``'s inference-only options and their defaults (refused with ``training=True`` when changed)
INFERENCE_DEFAULTS: dict[str, Any] = {"repeats": 5, "min_duration_s": 1.0, "warmup": 10}


def calibrate(*, out: str | os.PathLike[str] | None = None, backends: BackendSpec = None,
              batch_size: int | None = None, repeats: int = 5, min_duration_s: float = 1.0, baseline_s: float = 0.0,
              warmup: int = 10, models: Sequence[str] | None = None,
              progress: Callable[[str], Any] | None = None, training: bool = False, epochs: int = 1,
              optimizer: str = "adam", lr: float = 1e-3) -> Reference:
    """Profile every installed reference model and return the reference (saved to ``out`` when given).

    Inference (default): ``backends``, ``batch_size`` (default 1), ``repeats``, ``min_duration_s``,
    ``baseline_s``, ``warmup``: the protocol's (``profile_inference``); grade reports made with the
    same ones. ``training=True``: the reference models that train (``ReferenceModel.trains``) are
    each trained by ``profile_training`` with ``epochs``, ``batch_size`` (default 32), ``optimizer``,
    ``lr``, ``backends``, ``baseline_s`` on generated images, and the reference holds their mean
    energy per step (``calibrate_training``). An option of the other kind changed from its default
    is a ``UsageError``. ``models``: only these reference names (at least five). ``progress(line)``
    is told before each model. ``GradeError`` when no plugin provides reference models
    (``pip install greenai-onnx``; for training ``pip install greenai-torch``).
    """
    if training:
        from greenai_core.grading.calibrate_training import calibrate_training

        _refuse_changed("training", {"repeats": repeats, "min_duration_s": min_duration_s, "warmup": warmup},
                        INFERENCE_DEFAULTS)
        return calibrate_training(out=out, backends=backends, batch_size=32 if batch_size is None else batch_size,
                                  epochs=epochs, optimizer=optimizer, lr=lr, baseline_s=baseline_s, models=models,
                                  progress=progress)
    _refuse_changed("inference", {"epochs": epochs, "optimizer": optimizer, "lr": lr}, TRAINING_DEFAULTS)
    batch_size = 1 if batch_size is None else batch_size
    from greenai_core.data import sample_image_path
    from greenai_core.models.loading import load_model
    from greenai_core.profiling.inference import profile_inference

    check_out(out)
    available = chosen_models(trains=False, models=models, hint=INSTALL_HINT)
    image = str(sample_image_path())
    entries: list[dict[str, Any]] = []
    first: Any = None
    with tempfile.TemporaryDirectory(prefix="greenai-reference-") as folder:
        for index, ref in enumerate(sorted(available.values(), key=lambda r: r.parameters)):
            if progress is not None:
                progress(f"[{index + 1}/{len(available)}] {ref.name} ({ref.parameters:,} parameters)")
            path = ref.build(Path(folder))
            with load_model(path, format=ref.format) as model:
                report = profile_inference(model, [image], batch_size=batch_size, repeats=repeats,
                                           min_duration_s=min_duration_s, warmup=warmup, backends=backends,
                                           baseline_s=baseline_s, timeline=False)
            entries.append(reference_entry(ref, report, METRIC, "repeats", "calibration", latency=True))
            first = first or report
    methods = sorted({e["method"] for e in entries})
    settings = {
        "batch_size": batch_size, "backends": first.settings.get("backends"),
        "method": methods[0] if len(methods) == 1 else "mixed", "device": first.model.get("device"),
        "repeats": repeats, "min_duration_s": min_duration_s, "warmup": warmup, "baseline_s": baseline_s,
        "inputs": "the bundled sample image",
    }
    reference = Reference.from_values(METRIC, entries, hardware=first.environment, settings=settings)
    if out is not None:
        reference.save(out)
    return reference


def _refuse_changed(kind: str, given: dict[str, Any], defaults: dict[str, Any]) -> None:
    """``UsageError`` for an option of the other calibration kind changed from its default (it would be ignored)."""
    for name, value in given.items():
        if value != defaults[name]:
            other = "training=True" if kind == "inference" else "inference (training=False)"
            raise UsageError(f"calibration option {name} applies to {other} calibration only")


def check_out(out: str | os.PathLike[str] | None) -> None:
    """Refuse an unwritable ``out`` before minutes of profiling, not after."""
    if out is not None:
        from greenai_core.io import check_writable

        check_writable(os.fspath(out), regular_only=True)


def chosen_models(*, trains: bool, models: Sequence[str] | None, hint: str) -> dict[str, Any]:
    """The installed reference models of one kind (``ReferenceModel.trains``), or only those named; at least five.

    ``GradeError`` naming ``hint`` (what to install) when there are none or too few, or naming the
    model that is unknown or of the other kind.
    """
    from greenai_core.plugins import get_registry

    installed = get_registry().reference_models()
    available = {name: ref for name, ref in installed.items() if bool(ref.trains) == trains}
    what = "reference models that train, for training calibration" if trains else \
        "reference models for calibration"
    if not available:
        raise GradeError(f"no installed plugin provides {what}: {hint}")
    if models is not None:
        for name in models:
            if name in installed and name not in available:
                raise GradeError(f"reference model {name!r} is for {'inference' if trains else 'training'} "
                                 f"calibration, not {'training' if trains else 'inference'}")
        unknown = [name for name in models if name not in available]
        if unknown:
            raise GradeError(f"unknown reference model {unknown[0]!r} (installed: {', '.join(available)})")
        available = {name: available[name] for name in models}
    if len(available) < MIN_ENTRIES:
        if trains and models is None:
            raise GradeError(f"training calibration needs at least {MIN_ENTRIES} reference models that train, "
                             f"{len(available)} installed: {hint}")
        raise GradeError(f"calibration needs at least {MIN_ENTRIES} reference models, {len(available)} chosen")
    return available
