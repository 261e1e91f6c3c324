"""``TorchModel``: inference in ``torch.inference_mode()``, training, and saving in the original kind."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.errors import UnsupportedOperationError
from greenai_core.models import Model
from greenai_torch.kinds import EXPORT, PICKLE, STATE_DICT, TORCHSCRIPT

if TYPE_CHECKING:
    import numpy as np
    import torch

    from greenai_core.models.training import TrainingResult


class TorchModel(Model):
    def __init__(self, module: torch.nn.Module, *, kind: str, program: Any, torch_device: torch.device,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.module = module
        self.kind = kind
        self.program = program  # the ExportedProgram for kind "export"
        self.torch_device = torch_device

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = self.module(torch.as_tensor(batch, device=self.torch_device))
            if isinstance(out, (tuple, list)):
                out = out[0]
            # .cpu() waits for CUDA kernels, so an energy window around predict is complete.
            result: np.ndarray = out.detach().cpu().numpy()
        return result

    def train(self, data: Any, **options: Any) -> TrainingResult:
        """Train in place; see ``greenai_torch.training.train_module`` for the options."""
        from greenai_torch.training import train_module

        return train_module(self, data, **options)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save in the kind the model was loaded from, atomically."""
        import torch

        target = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        try:
            if self.kind == STATE_DICT:
                torch.save(self.module.state_dict(), tmp)
            elif self.kind == PICKLE:
                torch.save(self.module, tmp)
            elif self.kind == TORCHSCRIPT:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    torch.jit.save(self.module, tmp)  # type: ignore[no-untyped-call]
            elif self.kind == EXPORT:
                torch.export.save(self._reexport(), tmp)
            else:  # pragma: no cover - every kind is handled above
                raise UnsupportedOperationError(f"cannot save PyTorch kind {self.kind!r}")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def _reexport(self) -> Any:
        """Export the trained graph again, with the original example inputs and a dynamic batch if it had one."""
        import torch

        example = self.program.example_inputs
        if not example:
            raise UnsupportedOperationError(f"{self.path}: the exported program has no example inputs to re-export")
        args, kwargs = example
        dynamic = None
        if self.input_spec.batch is None:
            dynamic = ({0: torch.export.Dim("batch")},) + (None,) * (len(args) - 1)
        return torch.export.export(self.module, args, kwargs, dynamic_shapes=dynamic)

    def _close(self) -> None:
        del self.module
        self.program = None
