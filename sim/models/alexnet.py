"""Modified AlexNet for 32x32 inputs (the slides' SVHN benchmark).

AlexNet's five convolutions and three fully connected layers, resized for
32x32 images the way CIFAR/SVHN ports do: 3x3 kernels (5x5 first), stride 1,
three 2x2 max pools (32 -> 16 -> 8 -> 4), fully connected 4096 -> 1024 ->
1024 -> classes with dropout (ignored by capture). No batch norm, like the
original; every operation maps onto the CIM flow (conv, ReLU, max pool,
flatten, linear).
"""

from __future__ import annotations

import torch
from torch import nn

from cimq.sim.models.widths import check_width, scaled

__all__ = ["AlexNet32"]


class AlexNet32(nn.Module):
    """conv5x5(64) pool conv(192) pool conv(384) conv(256) conv(256) pool, fc 1024, fc 1024, fc classes.

    Channel and hidden widths scale with ``width``; input ``[N, in_channels, 32, 32]``.
    """

    def __init__(self, num_classes: int = 10, width: float = 1.0, in_channels: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        w = check_width(width)
        c1, c2, c3, c4, c5 = (scaled(c, w) for c in (64, 192, 384, 256, 256))
        hidden = scaled(1024, w)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, kernel_size=5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, kernel_size=3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, kernel_size=3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c5 * 4 * 4, hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.features(x)))
