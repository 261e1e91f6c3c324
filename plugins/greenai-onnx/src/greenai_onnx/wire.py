"""Checking a file's top-level protobuf structure before ``onnx.load`` reads it whole.

``onnx.load`` reads the entire file into memory and only then finds it corrupt: a 2 GB file
that merely starts like ONNX costs 2 GB and seconds. Walking the top-level fields (tag,
then a varint or a length we seek over) reads a few bytes per field and finds most such
files at once: a field number 0, a group wire type, a length past the end of the file, or
trailing bytes. A real ModelProto has a handful of top-level fields (the graph is one).
"""

from __future__ import annotations

import os
from typing import BinaryIO

#: More top-level fields than any exporter writes (opset imports and metadata are a few dozen).
MAX_TOP_LEVEL_FIELDS = 10_000
_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5


def _varint(fh: BinaryIO) -> int | None:
    value, shift = 0, 0
    for _ in range(10):
        byte = fh.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return value
        shift += 7
    return None  # longer than any 64-bit varint


def structure_problem(fh: BinaryIO) -> str | None:
    """Why the stream is no well-formed protobuf message at top level, or None if its fields add up."""
    size = os.fstat(fh.fileno()).st_size
    fields = 0
    while fh.tell() < size:
        fields += 1
        if fields > MAX_TOP_LEVEL_FIELDS:
            return f"more than {MAX_TOP_LEVEL_FIELDS} top-level fields (no exporter writes that)"
        at = fh.tell()
        tag = _varint(fh)
        if tag is None or tag >> 3 == 0:
            return f"no valid field tag at byte {at}"
        wire = tag & 7
        if wire == _VARINT:
            if _varint(fh) is None:
                return f"a truncated number at byte {at}"
        elif wire in (_FIXED64, _FIXED32):
            fh.seek(8 if wire == _FIXED64 else 4, os.SEEK_CUR)
        elif wire == _LEN:
            length = _varint(fh)
            if length is None or fh.tell() + length > size:
                return f"field {tag >> 3} at byte {at} claims more bytes than the file holds"
            fh.seek(length, os.SEEK_CUR)
        else:
            return f"wire type {wire} at byte {at} (not a protobuf field ONNX uses)"
    return None if fh.tell() == size else "the last field runs past the end of the file"
