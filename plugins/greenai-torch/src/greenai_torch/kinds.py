"""Telling PyTorch's file kinds apart by content, without importing torch or unpickling.

All four are zip archives whose members sit in one top folder; torch's reader
(``PyTorchFileReader``) sees them as records relative to the first member's folder, looked
up case-insensitively, and so do we (an archive with members outside that folder, or two
names differing only in case, is not one torch wrote, and is refused: what we check must be
what torch reads).
- torch.export (``torch.export.save``): an ``archive_format`` record (``pt2``);
- TorchScript (``torch.jit.save``): ``constants.pkl`` and ``code/`` records;
- ``torch.save``: ``data.pkl``. Its pickle's global references are read with
  ``pickletools`` (which executes nothing, see pickles.py): a state_dict references only what
  torch's weights-only unpickler allows; anything else (a module class, ``os.system``...)
  means a full pickle, which runs code when loaded and so needs ``trust=True``.
Only the zip's end record, its central directory and ``data.pkl`` (at most
:data:`PICKLE_LIMIT` bytes, read with a limit) are read: sniffing any file is bounded, in
memory and in time: past :data:`SNIFF_OPS` opcodes the walk stops and the file is taken as a
state_dict ``verified=False``, which is safe because a state_dict is only ever loaded with
``torch.load(weights_only=True)`` (torch's own allowlist); ``load`` with ``trust=True``
walks the whole pickle to tell a full pickle apart (:func:`classify_fully`).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from greenai_core.sdk import ModelFormatError, is_zip, open_zip, read_head, read_member, zip_problem
from greenai_torch.pickles import PickleTooLong, UnverifiablePickle, unsafe_globals, weights_only_allows

PICKLE, STATE_DICT, TORCHSCRIPT, EXPORT = "pickle", "state_dict", "torchscript", "export"
#: Largest ``data.pkl`` read to tell a state_dict from a full pickle (~100 bytes per tensor in practice).
PICKLE_LIMIT = 32 * 1024 * 1024
#: Opcodes walked while recognising a file (~0.3 s here; a state_dict takes ~30 per tensor, so ~3,000 tensors).
SNIFF_OPS = 100_000
#: How torch.save's legacy (non-zip) format starts: pickle protocol 2, then its magic number as a LONG1.
LEGACY_MAGIC = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
_NOT_TORCH = "a zip archive without data.pkl, TorchScript code or an exported program"


@dataclass(frozen=True)
class Records:
    """A torch archive as torch's reader sees it: lower-cased record name -> zip member name."""

    prefix: str
    members: dict[str, str]

    def get(self, record: str) -> str | None:
        return self.members.get(record.lower())

    def under(self, folder: str) -> list[str]:
        """Record names (lower case) inside ``folder`` ("data/weights/")."""
        folder = folder.lower()
        return sorted(r for r in self.members if r.startswith(folder))


def torch_records(names: list[str]) -> Records | None:
    """The records of an archive laid out as torch writes it; None for any other layout."""
    if not names or "/" not in names[0]:
        return None
    prefix = names[0].split("/", 1)[0] + "/"
    members: dict[str, str] = {}
    for name in names:
        if not name.startswith(prefix):
            return None
        record = name[len(prefix):].lower()
        if record in members:  # torch's lookup is case-insensitive: which one it reads is unclear
            return None
        members[record] = name
    return Records(prefix, members)


@dataclass(frozen=True)
class Detected:
    kind: str | None
    why: str = ""  # why kind is None, for explain()
    records: Records | None = None
    #: False for a STATE_DICT whose data.pkl was too long to walk within SNIFF_OPS (see the module docstring).
    verified: bool = True


def detect_kind(path: Path) -> str | None:
    """One of the four kinds, or None when this is no PyTorch archive we can load."""
    return detect(path).kind


def detect(path: Path) -> Detected:
    try:
        st = os.stat(path)
    except OSError:
        return Detected(None, "it cannot be read")
    return _detect(str(path), st.st_size, st.st_mtime_ns, st.st_ino)


@functools.lru_cache(maxsize=16)  # sniff, explain and load ask about the same file in a row
def _detect(path_str: str, size: int, mtime_ns: int, inode: int) -> Detected:
    path = Path(path_str)
    if path.is_dir():
        return Detected(None, "it is a folder")
    if not is_zip(path):
        if read_head(path, len(LEGACY_MAGIC)) == LEGACY_MAGIC:
            return Detected(None, "a legacy torch.save file (before PyTorch 1.6, or saved with "
                                  "_use_new_zipfile_serialization=False), which greenai does not load; re-save it "
                                  "with a current torch.save")
        return Detected(None, "PyTorch files are zip archives and this is not one")
    try:
        with open_zip(path) as zf:
            names = zf.namelist()
            records = torch_records(names)
            if records is None:
                if any(n.endswith("serialized_exported_program.json") for n in names):
                    return Detected(EXPORT)  # torch.export's pre-2.7 layout (members at the root)
                if not any("/" in n for n in names):
                    return Detected(None, _NOT_TORCH)
                return Detected(None, "a zip archive not laid out as PyTorch writes one (members outside "
                                      "one top folder, or names differing only in case)")
            if records.get("archive_format") is not None:
                return Detected(EXPORT, records=records)
            if records.get("constants.pkl") is not None and records.under("code/"):
                return Detected(TORCHSCRIPT, records=records)
            data = records.get("data.pkl")
            if data is None:
                return Detected(None, _NOT_TORCH)
            try:
                refused = unsafe_globals(read_member(zf, data, PICKLE_LIMIT), weights_only_allows, SNIFF_OPS)
            except PickleTooLong:
                return Detected(STATE_DICT, records=records, verified=False)
            except UnverifiablePickle as exc:
                return Detected(None, f"its {data} is not a readable pickle (corrupt file: {exc})")
    except ModelFormatError as exc:
        problem = str(exc).removeprefix(f"{path}: ")
        return Detected(None, f"the zip archive is refused or unreadable: {problem}")
    return Detected(PICKLE if refused else STATE_DICT, records=records)


def classify_fully(path: Path, detected: Detected) -> str:
    """PICKLE or STATE_DICT for a file whose sniff stopped at SNIFF_OPS: the whole data.pkl walked, no budget.

    Only ``load`` with ``trust=True`` needs this (without trust, the weights-only load is the gate).
    """
    assert detected.records is not None
    data = detected.records.get("data.pkl")
    assert data is not None
    with open_zip(path) as zf:
        try:
            refused = unsafe_globals(read_member(zf, data, PICKLE_LIMIT), weights_only_allows)
        except UnverifiablePickle as exc:
            raise ModelFormatError(f"{path}: its {data} is not a readable pickle (corrupt file: {exc})") from None
    return PICKLE if refused else STATE_DICT


def explain(path: Path) -> str:
    detected = detect(path)
    if detected.kind is not None:
        return ""
    problem = zip_problem(path)
    if problem is not None and "limit" not in problem:
        return f"the zip archive is corrupt or truncated ({problem})"
    return detected.why
