"""The "torch" model format: four file kinds, recognised by content (kinds.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from greenai_core.models import Model, ModelFormat
from greenai_torch.kinds import detect_kind, explain


class TorchFormat(ModelFormat):
    name = "torch"
    suffixes = (".pt", ".pth", ".pt2")
    description = "PyTorch: full pickle (trust), state_dict (model_class), TorchScript, torch.export"

    def sniff(self, path: Path) -> bool:
        return path.is_file() and detect_kind(path) is not None

    def explain(self, path: Path) -> str:
        return explain(path)

    def load(self, path: Path, *, device: str = "cpu", trust: bool = False, **options: Any) -> Model:
        from greenai_torch.loading import load_torch

        return load_torch(path, device=device, trust=trust, **options)
