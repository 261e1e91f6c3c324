"""Writing results so that nothing is lost and nothing is clobbered.

The rules, shared by the CLI's ``--json PATH`` and model saving:

- A new or existing regular file is written through a temporary file in the same folder,
  fsynced, then ``os.replace``d onto it: readers see the old file or the new one, never half.
- A symlink to a regular file: its target is replaced (atomically) and the link stays.
- An existing FIFO or character device (``/dev/stdout``, ``/dev/null``, a named pipe) is
  written *through* by :func:`atomic_write_text`, in append mode, never replaced; so is a
  regular file reached through a ``/proc/<pid>/fd`` link (``/dev/stdout`` redirected to a file).
  :func:`atomic_path` refuses them: a model file must never go through a device.
- A directory, a socket, a block device or a dangling symlink: refused with one line.

Every refusal is a ``UsageError`` naming the path, raised by :func:`check_writable` before any
work starts, so a long command or a training run never ends in "cannot write the result".
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from greenai_core.errors import UsageError

#: Where a result goes: replaced atomically, or written through an existing stream.
REPLACE = "replace"
WRITE_THROUGH = "write-through"


@dataclass(frozen=True)
class _Destination:
    path: Path  # the file to replace or to write through (symlinks to regular files resolved)
    how: str  # REPLACE | WRITE_THROUGH
    mode: int | None  # the permissions to keep when replacing an existing file


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device")):
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def _destination(path: str | Path) -> _Destination:
    """Classify ``path`` by the rules above; raises ``UsageError`` for what is refused."""
    given = Path(path)
    if not str(path):
        raise UsageError("an empty path was given as the output file")
    if str(path).endswith(os.sep):
        raise UsageError(f"{path}: is a folder path; give a file path")
    try:
        st = os.stat(given)  # follows symlinks
    except FileNotFoundError:
        if os.path.lexists(given):
            raise UsageError(f"{given}: is a dangling symlink; refusing to write through it") from None
        # A new file: its folder (symlinks resolved) must exist.
        folder = Path(os.path.realpath(given.parent if str(given.parent) else "."))
        if not folder.is_dir():
            raise UsageError(f"{given}: cannot write, folder {given.parent} does not exist") from None
        return _Destination(folder / given.name, REPLACE, None)
    except NotADirectoryError:
        raise UsageError(f"{given}: cannot write, a component of the path is not a folder") from None
    except OSError as exc:
        raise UsageError(f"{given}: cannot write ({exc.strerror or exc})") from None
    if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode):
        return _Destination(given, WRITE_THROUGH, None)
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{given}: is {_kind(st.st_mode)}; give a file path")
    if _through_fd_link(given):  # /dev/stdout redirected to a file: it may hold the command's output too
        return _Destination(given, WRITE_THROUGH, None)
    real = Path(os.path.realpath(given))
    try:
        same = os.path.samestat(os.stat(real), st)
    except OSError:
        same = False
    if not same:  # reached through a link realpath cannot follow (a deleted file behind a /proc link)
        return _Destination(given, WRITE_THROUGH, None)
    return _Destination(real, REPLACE, stat.S_IMODE(st.st_mode))


#: A /proc "magic" link to an open file: /proc/self/fd/1, /proc/<pid>/task/<tid>/fd/3 (/dev/stdout and /dev/fd/N
#: lead there). realpath follows it to the file's name, but the file is someone's open stream, not ours to replace.
_FD_LINK = re.compile(r"/proc/(?:self|thread-self|\d+)(?:/task/\d+)?/fd/[^/]+")
#: Symlinks followed at most (the kernel's own limit is 40).
_MAX_LINKS = 40


def _through_fd_link(path: Path) -> bool:
    """Whether ``path`` reaches its file through a /proc fd link (``/dev/stdout``, ``/dev/fd/1``...)."""
    current = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        current = os.path.join(os.path.realpath(os.path.dirname(current)), os.path.basename(current))
        if _FD_LINK.fullmatch(current):
            return True
        try:
            target = os.readlink(current)
        except OSError:  # not a link (or gone): the chain ends at a plain name
            return False
        current = os.path.normpath(os.path.join(os.path.dirname(current), target))
    return False


def _probe_folder(given: Path, folder: Path) -> None:
    """Create and remove a temporary file: the only check that holds for root and read-only mounts."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".greenai-check.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise UsageError(f"{given}: cannot write in {folder} ({exc.strerror or exc})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def check_writable(path: str | Path, *, regular_only: bool = False) -> Path:
    """Check, before the work starts, that a result can be written to ``path``; return the real target.

    The folder must exist and accept new files; the target must not be a directory, a socket,
    a block device or a dangling symlink. Returns the file that will be replaced (a symlink's
    target) or, for a FIFO or character device, the path that will be written through.
    ``regular_only=True`` refuses FIFOs and devices too, as :func:`atomic_path` will
    (check a model's ``save_to`` this way before training).
    """
    dest = _destination(path)
    if dest.how == WRITE_THROUGH and regular_only:
        raise _not_regular(path)
    if dest.how == WRITE_THROUGH:
        if not os.access(dest.path, os.W_OK):
            raise UsageError(f"{path}: cannot write (permission denied)")
        return dest.path
    _probe_folder(Path(path), dest.path.parent)
    return dest.path


def _default_mode() -> int:
    """0o666 less the umask (read from /proc, since os.umask() cannot be read without a race)."""
    umask = 0o022
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                umask = int(line.split()[1], 8)
    return 0o666 & ~umask


def _fsync_path(path: str | Path, directory: bool = False) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:  # durability of the rename is best-effort on odd file systems
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def _replacing(dest: _Destination, given: Path) -> Iterator[Path]:
    target = dest.path
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    except OSError as exc:
        raise UsageError(f"{given}: cannot write in {target.parent} ({exc.strerror or exc})") from None
    os.close(fd)
    try:
        os.chmod(tmp, dest.mode if dest.mode is not None else _default_mode())
        yield Path(tmp)
        _fsync_path(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_path(target.parent, directory=True)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to save into; on success it replaces ``path`` atomically.

    For savers that want a path (``torch.save``, Keras): the temporary file exists (empty), sits in
    the target's folder and ends with the target's suffix. On success it is fsynced and
    ``os.replace``d onto the target (a symlink's target; the link stays); on any failure,
    KeyboardInterrupt included, it is removed and the target is untouched. FIFOs, devices,
    sockets, directories and dangling symlinks are refused with a ``UsageError``.
    """
    dest = _destination(path)
    if dest.how == WRITE_THROUGH:
        raise _not_regular(path)
    with _replacing(dest, Path(path)) as tmp:
        yield tmp


def _not_regular(path: str | Path) -> UsageError:
    try:
        kind = _kind(os.stat(path).st_mode)
    except OSError:
        kind = "unreadable"
    return UsageError(f"{path}: is not a regular file ({kind}); refusing to save into it")


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` by the module's rules; returns the file written.

    Regular files (and symlinks to them) are replaced atomically; an existing FIFO or
    character device is written through; anything else is refused with a ``UsageError``.
    """
    dest = _destination(path)
    if dest.how == WRITE_THROUGH:
        try:
            # Append, never truncate: /dev/stdout redirected to a file holds the command's output too.
            fd = os.open(dest.path, os.O_WRONLY | os.O_APPEND)  # no O_CREAT: it must still be there
            with open(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            raise UsageError(f"{path}: cannot write ({exc.strerror or exc})") from None
        return dest.path
    with _replacing(dest, Path(path)) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
    return dest.path
