"""Datasets by name: the embedded digits and the slides' benchmarks (SVHN, CIFAR-10/100).

The default flow must run offline and in seconds, so it uses scikit-learn's
``load_digits`` (8x8 grayscale, 10 classes, 1797 images, shipped inside
scikit-learn). Pixels (integers 0..16) become ``min(16 * v, 255) / 256``: every
value lies in [0, 1) and is an exact unsigned 8-bit code at ``FL_x = 8``, so
the first layer's input quantization is lossless there.

The benchmarks are read from a folder the user gives, in their official
formats (see :mod:`cimq.sim.datasets`); 8-bit pixels become ``v / 256``, the
same exact-code scaling. :func:`load_dataset` is the one entry point by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cimq.errors import CimqInputError
from cimq.sim.datasets.split import DatasetSplit

__all__ = [
    "DATASETS",
    "DATASET_INFO",
    "DIGITS_TEST_SIZE",
    "DatasetInfo",
    "DatasetSplit",
    "DigitsSplit",
    "check_dataset_name",
    "load_dataset",
    "load_digits_dataset",
    "scale_digits_pixels",
]


@dataclass(frozen=True)
class DatasetInfo:
    """What the CLI needs to know about a dataset before loading it."""

    name: str
    num_classes: int
    image_shape: tuple[int, int, int]
    needs_data_dir: bool
    files: str  # what the data folder must hold, for messages and docs


DATASET_INFO: dict[str, DatasetInfo] = {
    "digits": DatasetInfo("digits", 10, (1, 8, 8), False, "nothing (shipped with scikit-learn)"),
    "svhn": DatasetInfo("svhn", 10, (3, 32, 32), True, "train_32x32.mat and test_32x32.mat"),
    "cifar10": DatasetInfo("cifar10", 10, (3, 32, 32), True,
                           "cifar-10-batches-py/ (data_batch_1..5, test_batch, batches.meta)"),
    "cifar100": DatasetInfo("cifar100", 100, (3, 32, 32), True, "cifar-100-python/ (train, test, meta)"),
}

DATASETS: tuple[str, ...] = tuple(DATASET_INFO)
"""Dataset names the CLI accepts."""

DIGITS_TEST_SIZE = 450
"""Test images of the digits split (1797 = 1347 train + 450 test)."""

DigitsSplit = DatasetSplit
"""The digits split is a :class:`DatasetSplit` (name kept for older imports)."""


def check_dataset_name(name: str) -> str:
    """Return ``name`` if it is a known dataset; else raise naming the allowed values."""
    if name not in DATASETS:
        allowed = ", ".join(DATASETS)
        raise CimqInputError(f"{name!r} is not a known dataset (allowed: {allowed})", source="--dataset")
    return name


def _check_seed(seed: int) -> None:
    if not 0 <= seed < 2**32:
        raise CimqInputError(f"{seed} is outside the allowed range 0..{2**32 - 1}", source="--seed")


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


def load_digits_dataset(seed: int = 0) -> DatasetSplit:
    """scikit-learn's digits with a seeded, stratified 1347/450 split."""
    from sklearn.datasets import load_digits

    _check_seed(seed)
    bunch = load_digits()
    images = scale_digits_pixels(bunch.images)  # [1797, 8, 8]
    labels = np.asarray(bunch.target, dtype=np.int64)
    train_idx, test_idx = _stratified_split(labels, DIGITS_TEST_SIZE, seed)

    def x(ix: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(images[ix][:, None, :, :]))

    def y(ix: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(labels[ix]))

    return DatasetSplit(
        name="digits", train_x=x(train_idx), train_y=y(train_idx), test_x=x(test_idx), test_y=y(test_idx),
        num_classes=10, class_names=tuple(str(d) for d in range(10)), seed=seed, source="scikit-learn",
    )


def load_dataset(name: str, data_dir: Path | str | None = None, *, limit: int | None = None, seed: int = 0) -> DatasetSplit:
    """The dataset ``name`` as a :class:`DatasetSplit`; never downloads.

    ``data_dir`` holds the official files (ignored for digits, required for the
    others); ``limit`` caps each split at a seeded random subset of that many
    images (``None``: all). Bad names, folders or files raise
    :class:`CimqInputError` naming the option or file.
    """
    check_dataset_name(name)
    _check_seed(seed)
    if limit is not None and limit < 1:
        raise CimqInputError(f"{limit} must be at least 1", source="--limit")
    info = DATASET_INFO[name]
    if name == "digits":
        if limit is not None:
            raise CimqInputError("is not supported with --dataset digits (it is small already)", source="--limit")
        return load_digits_dataset(seed)
    if data_dir is None:
        raise CimqInputError(f"is required for --dataset {name} (a folder holding {info.files})", source="--data-dir")
    folder = Path(data_dir)
    if not folder.is_dir():
        raise CimqInputError(f"{str(folder)!r} is not a folder (expected one holding {info.files})", source="--data-dir")
    if name == "svhn":
        from cimq.sim.datasets.svhn import load_svhn

        return load_svhn(folder, limit=limit, seed=seed)
    from cimq.sim.datasets.cifar import CIFAR10, CIFAR100, load_cifar

    return load_cifar(CIFAR10 if name == "cifar10" else CIFAR100, folder, limit=limit, seed=seed)
