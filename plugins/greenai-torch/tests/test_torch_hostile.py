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

from greenai_core import ModelFormatError, UnsafeModelError, UsageError, load_model


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
    from greenai_core import ModelRunError

    with load_model(saved.paths["torchscript"], layout="NHWC") as model, \
            pytest.raises(ModelRunError, match="the torch model failed on a batch of shape"):
        model.predict(torch.zeros(1, 16, 16, 3).numpy())


#: Recognises argv[1] in a fresh process and prints the outcome and the peak RSS growth (MiB) meanwhile.
RECOGNISE = """
import json, resource, sys, zipfile
from greenai_core import GreenAIError, load_model
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
warm = sys.argv[2]  # a small refused zip first: lazy imports (plugins, zipfile) before the baseline
with zipfile.ZipFile(warm, "w") as zf: zf.writestr("archive/version", "3")
for path in (warm, sys.argv[1]):
    before = peak()
    try:
        outcome = f"loaded {load_model(path).format}"
    except GreenAIError as exc:
        outcome = f"{type(exc).__name__}: {exc}"
print(json.dumps({"outcome": outcome, "grew_mib": peak() - before}))
"""
GIB = 1024 ** 3


def _recognised_in_a_fresh_process(path: Path, tmp_path: Path) -> dict[str, Any]:
    import json
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", RECOGNISE, str(path), str(tmp_path / "warm.pt")], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    result: dict[str, Any] = json.loads(r.stdout)
    return result


def test_giant_files_and_a_zip_bomb_are_refused_in_flat_memory(tmp_path: Path) -> None:
    """The real torch sniffer on a sparse 1 GiB file (zip head, pickle head) and a 100 MiB data.pkl bomb."""
    import zipfile

    cases = {}
    for name, head in (("zip-head.pt", b"PK\x03\x04"), ("pickle-head.pt", b"\x80\x02")):
        with open(tmp_path / name, "wb") as fh:
            fh.write(head)
            fh.truncate(GIB)
        cases[name] = tmp_path / name
    bomb = cases["bomb.pt"] = tmp_path / "bomb.pt"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("archive/version", "3\n")
        with zf.open("archive/data.pkl", "w", force_zip64=True) as member:
            chunk = b"\x80\x02" + b"\x00" * (2**20 - 2)
            for _ in range(100):
                member.write(chunk)
                chunk = b"\x00" * len(chunk)
    assert bomb.stat().st_size < 2**20
    expected = {"zip-head.pt": "the zip archive is corrupt or truncated",
                "pickle-head.pt": "PyTorch files are zip archives and this is not one",
                "bomb.pt": "member archive/data.pkl declares 104857600 bytes (limit"}
    for name, path in cases.items():
        result = _recognised_in_a_fresh_process(path, tmp_path)
        assert result["outcome"].startswith(f"ModelFormatError: {path}: not recognised as torch"), result
        assert expected[name] in result["outcome"], result
        assert result["grew_mib"] < 40, result  # "well under 100 MiB" over the baseline
