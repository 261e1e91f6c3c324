"""Choosing a model format by content, with the suffix only as a hint."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from greenai_core.errors import ModelFormatError
from greenai_core.models import ModelFormat, select_format
from greenai_core.models.sniff import dir_has, zip_has, zip_names


class ZipMember(ModelFormat):
    """Two formats share ".pt" and are told apart by a zip member, like torch's file kinds."""

    suffixes = (".pt",)

    def __init__(self, name: str, member: str) -> None:
        self.name = name  # type: ignore[misc]
        self.member = member

    def sniff(self, path: Path) -> bool:
        return zip_has(zip_names(path), self.member)

    def load(self, path: Path, **options: Any) -> Any:
        return self.name


class FolderFormat(ModelFormat):
    name = "folder"
    suffixes = ("/",)

    def sniff(self, path: Path) -> bool:
        return dir_has(path, "saved_model.pb")

    def load(self, path: Path, **options: Any) -> Any:
        return "folder"


FORMATS = {f.name: f for f in (ZipMember("pickle", "data.pkl"), ZipMember("script", "constants.pkl"), FolderFormat())}


def zip_with(path: Path, *members: str) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for m in members:
            zf.writestr(f"archive/{m}", b"x")
    return path


def test_shared_suffix_is_resolved_by_content(tmp_path: Path) -> None:
    assert select_format(zip_with(tmp_path / "a.pt", "data.pkl"), FORMATS).name == "pickle"
    assert select_format(zip_with(tmp_path / "b.pt", "constants.pkl"), FORMATS).name == "script"


def test_wrong_suffix_is_detected(tmp_path: Path) -> None:
    assert select_format(zip_with(tmp_path / "model.onnx", "constants.pkl"), FORMATS).name == "script"


def test_folder_format(tmp_path: Path) -> None:
    (tmp_path / "sm").mkdir()
    (tmp_path / "sm" / "saved_model.pb").write_bytes(b"")
    assert select_format(tmp_path / "sm", FORMATS).name == "folder"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFormatError, match=r"empty: a folder without a model \(formats tried: folder"):
        select_format(tmp_path / "empty", FORMATS)


def test_unknown_content_names_the_path_and_formats_tried(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00\x01garbage")
    with pytest.raises(ModelFormatError) as info:
        select_format(junk, FORMATS)
    message = str(info.value)
    assert str(junk) in message and "pickle" in message and "script" in message and "folder" in message


def test_missing_file_and_wrong_requested_format(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="no such file"):
        select_format(tmp_path / "nope.pt", FORMATS)
    f = zip_with(tmp_path / "c.pt", "data.pkl")
    with pytest.raises(ModelFormatError, match="content is not a script model"):
        select_format(f, FORMATS, wanted="script")
    with pytest.raises(ModelFormatError, match="unknown model format 'tflite'"):
        select_format(f, FORMATS, wanted="tflite")
