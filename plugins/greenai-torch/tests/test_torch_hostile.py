"""PyTorch files and options tried as an adversary would (reviewer R2): pickles too long to walk when
recognising a file, legacy files, bad input shapes."""

from __future__ import annotations

import pickletools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from greenai_torch import kinds
from greenai_torch.kinds import PICKLE, STATE_DICT, _detect, detect
from torch_models import Saved

from greenai_core import load_model
from greenai_core.errors import ModelFormatError, UnsafeModelError, UsageError


class Evil:
    """Unpickling this writes ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """SNIFF_OPS lowered to 50 (a small file then stands for a huge one); yields the opcodes each walk took."""
    walks: list[int] = []
    genops = pickletools.genops

    def counting(data: Any) -> Iterator[Any]:
        walks.append(0)
        for op in genops(data):
            walks[-1] += 1
            yield op

    monkeypatch.setattr(kinds, "SNIFF_OPS", 50)
    monkeypatch.setattr(pickletools, "genops", counting)
    _detect.cache_clear()
    yield walks
    _detect.cache_clear()


def long_pickle(tmp_path: Path, payload: object, name: str) -> Path:
    """A torch.save archive of a list of 200 ints, then ``payload``: over the lowered budget."""
    path = tmp_path / name
    torch.save([*range(200), payload], path)
    return path


def test_recognising_a_long_pickle_walks_a_bounded_number_of_opcodes(tmp_path: Path, small_budget: list[int]) -> None:
    path = long_pickle(tmp_path, 0, "long.pt")
    detected = detect(path)
    assert (detected.kind, detected.verified) == (STATE_DICT, False)
    assert small_budget == [51]  # stopped at the budget (+1: the opcode that crossed it), not the whole file


def test_a_payload_past_the_budget_runs_nowhere_without_trust(tmp_path: Path, small_budget: list[int]) -> None:
    marker = tmp_path / "marker"
    path = long_pickle(tmp_path, Evil(marker), "evil.pt")
    with pytest.raises(UnsafeModelError, match=f"^{path}: torch's weights-only loader refused it"):
        load_model(path)
    assert not marker.exists()  # the weights-only load is the gate: torch's own allowlist


def test_a_full_pickle_past_the_budget_loads_with_trust(saved: Saved, small_budget: list[int]) -> None:
    path = saved.paths["pickle"]
    assert detect(path).verified is False
    with pytest.raises(UnsafeModelError):
        load_model(path)
    with load_model(path, trust=True) as model:  # walked whole at load time: a full pickle, loaded as one
        assert model.details["kind"] == PICKLE
        assert model.num_parameters == sum(p.numel() for p in saved.net.parameters())


def test_a_legacy_torch_save_file_says_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "old.pt"
    torch.save({"w": torch.zeros(2)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(ModelFormatError, match="a legacy torch.save file .* re-save it with a current torch.save"):
        load_model(path)


@pytest.mark.parametrize("value", [5, ["a", 8, 8], [3, 1e9, 8], [3, True, 8], [3, 0, 8], [1, 2]])
def test_bad_input_shapes_are_usage_errors(saved: Saved, value: object) -> None:
    with pytest.raises(UsageError, match="input_shape must be"):  # were plugin failures (TypeError, ValueError)
        load_model(saved.paths["state_dict"], model_class="tiny_nets:TinyNet", input_shape=value)


def test_an_input_over_the_bomb_limit_is_refused_before_allocating(saved: Saved, tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (2, 2)).save(tmp_path / "i.png")
    with load_model(saved.paths["torchscript"], input_shape=[3, 1_000_000_000, 8]) as model, \
            pytest.raises(UsageError, match="the size images are resized to, 1000000000 x 8, is over"):
        model.predict(tmp_path / "i.png")  # was a MemoryError traceback


def test_a_wrong_layout_is_one_line_not_a_traceback(saved: Saved) -> None:
    from greenai_core.models.model import ModelRunError

    with load_model(saved.paths["torchscript"], layout="NHWC") as model, \
            pytest.raises(ModelRunError, match="the torch model failed on a batch of shape"):
        model.predict(torch.zeros(1, 16, 16, 3).numpy())
