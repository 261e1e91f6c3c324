"""Plugins' entry points, found without importing ``importlib.metadata``.

``importlib.metadata`` brings ``email``, ``zipfile`` and ``csv`` along: 40 to 80 ms, more
than half of a ``greenai measure`` start. An installed distribution is a ``*.dist-info``
(or ``*.egg-info``) folder on ``sys.path`` with an ``entry_points.txt`` inside; reading
those few small files directly finds the same entry points, in the same order, with the
same rule for a distribution visible twice (the first on ``sys.path`` wins).
Distributions inside zip files on ``sys.path`` are not looked at: plugins are installed.
"""

from __future__ import annotations

import importlib
import os
import stat
import sys
from dataclasses import dataclass

_META_SUFFIXES = (".dist-info", ".egg-info")
#: Metadata and entry-point files are small; a larger one is no distribution of ours.
_MAX_FILE_BYTES = 1 << 20


@dataclass(frozen=True)
class EntryPoint:
    """One ``name = module[:attr]`` line of a distribution's ``entry_points.txt``."""

    name: str
    value: str
    group: str
    dist_name: str | None = None
    dist_version: str | None = None

    def load(self) -> object:
        """Import the module and return the object the entry point names (as importlib.metadata does)."""
        module, _, attr = self.value.partition(":")
        obj: object = importlib.import_module(module.strip())
        for part in filter(None, attr.split("[")[0].strip().split(".")):
            obj = getattr(obj, part)
        return obj


def entry_points(group: str, path: list[str] | None = None) -> list[EntryPoint]:
    """Every entry point of ``group`` from the distributions on ``path`` (default ``sys.path``)."""
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for entry in sys.path if path is None else path:
        folder = entry or "."
        try:
            names = sorted(os.listdir(folder))
        except (OSError, ValueError):  # a zip file, a missing folder, a bad path
            continue
        for name in names:
            if not name.endswith(_META_SUFFIXES):
                continue
            meta = os.path.join(folder, name)
            dist_name, version = _name_and_version(meta, name)
            key = _normalise(dist_name)
            if key in seen:
                continue
            seen.add(key)
            text = _read_small(os.path.join(meta, "entry_points.txt"))
            if text:
                found += [EntryPoint(ep_name, value, group, dist_name, version)
                          for ep_name, value in _group_lines(text, group)]
    return found


def _normalise(name: str) -> str:
    """PEP 503 normalisation: ``Greenai_Torch`` and ``greenai-torch`` are one distribution."""
    out = []
    for ch in name.lower():
        out.append("-" if ch in "-_." else ch)
    collapsed = "".join(out)
    while "--" in collapsed:
        collapsed = collapsed.replace("--", "-")
    return collapsed


def _name_and_version(meta: str, folder_name: str) -> tuple[str, str | None]:
    """Name and version from METADATA (PKG-INFO for eggs), else from the folder's name."""
    stem = folder_name.rsplit(".", 1)[0]
    name, _, version = stem.partition("-")
    for filename in ("METADATA", "PKG-INFO"):
        text = _read_small(os.path.join(meta, filename))
        if not text:
            continue
        headers: dict[str, str] = {}
        for line in text.splitlines():
            if not line.strip():
                break  # the headers end at the first blank line; the description follows
            key, sep, value = line.partition(":")
            if sep and key in ("Name", "Version") and key not in headers:
                headers[key] = value.strip()
        return headers.get("Name", name), headers.get("Version", version or None)
    return name, version or None


def _group_lines(text: str, group: str) -> list[tuple[str, str]]:
    """The ``name = value`` lines of section ``[group]`` of an INI-style entry_points.txt."""
    lines: list[tuple[str, str]] = []
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            continue
        if current == group:
            name, sep, value = line.partition("=")
            if sep and name.strip() and value.strip():
                lines.append((name.strip(), value.strip()))
    return lines


def _read_small(path: str) -> str:
    """A small regular file's text ("" if missing or not a regular file: a FIFO must not block us)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        data = os.read(fd, _MAX_FILE_BYTES)
    except OSError:
        return ""
    finally:
        os.close(fd)
    return data.decode("utf-8", "replace")
