"""Named networks, the default network of each dataset, and their size (parameters, MACs).

Names are what ``--model`` accepts and what checkpoints record, so a
checkpoint can rebuild its network (:func:`build_model`) before loading weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from cimq.errors import CimqInputError

__all__ = [
    "DEFAULT_MODELS",
    "MODELS",
    "ModelSpec",
    "ModelSize",
    "build_model",
    "check_model_name",
    "model_size",
]


@dataclass(frozen=True)
class ModelSpec:
    """One network: its input image shape, a builder and a one-line description."""

    name: str
    image_shape: tuple[int, int, int]
    description: str
    builder: Callable[[int, float], nn.Module]  # (num_classes, width) -> module
    scalable: bool = True  # accepts a width multiplier


def _digits(num_classes: int, width: float) -> nn.Module:
    from cimq.sim.default_model import DigitsCNN

    if num_classes != 10 or width != 1.0:
        raise ValueError("digits_cnn has 10 classes and no width multiplier")
    return DigitsCNN()


def _alexnet(num_classes: int, width: float) -> nn.Module:
    from cimq.sim.models.alexnet import AlexNet32

    return AlexNet32(num_classes=num_classes, width=width)


def _vgg(config: str) -> Callable[[int, float], nn.Module]:
    def build(num_classes: int, width: float) -> nn.Module:
        from cimq.sim.models.vgg import VGG32

        return VGG32(config, num_classes=num_classes, width=width)

    return build


def _resnet(depth: int) -> Callable[[int, float], nn.Module]:
    def build(num_classes: int, width: float) -> nn.Module:
        from cimq.sim.models.resnet import ResNet32

        return ResNet32(depth, num_classes=num_classes, width=width)

    return build


_RGB32 = (3, 32, 32)
MODELS: dict[str, ModelSpec] = {
    "digits_cnn": ModelSpec("digits_cnn", (1, 8, 8), "the embedded default CNN (digits)", _digits, scalable=False),
    "alexnet": ModelSpec("alexnet", _RGB32, "modified AlexNet, 5 conv + 3 fc (SVHN)", _alexnet),
    "vgg11": ModelSpec("vgg11", _RGB32, "VGG-11 with BN, linear head (CIFAR-10)", _vgg("vgg11")),
    "vgg16": ModelSpec("vgg16", _RGB32, "VGG-16 with BN, linear head", _vgg("vgg16")),
    "resnet20": ModelSpec("resnet20", _RGB32, "CIFAR ResNet-20, 1x1 conv shortcuts (CIFAR-100)", _resnet(20)),
    "resnet32": ModelSpec("resnet32", _RGB32, "CIFAR ResNet-32, 1x1 conv shortcuts", _resnet(32)),
}

DEFAULT_MODELS: dict[str, str] = {"digits": "digits_cnn", "svhn": "alexnet", "cifar10": "vgg11", "cifar100": "resnet20"}
"""The slides' pairing: AlexNet + SVHN, VGG + CIFAR-10, ResNet + CIFAR-100."""


def check_model_name(name: str, image_shape: tuple[int, int, int] | None = None, *, source: str = "--model") -> ModelSpec:
    """The spec of ``name``; raise naming the allowed names (those fitting ``image_shape`` if given)."""
    fits = [n for n, s in MODELS.items() if image_shape is None or s.image_shape == tuple(image_shape)]
    spec = MODELS.get(name)
    if spec is None or name not in fits:
        why = "is not a known model" if spec is None else f"does not take {tuple(image_shape or ())} images"
        raise CimqInputError(f"{name!r} {why} (allowed: {', '.join(fits)})", source=source)
    return spec


def build_model(name: str, *, num_classes: int, width: float = 1.0) -> nn.Module:
    """A freshly initialised network ``name`` (uses torch's global RNG for the initial weights)."""
    spec = check_model_name(name)
    if not spec.scalable and width != 1.0:
        raise CimqInputError(f"{width} is not supported by {name} (no width multiplier)", source="--width")
    try:
        return spec.builder(num_classes, width)
    except ValueError as exc:
        raise CimqInputError(str(exc)) from None


@dataclass(frozen=True)
class ModelSize:
    """Parameters (trainable, BN included) and multiply-accumulates of one inference of one image.

    ``crossbar_weights``: conv/linear weights only (what the crossbars hold).
    """

    parameters: int
    crossbar_weights: int
    macs: int
    layers: int


@torch.no_grad()
def model_size(model: nn.Module, image_shape: tuple[int, int, int]) -> ModelSize:
    """Count parameters and conv/linear MACs with forward hooks on one zero image."""
    macs = 0
    layers = 0

    def hook(m: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal macs, layers
        layers += 1
        if isinstance(m, nn.Conv2d):
            per_out = (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
            macs += int(out[0].numel()) * per_out
        else:
            macs += int(out[0].numel()) * m.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    try:
        model(torch.zeros((1,) + tuple(image_shape)))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    weights = sum(m.weight.numel() for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    return ModelSize(sum(p.numel() for p in model.parameters()), int(weights), macs, layers)
