"""``profile_training``: energy per epoch, per step and per sample, through the core's training loop.

``model.train`` runs as usual; its ``on_step`` and ``on_epoch`` callbacks close and reopen
two meters (device synchronised at every edge):

- a step window runs from the end of the previous step (or the start of its epoch) to the end
  of this one: it holds the step's own data loading and preprocessing, part of training's cost;
- an epoch window runs from the epoch's start to ``on_epoch`` (after its validation, if any).

So an epoch's steps add up to its energy, less its validation and the loop's setup before the
first step. Loss and accuracy are the training's own (``TrainingResult``). Ctrl-C raises
``ProfilingInterrupted`` whose ``report`` keeps the finished epochs and steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from greenai_core.energy.meter import Meter
from greenai_core.energy.selection import BackendSpec
from greenai_core.errors import UsageError
from greenai_core.profiling import windows
from greenai_core.profiling.environment import environment, model_facts
from greenai_core.profiling.inference import WH_PER_J, _names
from greenai_core.profiling.report import ProfilingInterrupted, TrainingReport
from greenai_core.profiling.stats import Stat, summarise
from greenai_core.profiling.windows import Edge, Run

#: A first step costing more than this many times the median of the others is said to carry start-up costs.
START_UP_FACTOR = 3.0

if TYPE_CHECKING:
    from greenai_core.models.model import Model
    from greenai_core.models.training import EpochResult, StepInfo, TrainingResult

_NOT_OPTIONS = ("on_step", "on_epoch")


@dataclass
class _Windows:
    """The open windows and what closed ones held."""

    run: Run
    step_meter: Meter
    epoch_meter: Meter
    base: dict[str, Any] | None
    step_edge: Edge | None = None
    epoch_edge: Edge | None = None
    epoch_number: int = 1
    steps: list[dict[str, Any]] = field(default_factory=list)
    epochs: list[dict[str, Any]] = field(default_factory=list)

    def open_epoch(self) -> None:
        self.epoch_edge = self.run.open(self.epoch_meter, cpu=False)
        self.step_edge = self.run.open(self.step_meter, cpu=False)

    def on_step(self, info: StepInfo) -> None:
        assert self.step_edge is not None
        window = self.run.close(self.step_meter, self.step_edge, None)
        self.step_edge = None
        m = window.measurement
        self.steps.append({"epoch": info.epoch, "step": info.step, "samples": info.samples, "energy_j": m.energy_j,
                           "duration_s": m.duration_s,
                           "net_energy_j": windows.net_energy(self.run, m.energy_j, m.duration_s, self.base)})
        self.step_edge = self.run.open(self.step_meter, cpu=False)

    def close_epoch(self, done: EpochResult) -> None:
        """Record epoch ``done``: the step meter's gap since the last step is dropped."""
        self.run.abandon(self.step_meter)
        self.step_edge = None
        assert self.epoch_edge is not None
        window = self.run.close(self.epoch_meter, self.epoch_edge, f"epoch {done.epoch}")
        self.epoch_edge = None
        m = window.measurement
        self.epochs.append({
            "epoch": done.epoch, "duration_s": m.duration_s, "steps": done.steps, "samples": done.samples,
            "energy_j": m.energy_j, "net_energy_j": windows.net_energy(self.run, m.energy_j, m.duration_s, self.base),
            "energy_per_step_j": m.energy_j / done.steps if done.steps else 0.0,
            "energy_per_sample_j": m.energy_j / done.samples if done.samples else 0.0,
            "loss": done.loss, "accuracy": done.accuracy, "val_accuracy": done.val_accuracy,
            "complete": done.complete,
        })
        self.epoch_number = done.epoch + 1

    def abandon(self) -> None:
        self.run.abandon(self.step_meter)
        self.run.abandon(self.epoch_meter)
        self.step_edge = self.epoch_edge = None


def profile_training(
    model: Model,
    data: Any,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    backends: BackendSpec = None,
    baseline_s: float = 3.0,
    timeline: bool = True,
    carbon_intensity: float | None = None,
    pue: float | None = None,
    **train_options: Any,
) -> TrainingReport:
    """Train ``model`` on ``data`` (as ``Model.train``) and measure every step and epoch; see the module docstring.

    ``train_options``: ``Model.train``'s other keywords (``optimizer``, ``lr``, ``loss``, ``seed``,
    ``validation``, ``save_to``, the format's own); an ``on_step``/``on_epoch`` of yours runs after
    the profiler's. ``carbon_intensity`` (g CO2e/kWh) and ``pue`` are given by the user.
    """
    baseline_s = windows.check_seconds(baseline_s, "baseline_s")
    carbon = windows.carbon(carbon_intensity, pue)
    user_step: Callable[[StepInfo], Any] | None = train_options.pop("on_step", None)
    user_epoch: Callable[[EpochResult], Any] | None = train_options.pop("on_epoch", None)
    for name, callback in (("on_step", user_step), ("on_epoch", user_epoch)):
        if callback is not None and not callable(callback):
            raise UsageError(f"{name} must be a callable or None, not {type(callback).__name__}")
    settings = _settings(epochs, batch_size, baseline_s, backends, train_options)
    run = Run()
    whole = Meter(backends, timeline=timeline, timeline_period_s=windows.TIMELINE_PERIOD_S, sync=model.sync)
    state = _Windows(run, Meter(backends, sync=model.sync), whole, None)

    def on_step(info: StepInfo) -> None:
        state.on_step(info)
        if user_step is not None:
            user_step(info)

    def on_epoch(done: EpochResult) -> None:
        state.close_epoch(done)
        state.open_epoch()
        if user_epoch is not None:
            user_epoch(done)

    result: TrainingResult | None = None
    try:
        state.base = windows.baseline(run, state.epoch_meter, baseline_s)
        state.open_epoch()
        result = model.train(data, epochs=epochs, batch_size=batch_size, on_step=on_step, on_epoch=on_epoch,
                             **train_options)
        last = result.epochs[-1] if result.epochs else None
        if last is not None and not last.complete and last.epoch == state.epoch_number:
            state.close_epoch(last)  # stopped early (StopTraining): on_epoch never came for it
    except KeyboardInterrupt as exc:
        state.abandon()
        partial = getattr(exc, "result", None)
        report = _report(model, state, settings, carbon, partial, interrupted="KeyboardInterrupt")
        raise ProfilingInterrupted(f"{model.path}: training profile interrupted after {len(state.epochs)} finished "
                                   f"epoch(s) and {len(state.steps)} step(s) (kept in the exception's report)",
                                   report) from exc
    finally:
        state.abandon()
    return _report(model, state, settings, carbon, result, interrupted=None)


def _settings(epochs: Any, batch_size: Any, baseline_s: float, backends: BackendSpec,
              options: dict[str, Any]) -> dict[str, Any]:
    def shown(value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        return str(getattr(value, "__name__", type(value).__name__))

    core = ("optimizer", "lr", "loss", "seed")
    return {
        "epochs": epochs, "batch_size": batch_size, "optimizer": shown(options.get("optimizer", "adam")),
        "lr": shown(options.get("lr", 1e-3)), "loss": shown(options.get("loss", "cross_entropy")),
        "seed": shown(options.get("seed")), "baseline_s": baseline_s, "backends": _names(backends),
        "train_options": {k: shown(v) for k, v in options.items() if k not in core and k not in _NOT_OPTIONS},
    }


def _report(model: Model, state: _Windows, settings: dict[str, Any], carbon: dict[str, Any] | None,
            result: TrainingResult | None, interrupted: str | None) -> TrainingReport:
    from greenai_core.models.training import TrainingResult

    run = state.run
    result = result if result is not None else TrainingResult()
    step_energies = [s["energy_j"] for s in state.steps]
    stopped = result.stopped_early or any(not e["complete"] for e in state.epochs)
    if stopped:
        run.warn(["training stopped early: the last epoch is incomplete and left out of energy per epoch"])
    _warn_start_up(run, step_energies)
    return TrainingReport(
        complete=interrupted is None and not stopped, interrupted=interrupted, created_at=windows.created_at(),
        model=model_facts(model), environment=environment(run.measurements), method=run.method(),
        baseline=state.base, carbon=carbon, phases=run.phases, timeline=run.timeline, warnings=list(run.warnings),
        settings=settings, stats=_stats(state, carbon) if state.steps else None, epochs=state.epochs,
        steps={"count": len(state.steps), "energy_j": summarise(step_energies) if step_energies else None},
        training=result.to_dict(),
    )


def _warn_start_up(run: Run, step_energies: list[float]) -> None:
    """Say when the first step carries one-time costs (allocation, first-call compilation) the others lack."""
    import statistics

    if len(step_energies) < 3:
        return
    typical = statistics.median(step_energies[1:])
    if typical > 0 and step_energies[0] > START_UP_FACTOR * typical:
        run.warn([f"the first training step cost {step_energies[0] / typical:.3g} x the median of the others "
                  "(one-time start-up: allocation, first-call compilation); energy per step and per epoch include "
                  "it: the later epochs show the steady cost"])


def _stats(state: _Windows, carbon: dict[str, Any] | None) -> dict[str, Any]:
    steps = state.steps
    complete = [e["energy_j"] for e in state.epochs if e["complete"]]
    per_sample = summarise(s["energy_j"] / s["samples"] for s in steps)
    net: Stat | None = None
    if all(s["net_energy_j"] is not None for s in steps):
        net = summarise(s["net_energy_j"] for s in steps)
    return {
        "energy_per_epoch_j": summarise(complete) if complete else None,
        "energy_per_step_j": summarise(s["energy_j"] for s in steps),
        "energy_per_sample_j": per_sample,
        "net_energy_per_step_j": net,
        "wh_per_1000_samples": per_sample.scaled(1000 * WH_PER_J),
        "g_co2_per_sample": per_sample.scaled(windows.grams(1.0, carbon)) if carbon is not None else None,
    }
