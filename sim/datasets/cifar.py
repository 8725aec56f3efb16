"""CIFAR-10 and CIFAR-100 from the official "python version" pickles; never downloads.

Expected layout (the archives from https://www.cs.toronto.edu/~kriz/cifar.html,
extracted into the data folder):

* CIFAR-10: ``cifar-10-batches-py/data_batch_1`` .. ``data_batch_5``,
  ``test_batch``, ``batches.meta``;
* CIFAR-100: ``cifar-100-python/train``, ``test``, ``meta``.

Each batch is a Python 2 pickle of a dict with byte-string keys: ``data``
uint8 ``(N, 3072)`` (1024 red, 1024 green, 1024 blue values, each a row-major
32x32 plane) and ``labels`` (CIFAR-10) or ``fine_labels`` (CIFAR-100). They
are read with :mod:`cimq.sim.datasets.safe_pickle`, which can only rebuild
numpy arrays. Images become ``[N, 3, 32, 32]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cimq.errors import CimqInputError
from cimq.sim.datasets.safe_pickle import load_restricted_pickle
from cimq.sim.datasets.split import DatasetSplit, make_split

__all__ = ["CifarLayout", "CIFAR10", "CIFAR100", "cifar_folder", "read_cifar_batch", "read_cifar_names", "load_cifar"]


@dataclass(frozen=True)
class CifarLayout:
    """Where one CIFAR variant keeps its files and which keys it uses."""

    name: str
    folder: str
    train_files: tuple[str, ...]
    test_file: str
    meta_file: str
    label_key: str
    names_key: str
    num_classes: int


CIFAR10 = CifarLayout(
    "cifar10", "cifar-10-batches-py", tuple(f"data_batch_{i}" for i in range(1, 6)), "test_batch",
    "batches.meta", "labels", "label_names", 10,
)
CIFAR100 = CifarLayout("cifar100", "cifar-100-python", ("train",), "test", "meta", "fine_labels", "fine_label_names", 100)


def cifar_folder(data_dir: Path, layout: CifarLayout) -> Path:
    """``data_dir/<archive folder>`` if present, else ``data_dir`` itself if it holds the files."""
    data_dir = Path(data_dir)
    inner = data_dir / layout.folder
    if not inner.is_dir() and (data_dir / layout.test_file).is_file():
        return data_dir
    return inner


def _key(d: dict[Any, Any], key: str) -> Any:
    """``d[b'key']`` (Python 2 files) or ``d['key']`` (re-pickled by Python 3)."""
    if key.encode() in d:
        return d[key.encode()]
    return d.get(key)


def read_cifar_batch(path: Path, layout: CifarLayout) -> tuple[np.ndarray, np.ndarray]:
    """One batch file as uint8 images ``[N, 3, 32, 32]`` and int64 labels (validated)."""
    expected = f"a {layout.name} batch: dict with b'data' uint8 (N, 3072) and b'{layout.label_key}' (N labels)"
    obj = load_restricted_pickle(path, expected)
    if not isinstance(obj, dict):
        raise CimqInputError(f"holds a {type(obj).__name__}, expected {expected}", source=path)
    data, labels = _key(obj, "data"), _key(obj, layout.label_key)
    if data is None:
        raise CimqInputError(f"has no key b'data'; expected {expected}", source=path)
    if labels is None:
        raise CimqInputError(f"has no key b'{layout.label_key}'; expected {expected}", source=path)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        raise CimqInputError(f"b'data' has dtype {getattr(data, 'dtype', type(data).__name__)}, expected uint8",
                             source=path)
    if data.ndim != 2 or data.shape[1] != 3072 or data.shape[0] < 1:
        raise CimqInputError(f"b'data' has shape {data.shape}, expected (N, 3072) with N >= 1", source=path)
    try:
        lab = np.asarray(labels)
    except Exception:  # noqa: BLE001
        lab = np.asarray([])
    if lab.ndim != 1 or lab.shape[0] != data.shape[0] or not np.issubdtype(lab.dtype, np.integer):
        raise CimqInputError(
            f"b'{layout.label_key}' must be {data.shape[0]} integer labels to match b'data', "
            f"got {lab.shape[0] if lab.ndim == 1 else lab.shape} of {lab.dtype}",
            source=path,
        )
    lab = lab.astype(np.int64)
    if lab.min() < 0 or lab.max() >= layout.num_classes:
        raise CimqInputError(
            f"b'{layout.label_key}' has labels {lab.min()}..{lab.max()}, expected 0..{layout.num_classes - 1}",
            source=path,
        )
    return np.ascontiguousarray(data.reshape(-1, 3, 32, 32)), lab


def read_cifar_names(path: Path, layout: CifarLayout) -> tuple[str, ...]:
    """The class names from the meta file (``label_names`` / ``fine_label_names``)."""
    expected = f"the {layout.name} meta file: dict with b'{layout.names_key}' ({layout.num_classes} names)"
    obj = load_restricted_pickle(path, expected)
    names = _key(obj, layout.names_key) if isinstance(obj, dict) else None
    if not isinstance(names, list) or len(names) != layout.num_classes:
        got = f"{len(names)} entries" if isinstance(names, list) else "none"
        raise CimqInputError(f"b'{layout.names_key}' has {got}; expected {expected}", source=path)
    out = []
    for n in names:
        if isinstance(n, bytes):
            n = n.decode("latin-1")
        if not isinstance(n, str):
            raise CimqInputError(f"b'{layout.names_key}' holds a {type(n).__name__}, expected names", source=path)
        out.append(n)
    return tuple(out)


def load_cifar(layout: CifarLayout, data_dir: Path, *, limit: int | None = None, seed: int = 0) -> DatasetSplit:
    """CIFAR-10/100 train (50,000) / test (10,000) as a :class:`DatasetSplit`."""
    folder = cifar_folder(data_dir, layout)
    names = read_cifar_names(folder / layout.meta_file, layout)
    parts = [read_cifar_batch(folder / f, layout) for f in layout.train_files]
    train = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    test = read_cifar_batch(folder / layout.test_file, layout)
    return make_split(
        layout.name, train, test, num_classes=layout.num_classes, class_names=names,
        seed=seed, source=str(folder), limit=limit,
    )
