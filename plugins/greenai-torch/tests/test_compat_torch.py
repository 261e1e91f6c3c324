"""The original greenAI's PyTorch form: ``factory.get_model(path)(path, enable_GPU=False, model_constructor=Net)``."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from tiny_nets import TinyNet
from torch_models import make_net, save_all

from greenai_core import UsageError
from greenai_core.compat import DLModelFactory


def test_a_state_dict_with_the_original_model_constructor(tmp_path: Path) -> None:
    net = make_net()
    weights = str(save_all(net, tmp_path)["state_dict"])
    image = tmp_path / "image.png"
    Image.new("RGB", (16, 16), (200, 10, 10)).save(image)
    factory = DLModelFactory()
    factory.register_predefined_formats()
    model = factory.get_model(weights)(weights, enable_GPU=False, model_constructor=TinyNet)
    assert model.get_number_of_parameters() == sum(p.numel() for p in net.parameters())
    assert tuple(model.run(str(image)).shape) == (1, 2)
    with pytest.raises(UsageError, match="model_constructor .the original name. or model_class, not both"):
        factory.get_model(weights)(weights, model_constructor=TinyNet, model_class=TinyNet)
