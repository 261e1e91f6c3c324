"""ONNX files tried as an adversary would (reviewer R2): corrupt tensor declarations, bad options, missing devices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx_models import n_float_params, save, tiny_cnn

from greenai_core import DeviceError, ModelFormatError, UsageError, load_model


def with_initializer(tmp_path: Path, dims: list[int], raw: bytes = b"") -> Path:
    """tiny_cnn plus an unused float initializer declaring ``dims`` and holding ``raw`` (onnxruntime drops it)."""
    proto, _ = tiny_cnn()
    tensor = onnx.TensorProto(name="forged", data_type=TensorProto.FLOAT, dims=dims, raw_data=raw)
    proto.graph.initializer.append(tensor)
    return save(proto, tmp_path / "forged.onnx")


@pytest.mark.parametrize(("dims", "raw", "message"), [
    ([-5, 3], b"", r"initializer 'forged' declares negative dimensions \[-5, 3\]; corrupt"),  # counted as -15
    ([2**62, 2**62], b"", r"initializer 'forged' declares dimensions .* \(21267647932558653966460912964485513216 "
                          r"elements\) but holds 0; truncated or corrupt"),  # counted as 2e37 parameters
    ([4], b"\0" * 8, r"initializer 'forged' declares dimensions \[4\] \(4 elements\) but holds 2"),
])
def test_tensors_whose_dims_lie_are_refused_not_counted(tmp_path: Path, dims: list[int], raw: bytes,
                                                        message: str) -> None:
    path = with_initializer(tmp_path, dims, raw)
    with pytest.raises(ModelFormatError, match=f"^{path}: {message}"):
        load_model(path)


def test_tensors_whose_dims_match_their_data_still_count(tmp_path: Path) -> None:
    path = with_initializer(tmp_path, [2, 3], b"\0" * 24)
    with load_model(path) as model:
        assert model.num_parameters == n_float_params(tiny_cnn()[1]) + 6


def test_a_negative_constant_of_shape_is_not_a_negative_count() -> None:
    from greenai_onnx.graph_facts import count_parameters

    shape = helper.make_node("Constant", [], ["s"], value=numpy_helper.from_array(np.array([-3, 5], dtype=np.int64)))
    fill = helper.make_node("ConstantOfShape", ["s"], ["z"])
    graph = helper.make_graph([shape, fill], "g", [], [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
    assert count_parameters(graph) == 0  # was -15


@pytest.mark.parametrize(("option", "value", "message"), [
    ("intra_op_num_threads", "abc", "intra_op_num_threads must be a non-negative integer"),  # was a plugin "failure"
    ("input_name", 5, "input_name must be a string, not 5"),
])
def test_bad_option_values_are_usage_errors(cnn_path: Path, option: str, value: object, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_model(cnn_path, **{option: value})


def test_a_missing_cuda_provider_names_the_file(cnn_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime as ort

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])  # as on a CPU-only build
    with pytest.raises(DeviceError, match=f"^{cnn_path}: device 'cuda:0' needs onnxruntime's CUDAExecutionProvider"):
        load_model(cnn_path, device="cuda")


#: Asks the onnx format about argv[1..] in a fresh process; prints each answer and the peak RSS growth (MiB).
SNIFF = """
import json, resource, sys
from pathlib import Path
from greenai_onnx.format import OnnxFormat
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
fmt = OnnxFormat()
fmt.sniff(Path(sys.executable))  # warm-up on a small regular file: lazy imports before the baseline
before = peak()
answers = [[fmt.sniff(Path(p)), fmt.explain(Path(p))] for p in sys.argv[1:]]
print(json.dumps({"answers": answers, "grew_mib": peak() - before}))
"""


def test_recognising_a_giant_file_reads_a_bounded_head(tmp_path: Path) -> None:
    """A sparse 1 GiB file that starts like ONNX is recognised, one that does not is refused: flat memory both."""
    import json
    import subprocess
    import sys

    paths = []
    for name, head in (("giant.onnx", b"\x08\x07\x12"), ("giant-zip.onnx", b"PK\x03\x04")):
        with open(tmp_path / name, "wb") as fh:
            fh.write(head)
            fh.truncate(1024 ** 3)
        paths.append(str(tmp_path / name))
    r = subprocess.run([sys.executable, "-c", SNIFF, *paths], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert [sniffed for sniffed, _ in result["answers"]] == [True, False]
    assert result["answers"][1][1] == "it is a zip archive, not an ONNX protobuf"
    assert result["grew_mib"] < 40, result  # "well under 100 MiB": the head only, never the file
