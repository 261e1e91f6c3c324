"""Whether a report was measured like its reference: the warnings a grade carries when it was not.

A relative grade only means something against a reference made on the same hardware, with the
same sensors and the same protocol settings; anything that differs is named, never hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Settings that change energy per inference when they differ (the rest, e.g. repeats, only its noise). The
#: backends *asked for* (``settings.backends``, None: automatic) are not compared: the backends that actually
#: measured are (``hardware_warnings``), so ``--backend estimate`` vs automatic on a sensorless machine is no
#: difference, and automatic on two machines with different sensors is one.
#: The optimizer changes a training step's work (Adam keeps two moments per weight); lr and epochs do not.
COMPARED_SETTINGS = ("batch_size", "method", "device", "optimizer")


def _backends(environment: Mapping[str, Any]) -> list[str]:
    """The backends as ``name (method)``, sorted: what produced the figures."""
    found = environment.get("backends")
    if not isinstance(found, list):
        return []
    return sorted(f"{b.get('name')} ({b.get('method')})" for b in found if isinstance(b, Mapping))


def _short(value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return (text or "none")[:120]


def hardware_warnings(report_env: Mapping[str, Any], reference_hw: Mapping[str, Any]) -> list[str]:
    """One warning per hardware fact (CPU model, logical CPUs, GPU models, backends) that differs."""
    notes = []
    facts = (("cpu_model", "CPU"), ("logical_cpus", "logical CPUs"), ("gpus", "GPUs"))
    for key, label in facts:
        if key in report_env and key in reference_hw and report_env[key] != reference_hw[key]:
            notes.append(f"hardware differs from the reference's: {label} {_short(report_env[key])!s} "
                         f"vs {_short(reference_hw[key])} in the reference")
    mine, theirs = _backends(report_env), _backends(reference_hw)
    if mine != theirs:
        notes.append(f"energy backends differ from the reference's: {_short(mine)} vs {_short(theirs)} "
                     "in the reference")
    return notes


def report_settings(report: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of ``report`` that ``COMPARED_SETTINGS`` names (method and device from the report)."""
    found_settings, found_model = report.get("settings"), report.get("model")
    settings: Mapping[str, Any] = found_settings if isinstance(found_settings, Mapping) else {}
    model: Mapping[str, Any] = found_model if isinstance(found_model, Mapping) else {}
    found = {"batch_size": settings.get("batch_size"), "backends": settings.get("backends"),
             "method": report.get("method"), "device": model.get("device")}
    if settings.get("optimizer") is not None:  # training reports only
        found["optimizer"] = settings["optimizer"]
    return found


def settings_warnings(report: Mapping[str, Any], reference_settings: Mapping[str, Any]) -> list[str]:
    """One warning per compared setting that differs (a setting the reference does not record is not compared)."""
    mine = report_settings(report)
    return [f"settings differ from the reference's: {key} {mine[key]!r} vs {reference_settings[key]!r} "
            "in the reference" for key in COMPARED_SETTINGS
            if key in reference_settings and mine.get(key) != reference_settings[key]]
