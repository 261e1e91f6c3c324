"""``profile_inference``: energy per inference with warm-up, fixed work, repeats and confidence intervals.

The protocol (README "Profiling"):

1. The batch is built once, outside every window: images are decoded and preprocessed by
   ``model.prepare``; a ready array is checked once and used as it is.
2. Idle baseline: ``baseline_s`` seconds of doing nothing, measured (0 skips it).
3. Warm-up: ``warmup`` predict calls in a window of their own (first-call compilation, caches);
   then, unless ``runs`` fixes N, a timing pass outside any window (calls in doubling chunks
   until one lasts a tenth of the window, at least 0.2 s) chooses N, the predict calls per repeat, so that a
   repeat's window lasts at least max(``min_duration_s``, 10 x the slowest chosen sensor's
   update period).
4. ``repeats`` windows of N predict calls each, the device synchronised at both edges
   (``Meter(sync=model.sync)``), ``cooldown_s`` of rest between them.
5. Per repeat: energy per inference (gross, net of the baseline, attributed by CPU time where
   every counted sensor sees the whole machine), latency per call, throughput; over the
   repeats, each as a ``Stat`` (mean, std, Student-t 95 % interval).

Ctrl-C raises ``ProfilingInterrupted`` (a ``KeyboardInterrupt``) whose ``report`` keeps the
finished repeats, marked incomplete.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from greenai_core.energy.meter import Meter
from greenai_core.energy.selection import BackendSpec
from greenai_core.errors import GreenAIError, UsageError
from greenai_core.profiling import windows
from greenai_core.profiling.environment import environment, model_facts
from greenai_core.profiling.report import InferenceReport, ProfilingInterrupted
from greenai_core.profiling.stats import Stat, summarise
from greenai_core.profiling.windows import Run, Window

if TYPE_CHECKING:
    import numpy as np

    from greenai_core.models.model import Model

#: A repeat's window lasts at least this many update periods of the slowest sensor.
PERIODS_PER_WINDOW = 10
#: The most predict calls one repeat makes when the timing pass asks for more (a call that takes no time).
MAX_RUNS = 1_000_000
#: After the warm-up, predict calls are timed until one chunk lasts this share of a repeat's window.
TIMING_SHARE = 0.1
#: ...and at least this long (up to a whole window): a 50 ms chunk on a busy 2-core VM missed by over 10 %.
MIN_TIMING_S = 0.2
#: The largest chunk of the timing pass (calls that take no measurable time stop there).
MAX_TIMING_CHUNK = 2 ** 16
#: A repeat shorter than this share of the window asked for gets a warning: the calls got faster
#: after the timing pass. Not 0.9: a busy 2-core VM moves a 0.5 s window by +-15 % from run to run.
SHORT_REPEAT = 0.75
WH_PER_J = 1 / 3600


def profile_inference(
    model: Model,
    inputs: Any,
    *,
    batch_size: int = 1,
    runs: int | None = None,
    min_duration_s: float = 2.0,
    warmup: int = 10,
    repeats: int = 5,
    backends: BackendSpec = None,
    baseline_s: float = 3.0,
    cooldown_s: float = 0.0,
    timeline: bool = True,
    on_repeat: Callable[[dict[str, Any]], Any] | None = None,
    carbon_intensity: float | None = None,
    pue: float | None = None,
) -> InferenceReport:
    """Profile ``model``'s inference on ``inputs``; see the module's docstring for the protocol.

    ``inputs``: an image path, a PIL image, a list of them, or an array shaped for the model; the
    batch is ``batch_size`` of them (cycled when fewer). ``runs``: predict calls per repeat (else
    chosen from ``min_duration_s``); ``warmup``: predict calls before the repeats (at least 1
    unless ``runs`` is given); ``backends`` as ``Meter``'s; ``on_repeat(repeat_dict)`` after each
    repeat (progress); ``carbon_intensity`` (g CO2e/kWh) and ``pue``: given by the user.
    """
    batch_size = _positive_int(batch_size, "batch_size")
    repeats = _positive_int(repeats, "repeats")
    runs = None if runs is None else _positive_int(runs, "runs")
    if isinstance(warmup, bool) or not isinstance(warmup, numbers.Integral) or warmup < 0:
        raise UsageError(f"warmup must be a whole number of predict calls >= 0, not {warmup!r}")
    if runs is None and warmup < 1:
        raise UsageError("warmup must be at least 1 when runs is not given: the calls that time runs must come "
                         "after the first call's compilation")
    if isinstance(min_duration_s, bool) or not isinstance(min_duration_s, (int, float)) \
            or not math.isfinite(min_duration_s) or min_duration_s <= 0:
        raise UsageError(f"min_duration_s must be a finite positive number of seconds, not {min_duration_s!r}")
    baseline_s = windows.check_seconds(baseline_s, "baseline_s")
    cooldown_s = windows.check_seconds(cooldown_s, "cooldown_s")
    carbon = windows.carbon(carbon_intensity, pue)
    if on_repeat is not None and not callable(on_repeat):
        raise UsageError(f"on_repeat must be a callable or None, not {type(on_repeat).__name__}")

    batch = ready_batch(model, inputs, batch_size)  # outside every window: loading and preprocessing
    forward = _forward_of(model, batch)
    settings: dict[str, Any] = {
        "batch_size": batch_size, "runs": runs, "inferences_per_repeat": None, "warmup": int(warmup),
        "repeats": repeats, "min_duration_s": float(min_duration_s), "baseline_s": baseline_s,
        "cooldown_s": cooldown_s, "backends": _names(backends),
        "runs_chosen_by": "option" if runs is not None else "min_duration_s",
    }
    meter = Meter(backends, timeline=timeline, timeline_period_s=windows.TIMELINE_PERIOD_S, sync=model.sync)
    run = Run()
    base: dict[str, Any] | None = None
    finished: list[tuple[dict[str, Any], Window]] = []
    try:
        base = windows.baseline(run, meter, baseline_s)
        _warm_up(run, meter, model, forward, batch, int(warmup))
        period = max((b.update_period_s for m in run.measurements for b in m.backends), default=0.0)
        target_s = max(float(min_duration_s), PERIODS_PER_WINDOW * period)
        if runs is None:
            per_call = _time_calls(model, forward, batch, min(target_s, max(TIMING_SHARE * target_s, MIN_TIMING_S)))
            calls = _calls_for(target_s, per_call, run)
        else:
            calls = runs
        settings["runs"] = calls
        settings["inferences_per_repeat"] = calls * batch_size
        for index in range(1, repeats + 1):
            if index > 1 and cooldown_s > 0:
                windows.sleep(cooldown_s)
            window = _calls_in_window(run, meter, model, forward, batch, calls, f"repeat {index}")
            repeat = _repeat(run, index, calls, calls * batch_size, window, base)
            finished.append((repeat, window))
            _check_window(run, window, period)
            if runs is None and window.measurement.duration_s < SHORT_REPEAT * target_s:
                run.warn([f"repeat windows ran shorter than the {target_s:g} s asked (the repeats' calls were "
                          "faster than the timing pass's after the warm-up); give more warm-up calls or set runs"])
            if on_repeat is not None:
                on_repeat(repeat)
    except KeyboardInterrupt as exc:
        run.abandon(meter)
        report = _report(model, run, settings, base, carbon, finished, interrupted=type(exc).__name__)
        done = len(finished)
        message = (f"{model.path}: profiling interrupted after {done} finished repeat{'s' if done != 1 else ''} "
                   "(kept in the exception's report)")
        raise ProfilingInterrupted(message, report) from exc
    finally:
        run.abandon(meter)
    return _report(model, run, settings, base, carbon, finished, interrupted=None)


def ready_batch(model: Model, inputs: Any, batch_size: int) -> np.ndarray:
    """The batch every predict call gets: ``batch_size`` rows of ``inputs`` (cycled), prepared once."""
    import numpy as np

    fixed = model.input_spec.batch
    if fixed is not None and batch_size % fixed:
        raise UsageError(f"{model.path}: the model takes batches of exactly {fixed}; batch_size {batch_size} "
                         f"is not a multiple of it")
    if isinstance(inputs, np.ndarray):
        model.check_array(inputs)
        if len(inputs) == 0:
            raise UsageError(f"{model.path}: the input array holds no rows")
        if len(inputs) == batch_size:
            return inputs
        taken: np.ndarray = np.take(inputs, np.arange(batch_size) % len(inputs), axis=0)
        return taken
    items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if not items:
        raise UsageError("no inputs to profile with: give images or an array")
    return model.prepare([items[i % len(items)] for i in range(batch_size)])


def _forward_of(model: Model, batch: Any) -> Callable[[Any], Any]:
    """What each predict call runs: ``predict`` minus its per-call work, as the batch was checked once.

    A batch the model takes whole goes straight to the plugin's ``_forward``: the chunking check
    and the error wrapping cost two Python frames per call (half a microsecond, ~1 % of a small
    CNN's inference); ``_wrapped`` turns a framework error into the same ModelRunError once.
    """
    from greenai_core.models.model import Model

    if not isinstance(model, Model):
        return model.predict
    fixed = model.input_spec.batch
    if fixed is None or batch.shape[0] == fixed:
        return model._forward
    return model._run_batched


@contextlib.contextmanager
def _wrapped(model: Model, batch: Any) -> Iterator[None]:
    """A framework's own error inside a window becomes the ModelRunError ``predict`` would raise."""
    from greenai_core.models.model import Model

    try:
        yield
    except GreenAIError:
        raise
    except Exception as exc:
        if not isinstance(model, Model):
            raise
        raise model._run_error(batch, exc) from exc


def _calls_in_window(run: Run, meter: Meter, model: Model, forward: Callable[[Any], Any], batch: Any, calls: int,
                     phase: str) -> Window:
    """``calls`` predict calls in a window of their own, recorded as ``phase``.

    A window cut short (an error, Ctrl-C) is no figure: it is dropped and the error goes on.
    """
    edge = run.open(meter)
    try:
        with _wrapped(model, batch):
            for _ in range(calls):
                forward(batch)
    except BaseException:
        run.abandon(meter)
        raise
    return run.close(meter, edge, phase)


def _warm_up(run: Run, meter: Meter, model: Model, forward: Callable[[Any], Any], batch: Any, calls: int) -> None:
    """``calls`` predict calls in the "warmup" window (first-call compilation, caches, allocator)."""
    if calls:
        _calls_in_window(run, meter, model, forward, batch, calls, "warmup")


def _time_calls(model: Model, forward: Callable[[Any], Any], batch: Any, seconds: float) -> float:
    """Seconds per predict call once warm: calls in doubling chunks until one chunk lasts ``seconds``.

    The warm-up's own calls are no guide: its first ones compile and fill caches (a TorchScript
    module re-optimises after a few), so N chosen from them made repeats half as long as asked.
    """
    chunk = 1
    with _wrapped(model, batch):
        while True:
            began = windows.now()
            for _ in range(chunk):
                forward(batch)
            spent = windows.now() - began
            if spent >= seconds or chunk >= MAX_TIMING_CHUNK:
                return spent / chunk
            chunk *= 2


def _calls_for(window_s: float, per_call_s: float, run: Run) -> int:
    if per_call_s <= 0:
        run.warn([f"the warm-up's predict calls took no measurable time: repeats make {MAX_RUNS} calls each"])
        return MAX_RUNS
    calls = math.ceil(window_s / per_call_s)
    if calls > MAX_RUNS:
        run.warn([f"a {window_s:g} s window would take {calls} predict calls: capped at {MAX_RUNS}"])
        return MAX_RUNS
    return max(calls, 1)


def _check_window(run: Run, window: Window, period: float) -> None:
    if period > 0 and window.measurement.duration_s < PERIODS_PER_WINDOW * period:
        run.warn([f"repeat windows ({window.measurement.duration_s:.3g} s) are shorter than {PERIODS_PER_WINDOW} x "
                  f"the slowest sensor's update period ({period:g} s): energy per inference is coarse; "
                  "give more runs or a longer min_duration_s"])


def _repeat(run: Run, index: int, calls: int, inferences: int, window: Window,
            base: dict[str, Any] | None) -> dict[str, Any]:
    m = window.measurement
    return {
        "index": index, "predict_calls": calls, "inferences": inferences, "duration_s": m.duration_s,
        "energy_j": m.energy_j, "energy_j_by_domain": dict(m.domains),
        "net_energy_j": windows.net_energy(run, m.energy_j, m.duration_s, base),
        "cpu_time_s": window.cpu_time_s, "attributed_energy_j": windows.attributed_energy(window, run),
        "partial": m.partial, "warnings": list(m.warnings),
    }


def _report(model: Model, run: Run, settings: dict[str, Any], base: dict[str, Any] | None,
            carbon: dict[str, Any] | None, finished: list[tuple[dict[str, Any], Window]],
            interrupted: str | None) -> InferenceReport:
    repeats = [r for r, _ in finished]
    if any(r["partial"] for r in repeats):
        run.warn(["some repeats are partial (a sensor fault): their energy is a lower bound"])
    return InferenceReport(
        complete=interrupted is None, interrupted=interrupted, created_at=windows.created_at(),
        model=model_facts(model), environment=environment(run.measurements), method=run.method(), baseline=base,
        carbon=carbon, phases=run.phases, timeline=run.timeline, warnings=list(run.warnings), settings=settings,
        stats=_stats(run, repeats, carbon) if repeats else None, repeats=repeats,
    )


def _stats(run: Run, repeats: Sequence[dict[str, Any]], carbon: dict[str, Any] | None) -> dict[str, Any]:
    per_inference = summarise(r["energy_j"] / r["inferences"] for r in repeats)
    net: Stat | None = None
    if all(r["net_energy_j"] is not None for r in repeats):
        net = summarise(r["net_energy_j"] / r["inferences"] for r in repeats)
    attributed: Stat | None = None
    if all(r["attributed_energy_j"] is not None for r in repeats):
        attributed = summarise(r["attributed_energy_j"] / r["inferences"] for r in repeats)
    if any(r["duration_s"] <= 0 for r in repeats):
        run.warn(["a repeat took no measurable time: its throughput is shown as 0"])
    domains = [d for d in repeats[0]["energy_j_by_domain"] if all(d in r["energy_j_by_domain"] for r in repeats)]
    return {
        "energy_per_inference_j": per_inference,
        "net_energy_per_inference_j": net,
        "wh_per_1000_inferences": per_inference.scaled(1000 * WH_PER_J),
        "net_wh_per_1000_inferences": net.scaled(1000 * WH_PER_J) if net is not None else None,
        "latency_s": summarise(r["duration_s"] / r["predict_calls"] for r in repeats),
        "throughput_per_s": summarise(r["inferences"] / r["duration_s"] if r["duration_s"] > 0 else 0.0
                                      for r in repeats),
        "attributed_energy_per_inference_j": attributed,
        "energy_per_inference_j_by_domain": {
            d: summarise(r["energy_j_by_domain"][d] / r["inferences"] for r in repeats) for d in domains},
        "g_co2_per_inference": per_inference.scaled(windows.grams(1.0, carbon)) if carbon is not None else None,
    }


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise UsageError(f"{name} must be a positive integer, not {value!r}")
    return int(value)


def _names(backends: BackendSpec) -> list[str] | None:
    """The backends asked for, by name (None: the default choice)."""
    if backends is None:
        return None
    items = [backends] if isinstance(backends, str) or not isinstance(backends, (list, tuple)) else backends
    return [item if isinstance(item, str) else str(getattr(item, "name", type(item).__name__)) for item in items]
