"""Untrusted files read safely: bounded reads with a memory ceiling checked here, special files refused at once,
sniffers contained, high-bit-depth images scaled right and decompression bombs refused."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from untrusted_inputs import FORMATS, GIB, HeadFormat, bomb, lying_sizes, many_entries, sparse_file

from greenai_core.errors import ModelFormatError
from greenai_core.models import NCHW, InputSpec, ModelFormat, select_format
from greenai_core.models.preprocess import ImageError, images_to_batch, open_image
from greenai_core.models.sniff import MAX_ZIP_MEMBERS, open_zip, read_head, read_member

TESTS = Path(__file__).parent
#: Peak RSS a recognition may add in a fresh process: "well under 100 MiB".
CEILING_MIB = 40


def recognise(case: str, path: Path) -> dict[str, Any]:
    """Recognise ``path`` (as a model or an image) in a fresh process; its outcome and peak RSS growth."""
    r = subprocess.run([sys.executable, str(TESTS / "untrusted_inputs.py"), case, str(path)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    result: dict[str, Any] = json.loads(r.stdout)
    assert result["grew_mib"] < CEILING_MIB, result
    return result


# -- giants and bombs, with the memory ceiling --------------------------------------------------
def test_a_sparse_gigabyte_file_is_refused_in_flat_memory(tmp_path: Path) -> None:
    for head in (b"PK\x03\x04", b"\x00\x00\x00\x00"):
        path = sparse_file(tmp_path / "giant.zpm", GIB, head)
        result = recognise("model", path)
        assert result["outcome"].startswith(f"ModelFormatError: {path}: not recognised as zip-payload"), result
    as_image = recognise("image", sparse_file(tmp_path / "giant.png", GIB, b"\x89PNG\r\n\x1a\n"))
    assert as_image["outcome"].startswith("ImageError:"), as_image


def test_zip_bombs_are_refused_before_decompressing(tmp_path: Path) -> None:
    path = bomb(tmp_path / "bomb.zpm", 100 * 1024 * 1024)
    assert path.stat().st_size < 1024 * 1024  # a real bomb: 100 MiB of zeros in well under 1 MiB
    result = recognise("model", path)
    assert "member model/weights.bin declares 104857600 bytes (limit 67108864); refused" in result["outcome"]
    declared = recognise("model", lying_sizes(tmp_path / "huge.zpm", 0xFFFF_FFF0))
    assert "declares 4294967280 bytes" in declared["outcome"], declared
    with open_zip(lying_sizes(tmp_path / "ratio.zpm", 50 * 1024 * 1024)) as zf:  # 50 MiB from ~100 bytes
        with pytest.raises(ModelFormatError, match=r"expands \d+ bytes to 52428800 \(a zip bomb\?\)"):
            read_member(zf, "model/weights.bin")
    with open_zip(lying_sizes(tmp_path / "small.zpm", 1000)) as zf:  # declares less than it holds
        with pytest.raises(ModelFormatError, match="weights.bin is unreadable"):
            read_member(zf, "model/weights.bin")


def test_a_streaming_read_stops_at_its_limit_whatever_the_header_says(tmp_path: Path) -> None:
    path = tmp_path / "ok.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("model/weights.bin", b"W8" + b"x" * 998)
    with open_zip(path) as zf:
        assert read_member(zf, "model/weights.bin", limit=1000)[:2] == b"W8"
        with pytest.raises(ModelFormatError, match=r"declares 1000 bytes \(limit 999\)"):
            read_member(zf, "model/weights.bin", limit=999)
        with pytest.raises(ModelFormatError, match="member nope is missing"):
            read_member(zf, "nope")


def test_central_directories_too_long_or_lying_are_refused_before_parsing(tmp_path: Path) -> None:
    lying = recognise("model", many_entries(tmp_path / "lying.zpm", MAX_ZIP_MEMBERS + 5000, declared=3))
    assert f"lists {MAX_ZIP_MEMBERS + 5000} members (limit {MAX_ZIP_MEMBERS}); refused" in lying["outcome"], lying
    large = many_entries(tmp_path / "large.zpm", 10, declared=10, directory_size=64 * 1024 * 1024)
    with pytest.raises(ModelFormatError, match=r"lists 10 members in a 67108864-byte central directory"):
        open_zip(large)
    fine = many_entries(tmp_path / "fine.zpm", 1000, declared=1000)
    with open_zip(fine) as zf:
        assert len(zf.namelist()) == 1000


# -- special files: refused at once, never read -------------------------------------------------
@pytest.fixture
def special_paths(tmp_path: Path) -> Iterator[dict[str, Path]]:
    fifo = tmp_path / "model.fifo"
    os.mkfifo(fifo)
    sock_path = tmp_path / "model.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(sock_path))
    yield {"a FIFO (named pipe)": fifo, "a socket": sock_path, "a character device": Path("/dev/zero"),
           "a character device ": Path("/dev/null")}
    server.close()


def no_hang(call: Callable[[], object]) -> BaseException:
    """Run ``call`` in a thread; it must raise within 20 s (a FIFO opened for reading would block forever)."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            raised.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "hung on a special file"
    assert raised, "a special file was accepted"
    return raised[0]


def test_special_files_as_models_and_images_are_one_line_errors_at_once(special_paths: dict[str, Path]) -> None:
    for what, path in special_paths.items():
        error = no_hang(lambda p=path: select_format(p, FORMATS))  # type: ignore[misc]
        assert isinstance(error, ModelFormatError)
        assert str(error) == f"{path}: is {what.strip()}, not a model file or folder; refused without reading it"
        image_error = no_hang(lambda p=path: open_image(p))  # type: ignore[misc]
        assert isinstance(image_error, ImageError)
        assert str(image_error) == f"{path}: is {what.strip()}, not an image file; refused without reading it"
        assert read_head(path) == b""  # the SDK's readers never read one either
        with pytest.raises(ModelFormatError, match="not a regular file"):
            open_zip(path)


def test_a_block_device_is_refused_by_name_without_reading_it(tmp_path: Path) -> None:
    import stat

    from greenai_core.models.sniff import _describe_mode, special_file

    assert _describe_mode(stat.S_IFBLK | 0o600) == "a block device"
    node = tmp_path / "disk.onnx"
    try:
        os.mknod(node, stat.S_IFBLK | 0o600, os.makedev(7, 0))  # a loop device's numbers; root only
    except PermissionError:
        return  # not root: the mode's classification above is what select_format relies on
    assert special_file(node) == "a block device"
    error = no_hang(lambda: select_format(node, FORMATS))
    assert str(error) == f"{node}: is a block device, not a model file or folder; refused without reading it"
    assert read_head(node) == b""


def test_read_head_is_bounded_and_never_raises(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"0123456789")
    assert (read_head(path, 4), read_head(path, 0), read_head(path, -1)) == (b"0123", b"", b"")  # -1: not "all"
    assert read_head(Path("bad\0name")) == b"" and read_head(tmp_path) == b"" and read_head(tmp_path / "no") == b""
    with pytest.raises(ModelFormatError, match="not a valid path"):
        select_format(Path("bad\0name"), FORMATS)


def test_memory_ceiling_on_dev_zero_and_the_cli_line(special_paths: dict[str, Path]) -> None:
    for case in ("model", "image"):
        assert "character device" in recognise(case, Path("/dev/zero"))["outcome"]
    r = subprocess.run([sys.executable, "-m", "greenai_core", "info", str(special_paths["a FIFO (named pipe)"])],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "is a FIFO (named pipe)" in r.stderr, r.stderr


# -- sniffers contained ------------------------------------------------------------------------
class Raising(ModelFormat):
    name = "raising"
    suffixes = (".bin",)

    def sniff(self, path: Path) -> bool:
        raise RuntimeError("sniffer bug")

    def explain(self, path: Path) -> str:
        raise ValueError("explain bug")

    def load(self, path: Path, **options: Any) -> Any:
        raise AssertionError("never chosen")


def test_a_sniff_that_raises_is_not_mine_and_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "m.bin"
    path.write_bytes(b"HEAD and more")
    seen: list[tuple[str, str]] = []
    formats = {"raising": Raising(), "head": HeadFormat()}
    chosen = select_format(path, formats, on_sniff_error=lambda f, e: seen.append((f.name, str(e))))
    assert chosen.name == "head" and seen == [("raising", "sniffer bug")]
    path.write_bytes(b"nothing")
    seen.clear()
    with pytest.raises(ModelFormatError, match=r"not a model file of any installed format \(formats tried: raising") \
            as info:
        select_format(path, formats, on_sniff_error=lambda f, e: seen.append((f.name, str(e))))
    assert seen == [("raising", "sniffer bug"), ("raising", "explain bug")]
    # the user sees that a plugin crashed, not only that nothing fitted
    assert str(info.value).endswith("; format raising failed to examine it (RuntimeError: sniffer bug)")
    with pytest.raises(ModelFormatError, match=r"content is not a raising model \(its sniff raised RuntimeError"):
        select_format(path, formats, wanted="raising")  # no callback: still contained


# -- images ------------------------------------------------------------------------------------
SPEC = InputSpec("x", (None, 3, 4, 6), "float32", NCHW)


def batch(img: Image.Image | Path, channels: int = 3) -> np.ndarray:
    spec = InputSpec("x", (None, channels, 4, 6), "float32", NCHW)
    return images_to_batch([img], spec, None, "float32", None)


def test_sixteen_bit_grey_scales_by_its_own_range_not_to_white(tmp_path: Path) -> None:
    pixels = np.full((4, 6), 1000, np.uint16)
    pixels[0, 0] = 65535
    path = tmp_path / "grey16.png"
    Image.fromarray(pixels).save(path)
    assert Image.open(path).mode == "I;16"
    out = batch(path)
    assert out.shape == (1, 3, 4, 6)
    np.testing.assert_allclose(out[0, :, 1, 1], 1000 / 65535, rtol=1e-6)  # was 1.0 (white) when clipped to 8 bits
    np.testing.assert_allclose(out[0, :, 0, 0], 1.0)
    big_endian = Image.frombytes("I;16B", (6, 4), pixels.astype(">u2").tobytes())
    np.testing.assert_allclose(batch(big_endian), out, rtol=1e-6)
    np.testing.assert_allclose(batch(path, channels=1)[0, 0], pixels / 65535, rtol=1e-6)
    resized = images_to_batch([Image.fromarray(np.full((9, 9), 30000, np.uint16))], SPEC, None)
    np.testing.assert_allclose(resized, 30000 / 65535, rtol=1e-5)  # resized in float: no 8-bit rounding


def test_int_and_float_modes_are_defined_and_out_of_range_values_refused() -> None:
    as_int = Image.fromarray(np.full((4, 6), 32768, np.int32))
    assert as_int.mode == "I"
    np.testing.assert_allclose(batch(as_int), 32768 / 65535, rtol=1e-6)
    with pytest.raises(ImageError, match=r"read as 16-bit \(0\.\.65535\); it holds 0 to 70000"):
        batch(Image.fromarray(np.array([[0, 70000]] * 4, np.int32)))
    as_float = Image.fromarray(np.full((4, 6), 0.25, np.float32))
    assert as_float.mode == "F"
    np.testing.assert_allclose(batch(as_float), 0.25)
    with pytest.raises(ImageError, match=r"must hold values in \[0, 1\]; it holds -1 to 2"):
        batch(Image.fromarray(np.array([[-1.0, 2.0]] * 4, np.float32)))
    eight_bit = Image.new("L", (6, 4), 51)
    np.testing.assert_allclose(batch(eight_bit), 51 / 255, rtol=1e-6)  # 8-bit modes unchanged


def test_decompression_bombs_are_one_line_errors_naming_the_file(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    warned = tmp_path / "warned.png"  # between the limit and twice it: PIL only warns
    Image.new("RGB", (40, 40)).save(warned)
    erred = tmp_path / "erred.png"  # over twice the limit: PIL raises
    Image.new("RGB", (50, 50)).save(erred)
    for path in (warned, erred):
        with pytest.raises(ImageError) as info:
            open_image(path)
        message = str(info.value)
        assert message.startswith(f"{path}: refused as a decompression bomb") and "\n" not in message
    Image.new("RGB", (20, 20)).save(tmp_path / "small.png")
    assert open_image(tmp_path / "small.png").size == (20, 20)


def test_folders_and_missing_images(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="is a folder, not an image file"):
        open_image(tmp_path)
    with pytest.raises(ImageError, match="no such image file"):
        open_image(tmp_path / "missing.png")
