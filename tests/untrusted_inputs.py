"""Hostile inputs for the model layer (sparse giants, zip bombs, special files) and an in-test format that
sniffs only through the SDK's bounded readers. ``python untrusted_inputs.py CASE PATH`` recognises PATH
in a fresh process and prints, as JSON, the outcome and how much the peak RSS grew meanwhile."""

from __future__ import annotations

import json
import os
import resource
import struct
import sys
import zipfile
from pathlib import Path
from typing import Any

from greenai_core.sdk import ModelFormat, ModelFormatError, open_zip, read_head, read_member

GIB = 1024 ** 3


class ZipPayloadFormat(ModelFormat):
    """Claims zips whose ``model/weights.bin`` member starts with b"W8" (reads it like torch reads data.pkl)."""

    name = "zip-payload"
    suffixes = (".zpm",)

    def sniff(self, path: Path) -> bool:
        if read_head(path, 4) != b"PK\x03\x04":
            return False
        try:
            with open_zip(path) as zf:
                return read_member(zf, "model/weights.bin").startswith(b"W8")
        except ModelFormatError:
            return False

    def explain(self, path: Path) -> str:
        try:
            with open_zip(path) as zf:
                read_member(zf, "model/weights.bin")
        except ModelFormatError as exc:
            return str(exc).removeprefix(f"{path}: ")
        return ""

    def load(self, path: Path, **options: Any) -> Any:
        return "loaded"


class HeadFormat(ModelFormat):
    """Claims files starting with b"HEAD" (an ONNX-like head check)."""

    name = "head"

    def sniff(self, path: Path) -> bool:
        return read_head(path, 4) == b"HEAD"

    def load(self, path: Path, **options: Any) -> Any:
        return "loaded"


FORMATS: dict[str, ModelFormat] = {f.name: f for f in (ZipPayloadFormat(), HeadFormat())}


def sparse_file(path: Path, size: int = GIB, head: bytes = b"PK\x03\x04") -> Path:
    """A ``size``-byte file that takes no disk: ``head``, then a hole."""
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(size)
    return path


def bomb(path: Path, size: int = 200 * 1024 * 1024) -> Path:
    """A zip whose member inflates ``size`` bytes of zeros from about size/1000 bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("model/weights.bin", "w", force_zip64=True) as fh:
            chunk = b"W8" + b"\x00" * (1024 * 1024 - 2)
            for _ in range(size // len(chunk)):
                fh.write(chunk)
                chunk = b"\x00" * len(chunk)
    return path


def lying_sizes(path: Path, declared: int) -> Path:
    """A zip whose one member's headers declare ``declared`` uncompressed bytes (it holds 64 KiB of zeros)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("model/weights.bin", b"W8" + b"\x00" * 65534)
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local header, central directory
        at = data.index(signature)
        struct.pack_into("<L", data, at + offset, declared)
    path.write_bytes(bytes(data))
    return path


def many_entries(path: Path, listed: int, declared: int, directory_size: int | None = None) -> Path:
    """A zip whose central directory lists ``listed`` empty members while its end record says ``declared``
    (and, if given, a central directory of ``directory_size`` bytes)."""
    entries = bytearray()
    for i in range(listed):
        name = f"m/{i}".encode()
        entries += struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, len(name),
                               0, 0, 0, 0, 0, 0) + name
    start = b"PK\x03\x04" + b"\x00" * 26
    size = len(entries) if directory_size is None else directory_size
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, declared, declared, size, len(start), 0)
    path.write_bytes(start + bytes(entries) + end)
    return path


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def measure(case: str, path: Path) -> dict[str, Any]:
    from greenai_core.models.format import select_format
    from greenai_core.models.preprocess import ImageError, open_image

    open_image.__doc__  # noqa: B018 - imports (PIL lazily) done before the baseline
    import PIL.Image  # noqa: F401

    before = _peak_kib()
    try:
        if case == "model":
            outcome = select_format(path, FORMATS).name
        else:
            outcome = f"image {open_image(path).size}"
    except (ModelFormatError, ImageError) as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    return {"grew_mib": (_peak_kib() - before) / 1024, "outcome": outcome}


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], Path(sys.argv[2]))))
    sys.stdout.flush()
    os._exit(0)
