"""The template's own test: installed, it is discovered through its entry point and works."""

import time
from pathlib import Path

from greenai_core import Meter
from greenai_core.models import select_format
from greenai_core.plugins import Registry


def test_entry_point_registers_format_and_backend() -> None:
    registry = Registry(strict=True)
    record = {p.name: p for p in registry.plugins()}["example"]
    assert record.status == "loaded"
    assert record.distribution == "greenai-example"
    assert record.formats == ["example"] and record.backends == ["example-clock"]


def test_format_sniffs_content(tmp_path: Path) -> None:
    registry = Registry(strict=True)
    good = tmp_path / "wrong-suffix.bin"
    good.write_bytes(b"GREENAI-EXAMPLE\nrest")
    assert select_format(good, registry.formats()).name == "example"


def test_clock_backend_measures_about_one_watt() -> None:
    registry = Registry(strict=True)
    with Meter([registry.backend("example-clock")]) as meter:
        time.sleep(0.2)
    assert meter.result is not None
    assert abs(meter.result.energy_j - meter.result.duration_s) < 0.01
