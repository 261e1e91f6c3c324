"""greenai_core.io: atomic writes to regular files only, write-through for FIFOs and devices, early checks."""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenai_core.errors import UsageError
from greenai_core.io import atomic_path, atomic_write_text, check_writable


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def unwritable_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder that refuses new files. Root ignores file modes, so as root: sysfs, which refuses even root."""
    if os.geteuid() == 0:
        yield Path("/sys")
        return
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    yield folder
    folder.chmod(0o700)


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    yield path
    sock.close()


def test_new_file_written_whole_with_umask_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    old = os.umask(0o027)
    try:
        assert atomic_write_text(target, "{}\n") == target
    finally:
        os.umask(old)
    assert target.read_text() == "{}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_existing_file_replaced_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    target.chmod(0o604)
    inode = target.stat().st_ino
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_ino != inode  # replaced, not rewritten in place
    assert stat.S_IMODE(target.stat().st_mode) == 0o604


def test_symlink_stays_and_its_target_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "data.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert check_writable(link) == real
    assert atomic_write_text(link, "new") == real
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "real") == []


def test_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as fh:
            received.append(fh.read())

    thread = threading.Thread(target=reader)
    thread.start()
    assert check_writable(fifo) == fifo
    atomic_write_text(fifo, "through the pipe\n")
    thread.join(timeout=10)
    assert received == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the FIFO, not a file of ours
    assert leftovers(tmp_path) == []


def test_character_device_is_written_through() -> None:
    assert atomic_write_text("/dev/null", "gone\n") == Path("/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("link", ["/dev/fd/{fd}", "/proc/self/fd/{fd}"])
def test_a_file_open_on_a_descriptor_is_written_through_not_replaced(link: str, tmp_path: Path) -> None:
    """``--json /dev/stdout`` with stdout redirected to a file: that file holds the command's output too."""
    target = tmp_path / "out.txt"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, b"the command's output\n")
        inode = target.stat().st_ino
        path = link.format(fd=fd)
        assert check_writable(path) == Path(path)
        atomic_write_text(path, "{}\n")
        with pytest.raises(UsageError, match="is not a regular file"):
            check_writable(path, regular_only=True)  # a model is never saved through someone's stream
    finally:
        os.close(fd)
    assert target.read_text() == "the command's output\n{}\n"
    assert target.stat().st_ino == inode  # the same file, appended to, not replaced
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("case", ["directory", "dangling", "socket", "folder-path", "missing-folder", "not-a-folder"])
def test_refused_targets_are_one_line_naming_the_path(case: str, tmp_path: Path, unix_socket: Path) -> None:
    target: Path | str
    target, needle = {
        "directory": (tmp_path, "is a directory"),
        "dangling": (tmp_path / "dangling.json", "dangling symlink"),
        "socket": (unix_socket, "is a socket"),
        "folder-path": (f"{tmp_path}/new/", "is a folder path"),  # a str: Path() would drop the slash
        "missing-folder": (tmp_path / "nowhere" / "m.json", "folder"),
        "not-a-folder": (unix_socket / "m.json", "not a folder"),
    }[case]
    if case == "dangling":
        assert isinstance(target, Path)
        target.symlink_to(tmp_path / "missing-target.json")
    before = sorted(p.name for p in tmp_path.iterdir())
    for attempt in (check_writable, lambda p: atomic_write_text(p, "x"), lambda p: atomic_path(p).__enter__()):
        with pytest.raises(UsageError) as info:
            attempt(target)
        message = str(info.value)
        assert str(target).rstrip("/") in message and needle in message and "\n" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_unwritable_folder_is_found_before_the_work(unwritable_folder: Path) -> None:
    with pytest.raises(UsageError, match=r"m\.json: cannot write in .*(denied|Read-only)"):
        check_writable(unwritable_folder / "m.json")


def test_atomic_path_replaces_on_success(tmp_path: Path) -> None:
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".keras") and tmp.exists()
        assert target.read_bytes() == b"old"  # untouched until the saver is done
        tmp.write_bytes(b"new weights")
    assert target.read_bytes() == b"new weights"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("error", [RuntimeError("saver failed"), KeyboardInterrupt()])
def test_atomic_path_leaves_the_target_on_failure(error: BaseException, tmp_path: Path) -> None:
    target = tmp_path / "model.pt"
    target.write_bytes(b"old")
    with pytest.raises(type(error)):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise error
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_atomic_path_keeps_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "weights.pt"
    real.write_bytes(b"old")
    link = tmp_path / "latest.pt"
    link.symlink_to(real)
    with atomic_path(link) as tmp:
        tmp.write_bytes(b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_atomic_path_never_writes_through_a_device_or_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target, kind in ((fifo, "a FIFO"), (Path("/dev/null"), "a character device")):
        with pytest.raises(UsageError, match=f"{target}: is not a regular file \\({kind}\\)"):
            check_writable(target, regular_only=True)  # before training, not after it
        with pytest.raises(UsageError, match=f"{target}: is not a regular file \\({kind}\\)"):
            with atomic_path(target):
                pass  # pragma: no cover - refused before
    assert leftovers(tmp_path) == []


def test_sdk_exports_the_writers() -> None:
    from greenai_core import sdk

    assert (sdk.atomic_write_text, sdk.check_writable, sdk.atomic_path) == (
        atomic_write_text, check_writable, atomic_path)
