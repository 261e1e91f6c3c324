"""A small CNN saved in the four PyTorch file kinds, and generated image folders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tiny_nets import TinyNet


@dataclass
class Saved:
    net: TinyNet
    paths: dict[str, Path]


def make_net(seed: int = 0) -> TinyNet:
    torch.manual_seed(seed)
    net = TinyNet()
    with torch.no_grad():  # non-trivial batch-norm statistics
        net.bn.running_mean.uniform_(-0.5, 0.5)
        net.bn.running_var.uniform_(0.5, 2.0)
    net.fc.bias.requires_grad_(False)  # one frozen parameter: trainable < total
    return net.eval()


def save_all(net: TinyNet, folder: Path) -> dict[str, Path]:
    paths = {"pickle": folder / "full.pt", "state_dict": folder / "weights.pth", "torchscript": folder / "script.pt",
             "export": folder / "program.pt2"}
    torch.save(net, paths["pickle"])
    torch.save(net.state_dict(), paths["state_dict"])
    torch.jit.save(torch.jit.script(net), paths["torchscript"])
    program = torch.export.export(net, (torch.randn(2, 3, 16, 16),),
                                  dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, paths["export"])
    return paths


def image_folder(root: Path, per_class: int = 12, size: int = 16, seed: int = 0) -> Path:
    """Two easy classes: dark and bright images, with noise."""
    rng = np.random.default_rng(seed)
    for name, base in (("bright", 200), ("dark", 40)):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = np.clip(base + rng.normal(0, 25, (size, size, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels, "RGB").save(root / name / f"{i}.png")
    return root
