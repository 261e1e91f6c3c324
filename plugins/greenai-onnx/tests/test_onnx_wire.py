"""A file that only starts like ONNX is refused from its structure, without being read whole."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from greenai_onnx.wire import MAX_TOP_LEVEL_FIELDS, structure_problem
from onnx_models import save, tiny_cnn

from greenai_core import ModelFormatError, load_model


def problem(path: Path) -> str | None:
    with open(path, "rb") as fh:
        return structure_problem(fh)


def test_a_real_model_is_well_formed(tmp_path: Path) -> None:
    assert problem(save(tiny_cnn()[0], tmp_path / "m.onnx")) is None


@pytest.mark.parametrize(("data", "message"), [
    (b"\x08\x07\x12\x00\x00", "no valid field tag at byte 4"),                  # field number 0
    (b"\x08\x07\x3a\xff\xff\x03", "field 7 at byte 2 claims more bytes than the file holds"),
    (b"\x08\x07\x0b", "wire type 3 at byte 2"),                                 # a group
    (b"\x08\xff", "a truncated number at byte 0"),
    (b"\x08\x07\x09\x01\x02", "the last field runs past the end of the file"),  # fixed64 cut short
])
def test_broken_structures_are_named(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(data)
    assert message in (problem(path) or "")


@pytest.mark.parametrize("data", [b"\x08\x07\x12\x00\x00", b"\x08\x07\x3a\xff\xff\x03"])
def test_a_file_that_passes_the_sniff_but_not_the_structure_is_one_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(data)  # the first bytes look like ONNX, so the format is chosen and load decides
    with pytest.raises(ModelFormatError, match=r"bad.onnx: truncated or corrupt ONNX file \((no valid|field 7)"):
        load_model(path)


def test_too_many_top_level_fields(tmp_path: Path) -> None:
    path = tmp_path / "many.onnx"
    path.write_bytes(b"\x08\x07" * (MAX_TOP_LEVEL_FIELDS + 1))
    assert problem(path) == f"more than {MAX_TOP_LEVEL_FIELDS} top-level fields (no exporter writes that)"


def test_a_2_gib_file_that_starts_like_onnx_is_refused_with_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.onnx"
    with open(path, "wb") as fh:
        fh.write(b"\x08\x07\x12")  # ir_version 7, then producer_name of length 0, then zeros
        fh.truncate(2 << 30)
    code = ("import resource, sys\nfrom greenai_core import load_model, ModelFormatError\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            f"try:\n    load_model({str(path)!r})\nexcept ModelFormatError as exc:\n    print(exc)\n"
            "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "GREENAI_STRICT_PLUGINS": "0"})
    message, grew_mib = done.stdout.strip().splitlines()
    assert message.endswith("truncated or corrupt ONNX file (no valid field tag at byte 4)"), done.stderr
    assert int(grew_mib) < 40
