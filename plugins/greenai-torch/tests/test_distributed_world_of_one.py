"""A world of one rank (a real gloo group in this process): windows, nested windows, a group made again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import torch.distributed as dist

import greenai_core.distributed as distributed
from greenai_core import UsageError


@pytest.fixture
def world_of_one(tmp_path: Path) -> Iterator[Path]:
    dist.init_process_group("gloo", init_method=f"file://{tmp_path}/store", rank=0, world_size=1,
                            timeout=timedelta(seconds=30))
    try:
        yield tmp_path
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_a_world_of_one_rank_nested_windows_and_a_group_made_again(world_of_one: Path) -> None:
    with distributed.measure(["estimate"], timeout_s=5) as outer:
        with distributed.measure(["estimate"], timeout_s=5) as inner:  # nested: both close, each its own figure
            sum(range(100_000))
    for m in (outer, inner):
        assert m.result is not None and m.local is not None
        assert m.result.world_size == 1 and m.result.missing_ranks == () and not m.result.partial
        assert m.result.energy_j == m.local.energy_j > 0 and [r.rank for r in m.result.ranks] == [0]
    assert outer.result is not None and inner.result is not None and outer.result.energy_j >= inner.result.energy_j
    with pytest.raises(UsageError, match="already running"):
        outer.start().start()
    outer.stop()
    dist.destroy_process_group()  # the job tears its group down between windows
    with pytest.raises(UsageError, match="not initialised"):
        distributed.measure(["estimate"]).start()
    dist.init_process_group("gloo", init_method=f"file://{world_of_one}/store2", rank=0, world_size=1)
    with distributed.measure(["estimate"], timeout_s=5) as again:  # a new group: new links, no stale one
        pass
    assert again.result is not None and again.result.world_size == 1 and again.result.warnings == ()


def test_groups_that_cannot_be_made_are_one_usage_error(world_of_one: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:  # what gloo raises when a peer does not come in time
        raise RuntimeError("Timed out waiting 2000ms for\nstore key")

    monkeypatch.setattr(dist, "new_group", refused)
    with pytest.raises(UsageError, match="same group and timeout_s.*Timed out waiting 2000ms") as caught:
        distributed.measure(["estimate"], timeout_s=2).start()
    assert "\n" not in str(caught.value)
