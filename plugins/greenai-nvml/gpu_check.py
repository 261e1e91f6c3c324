"""Check the nvml backend on a real NVIDIA GPU: counter energy against integrated power, and a short window.

    python plugins/greenai-nvml/gpu_check.py [SECONDS]      # default 10 s of matrix multiplies on cuda:0

Needs torch with CUDA and greenai-nvml installed. It measures one window of matrix-multiply
load twice at once: with the GPU's energy counter and with power samples integrated by the
trapezoid rule (the fallback used where the counter is missing), and prints both and their
ratio (expected within 5 %). Then a 50 ms window, which must carry the short-window warning.
On a machine without an NVIDIA GPU it prints one line, "no NVIDIA GPU: <reason>", and exits 1.
"""

from __future__ import annotations

import sys
import time
from typing import Any


def integrated_backend() -> Any:
    """The nvml backend forced to integrate power on GPU 0 (as on a GPU without the counter)."""
    from greenai_nvml.backend import POWER, NvmlBackend

    class Integrated(NvmlBackend):
        name = "nvml-integrated"  # type: ignore[misc]

        def _mode(self, nv: Any, gpu: Any, skipped: list[str]) -> str | None:
            return POWER

    return Integrated(gpus=[0], sample_period_s=0.02)


def main(argv: list[str]) -> int:
    seconds = float(argv[1]) if len(argv) > 1 else 10.0
    from greenai_nvml.backend import NvmlBackend

    import greenai_core

    counter = NvmlBackend(gpus=[0])
    probe = counter.probe()
    if not probe.available:
        print(f"no NVIDIA GPU: {probe.reason}", file=sys.stderr)
        return 1
    try:
        import torch
    except ImportError as exc:
        print(f"no NVIDIA GPU: torch is not importable ({exc})", file=sys.stderr)
        return 1
    if not torch.cuda.is_available():
        print("no NVIDIA GPU: torch sees no CUDA device (a CPU-only torch build?)", file=sys.stderr)
        return 1
    integrated = integrated_backend()
    print(f"GPU: {probe.reason}")
    a = torch.randn(8192, 8192, device="cuda:0")
    b = torch.randn(8192, 8192, device="cuda:0")
    torch.cuda.synchronize()

    def load(duration: float) -> int:
        done, end = 0, time.perf_counter() + duration
        while time.perf_counter() < end:
            for _ in range(8):
                a.matmul(b)
            torch.cuda.synchronize()
            done += 8
        return done

    load(1.0)  # warm up clocks and kernels
    by_counter = greenai_core.Meter([counter], sync=torch.cuda.synchronize)
    by_power = greenai_core.Meter([integrated], sync=torch.cuda.synchronize)
    by_power.start()
    by_counter.start()
    products = load(seconds)
    counted = by_counter.stop()
    sampled = by_power.stop()
    e_counter, e_power = counted.energy_j, sampled.energy_j
    print(f"{products} products of 8192x8192 in {counted.duration_s:.2f} s")
    print(f"counter energy:          {e_counter:10.1f} J  ({counted.power_w:.1f} W)")
    print(f"integrated-power energy: {e_power:10.1f} J  ({sampled.power_w:.1f} W, sampled every 20 ms)")
    ratio = e_power / e_counter if e_counter > 0 else float("nan")
    print(f"ratio integrated / counter: {ratio:.4f} ({'within' if abs(ratio - 1) <= 0.05 else 'OUTSIDE'} 5 %)")
    for w in counted.warnings + sampled.warnings:
        print(f"  warning: {w}")
    with greenai_core.Meter([counter], sync=torch.cuda.synchronize) as short:
        load(0.05)
    assert short.result is not None
    print(f"50 ms window: {short.result.energy_j:.3f} J over {short.result.duration_s * 1e3:.1f} ms")
    for w in short.result.warnings:
        print(f"  warning: {w}")
    coarse = any("coarse" in w for w in short.result.warnings)
    print("short-window warning: " + ("present" if coarse else "MISSING"))
    return 0 if coarse and abs(ratio - 1) <= 0.05 else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
