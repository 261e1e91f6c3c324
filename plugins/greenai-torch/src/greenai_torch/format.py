"""The "torch" model format: four file kinds, recognised by content (kinds.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.sdk import ModelFormat

if TYPE_CHECKING:  # discovery imports this module: kinds (pickletools, zipfile) loads at the first sniff
    from greenai_core.sdk import Device, Model


class TorchFormat(ModelFormat):
    name = "torch"
    suffixes = (".pt", ".pth", ".pt2")
    description = "PyTorch: full pickle (trust), state_dict (model_class), TorchScript, torch.export"
    options = {
        "model_class": "the nn.Module class for a state_dict: a class or 'package.module:Class'",
        "model_kwargs": "keyword arguments for model_class(...)",
        "input_shape": "(C, H, W) or (N, C, H, W) when the file does not tell the input (-1/None: dynamic)",
    }
    device_kinds = ("cpu", "cuda")

    def sniff(self, path: Path) -> bool:
        from greenai_torch.kinds import detect_kind

        return path.is_file() and detect_kind(path) is not None

    def explain(self, path: Path) -> str:
        from greenai_torch.kinds import explain

        return explain(path)

    def load(self, path: Path, *, device: Device, trust: bool, **options: Any) -> Model:
        from greenai_torch.loading import load_torch

        return load_torch(path, device=device, trust=trust, **options)
