"""The readable summary of a profile or training report, from its dict (what the JSON holds).

Every figure is "mean ± h", h being the half-width of the 95 % confidence interval over the
repeats (or epochs, or steps); a figure that is not a finite, non-negative number prints as
"invalid", never as a number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TextIO

from greenai_core.cli.output import INVALID, is_valid_figure, joules

Stat = Mapping[str, Any]


def seconds(value: float) -> str:
    if not is_valid_figure(value):
        return INVALID
    if value >= 1 or value == 0:
        return f"{value:.4g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.4g} ms"
    return f"{value * 1e6:.4g} us"


def watt_hours(value: float) -> str:
    """Wh with a prefix that keeps the number readable: "2.778 Wh", "109.2 uWh" (never "0.0001092 Wh")."""
    if not is_valid_figure(value):
        return INVALID
    scale = _wh_scale(value)
    return f"{value / scale:.4g} {_WH_PREFIX[scale]}Wh"


_WH_PREFIX = {1e3: "k", 1.0: "", 1e-3: "m", 1e-6: "u", 1e-9: "n"}


def _wh_scale(value: float) -> float:
    """What watt_hours() divides ``value`` by."""
    if value == 0:
        return 1.0
    return next((scale for scale in _WH_PREFIX if value >= scale), 1e-9)


def plain(value: float) -> str:
    return f"{value:.4g}" if is_valid_figure(value) else INVALID


def _half_width(stat: Stat) -> float:
    """The interval's upper half: its lower end is cut at 0 for figures that cannot be negative."""
    mean, high = stat.get("mean"), stat.get("ci95_high")
    if not (isinstance(mean, (int, float)) and isinstance(high, (int, float))):
        return float("nan")
    return max(0.0, high - mean)


def figure(stat: Stat | None, fmt: Callable[[float], str], unit: str = "") -> str:
    """``mean ± h unit``, the half-width in the mean's unit; "-" for a figure the report lacks."""
    if not stat:
        return "-"
    mean = stat.get("mean", float("nan"))
    text = fmt(mean)
    if text == INVALID:
        return INVALID
    half = _half_width(stat)
    if stat.get("n", 0) <= 1:
        return f"{text}{unit} (one value: no spread)"
    if not is_valid_figure(half):
        return f"{text}{unit} ± {INVALID}"
    scale = _SCALES.get(fmt)
    if scale is not None:  # the half-width in the mean's unit: "1.2 mJ ± 0.03 mJ"
        number, symbol = text.split(" ", 1)
        return f"{number} ± {_short(half / scale(mean))} {symbol}{unit}"
    return f"{text} ± {_short(half)}{unit}"


def _short(value: float) -> str:
    """A spread to two significant digits, without an exponent where the number reads well without one."""
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.2g}"


def _joule_scale(value: float) -> float:
    """What joules() divided ``value`` by: kJ, J or mJ."""
    if value >= 1e3:
        return 1e3
    return 1.0 if value >= 1 or value == 0 else 1e-3


def _second_scale(value: float) -> float:
    """What seconds() divided ``value`` by: s, ms or us."""
    if value >= 1 or value == 0:
        return 1.0
    return 1e-3 if value >= 1e-3 else 1e-6


_SCALES: dict[Callable[[float], str], Callable[[float], float]] = {joules: _joule_scale, seconds: _second_scale,
                                                                  watt_hours: _wh_scale}


def energy_line(label: str, stat: Stat | None, wh_stat: Stat | None, per: str) -> tuple[str, str]:
    text = figure(stat, joules)
    if wh_stat:
        text += f"   {figure(wh_stat, watt_hours)} per 1,000 {per}"
    return label, text


def _method_lines(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    backends = (report.get("environment") or {}).get("backends") or []
    names = ", ".join(f"{b.get('name', '?')} {b.get('version', '')}".strip() for b in backends) or "no backend"
    lines = [("method", f"{report.get('method', '?')} by {names}")]
    for b in backends:
        domains = ", ".join(b.get("counted_domains") or b.get("domains") or [])
        scopes = sorted(set((b.get("scopes") or {}).values()))
        where = f"{domains}; scope {', '.join(scopes)}" if scopes else domains
        lines.append((f"  {b.get('name', '?')}", f"{b.get('summary') or b.get('method', '')} ({where})"))
    return lines


def _baseline_line(report: Mapping[str, Any]) -> tuple[str, str]:
    baseline = report.get("baseline")
    if not baseline:
        return "baseline", "none (--baseline 0): net figures not computed"
    return "baseline", f"{baseline.get('power_w', float('nan')):.3g} W idle, measured over " \
                       f"{seconds(baseline.get('duration_s', float('nan')))} before the run"


def _carbon_line(report: Mapping[str, Any], stat: Stat | None, per: str) -> list[tuple[str, str]]:
    carbon = report.get("carbon")
    if not carbon:
        return []
    given = f"{plain(carbon.get('intensity_g_per_kwh'))} g/kWh, PUE {plain(carbon.get('pue') or 1)}, given by you"
    return [("carbon", f"{figure(stat, plain)} g CO2e per {per} ({given})")]


def _int(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _calls(count: Any) -> str:
    return f"{_int(count)} predict call{'s' * (count != 1)}"


def _plural(noun: str, count: Any) -> str:
    return noun if count == 1 else f"{noun}s"


def _count(done: int, asked: Any) -> str:
    """"3", or "2 of 3" when fewer were finished than asked for."""
    return f"{done:,}" if done == asked else f"{done:,} of {_int(asked)}"


def _print_rows(rows: list[tuple[str, str]], out: TextIO) -> None:
    width = max(len(label) for label, _ in rows)  # of every row, shown or not: one layout for every run
    rows = [(label, text) for label, text in rows if text != "-"]  # a figure that does not apply (no baseline)
    for label, text in rows:
        print(f"{label:<{width}}  {text}".rstrip(), file=out)


def _print_tail(report: Mapping[str, Any], out: TextIO, what: str, count: int) -> None:
    for warning in report.get("warnings") or []:
        print(f"warning: {warning}", file=out)
    if not report.get("complete", True):
        why = report.get("interrupted") or "stopped early"
        print(f"warning: incomplete ({why}): the figures cover the {count} {what} finished", file=out)


def _protocol(settings: Mapping[str, Any], done: int) -> str:
    warmup = f"warm-up: {_calls(settings.get('warmup'))}"
    if settings.get("runs") is None:  # interrupted before the warm-up chose the calls per repeat
        return f"{_count(done, settings.get('repeats'))} repeats of batch {settings.get('batch_size')}; {warmup}"
    chosen = ("fixed by --runs" if settings.get("runs_chosen_by") == "option"
              else f"chosen for at least {plain(settings.get('min_duration_s', float('nan')))} s per repeat")
    return (f"{_count(done, settings.get('repeats'))} repeats x {_int(settings.get('inferences_per_repeat'))} "
            f"inferences ({_calls(settings.get('runs'))} of batch {settings.get('batch_size')}, {chosen}); {warmup}")


def print_inference_summary(report: Mapping[str, Any], inputs: str, out: TextIO) -> None:
    model, settings, stats = report.get("model") or {}, report.get("settings") or {}, report.get("stats") or {}
    repeats = report.get("repeats") or []
    rows = [
        ("model", f"{model.get('path')} ({model.get('format')} on {model.get('device')}, "
                  f"{model.get('num_parameters') or 0:,} parameters)"),
        ("inputs", inputs),
        ("protocol", _protocol(settings, len(repeats))),
        energy_line("energy per inference", stats.get("energy_per_inference_j"),
                    stats.get("wh_per_1000_inferences"), "inferences"),
        energy_line("  net of idle", stats.get("net_energy_per_inference_j"),
                    stats.get("net_wh_per_1000_inferences"), "inferences"),
    ]
    if stats.get("attributed_energy_per_inference_j"):
        rows.append(("  attributed", figure(stats["attributed_energy_per_inference_j"], joules)
                     + "   (this process's share by CPU time, as Scaphandre, PowerJoular)"))
    by_domain = stats.get("energy_per_inference_j_by_domain") or {}
    for domain, stat in by_domain.items() if len(by_domain) > 1 else ():
        rows.append((f"  {domain}", figure(stat, joules)))
    rows += [
        ("latency", figure(stats.get("latency_s"), seconds) + " per predict call"),
        ("throughput", figure(stats.get("throughput_per_s"), plain) + " inferences/s"),
        *_carbon_line(report, stats.get("g_co2_per_inference"), "inference"),
        *_method_lines(report),
        _baseline_line(report),
    ]
    _print_rows(rows, out)
    n = len(repeats)
    print(f"± is the half-width of the 95 % confidence interval over the {n} repeat{'s' * (n != 1)}.", file=out)
    _print_tail(report, out, "repeats", n)


def print_training_summary(report: Mapping[str, Any], data: str, out: TextIO) -> None:
    model, settings, stats = report.get("model") or {}, report.get("settings") or {}, report.get("stats") or {}
    epochs, steps = report.get("epochs") or [], report.get("steps") or {}
    last = epochs[-1] if epochs else {}
    accuracy = last.get("accuracy")
    rows = [
        ("model", f"{model.get('path')} ({model.get('format')} on {model.get('device')}, "
                  f"{model.get('trainable_parameters') or 0:,} trainable parameters)"),
        ("data", data),
        ("training", f"{_count(len(epochs), settings.get('epochs'))} {_plural('epoch', settings.get('epochs'))}, "
                     f"{_int(steps.get('count', 0))} {_plural('step', steps.get('count'))}, "
                     f"batch {settings.get('batch_size')}, {settings.get('optimizer')} lr {settings.get('lr')}"),
        ("last epoch", f"loss {plain(last.get('loss', float('nan')))}"
                       + (f", accuracy {accuracy:.3f}" if isinstance(accuracy, (int, float)) else "")),
        ("energy per epoch", figure(stats.get("energy_per_epoch_j"), joules)),
        ("energy per step", figure(stats.get("energy_per_step_j"), joules)),
        ("  net of idle", figure(stats.get("net_energy_per_step_j"), joules)),
        energy_line("energy per sample", stats.get("energy_per_sample_j"), stats.get("wh_per_1000_samples"),
                    "samples"),
        *_carbon_line(report, stats.get("g_co2_per_sample"), "sample"),
        *_method_lines(report),
        _baseline_line(report),
    ]
    _print_rows(rows, out)
    print("± is the half-width of the 95 % confidence interval (epochs for the epoch figure, steps otherwise).",
          file=out)
    _print_tail(report, out, "epochs", len(epochs))
