"""``TorchModel``: inference in ``torch.inference_mode()``, training primitives, saving in the original kind."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenai_core.sdk import NCHW, Model, UnsupportedOperationError
from greenai_torch.kinds import EXPORT, PICKLE, STATE_DICT, TORCHSCRIPT
from greenai_torch.training import TRAIN_OPTIONS

if TYPE_CHECKING:
    import numpy as np
    import torch

    from greenai_core.sdk import InputSpec, Trainer


class TorchModel(Model):
    train_options = TRAIN_OPTIONS

    def __init__(self, module: torch.nn.Module, *, kind: str, program: Any, torch_device: torch.device,
                 channels_only: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.module = module
        self.kind = kind
        self.program = program  # the ExportedProgram for kind "export"
        self.torch_device = torch_device
        self._on_cpu = torch_device.type == "cpu"  # read once: a device check per call costs ~1 us
        #: The channel count, when the input shape was guessed from the first Conv2d (H, W unknown).
        self._channels_only = channels_only

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        import torch

        # from_numpy shares the array's memory and costs a tenth of as_tensor(device=...) (13 us a call
        # on a 2-core VM, 8 % of a small CNN's inference); a read-only or strided array (a flipped
        # image) is copied, as torch cannot share it.
        if not (batch.flags.c_contiguous and batch.flags.writeable):
            batch = batch.copy()
        with torch.inference_mode():
            tensor = torch.from_numpy(batch)  # made inside: a normal tensor entering inference mode costs ~3 us
            if not self._on_cpu:
                tensor = tensor.to(self.torch_device)
            out = self.module(tensor)
            if isinstance(out, (tuple, list)):
                out = out[0]
            if not self._on_cpu:
                out = out.cpu()  # waits for CUDA kernels, so an energy window around predict is complete
            result: np.ndarray = out.numpy()
        return result

    def _trainer(self, *, optimizer: Any, lr: float, loss: Any, seed: int | None, **options: Any) -> Trainer:
        from greenai_torch.training import TorchTrainer

        return TorchTrainer(self, optimizer=optimizer, lr=lr, loss=loss, seed=seed, **options)

    def sync(self) -> None:
        import torch

        if self.torch_device.type == "cuda":
            torch.cuda.synchronize(self.torch_device)

    def _with_layout(self, layout: str) -> InputSpec:
        """A shape guessed from the first Conv2d moves its channel count to the new channel axis."""
        import dataclasses

        if self._channels_only is None:
            return super()._with_layout(layout)
        c = self._channels_only
        shape = (None, c, None, None) if layout == NCHW else (None, None, None, c)
        return dataclasses.replace(self.input_spec, shape=shape, layout=layout)

    def _save(self, path: Path) -> None:
        """Save in the kind the model was loaded from (the core makes it atomic)."""
        import torch

        if self.kind == STATE_DICT:
            torch.save(self.module.state_dict(), path)
        elif self.kind == PICKLE:
            torch.save(self.module, path)
        elif self.kind == TORCHSCRIPT:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                torch.jit.save(self.module, str(path))
        elif self.kind == EXPORT:
            torch.export.save(self._reexport(), path)
        else:  # pragma: no cover - every kind is handled above
            raise UnsupportedOperationError(f"cannot save PyTorch kind {self.kind!r}")

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
