"""What needs no TensorFlow: packaging, recognition by content with bounded reads, and a missing TensorFlow.

These tests craft files byte by byte and run in every environment, with or without TensorFlow;
a missing TensorFlow is simulated in a subprocess whose imports of it fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from importlib.metadata import requires
from pathlib import Path

import pytest
from greenai_tf.format import TFFormat
from greenai_tf.tfimport import INSTALL_HINT

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
GIB = 1024**3


def central_entry(data: bytes | bytearray, name: bytes) -> int:
    """Where a zip's central directory entry for member ``name`` starts (its name follows 46 bytes of header)."""
    at = data.index(b"PK\x01\x02")
    while data[at + 46:at + 46 + len(name)] != name:
        at = data.index(b"PK\x01\x02", at + 1)
    return at


def keras_zip(path: Path, config: bytes = b'{"class_name": "Functional"}') -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", "{}")
        zf.writestr("config.json", config)
        zf.writestr("model.weights.h5", HDF5_MAGIC)
    return path


def h5_bytes(path: Path, *, user_block: int = 0, model_config: bool = True) -> Path:
    attribute = b"model_config\x00" + b'{"class_name": "Sequential"}' if model_config else b"weights only"
    path.write_bytes(b"\x00" * user_block + HDF5_MAGIC + b"\x00" * 200 + attribute + b"\x00" * 100)
    return path


def saved_model_folder(path: Path) -> Path:
    path.mkdir()
    (path / "saved_model.pb").write_bytes(b"\x08\x01")
    return path


def test_no_hard_tensorflow_dependency_and_the_extras_pick_the_build() -> None:
    declared = requires("greenai-tf") or []
    plain = [r for r in declared if "extra ==" not in r]
    assert not any("tensorflow" in r or "keras" in r for r in plain), plain
    extras = {r.split(";")[0].replace(" ", ""): r.split("extra ==")[1].strip().strip("'\"")
              for r in declared if "extra ==" in r}
    assert extras == {"tensorflow-cpu>=2.16": "cpu", "tensorflow[and-cuda]>=2.16": "gpu"}


def test_the_three_kinds_are_recognised_by_content_not_by_name(tmp_path: Path) -> None:
    fmt = TFFormat()
    assert fmt.sniff(keras_zip(tmp_path / "weights.bin"))
    assert fmt.sniff(h5_bytes(tmp_path / "model.dat"))
    assert fmt.sniff(h5_bytes(tmp_path / "blocked.h5", user_block=512))  # HDF5 allows a user block first
    assert fmt.sniff(saved_model_folder(tmp_path / "sm"))


def zip_without_config(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("model.weights.h5", b"x")


def pbtxt_folder(path: Path) -> None:
    path.mkdir()
    (path / "saved_model.pbtxt").write_text("x")


NOT_MINE: dict[str, tuple[Callable[[Path], object], str]] = {
    "corrupt-zip": (lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00" * 40),
                    "the zip archive is corrupt, truncated or refused (not a zip archive, or truncated (no end of "
                    "central directory))"),
    "zip-without-config": (zip_without_config, "a zip archive without config.json (not a Keras 3 .keras file)"),
    "hdf5-without-model": (lambda p: h5_bytes(p, model_config=False),
                           "an HDF5 file without a Keras model in it (no model_config attribute: weights only, or "
                           "data not written by Keras's model.save)"),
    "other": (lambda p: p.write_bytes(b"\x08\x07" * 100),
              "neither a Keras zip (.keras), a Keras HDF5 file (.h5) nor a SavedModel folder"),
    "folder": (Path.mkdir, "a folder without saved_model.pb (not a SavedModel)"),
    "pbtxt": (pbtxt_folder, "a SavedModel in text form (saved_model.pbtxt), which greenai does not load; save it "
                            "as binary"),
}


@pytest.mark.parametrize("case", sorted(NOT_MINE))
def test_what_is_not_a_tensorflow_model_is_refused_with_the_reason(tmp_path: Path, case: str) -> None:
    make, why = NOT_MINE[case]
    path = tmp_path / "thing.keras"
    make(path)
    fmt = TFFormat()
    assert not fmt.sniff(path)
    assert fmt.explain(path) == why


SNIFF = """
import json, resource, sys
from pathlib import Path
from greenai_tf.format import TFFormat

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
fmt = TFFormat()
fmt.sniff(Path(sys.executable)); fmt.explain(Path(sys.executable))  # lazy imports before the baseline
before = peak()
answers = [[fmt.sniff(Path(p)), fmt.explain(Path(p))] for p in sys.argv[1:]]
heavy = sorted(m for m in ("tensorflow", "keras", "h5py") if m in sys.modules)
print(json.dumps({"answers": answers, "grew_mib": peak() - before, "heavy": heavy}))
"""


def test_recognising_giant_files_reads_bounded_amounts_and_imports_no_framework(tmp_path: Path) -> None:
    """Sparse 1 GiB files (HDF5 with and without Keras's attribute) and a zip declaring a 1 TiB member."""
    paths = []
    for name, head in (("giant.h5", HDF5_MAGIC + b"\x00" * 64 + b"model_config"), ("data.h5", HDF5_MAGIC)):
        with open(tmp_path / name, "wb") as fh:
            fh.write(head)
            fh.truncate(GIB)
        paths.append(str(tmp_path / name))
    bomb = keras_zip(tmp_path / "bomb.keras")
    data = bytearray(bomb.read_bytes())
    at = central_entry(data, b"model.weights.h5")
    data[at + 24:at + 28] = (2**32 - 1).to_bytes(4, "little")  # declares 4 GiB uncompressed
    bomb.write_bytes(bytes(data))
    paths.append(str(bomb))
    r = subprocess.run([sys.executable, "-c", SNIFF, *paths], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["answers"] == [[True, ""], [False, "an HDF5 file without a Keras model in it (no model_config "
                                                     "attribute: weights only, or data not written by Keras's "
                                                     "model.save)"], [True, ""]]
    assert result["heavy"] == []
    assert result["grew_mib"] < 40, result  # "well under 100 MiB": heads and the central directory only


#: Runs the CLI with every import of TensorFlow or Keras failing, as on a machine without them.
WITHOUT_TF = """
import sys
from importlib.abc import MetaPathFinder

class NoTensorFlow(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

for name in [m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")]:
    del sys.modules[name]
sys.meta_path.insert(0, NoTensorFlow())
from greenai_core.cli import main
code = main(sys.argv[1:])
print("exit", code)
"""


def run_without_tf(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GREENAI_STRICT_PLUGINS": "1"}
    return subprocess.run([sys.executable, "-c", WITHOUT_TF, *argv], capture_output=True, text=True, timeout=120,
                          env=env)


@pytest.mark.parametrize("kind", ["keras", "h5", "savedmodel"])
def test_tensorflow_missing_is_one_line_saying_how_to_install(tmp_path: Path, kind: str) -> None:
    path = {"keras": lambda: keras_zip(tmp_path / "m.keras"), "h5": lambda: h5_bytes(tmp_path / "m.h5"),
            "savedmodel": lambda: saved_model_folder(tmp_path / "sm")}[kind]()
    r = run_without_tf("info", str(path))
    assert r.stdout == "exit 2\n"
    assert r.stderr == (f"greenai: error: {path}: TensorFlow is not installed (No module named 'tensorflow'); "
                        f"{INSTALL_HINT}\n")


def test_without_tensorflow_greenai_plugins_still_lists_the_format() -> None:
    r = run_without_tf("plugins")
    assert r.returncode == 0 and r.stdout.endswith("exit 0\n"), r.stderr
    row = next(line.split() for line in r.stdout.splitlines() if line.startswith("tf "))
    assert row[:5] == ["tf", "greenai-tf", "0.2.0", "loaded", "tf"]
    assert r.stderr == ""


def test_greenai_plugins_imports_no_tensorflow() -> None:
    """With TensorFlow installed, listing plugins (discovery, every backend's probe) never imports it."""
    script = ("import sys\nfrom greenai_core.cli import main\nmain(['plugins'])\n"
              "print(sorted(m for m in ('tensorflow', 'keras', 'h5py') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert r.stdout.splitlines()[-1] == "[]"
