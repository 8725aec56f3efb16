"""Datasets of the embedded default: loading, scaling and a fixed stratified split.

The default flow must run offline and in seconds, so it uses scikit-learn's
``load_digits`` (8x8 grayscale, 10 classes, 1797 images, shipped inside
scikit-learn). Pixels (integers 0..16) become ``min(16 * v, 255) / 256``: every
value lies in [0, 1) and is an exact unsigned 8-bit code at ``FL_x = 8``, so
the first layer's input quantization is lossless there.

``DATASETS`` lists the names the CLI accepts; a later dataset (svhn, cifar)
adds an entry and a loader here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from cimq.errors import CimqInputError

__all__ = [
    "DATASETS",
    "DIGITS_TEST_SIZE",
    "DigitsSplit",
    "check_dataset_name",
    "load_digits_dataset",
    "scale_digits_pixels",
]

DATASETS: tuple[str, ...] = ("digits",)
"""Dataset names the training command accepts (more are planned)."""

DIGITS_TEST_SIZE = 450
"""Test images of the digits split (1797 = 1347 train + 450 test)."""


@dataclass(frozen=True)
class DigitsSplit:
    """A fixed train/test split as tensors.

    ``*_x`` are float32 ``[N, 1, 8, 8]`` in [0, 1); ``*_y`` are int64 labels 0..9.
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    seed: int

    @property
    def num_classes(self) -> int:
        return 10


def check_dataset_name(name: str) -> str:
    """Return ``name`` if it is a known dataset; else raise naming the allowed values."""
    if name not in DATASETS:
        allowed = ", ".join(DATASETS)
        raise CimqInputError(f"{name!r} is not a known dataset (allowed: {allowed})", source="--dataset")
    return name


def scale_digits_pixels(pixels: np.ndarray) -> np.ndarray:
    """Pixel values 0..16 to float32 ``min(16 v, 255) / 256`` (exact 8-bit codes at FL 8)."""
    v = np.asarray(pixels, dtype=np.int64)
    if v.size and (v.min() < 0 or v.max() > 16):
        raise ValueError(f"digits pixels must lie in 0..16, got {v.min()}..{v.max()}")
    return (np.minimum(v * 16, 255) / 256.0).astype(np.float32)


def _stratified_split(labels: np.ndarray, test_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a stratified split, seeded (scikit-learn's own splitter)."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(labels.shape[0])
    train_idx, test_idx = train_test_split(idx, test_size=test_size, stratify=labels, random_state=seed, shuffle=True)
    return np.sort(train_idx), np.sort(test_idx)


def load_digits_dataset(seed: int = 0) -> DigitsSplit:
    """scikit-learn's digits with a seeded, stratified 1347/450 split."""
    from sklearn.datasets import load_digits

    if not 0 <= seed < 2**32:
        raise CimqInputError(f"{seed} is outside the allowed range 0..{2**32 - 1}", source="--seed")
    bunch = load_digits()
    images = scale_digits_pixels(bunch.images)  # [1797, 8, 8]
    labels = np.asarray(bunch.target, dtype=np.int64)
    train_idx, test_idx = _stratified_split(labels, DIGITS_TEST_SIZE, seed)

    def x(ix: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(images[ix][:, None, :, :]))

    def y(ix: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(labels[ix]))

    return DigitsSplit(train_x=x(train_idx), train_y=y(train_idx), test_x=x(test_idx), test_y=y(test_idx), seed=seed)
