"""Modified VGG for 32x32 inputs (the slides' CIFAR-10 benchmark).

The VGG configurations with batch norm after every convolution (folded into
the conv by capture), five 2x2 max pools (32 -> 1) and one linear classifier
on the 512 features, as CIFAR ports of VGG do (the ImageNet head of three
4096-wide layers makes no sense on a 1x1 map).
"""

from __future__ import annotations

import torch
from torch import nn

from cimq.sim.models.widths import check_width, scaled

__all__ = ["VGG_CONFIGS", "VGG32"]

VGG_CONFIGS: dict[str, tuple[int | str, ...]] = {
    "vgg11": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg16": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
}


class VGG32(nn.Module):
    """VGG-``depth`` with BN (conv3x3-BN-ReLU blocks, ``M`` = max pool 2), then ``Linear(512*width, classes)``."""

    def __init__(self, config: str = "vgg11", num_classes: int = 10, width: float = 1.0, in_channels: int = 3) -> None:
        super().__init__()
        if config not in VGG_CONFIGS:
            raise ValueError(f"config: {config!r} is not a VGG configuration (allowed: {', '.join(VGG_CONFIGS)})")
        w = check_width(width)
        layers: list[nn.Module] = []
        c = in_channels
        for item in VGG_CONFIGS[config]:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                out = scaled(int(item), w)
                layers += [nn.Conv2d(c, out, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
                c = out
        self.features = nn.Sequential(*layers)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.features(x)))
