"""The GreenIDCard's inputs from a profiling report: mean active power, maximum power, PUE.

Active power is the report's mean *net* power over its windows (energy above the idle baseline /
time): ``sum(net_energy_j) / sum(duration_s)`` over the repeats (inference) or epochs (training),
else the gross mean power minus the baseline's power, else (no baseline) the gross power, warned.
Maximum power: the sum, over the backends in the report's environment, of the plausible maximum
power (``max_power_w``, per domain: RAPL's power limit, NVML's board limit, the estimate's TDP) of
each domain *counted* in the total (``counted_domains``), like ``greenai measure --grade`` does;
unavailable (None, and why) when a counted domain has no figure (a report made before it was recorded).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from greenai_core.errors import GradeError


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _windows(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The report's windows (repeats or epochs) with a positive duration and a finite energy >= 0."""
    key = "repeats" if data.get("schema") == "greenai.inference-report/1" else "epochs"
    found = data.get(key)
    windows = [w for w in found if isinstance(w, Mapping)] if isinstance(found, list) else []
    return [w for w in windows if (_num(w.get("duration_s")) or 0.0) > 0 and (_num(w.get("energy_j")) or 0.0) >= 0
            and _num(w.get("energy_j")) is not None]


def refuse_without_energy(data: Mapping[str, Any], where: str) -> None:
    """``GradeError`` saying why, when the report was interrupted before any window finished or read no energy."""
    if data.get("interrupted") and not _windows(data):
        raise GradeError(f"{where}: holds no energy figure to grade (interrupted ({str(data['interrupted'])[:60]}) "
                         "before anything finished)")
    if data.get("method") == "none":
        raise GradeError(f"{where}: holds no energy (method 'none': no energy backend was read): nothing to grade")


def mean_power(data: Mapping[str, Any]) -> float | None:
    """The report's gross mean power over its windows (W), None when it has no finished window."""
    windows = _windows(data)
    seconds = sum(float(w["duration_s"]) for w in windows)
    return sum(float(w["energy_j"]) for w in windows) / seconds if seconds > 0 else None


def active_power(data: Mapping[str, Any], where: str) -> tuple[float, list[str], str]:
    """(watts, warnings, how it was computed) of the report's mean active power; ``GradeError`` if none."""
    refuse_without_energy(data, where)
    windows = _windows(data)
    seconds = sum(float(w["duration_s"]) for w in windows)
    if not windows or seconds <= 0:
        raise GradeError(f"{where}: holds no finished window with energy and duration: nothing to grade")
    notes: list[str] = []
    nets = [_num(w.get("net_energy_j")) for w in windows]
    if all(n is not None for n in nets):
        power, how = sum(n for n in nets if n is not None) / seconds, "net energy / duration over the windows"
    else:
        gross = sum(float(w["energy_j"]) for w in windows) / seconds
        baseline = _num((data.get("baseline") or {}).get("power_w")) if isinstance(data.get("baseline"),
                                                                                   Mapping) else None
        if baseline is not None:
            power, how = gross - baseline, "gross power minus the baseline's power"
        else:
            power, how = gross, "gross power (no idle baseline was measured)"
            notes.append("no idle baseline in the report: the active power is the gross power, idle included")
    if power < 0:
        notes.append(f"the net power came out negative ({power:.3g} W: the idle baseline was higher than the "
                     "work's power); graded as 0 W")
        power = 0.0
    return power, notes, how


def max_power(data: Mapping[str, Any]) -> tuple[float | None, str]:
    """(the summed maximum power of the counted domains, W, or None; where it came from, or why it is unknown)."""
    env = data.get("environment")
    backends = env.get("backends") if isinstance(env, Mapping) else None
    if not isinstance(backends, list) or not backends:
        return None, "the report names no energy backend"
    total, parts = 0.0, []
    for backend in backends:
        if not isinstance(backend, Mapping):
            return None, "the report's backends are not readable"
        name = str(backend.get("name"))[:40]
        limits, counted = backend.get("max_power_w"), backend.get("counted_domains")
        if not isinstance(limits, Mapping) or not isinstance(counted, list):
            return None, f"the report does not record backend {name!r}'s maximum power per counted domain"
        for domain in counted:
            limit = _num(limits.get(domain)) if isinstance(domain, str) else None
            if limit is None or limit <= 0:
                return None, f"the report records no maximum power for {name}'s domain {str(domain)[:40]!r}"
            total += limit
            parts.append(f"{name}:{domain} {limit:.4g} W{' (assumed)' * (backend.get('method') != 'measured')}")
    if not parts:
        return None, "the report counts no domain"
    return total, "the counted domains' plausible maximum power: " + " + ".join(parts)


def greenidcard_inputs(data: Mapping[str, Any], where: str, pue: float | None
                       ) -> tuple[float, float | None, float, list[str], dict[str, Any]]:
    """(active power W, maximum power W or None, PUE, warnings, details) for ``legacy_grade``."""
    power, notes, how = active_power(data, where)
    pue_source = "given"
    if pue is None:
        carbon = data.get("carbon")
        found = carbon.get("pue") if isinstance(carbon, Mapping) else None
        reported = _num(found)
        if reported is not None and reported > 0:
            pue, pue_source = reported, "the report's"
        else:
            pue, pue_source = 1.0, "default"
            if found is not None:
                notes.append(f"the report's PUE {str(found)[:40]!r} is not a positive number: 1.0 is used")
    maximum, max_from = max_power(data)
    if maximum is not None and "(assumed)" in max_from:
        notes.append("the maximum power includes an estimate's assumed power, not a sensor's limit")
    details = {"active_power_from": how, "pue_from": pue_source, "max_power_from": max_from}
    return power, maximum, pue, notes, details
