"""PyTorch's training primitives. The loop, data, preprocessing, validation and accounting are
the core's (``Model.train``); this module owns one optimisation step and the train/eval switch.

Besides the core's names, ``optimizer`` may be a callable ``params -> torch.optim.Optimizer``
and ``loss`` a callable ``(outputs, targets) -> scalar tensor``. ``momentum`` (SGD) and
``weight_decay`` are PyTorch's own training options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from greenai_core.sdk import StepResult, Trainer, UsageError
from greenai_torch.kinds import EXPORT

if TYPE_CHECKING:
    import numpy as np
    import torch

    from greenai_torch.model import TorchModel

TRAIN_OPTIONS = {
    "momentum": "SGD momentum (default 0.9)",
    "weight_decay": "L2 penalty for sgd and adam (default 0)",
}


def make_optimizer(spec: Any, params: list[torch.nn.Parameter], lr: float, momentum: float,
                   weight_decay: float) -> torch.optim.Optimizer:
    import torch

    if callable(spec) and not isinstance(spec, str):
        optimizer = spec(params)
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise UsageError("optimizer callable must return a torch.optim.Optimizer")
        return optimizer
    if spec == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)  # the core allows only sgd and adam


def make_loss(spec: Any) -> Callable[..., torch.Tensor]:
    import torch

    if callable(spec) and not isinstance(spec, str):
        return spec  # type: ignore[no-any-return]
    return torch.nn.CrossEntropyLoss()  # the core allows only cross_entropy by name


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise UsageError(f"{name} must be a non-negative number, not {value!r}")
    return float(value)


class TorchTrainer(Trainer):
    """Steps on ``model.module``. Exported programs train through their graph module, which keeps
    the mode they were exported in (batch norm and dropout as at export time): no mode switch."""

    def __init__(self, model: TorchModel, *, optimizer: Any, lr: float, loss: Any, seed: int | None,
                 momentum: Any = 0.9, weight_decay: Any = 0.0) -> None:
        import torch

        self.model = model
        params = [p for p in model.module.parameters() if p.requires_grad]
        if not params:
            raise UsageError(f"{model.path}: the model has no trainable parameters")
        if seed is not None:
            torch.manual_seed(seed)
        self.optimizer = make_optimizer(optimizer, params, lr, _number(momentum, "momentum"),
                                        _number(weight_decay, "weight_decay"))
        self.loss_fn = make_loss(loss)

    def step(self, images: np.ndarray, labels: np.ndarray) -> StepResult:
        import torch

        device = self.model.torch_device
        x = torch.as_tensor(images, device=device)
        y = torch.as_tensor(labels, device=device)
        self.optimizer.zero_grad(set_to_none=True)
        out = self.model.module(x)
        if isinstance(out, (tuple, list)):
            out = out[0]
        loss = self.loss_fn(out, y)
        loss.backward()  # type: ignore[no-untyped-call]
        self.optimizer.step()
        return StepResult(float(loss.item()), int((out.argmax(dim=1) == y).sum().item()))

    def set_training(self, mode: bool) -> None:
        if self.model.kind != EXPORT:
            self.model.module.train(mode)
