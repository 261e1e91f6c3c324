"""The text ``greenai grade`` prints: a grade, or a freshly made reference, as readable lines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from greenai_core.cli.output import joules
from greenai_core.grading.reference import Reference
from greenai_core.grading.result import Grade

_WHAT = {"energy_per_inference_j": "energy per inference (gross mean)",
         "energy_per_step_j": "energy per training step (mean)"}


def hardware_line(hardware: Mapping[str, Any]) -> str:
    """CPU, logical CPUs, GPUs and backends (with their methods) in one line (any odd value in a file shown as is)."""
    gpus, found = hardware.get("gpus"), hardware.get("backends")
    gpus = [str(g)[:80] for g in gpus] if isinstance(gpus, list) else [str(gpus)[:80]] if gpus else []
    backends = [f"{str(b.get('name'))[:40]} ({str(b.get('method'))[:20]})" for b in found
                if isinstance(b, Mapping)] if isinstance(found, list) else []
    return (f"{str(hardware.get('cpu_model') or 'unknown CPU')[:120]}, {str(hardware.get('logical_cpus', '?'))[:20]} "
            f"logical CPUs; GPUs: {', '.join(gpus) or 'none'}; backends: {', '.join(backends) or 'none'}")


def _figure(value: float, unit: str) -> str:
    return joules(value) if unit == "J" else f"{value:.4g} {unit}".rstrip()


def grade_lines(grade: Grade) -> list[str]:
    if grade.legacy:
        lines = [f"Grade: {grade.letter}  (legacy: the original greenAI's GreenIDCard scale; "
                 "A < 0.15 <= B < 0.50 <= C < 1.00 <= D < 1.75 <= E)"]
        metrics = grade.details.get("metrics") or {}
        for name, entry in metrics.items():
            shown = "unavailable" if entry is None else f"{entry['value']:.4g} -> {entry['letter']}"
            lines.append(f"  {name}: {shown}")
        lines.append(f"  active power {grade.details.get('active_power_w', 0):.4g} W "
                     f"({grade.details.get('active_power_from')}), PUE {grade.details.get('pue')}")
        maximum = grade.details.get("max_power_w")
        if isinstance(maximum, (int, float)):
            lines.append(f"  maximum power {maximum:.4g} W ({grade.details.get('max_power_from') or 'given'})")
    else:
        ref = grade.reference or {}
        bounds = " | ".join(_figure(b, grade.unit) for b in grade.details.get("boundaries", []))
        lines = [f"Grade: {grade.letter} ({grade.stars} of 5 stars)",
                 f"  {_WHAT.get(grade.metric, grade.metric)}: {_figure(grade.value, grade.unit)}",
                 f"  letter boundaries (20/40/60/80 % quantiles, a value on one gets the worse letter): {bounds}",
                 f"  reference: {ref.get('path') or '(in memory)'}, made {ref.get('created_at')}, "
                 f"{ref.get('count')} entries",
                 f"  reference hardware: {hardware_line(ref.get('hardware') or {})}"]
    lines += [f"warning: {w}" for w in grade.warnings]
    return lines


def reference_lines(reference: Reference) -> list[str]:
    import io

    from greenai_core.cli.output import table

    rows = [[str(e.get("name"))[:60], f"{e['parameters']:,}" if type(e.get("parameters")) is int else "?",
             _figure(float(e["value"]), reference.unit),
             f"{e['power_w']:.3g} W" if isinstance(e.get("power_w"), (int, float)) else "-"] for e in reference.entries]
    buffer = io.StringIO()
    figure = {"energy_per_inference_j": "energy/inference", "energy_per_step_j": "energy/step"}.get(
        reference.metric, reference.metric)
    table(rows, ["model", "parameters", figure, "power"], out=buffer)
    bounds = " | ".join(_figure(b, reference.unit) for b in reference.boundaries())
    warnings = sorted({str(w) for e in reference.entries if isinstance(e.get("warnings"), list)
                       for w in e["warnings"]})
    return [*buffer.getvalue().rstrip("\n").splitlines(), f"letter boundaries A|B|C|D|E: {bounds}",
            f"hardware: {hardware_line(reference.hardware)}", *(f"warning: {w}" for w in warnings)]
