"""A world of known power for the profiling tests: a fake clock, counters that integrate power over it,
a numpy model whose every forward pass (and training step) takes a known time at a known power.

``World.advance(dt, watts)`` moves the meter's clock by ``dt`` and every counter by ``watts x dt``,
so each window's energy is exactly power x time. Waits of the protocol (baseline, cool-down) run
at ``idle_w``; forward passes and training steps at ``busy_w``. A fake ``/proc/stat`` and process
CPU clock move with it (``cpu_share`` of the machine's busy time is this process's).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from fake_backends import FakeCounterBackend
from numpy_models import LinearFormat, LinearModel, LinearTrainer, install, random_linear

from greenai_core.energy import SCOPE_MACHINE
from greenai_core.models.trainer import StepResult, Trainer
from greenai_core.plugins import Registry
from greenai_core.profiling import windows
from greenai_core.testing import FakeClock, fake_clock

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class World:
    clock: FakeClock
    backend: FakeCounterBackend
    proc_stat: Path
    idle_w: float = 2.0
    busy_w: float = 10.0
    forward_s: float = 1 / 128
    step_s: float = 0.5
    cpu_share: float = 0.25
    cpu_s: float = 0.0
    busy_ticks: int = 0
    #: what happened, in order: "prepare", "forward", "step", "sync"
    events: list[str] = field(default_factory=list)
    #: raise KeyboardInterrupt at this forward pass (1-based), or None
    interrupt_at_forward: int | None = None

    def advance(self, seconds: float, watts: float) -> None:
        self.clock.advance(seconds)
        for domain in self.backend.values:
            self.backend.advance(domain, watts * seconds)
        if watts > self.idle_w:  # work: this process ran on the CPU, and the machine was busy
            self.cpu_s += self.cpu_share * seconds
            self.busy_ticks += round(seconds * TICKS)
            self.proc_stat.write_text(f"cpu  {self.busy_ticks} 0 0 999999 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n")

    def forward(self) -> None:
        self.events.append("forward")
        if self.interrupt_at_forward is not None and self.events.count("forward") == self.interrupt_at_forward:
            raise KeyboardInterrupt
        self.advance(self.forward_s, self.busy_w)


class ClockedModel(LinearModel):
    world: ClassVar[World | None] = None

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        assert self.world is not None
        self.world.forward()
        return super()._forward(batch)

    def prepare(self, images: list[Any], **kwargs: Any) -> np.ndarray:
        assert self.world is not None
        self.world.events.append("prepare")
        return super().prepare(images, **kwargs)

    def sync(self) -> None:
        assert self.world is not None
        self.world.events.append("sync")

    def _trainer(self, *, optimizer: Any, lr: float, loss: Any, seed: int | None, **options: Any) -> Trainer:
        return ClockedTrainer(self, optimizer, lr, **options)


class ClockedTrainer(LinearTrainer):
    def step(self, images: np.ndarray, labels: np.ndarray) -> StepResult:
        world = ClockedModel.world
        assert world is not None
        world.events.append("step")
        world.advance(world.step_s, world.busy_w)
        return super().step(images, labels)


class ClockedFormat(LinearFormat):
    name = "clocked"
    suffixes = (".clk",)
    model_class = ClockedModel


@contextmanager
def world_of(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, update_period_s: float = 0.0,
             scope: str = SCOPE_MACHINE, **settings: Any) -> Iterator[tuple[World, ClockedModel]]:
    """A world and a loaded clocked model (input [N, 3, 2, 2] float32, 2 classes)."""
    from greenai_core import load_model

    if "clocked" not in registry.formats():
        install(registry, ClockedFormat())
    path = random_linear(tmp_path / "m.clk")
    stat = tmp_path / "stat"
    stat.write_text("cpu  0 0 0 999999 0 0 0 0 0 0\n")
    backend = FakeCounterBackend(["package-0", "dram-0"], update_period_s=update_period_s, scope=scope,
                                 components={"dram-0": "dram"})
    for domain in backend.values:
        backend.set(domain, 0.0)
    with fake_clock() as clock:
        world = World(clock, backend, stat, **settings)
        monkeypatch.setattr(ClockedModel, "world", world)
        monkeypatch.setattr(windows, "sleep", lambda s: world.advance(s, world.idle_w))
        monkeypatch.setattr(windows, "PROC_STAT", str(stat))
        monkeypatch.setattr(windows, "process_cpu_seconds", lambda: world.cpu_s)
        model = load_model(path)
        assert isinstance(model, ClockedModel)
        yield world, model
