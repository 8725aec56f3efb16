"""The typed result of every dataset loader, and the shared 8-bit pixel scaling.

Images are float32 ``[N, C, H, W]`` in [0, 1): an 8-bit pixel ``v`` becomes
``v / 256``, so every value is an exact unsigned 8-bit code at ``FL_x = 8``
and the first layer's input quantization loses nothing there. No mean/std
normalisation: the CIM input is an unsigned code, and the networks' first
layers (with batch norm where they have it) learn the offset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["DatasetSplit", "pixels_to_unit", "subset_indices", "make_split"]


@dataclass(frozen=True)
class DatasetSplit:
    """A fixed train/test split as tensors.

    ``*_x``: float32 ``[N, C, H, W]`` in [0, 1) (8-bit codes / 256);
    ``*_y``: int64 labels ``0 .. num_classes-1``. ``source`` says where the
    images came from (a folder, or scikit-learn for digits); ``limit`` is the
    per-split cap that was applied (``None``: every image).
    """

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    class_names: tuple[str, ...]
    seed: int
    source: str = ""
    limit: int | None = None

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            x, y = getattr(self, f"{split}_x"), getattr(self, f"{split}_y")
            if x.ndim != 4 or y.ndim != 1 or x.shape[0] != y.shape[0]:
                raise ValueError(f"{split}: images {tuple(x.shape)} and labels {tuple(y.shape)} do not match")
        if len(self.class_names) != self.num_classes:
            raise ValueError(f"class_names: {len(self.class_names)} names for {self.num_classes} classes")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        return tuple(int(d) for d in self.train_x.shape[1:])  # type: ignore[return-value]


def pixels_to_unit(codes: np.ndarray) -> torch.Tensor:
    """uint8 pixels to float32 ``v / 256`` (exact 8-bit codes at FL 8, all < 1)."""
    if codes.dtype != np.uint8:
        raise ValueError(f"pixels must be uint8, got {codes.dtype}")
    return torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32) / np.float32(256.0))


def subset_indices(n: int, limit: int | None, seed: int) -> np.ndarray:
    """Sorted indices of a seeded random subset of ``min(limit, n)`` out of ``n`` (all when ``limit`` is None)."""
    if limit is None or limit >= n:
        return np.arange(n)
    if limit < 1:
        raise ValueError(f"limit: {limit} must be >= 1")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()
    return np.sort(order[:limit])


def make_split(
    name: str,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    *,
    num_classes: int,
    class_names: tuple[str, ...],
    seed: int,
    source: str,
    limit: int | None,
) -> DatasetSplit:
    """Subset (seeded, per split) then scale uint8 ``[N, C, H, W]`` images into a :class:`DatasetSplit`.

    Subsetting first keeps a quick ``limit`` run from materialising every image as float.
    """
    parts = []
    for offset, (x, y) in enumerate((train, test)):
        idx = subset_indices(x.shape[0], limit, seed + offset)
        parts.append((pixels_to_unit(x[idx]), torch.from_numpy(np.ascontiguousarray(y[idx], dtype=np.int64))))
    (tx, ty), (vx, vy) = parts
    return DatasetSplit(
        name=name, train_x=tx, train_y=ty, test_x=vx, test_y=vy, num_classes=num_classes,
        class_names=class_names, seed=seed, source=source, limit=limit,
    )
