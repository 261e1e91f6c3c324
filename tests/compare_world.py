"""A world of known power for the compare tests: a model's predict call takes time in proportion to its size.

Every predict call of an in-test numpy linear model takes ``parameters x SECONDS_PER_PARAMETER``
on the meter's fake clock and draws ``BUSY_W`` on top of ``IDLE_W``, read by the "steady"
in-test sensor; so a model's energy per inference (batch 1, no baseline) is exactly
``(IDLE_W + BUSY_W) x parameters x SECONDS_PER_PARAMETER``: a larger model is dearer by a known
amount. Times are binary fractions, so every figure is exact in floating point.

Labelled folders: ``labelled_folder`` writes dark and bright PNG images into class folders;
``brightness_model`` writes a linear model that calls an image bright (class 1) or dark (class 0)
by its mean pixel, so its accuracy on such a folder is a hand count.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from fake_backends import FakeCounterBackend
from numpy_models import FrozenFormat, LinearFormat, LinearModel, install, random_linear, write_linear
from PIL import Image

from greenai_core import hookimpl
from greenai_core.energy import counters
from greenai_core.plugins import Registry
from greenai_core.profiling import windows
from greenai_core.testing import FakeClock, fake_clock

IDLE_W = 8.0
BUSY_W = 24.0
SECONDS_PER_PARAMETER = 1 / 1024
SENSOR = "steady"
#: (input shape, classes) -> parameters: 2 x 12 + 2 = 26, 2 x 48 + 2 = 98, 2 x 192 + 2 = 386.
SMALL, MEDIUM, LARGE = ((3, 2, 2), 2), ((3, 4, 4), 2), ((3, 8, 8), 2)


def energy_per_inference(parameters: int) -> float:
    return (IDLE_W + BUSY_W) * parameters * SECONDS_PER_PARAMETER


class SteadySensor(FakeCounterBackend):
    """package-0: IDLE_W all the time plus BUSY_W while a model computes."""

    name = SENSOR
    busy_j = 0.0

    def __init__(self) -> None:
        super().__init__(["package-0"], name=SENSOR)

    def read(self) -> dict[str, float]:  # type: ignore[override]
        return {"package-0": IDLE_W * counters._now() + SteadySensor.busy_j}


@dataclass
class World:
    clock: FakeClock
    forwards: list[str] = field(default_factory=list)
    #: raise KeyboardInterrupt at this predict call (1-based, counted over every model), or None
    interrupt_at: int | None = None


@contextmanager
def known_cost_world(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The numpy formats (linear .lin, frozen .frz) and the steady sensor installed; predict calls cost as the
    module's docstring says."""
    install(registry, LinearFormat(), FrozenFormat())
    registry.add_plugin(types.SimpleNamespace(register_energy_backends=hookimpl(lambda register: register(
        SteadySensor))), "steady-tests")
    SteadySensor.busy_j = 0.0
    forward = LinearModel._forward
    with fake_clock() as fake:
        state = World(fake)
        monkeypatch.setattr(windows, "sleep", fake.advance)

        def sized_forward(self: LinearModel, batch: np.ndarray) -> np.ndarray:
            state.forwards.append(self.path.name)
            if state.interrupt_at is not None and len(state.forwards) == state.interrupt_at:
                raise KeyboardInterrupt
            seconds = self.num_parameters * SECONDS_PER_PARAMETER
            fake.advance(seconds)
            SteadySensor.busy_j += BUSY_W * seconds
            return forward(self, batch)

        monkeypatch.setattr(LinearModel, "_forward", sized_forward)
        yield state


def sized_models(folder: Path, *sizes: tuple[tuple[int, int, int], int]) -> list[Path]:
    """One random linear model file per (shape, classes), named m0.lin, m1.lin..."""
    return [random_linear(folder / f"m{i}.lin", shape=shape, classes=classes, seed=i)
            for i, (shape, classes) in enumerate(sizes)]


def brightness_model(path: Path, shape: tuple[int, int, int] = (3, 2, 2), labels: list[str] | None = None,
                     swapped: bool = False) -> Path:
    """Class 1 ("bright") when the normalised image's mean is above 0, class 0 ("dark") below; swapped flips them."""
    size = int(np.prod(shape))
    row = np.full(size, 1.0 / size)
    weights = np.stack([-row, row] if not swapped else [row, -row])
    return write_linear(path, weights, np.zeros(2), shape, labels)


def labelled_folder(root: Path, images: dict[str, list[int]]) -> Path:
    """Class folders of 4 x 4 grey PNG images, one per pixel level given (0 dark .. 255 bright)."""
    for name, levels in images.items():
        (root / name).mkdir(parents=True)
        for i, level in enumerate(levels):
            Image.new("RGB", (4, 4), (level, level, level)).save(root / name / f"{i}.png")
    return root
