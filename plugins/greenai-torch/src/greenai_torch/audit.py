"""Before torch reads an archive without trust: check every member it would unpickle or evaluate.

What torch 2.13's readers do with each kind, and what is checked here first:
- ``torch.save`` state_dict: ``torch.load(weights_only=True)`` unpickles ``data.pkl`` through
  torch's allowlist (its own gate; the sniffer has also checked its globals). Nothing else.
- TorchScript: ``torch.jit.load`` unpickles ``data.pkl``, ``constants.pkl`` and the
  ``*.debug_pkl`` files with its C++ unpickler (it imports no Python, but we do not rely on
  that alone): every ``.pkl``/``.debug_pkl`` record's globals must be weights-only ones,
  TorchScript's list builders or ``__torch__`` classes compiled from the archive. Extra files
  (``extra/``) are never asked for, so never read.
- torch.export (``torch.export.load``): sample inputs, legacy weights/constants and pickled
  weights and constants are ``torch.load``-ed with ``weights_only=False`` (or with a silent
  fallback to it), torchbind objects go through ``torch._C._pickle_load_obj``, opaque objects
  through ``pickle.loads``, AOTInductor packages load native libraries, and the program JSON
  is partly evaluated (program_checks.py). So: every pickle torch would load (each nested
  ``torch.save`` blob's ``data.pkl``, any ``.pt``/``.pkl`` record) must reference weights-only
  globals only; torchbind/opaque objects, AOTInductor code, the pre-2.7 layout and JSON outside
  program_checks' allowlist need trust.
Anything that cannot be verified is refused (``UnsafeModelError``): there is no fallback to
an unsafe load.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from greenai_core.sdk import ModelFormatError, UnsafeModelError, check_member, open_zip, read_member
from greenai_torch.kinds import EXPORT, PICKLE_LIMIT, TORCHSCRIPT, Records, torch_records
from greenai_torch.pickles import UnverifiablePickle, describe, torchscript_allows, unsafe_globals, weights_only_allows
from greenai_torch.program_checks import UnsafeProgram, check_program

#: Largest program JSON read (a large model's graph is a few MB).
JSON_LIMIT = 256 * 1024 * 1024
#: Largest nested ``torch.save`` blob opened (only its central directory and data.pkl are read).
BLOB_LIMIT = 16 * 1024 * 1024 * 1024


def refuse(path: Path, what: str) -> UnsafeModelError:
    return UnsafeModelError(
        f"{path}: {what}; loading it without trust could run code from the file. Refused: pass "
        "trust=True (CLI: --trust) only for a file you trust"
    )


def audit_archive(path: Path, kind: str) -> None:
    """Raise ``UnsafeModelError`` unless everything torch will unpickle or evaluate in ``path`` passes."""
    if kind not in (TORCHSCRIPT, EXPORT):
        return
    with open_zip(path) as zf:
        records = torch_records(zf.namelist())
        if records is None:
            raise refuse(path, "an exported program in torch.export's pre-2.7 layout, which greenai cannot verify "
                               "(re-save it with torch.export.save)")
        if kind == TORCHSCRIPT:
            _audit_torchscript(path, zf, records)
        else:
            _audit_export(path, zf, records)


def _check_pickle(path: Path, member: str, data: bytes, allows: Callable[[str], bool]) -> None:
    try:
        bad = unsafe_globals(data, allows)
    except UnverifiablePickle as exc:
        raise refuse(path, f"its member {member} cannot be verified ({exc})") from None
    if bad:
        raise refuse(path, f"its member {member} references {describe(bad)}")


def _audit_torchscript(path: Path, zf: zipfile.ZipFile, records: Records) -> None:
    for record, member in records.members.items():
        if record.endswith((".pkl", ".debug_pkl")):
            _check_pickle(path, member, read_member(zf, member, PICKLE_LIMIT), torchscript_allows)


def _check_saved_blob(path: Path, zf: zipfile.ZipFile, member: str) -> None:
    """A member torch reads with ``torch.load``: a torch.save zip whose pickles are all weights-only."""
    info = check_member(zf, member, BLOB_LIMIT)
    with zf.open(info) as fh:
        head = fh.read(4)
    if head != b"PK\x03\x04":  # torch.load would take it as the legacy format: several pickles, or a tar
        raise refuse(path, f"its member {member} is in a legacy torch.save format greenai cannot verify")
    try:
        with open_zip(zf.open(info), name=f"{path}:{member}") as inner:
            inner_records = torch_records(inner.namelist())
            if inner_records is None or inner_records.get("data.pkl") is None:
                raise refuse(path, f"its member {member} is not laid out as torch.save writes")
            for record, name in inner_records.members.items():
                if record.endswith(".pkl"):
                    _check_pickle(path, f"{member}:{name}", read_member(inner, name, PICKLE_LIMIT),
                                  weights_only_allows)
    except ModelFormatError as exc:
        if isinstance(exc, UnsafeModelError):
            raise
        raise refuse(path, f"its member {member} cannot be verified ({exc})") from None


def _json(path: Path, zf: zipfile.ZipFile, member: str) -> object:
    try:
        return json.loads(read_member(zf, member, JSON_LIMIT))
    except (ValueError, RecursionError) as exc:
        raise refuse(path, f"its member {member} is not readable JSON ({exc})") from None


def _config_entries(path: Path, zf: zipfile.ZipFile, member: str | None) -> list[dict[str, object]]:
    if member is None:
        return []
    document = _json(path, zf, member)
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict) or not all(isinstance(v, dict) for v in config.values()):
        raise refuse(path, f"its member {member} is not a payload config torch wrote")
    return list(config.values())


def _audit_export(path: Path, zf: zipfile.ZipFile, records: Records) -> None:
    if records.under("data/aotinductor/"):
        raise refuse(path, "it holds AOTInductor native code (shared libraries torch would load)")
    checked: set[str] = set()

    def blob(record: str) -> None:
        member = records.get(record)
        if member is not None and member not in checked:
            checked.add(member)
            _check_saved_blob(path, zf, member)

    for record in records.under("models/"):
        if not record.endswith(".json"):
            continue
        try:
            check_program(_json(path, zf, records.members[record]))
        except UnsafeProgram as exc:
            raise refuse(path, f"its program {records.members[record]}: {exc}") from None
        model = record[len("models/"):-len(".json")]
        for entry in _config_entries(path, zf, records.get(f"data/weights/{model}_weights_config.json")):
            if entry.get("use_pickle"):
                blob(f"data/weights/{entry.get('path_name')}")
        for entry in _config_entries(path, zf, records.get(f"data/constants/{model}_constants_config.json")):
            name = str(entry.get("path_name"))
            if name.startswith(("custom_obj_", "opaque_obj_")):
                raise refuse(path, f"it holds a pickled Python or torchbind object ({name})")
            if entry.get("use_pickle"):
                blob(f"data/constants/{name}")
    # Sample inputs, legacy weight/constant files, and anything else torch could unpickle.
    for record in records.members:
        if record.endswith(".pt") or record.startswith("data/sample_inputs/"):
            blob(record)
        elif record.endswith(".pkl") and records.members[record] not in checked:
            _check_pickle(path, records.members[record], read_member(zf, records.members[record], PICKLE_LIMIT),
                          weights_only_allows)
