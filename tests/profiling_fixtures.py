"""Report dicts built by hand, as ``InferenceReport.to_dict()`` / ``TrainingReport.to_dict()`` give them.

``inference_report()``: a RAPL run (3 domains, core-0 not counted) with a 3 s idle baseline, a
1 s warm-up and 5 repeats of 2 s, a timeline every 50 ms (280 points), warnings. ``training_report()``:
the CPU-time estimate over 2 epochs, no baseline. ``tiny_inference_report()``: 2 repeats, one domain,
round numbers, for exact CSV contents. Statistics come from the core's own ``summarise``.
"""

from __future__ import annotations

import math
from typing import Any

from greenai_core.profiling.stats import summarise

RAPL = {
    "name": "rapl", "version": "0.2.0", "method": "measured", "domains": ["package-0", "core-0", "dram-0"],
    "counted_domains": ["package-0", "dram-0"],
    "scopes": {"package-0": "machine", "core-0": "machine", "dram-0": "machine"},
    "components": {"package-0": "cpu", "core-0": "cpu", "dram-0": "dram"},
    "resolution_j": 6.103515625e-05, "update_period_s": 0.001,
    "summary": "package-0, core-0, dram-0 from /sys/class/powercap (RAPL via powercap, whole machine); "
               "package + dram are added",
    "assumptions": {"interface": "powercap", "core_counted": False},
}
ESTIMATE = {
    "name": "estimate", "version": "0.2.0", "method": "estimated", "domains": ["cpu"], "counted_domains": ["cpu"],
    "scopes": {"cpu": "process"}, "components": {"cpu": "cpu"}, "resolution_j": 0.0001, "update_period_s": 0.0,
    "summary": "CPU time of the measured process tree x 10 W per logical CPU (default); excludes GPU, DRAM",
    "assumptions": {"model": "energy = CPU seconds of the measured process tree x watts per logical CPU",
                    "watts_per_cpu": 10.0},
}


def environment(backend: dict[str, Any]) -> dict[str, Any]:
    return {"cpu_model": "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz", "logical_cpus": 2, "gpus": [],
            "os": "Linux-6.1.0-x86_64-with-glibc2.36", "python": "3.11.2", "greenai": "0.2.0",
            "frameworks": {"onnxruntime": "1.20.1", "numpy": "2.1.3"}, "backends": [dict(backend)]}


def _stat(values: list[float]) -> dict[str, Any]:
    return summarise(values).to_dict()


def inference_report() -> dict[str, Any]:
    baseline_w = {"package-0": 9.0, "core-0": 3.0, "dram-0": 3.5}
    busy_w = {"package-0": 41.0, "core-0": 30.0, "dram-0": 6.0}
    phases = [{"name": "baseline", "start_s": 0.0, "end_s": 3.0}, {"name": "warmup", "start_s": 3.0, "end_s": 4.0}]
    phases += [{"name": f"repeat {i + 1}", "start_s": 4.0 + 2 * i, "end_s": 6.0 + 2 * i} for i in range(5)]
    timeline = []
    for k in range(1, 281):
        t = round(k * 0.05, 2)
        level = baseline_w if t <= 3.0 else busy_w
        wobble = 1.0 + 0.05 * math.sin(k / 3.0)
        timeline.append({"t_s": t, "backend": "rapl", "watts": {d: round(w * wobble, 3) for d, w in level.items()}})
    repeats = []
    for i in range(5):
        package, dram, core = 82.0 + 0.5 * i, 12.0 + 0.1 * i, 60.0 + 0.4 * i
        gross = package + dram
        repeats.append({
            "index": i + 1, "predict_calls": 200, "inferences": 200, "duration_s": 2.0 + 0.01 * i, "energy_j": gross,
            "energy_j_by_domain": {"package-0": package, "core-0": core, "dram-0": dram},
            "net_energy_j": gross - 12.5 * (2.0 + 0.01 * i), "cpu_time_s": 1.9, "attributed_energy_j": gross * 0.8,
            "partial": False, "warnings": ["rapl: a counter wrapped once; corrected"] if i == 2 else [],
        })
    per_inference = [r["energy_j"] / r["inferences"] for r in repeats]
    net = [r["net_energy_j"] / r["inferences"] for r in repeats]
    return {
        "schema": "greenai.inference-report/1", "kind": "inference", "complete": True, "interrupted": None,
        "created_at": "2025-11-30T20:15:00Z",
        "model": {"path": "/data/models/sample_cnn.onnx", "format": "onnx", "device": "cpu", "num_parameters": 21150,
                  "trainable_parameters": 21150, "input": {"name": "input", "shape": [1, 3, 32, 32],
                                                           "layout": "NCHW", "dtype": "float32"}, "labels": 10},
        "environment": environment(RAPL), "method": "measured",
        "baseline": {"duration_s": 3.0, "power_w": 12.5, "power_w_by_domain": baseline_w, "warnings": []},
        "carbon": {"intensity_g_per_kwh": 56.0, "pue": 1.2, "note": "given by the user, never looked up"},
        "phases": phases, "timeline": timeline,
        "warnings": ["rapl: a counter wrapped once; corrected",
                     "2 logical CPUs were busy with other work during repeat 4: attribution may be low"],
        "settings": {"batch_size": 1, "runs": 200, "inferences_per_repeat": 200, "warmup": 20, "repeats": 5,
                     "min_duration_s": 2.0, "baseline_s": 3.0, "cooldown_s": 0.0, "backends": None,
                     "runs_chosen_by": "min_duration_s"},
        "repeats": repeats,
        "stats": {
            "energy_per_inference_j": _stat(per_inference),
            "net_energy_per_inference_j": _stat(net),
            "wh_per_1000_inferences": _stat([e * 1000 / 3600 for e in per_inference]),
            "net_wh_per_1000_inferences": _stat([e * 1000 / 3600 for e in net]),
            "latency_s": _stat([r["duration_s"] / r["predict_calls"] for r in repeats]),
            "throughput_per_s": _stat([r["inferences"] / r["duration_s"] for r in repeats]),
            "attributed_energy_per_inference_j": _stat([e * 0.8 for e in per_inference]),
            "energy_per_inference_j_by_domain": {
                d: _stat([r["energy_j_by_domain"][d] / r["inferences"] for r in repeats])
                for d in ("package-0", "core-0", "dram-0")},
            "g_co2_per_inference": _stat([e / 3.6e6 * 56.0 * 1.2 for e in per_inference]),
        },
    }


def training_report() -> dict[str, Any]:
    phases = [{"name": f"epoch {i + 1}", "start_s": 3.0 * i, "end_s": 3.0 * (i + 1)} for i in range(2)]
    timeline = [{"t_s": round(k * 0.04, 2), "backend": "estimate",
                 "watts": {"cpu": round(18.0 + 2.0 * math.sin(k / 5.0), 3)}} for k in range(1, 151)]
    epochs = [{"epoch": i + 1, "duration_s": 3.0, "steps": 10, "samples": 320, "energy_j": 54.0 + i,
               "net_energy_j": None, "energy_per_step_j": (54.0 + i) / 10, "energy_per_sample_j": (54.0 + i) / 320,
               "loss": 2.1 - 0.4 * i, "accuracy": 0.2 + 0.15 * i, "val_accuracy": None, "complete": True}
              for i in range(2)]
    step_energies = [5.4 + 0.01 * k for k in range(20)]
    return {
        "schema": "greenai.training-report/1", "kind": "training", "complete": True, "interrupted": None,
        "created_at": "2025-11-30T20:20:00Z",
        "model": {"path": "/data/models/tiny.pt", "format": "torch", "device": "cpu", "num_parameters": 1234,
                  "trainable_parameters": 1234, "input": {"name": "x", "shape": [1, 3, 16, 16], "layout": "NCHW",
                                                          "dtype": "float32"}, "labels": 4},
        "environment": environment(ESTIMATE), "method": "estimated", "baseline": None, "carbon": None,
        "phases": phases, "timeline": timeline,
        "warnings": ["estimate: no sensor covers cpu; its figure is an estimate from CPU time"],
        "settings": {"epochs": 2, "batch_size": 32, "optimizer": "sgd", "lr": 0.01, "loss": "cross_entropy",
                     "seed": 0, "baseline_s": 0.0, "backends": None, "train_options": {}},
        "epochs": epochs,
        "steps": {"count": 20, "energy_j": _stat(step_energies)},
        "stats": {"energy_per_epoch_j": _stat([54.0, 55.0]), "energy_per_step_j": _stat(step_energies),
                  "energy_per_sample_j": _stat([54.0 / 320, 55.0 / 320]), "net_energy_per_step_j": None,
                  "wh_per_1000_samples": _stat([54.0 / 320 / 3.6, 55.0 / 320 / 3.6]), "g_co2_per_sample": None},
        "training": {"epochs": [{"epoch": i + 1, "loss": e["loss"], "accuracy": e["accuracy"], "samples": 320,
                                 "steps": 10, "seconds": 3.0, "complete": True, "val_accuracy": None,
                                 "val_samples": None} for i, e in enumerate(epochs)],
                     "classes": ["ant", "bee", "cat", "dog"], "saved_to": None, "stopped_early": False, "steps": 20,
                     "samples": 640},
    }


def tiny_inference_report() -> dict[str, Any]:
    """Two repeats of 4 inferences at round numbers; stats written out so the CSV is known to the digit."""
    stat = {"mean": 0.5, "std": 0.25, "ci95_low": 0.25, "ci95_high": 0.75, "n": 2, "method": "student-t"}
    return {
        "schema": "greenai.inference-report/1", "kind": "inference", "complete": False,
        "interrupted": "KeyboardInterrupt", "created_at": "2025-01-02T03:04:05Z",
        "model": {"path": "=cmd|' /C calc'!A0.onnx", "format": "onnx", "device": "cpu", "num_parameters": 10,
                  "trainable_parameters": 10, "input": {"name": "x", "shape": [2, 4], "layout": "NC",
                                                        "dtype": "float32"}, "labels": None},
        "environment": {**environment(ESTIMATE), "backends": [
            {**RAPL, "name": "fake", "domains": ["pkg"], "counted_domains": ["pkg"], "scopes": {"pkg": "machine"},
             "components": {"pkg": "cpu"}}, ESTIMATE]},
        "method": "mixed", "baseline": {"duration_s": 1.0, "power_w": 0.5, "power_w_by_domain": {"pkg": 0.5},
                                        "warnings": []},
        "carbon": None, "phases": [], "timeline": [], "warnings": ["repeat 2 was cut short"],
        "settings": {"batch_size": 2, "runs": 2, "inferences_per_repeat": 4, "warmup": 1, "repeats": 3,
                     "min_duration_s": 2.0, "baseline_s": 1.0, "cooldown_s": 0.0, "backends": ["fake", "estimate"],
                     "runs_chosen_by": "option"},
        "repeats": [
            {"index": 1, "predict_calls": 2, "inferences": 4, "duration_s": 0.5, "energy_j": 2.0,
             "energy_j_by_domain": {"pkg": 2.0}, "net_energy_j": 1.75, "cpu_time_s": 0.25,
             "attributed_energy_j": None, "partial": False, "warnings": []},
            {"index": 2, "predict_calls": 2, "inferences": 4, "duration_s": 0.0, "energy_j": 1.0,
             "energy_j_by_domain": {"pkg": 1.0}, "net_energy_j": 1.0, "cpu_time_s": 0.125,
             "attributed_energy_j": None, "partial": True, "warnings": ["cut short", "a, b"]},
        ],
        "stats": {"energy_per_inference_j": stat, "net_energy_per_inference_j": None,
                  "wh_per_1000_inferences": {**stat, "mean": 0.125, "std": 0.0625, "ci95_low": 0.0625,
                                             "ci95_high": 0.1875},
                  "net_wh_per_1000_inferences": None, "latency_s": {**stat, "mean": 0.125, "n": 1, "std": 0.0,
                                                                    "ci95_low": 0.125, "ci95_high": 0.125,
                                                                    "method": "single run"},
                  "throughput_per_s": {**stat, "mean": 8.0, "n": 1, "std": 0.0, "ci95_low": 8.0,
                                       "ci95_high": 8.0, "method": "single run"},
                  "attributed_energy_per_inference_j": None, "energy_per_inference_j_by_domain": {"pkg": stat},
                  "g_co2_per_inference": None},
    }
