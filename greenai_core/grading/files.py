"""Reading the JSON files grading takes (reports, references): regular files only, bounded, one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from greenai_core.errors import GradeError

#: A report or reference is a few KiB to a few MiB (a long timeline); anything bigger is not one.
MAX_JSON_BYTES = 64 * 1024 * 1024


def read_json(path: str | os.PathLike[str], what: str) -> Any:
    """The JSON value in ``path``; ``GradeError`` naming the file and ``what`` it should have been."""
    from greenai_core.models.sniff import open_regular

    shown = os.fspath(path)
    try:
        with open_regular(Path(shown)) as fh:
            data = fh.read(MAX_JSON_BYTES + 1)
    except FileNotFoundError:
        raise GradeError(f"{shown}: no such file") from None
    except OSError as exc:
        raise GradeError(f"{shown}: cannot read {what} ({exc.strerror or exc})") from None
    if len(data) > MAX_JSON_BYTES:
        raise GradeError(f"{shown}: not {what} (over {MAX_JSON_BYTES // 2**20} MiB)")
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        message = " ".join(str(exc).split())[:120]
        raise GradeError(f"{shown}: not {what}: invalid JSON ({message})") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")
