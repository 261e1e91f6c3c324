"""``compare``: several models through the same inference protocol, with accuracy on labelled data and a grade.

Everything that can be refused is refused before the first model is profiled: the models
(all loaded first, so a bad file or a class count that does not fit the data costs nothing),
the labelled folder, and the grading reference. Then, per model and in the order given: its
top-1 accuracy on the folder (outside every measured window), then ``profile_inference``
with the same settings for all. Each model's profile measures its own idle baseline (the
machine's idle power drifts; a baseline next to the model's windows is the fairer one).

Ctrl-C raises ``CompareInterrupted`` (a ``KeyboardInterrupt``) whose ``report`` holds the models
finished, and the interrupted one's finished repeats (marked incomplete), if any.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.comparison.report import CompareReport, entry_of
from greenai_core.errors import UsageError

if TYPE_CHECKING:
    from greenai_core.comparison.accuracy import ClassMapping
    from greenai_core.energy.selection import BackendSpec
    from greenai_core.grading.reference import Reference
    from greenai_core.models.model import Model
    from greenai_core.models.training import ImageFolder

RANDOM = "random"
NO_REFERENCE_NOTE = ("no grade: no reference on this machine; make one with `greenai grade --calibrate` "
                     "(or give a reference file) and the grade column fills in")


class CompareInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``compare``: still a ``KeyboardInterrupt``; ``report`` holds what was finished (incomplete)."""

    def __init__(self, message: str, report: CompareReport) -> None:
        super().__init__(message)
        self.report = report


def compare(
    models: Sequence[str | os.PathLike[str] | Model],
    *,
    data: str | os.PathLike[str] | None = None,
    inputs: Any = None,
    batch_size: int = 1,
    runs: int | None = None,
    min_duration_s: float = 2.0,
    warmup: int = 10,
    repeats: int = 5,
    backends: BackendSpec = None,
    baseline_s: float = 3.0,
    cooldown_s: float = 0.0,
    carbon_intensity: float | None = None,
    pue: float | None = None,
    reference: Reference | str | os.PathLike[str] | None = None,
    device: str = "cpu",
    trust: bool = False,
    load_options: dict[str, Any] | None = None,
    model_options: Sequence[dict[str, Any] | None] | None = None,
    on_model: Callable[[dict[str, Any]], Any] | None = None,
) -> CompareReport:
    """Profile every model under one protocol and put them side by side (module docstring).

    ``models``: paths (any installed format, mixed) or loaded ``Model``s (left open; paths are
    loaded with ``device``, ``trust`` and ``load_options`` and closed at the end; ``model_options``,
    when given, holds one dict (or None) per model, in order, merged over ``load_options`` for
    that model only: formats differ in their options). ``data``: a
    labelled image folder (class subfolders) for top-1 accuracy. ``inputs``: what the protocol
    runs on: images (paths or PIL images), an array, or ``"random"`` (seed 0, shaped for each
    model); None takes the first ``batch_size`` images of ``data``, or random inputs without it.
    Protocol options (and ``carbon_intensity``, ``pue``) as ``profile_inference``'s.
    ``reference``: a grading ``Reference`` or its file; None uses the default reference when
    one exists, else grades are left out with a note. ``on_model(event)`` gets ``{"phase":
    "accuracy" | "profile" | "repeat" | "done", "model": name, "index": i, "of": n, ...}``
    (``repeat``: the repeat's dict; ``done``: the entry).
    """
    from greenai_core.comparison.accuracy import class_mapping, read_folder

    if isinstance(models, (str, os.PathLike)) or not isinstance(models, Sequence) or not models:
        raise UsageError("compare needs a list of models (paths or loaded models), at least one")
    if on_model is not None and not callable(on_model):
        raise UsageError(f"on_model must be a callable or None, not {type(on_model).__name__}")
    ref, notes, ref_warnings = _reference(reference)
    folder = read_folder(data) if data is not None else None
    protocol: dict[str, Any] = {"batch_size": batch_size, "runs": runs, "min_duration_s": min_duration_s,
                                "warmup": warmup, "repeats": repeats, "backends": backends, "baseline_s": baseline_s,
                                "cooldown_s": cooldown_s, "carbon_intensity": carbon_intensity, "pue": pue}
    loaded: list[Model] = []
    try:
        chosen = _load_all(models, loaded, device, trust, load_options or {}, _per_model(model_options, len(models)))
        names = display_names(chosen)
        mappings = [class_mapping(m, folder) if folder is not None else None for m in chosen]
        source, described = _inputs_of(inputs, folder, batch_size)
        run = _Run(protocol, folder, ref, on_model, len(chosen))
        baseline = "measured before each model" if baseline_s else "none (baseline_s 0): no net figures"
        settings = {**protocol, "backends": _backend_names(backends), "baseline": baseline, "inputs": described}
        data_facts = None if folder is None else {"path": str(folder.root), "classes": list(folder.classes),
                                                  "images": len(folder.samples)}
        try:
            for index, (model, name, mapping) in enumerate(zip(chosen, names, mappings, strict=True)):
                run.one(index, model, name, mapping, source)
        except KeyboardInterrupt as exc:  # ProfilingInterrupted included: it is one
            report = run.report(settings, described, data_facts, notes, ref_warnings, interrupted="KeyboardInterrupt")
            done = sum(1 for e in run.entries if e["complete"])
            raise CompareInterrupted(f"compare interrupted after {done} finished model{'s' * (done != 1)} "
                                     "(kept in the exception's report)", report) from exc
        return run.report(settings, described, data_facts, notes, ref_warnings, interrupted=None)
    finally:
        for model in loaded:
            model.close()


class _Run:
    """The models profiled so far, and how to profile the next one."""

    def __init__(self, protocol: dict[str, Any], folder: ImageFolder | None, ref: Reference | None,
                 on_model: Callable[[dict[str, Any]], Any] | None, count: int) -> None:
        self.protocol, self.folder, self.ref, self.on_model, self.count = protocol, folder, ref, on_model, count
        self.entries: list[dict[str, Any]] = []
        self.environment: dict[str, Any] = {}

    def _tell(self, phase: str, name: str, index: int, **more: Any) -> None:
        if self.on_model is not None:
            self.on_model({"phase": phase, "model": name, "index": index, "of": self.count, **more})

    def one(self, index: int, model: Model, name: str, mapping: ClassMapping | None, source: Any) -> None:
        from greenai_core.comparison.accuracy import top1_accuracy
        from greenai_core.profiling.inference import profile_inference
        from greenai_core.profiling.report import ProfilingInterrupted

        accuracy = None
        if self.folder is not None and mapping is not None:
            self._tell("accuracy", name, index)
            accuracy = top1_accuracy(model, self.folder, mapping).to_dict()
        self._tell("profile", name, index)
        inputs = _random_batch(model, self.protocol["batch_size"]) if source is RANDOM else source
        try:
            report = profile_inference(model, inputs, **self.protocol,
                                       on_repeat=lambda r: self._tell("repeat", name, index, repeat=r)).to_dict()
        except ProfilingInterrupted as stopped:
            partial = stopped.report.to_dict()
            if partial.get("stats"):
                self.add(name, partial, accuracy)
            raise
        self._tell("done", name, index, entry=self.add(name, report, accuracy))

    def add(self, name: str, report: dict[str, Any], accuracy: dict[str, Any] | None) -> dict[str, Any]:
        grade, warnings = self._grade(report)
        entry = entry_of(name, report, accuracy, grade, warnings)
        self.entries.append(entry)
        if not self.environment:
            self.environment = dict(report.get("environment") or {})
        return entry

    def _grade(self, report: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
        if self.ref is None:
            return None, []
        from greenai_core.errors import GradeError
        from greenai_core.grading.grading import grade

        try:
            graded = grade(report, self.ref)
        except GradeError as exc:
            return None, [f"not graded: {exc}"]
        # What the grade adds (the reference's hardware or settings differ, out of its range); the report's own
        # warnings, which the grade repeats, are already the entry's.
        said = set(report.get("warnings") or [])
        return graded.to_dict(), [f"grade: {w}" for w in graded.warnings if w not in said]

    def report(self, settings: dict[str, Any], described: str, data: dict[str, Any] | None, notes: list[str],
               warnings: list[str], interrupted: str | None) -> CompareReport:
        from greenai_core.profiling.windows import created_at

        reference = self.ref.summary() if self.ref is not None else None
        return CompareReport.build(self.entries, complete=interrupted is None, interrupted=interrupted,
                                   created_at=created_at(), settings=settings, inputs=described, data=data,
                                   reference=reference, notes=notes, warnings=warnings, environment=self.environment)


def _reference(reference: Any) -> tuple[Reference | None, list[str], list[str]]:
    """(the reference or None, notes, warnings): a reference given must load; the default is used when it exists."""
    from greenai_core.errors import GradeError
    from greenai_core.grading.reference import Reference, default_reference_path

    if isinstance(reference, Reference):
        return reference, [], []
    if reference is not None:
        return Reference.load(reference), [], []
    path = default_reference_path()
    if not path.exists():
        return None, [NO_REFERENCE_NOTE], []
    try:
        return Reference.load(path), [], []
    except GradeError as exc:
        return None, [], [f"no grade: the default reference is unusable ({exc}); make a new one with "
                          "`greenai grade --calibrate`"]


def _per_model(model_options: Any, count: int) -> list[dict[str, Any]]:
    """``model_options`` checked: one dict (or None) per model."""
    if model_options is None:
        return [{} for _ in range(count)]
    if isinstance(model_options, (str, bytes, dict)) or not isinstance(model_options, Sequence) \
            or len(model_options) != count or not all(o is None or isinstance(o, dict) for o in model_options):
        raise UsageError(f"model_options must be a list of {count} dicts (or None), one per model, in order")
    return [dict(o or {}) for o in model_options]


def _load_all(models: Sequence[Any], loaded: list[Model], device: str, trust: bool,
              options: dict[str, Any], own: list[dict[str, Any]]) -> list[Model]:
    from greenai_core.models.loading import load_model
    from greenai_core.models.model import Model

    chosen = []
    for item, extra in zip(models, own, strict=True):
        if isinstance(item, Model):
            if extra:
                raise UsageError(f"{item.path}: options for a model already loaded have no effect; load it with them")
            chosen.append(item)
        elif isinstance(item, (str, os.PathLike)):
            try:
                model = load_model(item, device=device, trust=trust, **{**options, **extra})
            except UsageError as exc:
                if not options or not str(exc).startswith("unknown option"):
                    raise
                # An option given to every model that this one's format does not take: say which model, and how
                # to give an option to one model only.
                raise UsageError(f"{os.fspath(item)}: {exc}; to give an option to some models only use "
                                 "model_options (CLI: -o MODEL:KEY=VALUE)") from None
            loaded.append(model)
            chosen.append(model)
        else:
            raise UsageError(f"a model to compare must be a path or a loaded Model, not {type(item).__name__}")
    return chosen


def display_names(models: Sequence[Model]) -> list[str]:
    """Each model's file name; the whole path where two share a name; "#k" where two share a path."""
    base = [m.path.name or str(m.path) for m in models]
    names = [str(m.path) if base.count(b) > 1 else b for m, b in zip(models, base, strict=True)]
    out: list[str] = []
    for name in names:
        out.append(name if name not in out else f"{name} #{sum(1 for o in out if o.split(' #')[0] == name) + 1}")
    return out


def _inputs_of(inputs: Any, folder: ImageFolder | None, batch_size: int) -> tuple[Any, str]:
    """(what each model's profile runs on, or RANDOM for a per-model random batch; how the report names it)."""
    if (isinstance(inputs, str) and inputs == RANDOM) or (inputs is None and folder is None):
        return RANDOM, "random, shaped for each model (seed 0)"
    if inputs is None:
        assert folder is not None
        first = [path for path, _ in folder.samples[:batch_size]]
        return first, f"the first {len(first)} image{'s' * (len(first) != 1)} of {folder.root}"
    if isinstance(inputs, (list, tuple)):
        shown = f"{inputs[0]} ... ({len(inputs)} images)" if len(inputs) > 1 else str(inputs[0]) if inputs else ""
        return list(inputs), shown
    return inputs, str(inputs) if isinstance(inputs, (str, Path)) else type(inputs).__name__


def _random_batch(model: Model, batch_size: int) -> Any:
    # The batch `greenai profile --random` runs, so that compare and profile measure the same work.
    from greenai_core.profiling.inputs import random_inputs

    return random_inputs(model, batch_size)


def _backend_names(backends: Any) -> list[str] | None:
    from greenai_core.profiling.inference import _names

    return _names(backends)
