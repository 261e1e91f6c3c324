"""ONNX files read safely and counted like a user would: external data kept inside the model's folder,
parameters from every constant float tensor, onnxruntime's warnings off users' terminals."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx_models import CLASSES, n_float_params, save, tiny_cnn

from greenai_core import ModelFormatError, load_model

OPSET = [helper.make_opsetid("", 13)]


def external(tmp_path: Path, location: str) -> Path:
    """tiny_cnn with every tensor in one external file, then its location rewritten to ``location``."""
    proto, _ = tiny_cnn()
    path = save(proto, tmp_path / "ext.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                location="ext.weights", size_threshold=0)
    model = onnx.load(str(path), load_external_data=False)
    for t in model.graph.initializer:
        for entry in t.external_data:
            if entry.key == "location":
                entry.value = location
    onnx.save_model(model, str(path))
    return path


@pytest.fixture
def no_onnxruntime_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refusals must come from greenai before onnxruntime opens anything."""
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("onnxruntime was asked to open the model")

    monkeypatch.setattr(ort, "InferenceSession", fail)


@pytest.mark.usefixtures("no_onnxruntime_session")
def test_external_data_outside_the_folder_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\x00" * 4096)
    models = tmp_path / "models"
    models.mkdir()
    cases = {
        "../secret.bin": "outside the model's folder ('../secret.bin')",
        "sub/../../secret.bin": "outside the model's folder",
        str(secret): "outside the model's folder",
        "/etc/passwd": "outside the model's folder",
    }
    for location, reason in cases.items():
        path = external(models, location)
        with pytest.raises(ModelFormatError, match=reason.replace("(", r"\(").replace(")", r"\)")) as info:
            load_model(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)
    (models / "link.bin").symlink_to(secret)  # a link inside the folder to a file outside it
    with pytest.raises(ModelFormatError, match=r"'link.bin' resolves to .*secret.bin\); refused"):
        load_model(external(models, "link.bin"))
    (models / "linkdir").symlink_to(tmp_path)  # a linked folder leaving it
    with pytest.raises(ModelFormatError, match="outside the model's folder"):
        load_model(external(models, "linkdir/secret.bin"))


@pytest.mark.usefixtures("no_onnxruntime_session")
def test_external_data_that_is_a_fifo_or_too_short_is_refused_at_once(tmp_path: Path) -> None:
    path = external(tmp_path, "pipe.bin")
    os.mkfifo(tmp_path / "pipe.bin")
    errors: list[BaseException] = []
    worker = threading.Thread(target=lambda: errors.append(pytest.raises(ModelFormatError, load_model, path).value))
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "loading a model whose external data is a FIFO hung"
    assert "'pipe.bin'" in str(errors[0]) and "FIFO" in str(errors[0])
    short = external(tmp_path, "short.bin")
    (tmp_path / "short.bin").write_bytes(b"\x00" * 8)
    with pytest.raises(ModelFormatError, match=r"reads bytes \d+\.\.\d+ of 'short.bin', which holds 8; truncated"):
        load_model(short)


def test_external_data_in_a_subfolder_and_a_constant_node(tmp_path: Path) -> None:
    path = external(tmp_path, "weights/ext.weights")
    (tmp_path / "weights").mkdir()
    (tmp_path / "ext.weights").rename(tmp_path / "weights" / "ext.weights")
    x = np.ones((1, 3, 8, 8), np.float32)
    with load_model(path) as model:
        assert model.num_parameters == n_float_params(tiny_cnn()[1])
        assert model.predict(x).shape == (1, CLASSES)
    # A Constant node's tensor stored outside: checked like an initializer.
    weight = numpy_helper.from_array(np.ones((2, 2), np.float32), "w")
    weight.data_location = TensorProto.EXTERNAL
    weight.external_data.add(key="location", value="../../w.bin")
    graph = helper.make_graph([helper.make_node("Constant", [], ["w"], value=weight),
                               helper.make_node("Add", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 2, 2])])
    constant = tmp_path / "constant.onnx"  # written raw: onnx.save itself refuses such a location
    constant.write_bytes(helper.make_model(graph, opset_imports=OPSET).SerializeToString())
    with pytest.raises(ModelFormatError, match=r"attribute 'value' of node 'Constant' points its external data"):
        load_model(constant)


# -- parameters -------------------------------------------------------------------------------
def constant_cnn() -> tuple[onnx.ModelProto, int]:
    """tiny_cnn's weights as Constant nodes (value, value_floats) and a ConstantOfShape bias: no initializers."""
    _, w = tiny_cnn()
    nodes = [
        helper.make_node("Constant", [], ["conv_w"], value=numpy_helper.from_array(w["conv_w"], "conv_w")),
        helper.make_node("Constant", [], ["conv_b"], value_floats=w["conv_b"].tolist()),
        helper.make_node("Constant", [], ["fc_w"], value=numpy_helper.from_array(w["fc_w"], "fc_w")),
        helper.make_node("Constant", [], ["fc_shape"], value_ints=[CLASSES]),  # integers: not parameters
        helper.make_node("ConstantOfShape", ["fc_shape"], ["fc_b"],
                         value=numpy_helper.from_array(np.array([0.5], np.float32))),
        helper.make_node("Conv", ["image", "conv_w", "conv_b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["scores"], transB=1),
    ]
    graph = helper.make_graph(nodes, "constants", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                                 ["N", 3, 8, 8])],
                              [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", CLASSES])])
    model = helper.make_model(graph, opset_imports=OPSET)
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, w["conv_w"].size + w["conv_b"].size + w["fc_w"].size + CLASSES


def test_weights_held_in_constant_nodes_are_counted(tmp_path: Path) -> None:
    proto, expected = constant_cnn()
    assert expected == 4 * 3 * 3 * 3 + 4 + CLASSES * 4 + CLASSES
    path = save(proto, tmp_path / "constants.onnx")
    with load_model(path) as model:
        assert model.num_parameters == expected
        x = np.random.default_rng(0).normal(size=(2, 3, 8, 8)).astype(np.float32)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        np.testing.assert_allclose(model.predict(x), session.run(None, {"image": x})[0], rtol=1e-6)


def _graph_with(nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto] | None = None) -> onnx.GraphProto:
    return helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                             [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits or [])


def test_constant_of_shape_counts_only_with_a_constant_shape_and_subgraphs_count() -> None:
    from greenai_onnx.graph_facts import count_parameters

    shape_init = numpy_helper.from_array(np.array([4, 5], np.int64), "shape")
    from_initializer = _graph_with([helper.make_node("ConstantOfShape", ["shape"], ["y"])], [shape_init])
    assert count_parameters(from_initializer) == 20  # no value attribute: float32 zeros, per the spec
    integer_fill = _graph_with([helper.make_node(
        "ConstantOfShape", ["shape"], ["y"], value=numpy_helper.from_array(np.array([1], np.int64)))], [shape_init])
    assert count_parameters(integer_fill) == 0
    dynamic = _graph_with([helper.make_node("Shape", ["x"], ["s"]), helper.make_node("ConstantOfShape", ["s"], ["y"])])
    assert count_parameters(dynamic) == 0  # its size depends on the input: not a weight
    scalars = _graph_with([helper.make_node("Constant", [], ["a"], value_float=1.0),
                           helper.make_node("Constant", [], ["b"], value_int=3),
                           helper.make_node("Constant", [], ["c"], sparse_value=helper.make_sparse_tensor(
                               numpy_helper.from_array(np.ones(3, np.float32), "v"),
                               numpy_helper.from_array(np.array([0, 4, 9], np.int64), "i"), [10]))])
    assert count_parameters(scalars) == 1 + 3  # the sparse tensor's stored values
    branch = _graph_with([helper.make_node("Constant", [], ["y"], value=numpy_helper.from_array(
        np.zeros((2, 3), np.float32)))])
    cond = numpy_helper.from_array(np.array(True), "cond")
    with_if = _graph_with([helper.make_node("If", ["cond"], ["y"], then_branch=branch, else_branch=branch)], [cond])
    assert count_parameters(with_if) == 12  # weights inside subgraphs are the model's too; a bool is not a float


# -- onnxruntime's own warnings ---------------------------------------------------------------
def _stderr_of(code: str, env: dict[str, str]) -> str:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    return r.stderr


def test_onnxruntime_warnings_stay_quiet_unless_debugging(tmp_path: Path) -> None:
    path = save(tiny_cnn()[0], tmp_path / "cnn.onnx")  # holds an unused initializer: onnxruntime warns about it
    env = {k: v for k, v in os.environ.items() if k != "GREENAI_DEBUG"}
    raw = _stderr_of(f"import onnxruntime as o; o.InferenceSession({str(path)!r}, providers=['CPUExecutionProvider'])",
                     env)
    assert "[W:onnxruntime" in raw and "Removing initializer 'shape_hint'" in raw  # the warning is real
    load = f"from greenai_core import load_model; load_model({str(path)!r}).close()"
    assert "onnxruntime" not in _stderr_of(load, env)
    assert "Removing initializer 'shape_hint'" in _stderr_of(load, {**env, "GREENAI_DEBUG": "1"})
    cli = [sys.executable, "-m", "greenai_core"]
    quiet = subprocess.run([*cli, "info", str(path)], capture_output=True, text=True, timeout=120, env=env)
    loud = subprocess.run([*cli, "--debug", "info", str(path)], capture_output=True, text=True, timeout=120, env=env)
    assert quiet.returncode == loud.returncode == 0, quiet.stderr + loud.stderr
    assert "onnxruntime" not in quiet.stderr and "Removing initializer 'shape_hint'" in loud.stderr
