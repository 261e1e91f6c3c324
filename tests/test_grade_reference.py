"""The reference file: save/load round trip, junk refused naming the file, the default path, too few entries."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from greenai_core.errors import GradeError
from greenai_core.grading import Reference, default_reference_path

HARDWARE = {"cpu_model": "Test CPU", "logical_cpus": 2, "gpus": [],
            "backends": [{"name": "fake", "method": "measured"}]}
SETTINGS = {"batch_size": 1, "backends": None, "method": "measured", "device": "cpu"}


def five() -> Reference:
    entries = [{"name": f"m{i}", "parameters": 10 ** i, "value": float(i), "ci95": [i - 0.1, i + 0.1]}
               for i in range(1, 6)]
    return Reference.from_values("energy_per_inference_j", entries, hardware=HARDWARE, settings=SETTINGS,
                                 created_at="2026-01-02T03:04:05+00:00")


def test_boundaries_are_the_20_40_60_80_quantiles() -> None:
    # values 1..5: positions 4 q = 0.8, 1.6, 2.4, 3.2 -> 1.8, 2.6, 3.4, 4.2
    assert five().boundaries() == pytest.approx([1.8, 2.6, 3.4, 4.2], abs=1e-12)
    assert five().values == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    ref = five()
    path = tmp_path / "ref.json"
    ref.save(path)
    loaded = Reference.load(path)
    assert loaded.to_dict() == ref.to_dict()
    assert loaded.path == str(path)
    assert json.loads(path.read_text())["schema"] == "greenai.reference/1"
    assert loaded.summary() == {"path": str(path), "created_at": "2026-01-02T03:04:05+00:00", "hardware": HARDWARE,
                                "settings": SETTINGS, "metric": "energy_per_inference_j", "count": 5}


def test_the_file_matches_its_json_schema(tmp_path: Path) -> None:
    import jsonschema

    schema = json.loads((Path(__file__).parents[1] / "greenai_core/data/schemas/reference-1.json").read_text())
    ref = five()
    jsonschema.validate(ref.to_dict(), schema)
    bad = ref.to_dict()
    bad["entries"][0]["value"] = -1.0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_bare_numbers_make_named_entries() -> None:
    ref = Reference.from_values("energy_per_step_j", [5, 4, 3, 2, 1])
    assert [e["name"] for e in ref.entries] == ["entry-1", "entry-2", "entry-3", "entry-4", "entry-5"]


@pytest.mark.parametrize("count", [0, 1, 4])
def test_fewer_than_five_entries_are_refused(count: int) -> None:
    with pytest.raises(GradeError, match=f"at least 5 entries .* it has {count}$"):
        Reference.from_values("energy_per_inference_j", [1.0] * count)


@pytest.mark.parametrize("value", [0.0, -1.0, "1", None, True])
def test_an_entry_without_a_positive_value_is_refused(value: object) -> None:
    with pytest.raises(GradeError, match="entry 3 has value"):
        Reference.from_values("energy_per_inference_j", [1.0, 2.0, value, 4.0, 5.0])  # type: ignore[list-item]


@pytest.mark.parametrize(("content", "match"), [
    (b"", "invalid JSON"),
    (b"\x00\xff junk", "invalid JSON"),
    (b"[1, 2]", "expected an object, found list"),
    (b'{"schema": "greenai.inference-report/1"}', "schema is 'greenai.inference-report/1'"),
    (b'{"schema": "greenai.reference/1", "metric": "x", "created_at": "t", "hardware": {}, "settings": {}}',
     "'entries' is missing"),
    (b'{"schema": "greenai.reference/1", "metric": "x", "created_at": "t", "hardware": {}, "settings": {}, '
     b'"entries": [{"value": NaN}, 1, 1, 1, 1]}', "invalid JSON"),
])
def test_junk_files_are_refused_naming_the_file(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "junk.json"
    path.write_bytes(content)
    with pytest.raises(GradeError, match=match) as info:
        Reference.load(path)
    assert str(info.value).startswith(f"{path}: ")
    assert "\n" not in str(info.value)


def test_a_missing_file_a_folder_and_a_fifo_are_refused(tmp_path: Path) -> None:
    with pytest.raises(GradeError, match="no such file"):
        Reference.load(tmp_path / "nope.json")
    with pytest.raises(GradeError, match="a folder, not a regular file"):
        Reference.load(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(GradeError, match="not a regular file"):  # and never blocks
        Reference.load(fifo)


def test_an_oversized_file_is_refused_without_reading_it_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from greenai_core.grading import files

    monkeypatch.setattr(files, "MAX_JSON_BYTES", 100)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(five().to_dict()))
    with pytest.raises(GradeError, match="over 0 MiB"):
        Reference.load(path)


def test_saving_refuses_a_folder(tmp_path: Path) -> None:
    from greenai_core.errors import UsageError

    with pytest.raises(UsageError, match="is a directory"):
        five().save(tmp_path)


def test_default_path_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GREENAI_REFERENCE", str(tmp_path / "mine.json"))
    assert default_reference_path() == tmp_path / "mine.json"
    monkeypatch.delenv("GREENAI_REFERENCE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_reference_path() == tmp_path / "data" / "greenai" / "reference.json"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_reference_path() == tmp_path / ".local" / "share" / "greenai" / "reference.json"
