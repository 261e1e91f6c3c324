"""The PyTorch training loop. Data and preprocessing come from the core (``TrainingData``),
the same for every framework and identical to inference; this module owns only the step."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from greenai_core.errors import UsageError
from greenai_core.models.training import EpochResult, TrainingData, TrainingResult
from greenai_torch.kinds import EXPORT

if TYPE_CHECKING:
    import torch

    from greenai_torch.model import TorchModel

OPTIMIZERS = ("sgd", "adam")
LOSSES = ("cross_entropy",)


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
    if spec == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    raise UsageError(f"optimizer must be one of {', '.join(OPTIMIZERS)} or a callable, not {spec!r}")


def make_loss(spec: Any) -> Callable[..., torch.Tensor]:
    import torch

    if callable(spec) and not isinstance(spec, str):
        return spec  # type: ignore[no-any-return]
    if spec == "cross_entropy":
        return torch.nn.CrossEntropyLoss()
    raise UsageError(f"loss must be one of {', '.join(LOSSES)} or a callable, not {spec!r}")


def train_module(
    model: TorchModel,
    data: Any,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    optimizer: Any = "sgd",
    lr: float = 0.01,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    loss: Any = "cross_entropy",
    shuffle: bool = True,
    seed: int | None = None,
    save_to: str | None = None,
) -> TrainingResult:
    """Train ``model`` in place for ``epochs`` over ``data`` (an image folder or (images, labels) arrays).

    Exported programs train through their graph module, which keeps the mode they were
    exported in (batch norm and dropout as at export time).
    """
    import numpy as np
    import torch

    if epochs < 1:
        raise UsageError("epochs must be at least 1")
    batches = TrainingData.of(data, model, batch_size)
    module = model.module
    params = [p for p in module.parameters() if p.requires_grad]
    if not params:
        raise UsageError(f"{model.path}: the model has no trainable parameters")
    opt = make_optimizer(optimizer, params, lr, momentum, weight_decay)
    loss_fn = make_loss(loss)
    rng = np.random.default_rng(seed) if shuffle else None
    if seed is not None:
        torch.manual_seed(seed)
    result = TrainingResult(classes=batches.classes)
    if model.kind != EXPORT:
        module.train()
    try:
        for epoch in range(1, epochs + 1):
            began = time.perf_counter()
            total_loss, correct, samples, steps = 0.0, 0, 0, 0
            for images, labels in batches.batches(rng):
                x = torch.as_tensor(images, device=model.torch_device)
                y = torch.as_tensor(labels, device=model.torch_device)
                opt.zero_grad(set_to_none=True)
                out = module(x)
                if isinstance(out, (tuple, list)):
                    out = out[0]
                step_loss = loss_fn(out, y)
                step_loss.backward()
                opt.step()
                total_loss += float(step_loss.item()) * len(labels)
                correct += int((out.argmax(dim=1) == y).sum().item())
                samples += len(labels)
                steps += 1
            result.epochs.append(EpochResult(epoch, total_loss / samples, correct / samples, samples, steps,
                                             time.perf_counter() - began))
    finally:
        if model.kind != EXPORT:
            module.eval()
    if save_to is not None:
        result.saved_to = str(model.save(save_to))
    return result
