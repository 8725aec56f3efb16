"""Modified ResNet for 32x32 inputs (the slides' CIFAR-100 benchmark).

He et al.'s CIFAR ResNet (depth ``6n + 2``: 20, 32, 44, 56): a 3x3 stem, three
stages of ``n`` basic blocks (16, 32, 64 channels; stride 2 at the start of
stages 2 and 3), global average pooling, one linear layer. Batch norm follows
every convolution (folded by capture). Downsampling shortcuts are 1x1
convolutions with BN ("option B"): the zero-padding shortcut ("option A")
needs a channel concatenation the CIM flow does not map. Each block ends in a
residual add followed by a ReLU, which capture keeps as add and ReLU nodes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cimq.sim.models.widths import check_width, scaled

__all__ = ["BasicBlock", "ResNet32"]


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN, plus the shortcut (identity or 1x1 conv-BN), then ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet32(nn.Module):
    """CIFAR ResNet-``depth`` (``depth = 6n + 2``) for ``[N, in_channels, 32, 32]`` inputs."""

    def __init__(self, depth: int = 20, num_classes: int = 100, width: float = 1.0, in_channels: int = 3) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth: {depth} must be 6n + 2 with n >= 1 (8, 14, 20, 32, 44, 56, ...)")
        w = check_width(width)
        n = (depth - 2) // 6
        widths = [scaled(c, w) for c in (16, 32, 64)]
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        blocks: list[nn.Module] = []
        c = widths[0]
        for stage, out in enumerate(widths):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(BasicBlock(c, out, stride))
                c = out
        self.layers = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layers(x)
        return self.fc(self.flatten(self.pool(x)))
