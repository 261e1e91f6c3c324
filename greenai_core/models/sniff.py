"""Small helpers model formats use to recognise files by content, not by suffix."""

from __future__ import annotations

import zipfile
from pathlib import Path


def read_head(path: Path, size: int = 64) -> bytes:
    """The first ``size`` bytes of a file (empty for folders and unreadable files)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(size)
    except OSError:
        return b""


def is_zip(path: Path) -> bool:
    return path.is_file() and read_head(path, 4) == b"PK\x03\x04"


def zip_names(path: Path) -> list[str]:
    """Member names of a zip file, or an empty list if it is not a readable zip."""
    if not is_zip(path):
        return []
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return []


def zip_has(names: list[str], *suffixes: str) -> bool:
    """Whether any member ends with one of ``suffixes`` (members sit under an archive folder)."""
    return any(n.endswith(s) for n in names for s in suffixes)


def dir_has(path: Path, *names: str) -> bool:
    """Whether a folder directly contains every one of ``names``."""
    return path.is_dir() and all((path / n).exists() for n in names)
