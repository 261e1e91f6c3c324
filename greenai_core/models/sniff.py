"""Reading untrusted files in bounded amounts: what formats use to recognise files by content.

Every helper here reads a bounded head of a file, or for zip archives the end record and
the central directory (both size-checked before they are parsed), never a whole file; a
member is read only through :func:`read_member`, which checks its declared size and
compression ratio first and then reads it streaming with a limit. FIFOs, sockets and
devices are never read (a FIFO would block, ``/dev/zero`` never ends): :func:`special_file`
names them from ``os.stat``, and every open here uses ``O_NONBLOCK`` and checks the opened
descriptor is a regular file, so a path swapped for a FIFO after the check cannot hang us.
"""

from __future__ import annotations

import io
import os
import stat
import struct
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

from greenai_core.errors import ModelFormatError

if TYPE_CHECKING:  # zipfile costs ~7 ms to import: only the formats that read zips pay it
    import zipfile

#: A zip archive with more members than this is refused before its central directory is parsed
#: (a ZipInfo costs ~0.5 KiB; PyTorch archives hold one member per tensor, rarely over a few thousand).
MAX_ZIP_MEMBERS = 65_535
#: Largest central directory read (the list of members; ~100 bytes per member in practice).
MAX_CENTRAL_DIRECTORY = 16 * 1024 * 1024
#: Default cap on a member's uncompressed size for :func:`read_member`.
MAX_MEMBER_BYTES = 64 * 1024 * 1024
#: Deflate's own limit is ~1032:1; a member declaring more (and over a MiB) is a zip bomb.
MAX_COMPRESSION_RATIO = 1100
_RATIO_FLOOR = 1024 * 1024
_CENTRAL_ENTRY = struct.Struct("<4s4B4HL2L5H2L")  # zipfile's structCentralDir
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_CHUNK = 1024 * 1024


def special_file(path: Path) -> str | None:
    """What ``path`` is when it is neither a regular file nor a folder ("a FIFO", ...); None otherwise.

    Missing or unreadable paths are None too: the caller's own checks name those.
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return _describe_mode(mode)


def _describe_mode(mode: int) -> str | None:
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading, refusing anything but a regular file without ever blocking.

    ``O_NONBLOCK`` makes opening a FIFO return at once, and the descriptor itself is checked,
    so there is no window between a check and the open. Raises ``OSError`` (``EINVAL`` with a
    message naming what it is) for FIFOs, sockets, devices and folders.
    """
    special = special_file(path)  # sockets cannot even be opened: name them before trying
    if special is not None:
        raise OSError(22, f"{special}, not a regular file", str(path))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = "a folder" if stat.S_ISDIR(mode) else _describe_mode(mode)
            raise OSError(22, f"{what}, not a regular file", str(path))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_head(path: Path, size: int = 64) -> bytes:
    """The first ``size`` bytes of a regular file (empty for folders, special and unreadable files).

    Never raises, and never reads more than ``size``: a negative size (which ``read`` takes as
    "everything") reads nothing, and a path Python cannot open (a NUL byte in it) is unreadable.
    """
    if size <= 0:
        return b""
    try:
        with open_regular(path) as fh:
            return fh.read(size)
    except (OSError, ValueError):
        return b""


def is_zip(path: Path) -> bool:
    """Whether ``path`` is a regular file starting with a zip local header."""
    return read_head(path, 4) == b"PK\x03\x04"


def _count_central_entries(directory: bytes) -> int:
    """Members listed in a central directory, counted without building ZipInfo objects."""
    count, pos, end = 0, 0, len(directory)
    size = _CENTRAL_ENTRY.size
    while pos + size <= end:
        fields = _CENTRAL_ENTRY.unpack_from(directory, pos)
        if fields[0] != _CENTRAL_SIGNATURE:
            break
        pos += size + fields[12] + fields[13] + fields[14]  # name, extra and comment lengths
        count += 1
    return count


def open_zip(source: Path | IO[bytes], *, name: str | None = None) -> zipfile.ZipFile:
    """A ``ZipFile`` on a path (or a seekable file, e.g. a member of another zip) once its end
    record and central directory pass the limits.

    Refused (``ModelFormatError`` naming the file, or ``name``) before the member list is
    parsed: not a regular file, no end record, a central directory over
    :data:`MAX_CENTRAL_DIRECTORY` or listing over :data:`MAX_ZIP_MEMBERS` members. Read
    members with :func:`read_member`. Close it (``with open_zip(p) as zf:``); it closes the
    file it opened or was given.
    """
    import zipfile

    label = name or str(source)
    if isinstance(source, (str, os.PathLike)):
        try:
            fh: IO[bytes] = open_regular(Path(source))
        except OSError as exc:
            raise ModelFormatError(f"{label}: cannot be read as a zip archive ({exc.strerror or exc})") from None
    else:
        fh = source
    try:
        end = zipfile._EndRecData(fh)  # type: ignore[attr-defined]  # reads at most the last 64 KiB
        if end is None:
            raise ModelFormatError(f"{label}: not a zip archive, or truncated (no end of central directory)")
        size, offset = end[zipfile._ECD_SIZE], end[zipfile._ECD_OFFSET]  # type: ignore[attr-defined]
        declared = end[zipfile._ECD_ENTRIES_TOTAL]  # type: ignore[attr-defined]
        if declared > MAX_ZIP_MEMBERS or size > MAX_CENTRAL_DIRECTORY:
            raise ModelFormatError(
                f"{label}: zip archive lists {declared} members in a {size}-byte central directory "
                f"(limits {MAX_ZIP_MEMBERS} members, {MAX_CENTRAL_DIRECTORY} bytes); refused"
            )
        # The end record's count can lie; zipfile parses the directory by size, so count it ourselves.
        concat = end[zipfile._ECD_LOCATION] - size - offset  # type: ignore[attr-defined]  # bytes prepended
        fh.seek(max(0, offset + concat))
        listed = _count_central_entries(fh.read(size))
        if listed > MAX_ZIP_MEMBERS:
            raise ModelFormatError(f"{label}: zip archive lists {listed} members (limit {MAX_ZIP_MEMBERS}); refused")
        fh.seek(0)
        zf = zipfile.ZipFile(fh)
    except ModelFormatError:
        fh.close()
        raise
    except (zipfile.BadZipFile, OSError, ValueError, struct.error, EOFError) as exc:
        fh.close()
        raise ModelFormatError(f"{label}: corrupt or truncated zip archive ({exc})") from None
    zf.filename = label
    _close_with(zf, fh)
    return zf


def _close_with(zf: zipfile.ZipFile, fh: IO[bytes]) -> None:
    """ZipFile does not close a file object it was given: close ours when it closes."""
    original = zf.close

    def close() -> None:
        try:
            original()
        finally:
            fh.close()

    zf.close = close  # type: ignore[method-assign]


def check_member(zf: zipfile.ZipFile, name: str, limit: int = MAX_MEMBER_BYTES) -> zipfile.ZipInfo:
    """The member's ``ZipInfo`` once its declared size is within ``limit`` and its compression ratio plausible."""
    where = f"{zf.filename}: member {name}"
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ModelFormatError(f"{where} is missing") from None
    if info.file_size > limit:
        raise ModelFormatError(f"{where} declares {info.file_size} bytes (limit {limit}); refused")
    if info.file_size > _RATIO_FLOOR and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        raise ModelFormatError(
            f"{where} expands {info.compress_size} bytes to {info.file_size} (a zip bomb?); refused"
        )
    return info


def read_member(zf: zipfile.ZipFile, name: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """The uncompressed bytes of member ``name``, at most ``limit`` of them.

    Checked before anything is decompressed (:func:`check_member`: declared size against
    ``limit``, compression ratio against :data:`MAX_COMPRESSION_RATIO`); then read in
    chunks, stopping past ``limit`` whatever the header declared. Raises ``ModelFormatError``
    naming the archive and member.
    """
    import zipfile

    info = check_member(zf, name, limit)
    where = f"{zf.filename}: member {name}"
    out = io.BytesIO()
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(min(_CHUNK, limit + 1 - out.tell())):
                out.write(chunk)
                if out.tell() > limit:
                    raise ModelFormatError(f"{where} holds more than {limit} bytes; refused")
    except ModelFormatError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ModelFormatError(f"{where} is unreadable ({exc})") from None
    return out.getvalue()


def zip_names(path: Path) -> list[str]:
    """Member names of a zip file, or an empty list if it is not a zip within the limits."""
    if not is_zip(path):
        return []
    try:
        with open_zip(path) as zf:
            return zf.namelist()
    except ModelFormatError:
        return []


def zip_problem(path: Path) -> str | None:
    """Why :func:`zip_names` found nothing in what starts like a zip (for ``explain``), else None."""
    if not is_zip(path):
        return None
    try:
        with open_zip(path):
            return None
    except ModelFormatError as exc:
        return str(exc).removeprefix(f"{path}: ")


def zip_has(names: list[str], *suffixes: str) -> bool:
    """Whether any member ends with one of ``suffixes`` (members sit under an archive folder)."""
    return any(n.endswith(s) for n in names for s in suffixes)


def dir_has(path: Path, *names: str) -> bool:
    """Whether a folder directly contains every one of ``names``."""
    return path.is_dir() and all((path / n).exists() for n in names)
