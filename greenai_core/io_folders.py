"""Saving a model that is a folder (a TensorFlow SavedModel), as safely as ``io.atomic_path`` saves a file.

A folder cannot be ``os.replace``d onto a non-empty folder, so :func:`atomic_folder` writes
the new folder beside the target (``.<name>.<random>.tmp``), fsyncs every file in it, then
puts it in place:

- on Linux (``renameat2(RENAME_EXCHANGE)``, kernel 3.15+, glibc 2.28+, most local file
  systems) the two folders are swapped in one atomic step: readers see the old folder or the
  new one, never a mix or nothing; the old one is then removed;
- elsewhere the old folder is renamed aside, the new one renamed in, and the old one removed:
  for the instant between the two renames the path does not exist (never a half-written
  folder); if the second rename fails the old folder is put back.

On any failure before that (KeyboardInterrupt included) the temporary folder is removed and
the target is untouched. An existing target is replaced only if it is empty or holds
``marker`` (e.g. ``saved_model.pb``): a mistyped ``save_to`` never wipes an unrelated folder.
A symlink to a folder keeps the link and has its target folder replaced.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from greenai_core.errors import UsageError

_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _target(path: str | os.PathLike[str], marker: str) -> Path:
    """The folder to write (symlinks resolved), checked; raises ``UsageError`` naming ``path``."""
    text = os.fspath(path)
    if not text:
        raise UsageError("an empty path was given as the output folder")
    given = Path(text.rstrip(os.sep) or os.sep)
    if os.path.lexists(given) and not os.path.exists(given):
        raise UsageError(f"{text}: is a dangling symlink; refusing to write through it")
    if not os.path.exists(given):
        parent = Path(os.path.realpath(given.parent))
        if not parent.is_dir():
            raise UsageError(f"{text}: cannot write, folder {given.parent} does not exist")
        return parent / given.name
    real = Path(os.path.realpath(given))
    if not real.is_dir():
        raise UsageError(f"{text}: exists and is not a folder; this model is saved as a folder")
    try:
        entries = os.listdir(real)
    except OSError as exc:
        raise UsageError(f"{text}: cannot read the folder ({exc.strerror or exc})") from None
    if entries and marker not in entries:
        raise UsageError(f"{text}: is a folder that holds other files, not a saved model ({marker} missing); "
                         "refusing to replace it: give a new or empty folder")
    return real


def check_writable_folder(path: str | os.PathLike[str], *, marker: str) -> Path:
    """Check, before long work starts, that a model folder can be saved to ``path``; return the real target.

    ``path`` may end with a separator. It must be new (in an existing folder), an empty folder,
    or a folder holding ``marker`` (a model saved before); its parent must accept new entries.
    Raises ``UsageError`` naming the path otherwise.
    """
    target = _target(path, marker)
    try:
        probe = tempfile.mkdtemp(prefix=".greenai-check.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise UsageError(f"{os.fspath(path)}: cannot write in {target.parent} ({exc.strerror or exc})") from None
    os.rmdir(probe)
    return target


def _fsync_tree(root: Path) -> None:
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(folder))


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # durability of a folder entry is best-effort on odd file systems
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    return False  # ENOSYS, EINVAL (file system without exchange)...: the two-rename way


def _put_in_place(new: Path, target: Path) -> None:
    if not os.path.exists(target):
        os.rename(new, target)
        return
    if _exchange(new, target):  # `new` now holds the old folder
        shutil.rmtree(new, ignore_errors=True)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.rmdir(aside)  # only its unique name is wanted
    os.rename(target, aside)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(aside, target)
        raise
    shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike[str], *, marker: str) -> Iterator[Path]:
    """Yield a new empty folder beside ``path`` to save into; on success it replaces ``path`` (module docstring).

    ``marker``: the file a saved model folder holds; an existing non-empty folder without it is
    refused (``UsageError``), as by :func:`check_writable_folder`.
    """
    target = _target(path, marker)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise UsageError(f"{os.fspath(path)}: cannot write in {target.parent} ({exc.strerror or exc})") from None
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        _fsync_tree(tmp)
        _put_in_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(target.parent)


def _umask() -> int:
    umask = 0o022
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                umask = int(line.split()[1], 8)
    return umask
