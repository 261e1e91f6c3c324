"""The four PyTorch file kinds: told apart by content, exact parameters, forward equality, security."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_nets import NoConv, OtherNet, TinyNet
from torch_models import Saved

from greenai_core import DeviceError, GreenAIError, ModelFormatError, UnsafeModelError, load_model

KINDS = ["pickle", "state_dict", "torchscript", "export"]
TESTS = str(Path(__file__).parent)


def load(saved: Saved, kind: str, path: Path | None = None, **kw: object):  # type: ignore[no-untyped-def]
    options = {"trust": True} if kind == "pickle" else {"model_class": TinyNet} if kind == "state_dict" else {}
    return load_model(path or saved.paths[kind], **{**options, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", KINDS)
def test_parameters_equal_torchs_own_count(saved: Saved, kind: str) -> None:
    net = saved.net
    total = sum(p.numel() for p in net.parameters())
    trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    buffers = sum(b.numel() for b in net.buffers())
    with load(saved, kind) as model:
        assert model.details["kind"] == kind and model.format == "torch"
        assert model.num_parameters == total and buffers > 0  # buffers are not parameters
        if kind == "state_dict":  # a fresh TinyNet(): its parameters all require grad
            assert model.trainable_parameters == total
        else:
            assert model.trainable_parameters == trainable < total


@pytest.mark.parametrize("kind", KINDS)
def test_predict_on_an_array_equals_the_modules_forward(saved: Saved, kind: str) -> None:
    x = np.random.default_rng(3).normal(size=(3, 3, 16, 16)).astype(np.float32)
    with torch.no_grad():
        expected = saved.net(torch.from_numpy(x)).numpy()
    with load(saved, kind) as model:
        np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-6)


def test_predict_takes_read_only_and_flipped_arrays_without_touching_them(saved: Saved) -> None:
    x = np.random.default_rng(4).normal(size=(2, 3, 16, 16)).astype(np.float32)
    with torch.no_grad():
        expected = saved.net(torch.from_numpy(x[:, :, :, ::-1].copy())).numpy()
    frozen = x.copy()
    frozen.flags.writeable = False
    with load(saved, "torchscript") as model:
        np.testing.assert_allclose(model.predict(x[:, :, :, ::-1]), expected, rtol=1e-5, atol=1e-6)
        out = model.predict(frozen)
        np.testing.assert_allclose(out, model.predict(x), rtol=1e-6)
        assert out.base is None or not np.shares_memory(out, frozen)
    assert not frozen.flags.writeable


@pytest.mark.parametrize("kind", KINDS)
def test_kind_is_found_by_content_whatever_the_suffix(saved: Saved, kind: str, tmp_path: Path) -> None:
    renamed = shutil.copy(saved.paths[kind], tmp_path / "model.bin")
    with load(saved, kind, Path(renamed)) as model:
        assert model.details["kind"] == kind


def test_input_spec_from_export_conv_or_option(saved: Saved) -> None:
    with load(saved, "export") as model:
        assert model.input_spec.shape == (None, 3, 16, 16) and model.details["input_source"] == "the exported program"
    with load(saved, "torchscript") as model:
        assert model.input_spec.shape == (None, 3, None, None) and model.input_spec.layout == "NCHW"
        assert model.details["input_source"].startswith("first Conv2d (in_channels=3)")
        assert model.image_size == (224, 224)
        from PIL import Image

        assert model.prepare([Image.new("RGB", (40, 30))]).shape == (1, 3, 224, 224)
    with load(saved, "torchscript", image_size=(32, 48)) as model:
        assert model.prepare([Image.new("RGB", (40, 30))]).shape == (1, 3, 32, 48)
    with load(saved, "state_dict", input_shape=(3, 16, 16)) as model:
        assert model.input_spec.shape == (None, 3, 16, 16)


def test_state_dict_needs_a_fitting_model_class(saved: Saved, tmp_path: Path) -> None:
    path = saved.paths["state_dict"]
    with pytest.raises(ModelFormatError, match="state_dict holds weights only; pass model_class"):
        load_model(path)
    sys.path.insert(0, TESTS)
    with load_model(path, model_class="tiny_nets:TinyNet", model_kwargs={"classes": 2}) as model:
        assert model.num_parameters == sum(p.numel() for p in saved.net.parameters())
    with pytest.raises(ModelFormatError, match=r"do not fit OtherNet: missing keys \['conv1.bias', 'conv1.weight'\]"):
        load_model(path, model_class=OtherNet)
    with pytest.raises(GreenAIError, match="'tiny_nets:Nope' cannot be imported"):
        load_model(path, model_class="tiny_nets:Nope")
    checkpoint = tmp_path / "ckpt.pt"
    torch.save({"epoch": 3, "model_state_dict": saved.net.state_dict()}, checkpoint)
    with load_model(checkpoint, model_class=TinyNet) as model:
        assert model.details["kind"] == "state_dict"
    no_conv = tmp_path / "noconv.pt"
    torch.save(NoConv().state_dict(), no_conv)
    with pytest.raises(ModelFormatError, match=r"no Conv2d layer\); pass input_shape"):
        load_model(no_conv, model_class=NoConv)


class Evil:
    """A pickle payload that writes a file when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def test_malicious_pickle_never_runs_without_trust(tmp_path: Path) -> None:
    marker = tmp_path / "pwned.txt"
    evil = tmp_path / "weights.pt"
    torch.save({"conv.weight": torch.zeros(2), "extra": Evil(marker)}, evil)  # looks like a state_dict
    with pytest.raises(UnsafeModelError, match="trust=True"):
        load_model(evil)
    with pytest.raises(UnsafeModelError):
        load_model(evil, model_class=TinyNet)
    r = subprocess.run([sys.executable, "-m", "greenai_core", "info", str(evil)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "--trust" in r.stderr and "Traceback" not in r.stderr
    assert not marker.exists()
    with pytest.raises(GreenAIError):  # with trust it does run: the payload is real
        load_model(evil, trust=True)
    assert marker.read_text() == "pwned"


def test_full_pickle_is_refused_without_trust_and_cli_trust_loads(saved: Saved) -> None:
    with pytest.raises(UnsafeModelError, match="runs code from the file"):
        load_model(saved.paths["pickle"])
    env = {**os.environ, "PYTHONPATH": TESTS + os.pathsep + os.environ.get("PYTHONPATH", "")}
    r = subprocess.run([sys.executable, "-m", "greenai_core", "info", str(saved.paths["pickle"]), "--trust", "--json"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert '"kind": "pickle"' in r.stdout


def test_corrupt_zip_and_unavailable_device(saved: Saved, tmp_path: Path) -> None:
    data = saved.paths["state_dict"].read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFormatError, match="not recognised as torch: the zip archive is corrupt or truncated"):
        load_model(truncated)
    other_zip = tmp_path / "other.pt"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(ModelFormatError, match="without data.pkl"):
        load_model(other_zip)
    bad_pickle = tmp_path / "bad.pt"
    with zipfile.ZipFile(bad_pickle, "w") as zf:
        zf.writestr("bad/data.pkl", b"\x80\x02 definitely not a pickle")
    with pytest.raises(ModelFormatError, match="its bad/data.pkl is not a readable pickle"):
        load_model(bad_pickle)
    # On a machine without CUDA the first message, with CUDA the second: either way a clear DeviceError.
    with pytest.raises(DeviceError, match=r"CUDA is not available|only \d+ CUDA device"):
        load_model(saved.paths["torchscript"], device=f"cuda:{torch.cuda.device_count() + 7}")
