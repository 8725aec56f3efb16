"""Writers of tiny SVHN / CIFAR-10 / CIFAR-100 files in their real on-disk formats.

* SVHN: MATLAB v5 ``.mat`` via ``scipy.io.savemat`` with ``X`` uint8
  ``(32, 32, 3, N)`` and ``y`` uint8 ``(N, 1)`` labels 1..10 (10 = digit 0).
* CIFAR: pickled dicts with byte-string keys and a uint8 ``(N, 3072)`` array,
  written either the way the real files were (Python 2: every string a byte
  string, ``numpy.core.multiarray._reconstruct``; ``py2=True``) or by Python 3's
  ``pickle.dump(protocol=2)``.

Every writer returns the images as uint8 ``[N, 3, 32, 32]`` and labels 0..K-1 it
wrote, computed here independently of the loaders (from the per-channel planes).
Images carry a class-dependent bright square so tiny networks can learn a little.
"""

from __future__ import annotations

import io
import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["make_images", "dump_py2_pickle", "write_svhn", "write_cifar10", "write_cifar100"]


def make_images(n: int, num_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uint8 images ``[N, 3, 32, 32]`` (noise plus a class-placed square) and labels 0..K-1."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % num_classes
    rng.shuffle(labels)
    images = rng.integers(0, 100, size=(n, 3, 32, 32), dtype=np.uint8)
    for i, k in enumerate(labels):
        r, c = divmod(int(k) % 16, 4)
        images[i, int(k) % 3, 8 * r : 8 * r + 8, 8 * c : 8 * c + 8] = 200 + int(k) % 50
    return images, labels.astype(np.int64)


class _Py2Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Pickles like Python 2's cPickle: str and bytes both as byte strings, numpy.core names."""

    dispatch = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]

    def _save_py2_str(self, obj: bytes | str) -> None:
        data = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[bytes] = _save_py2_str
    dispatch[str] = _save_py2_str

    def save_global(self, obj: Any, name: str | None = None) -> None:
        module = getattr(obj, "__module__", None)
        name = name or obj.__qualname__
        if module == "numpy._core.multiarray":
            module = "numpy.core.multiarray"
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("ascii"))
        self.memoize(obj)


def dump_py2_pickle(obj: Any) -> bytes:
    """``obj`` pickled as Python 2 would have written it (protocol 2)."""
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def _dump(obj: Any, py2: bool) -> bytes:
    return dump_py2_pickle(obj) if py2 else pickle.dumps(obj, protocol=2)


def write_svhn(folder: Path, n_train: int = 24, n_test: int = 12, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``train_32x32.mat`` / ``test_32x32.mat`` in ``folder``; returns ``{split: (images, digits)}``."""
    from scipy.io import savemat

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n, s in (("train", n_train, seed), ("test", n_test, seed + 1)):
        images, labels = make_images(n, 10, s)
        x = np.zeros((32, 32, 3, n), dtype=np.uint8)
        for i in range(n):
            for c in range(3):
                x[:, :, c, i] = images[i, c]
        y = np.where(labels == 0, 10, labels).astype(np.uint8).reshape(n, 1)
        savemat(str(folder / f"{split}_32x32.mat"), {"X": x, "y": y})
        out[split] = (images, labels)
    return out


def _rows(images: np.ndarray) -> np.ndarray:
    """``(N, 3072)``: red plane, green plane, blue plane, each row-major."""
    n = images.shape[0]
    rows = np.zeros((n, 3072), dtype=np.uint8)
    for c in range(3):
        rows[:, 1024 * c : 1024 * (c + 1)] = images[:, c].reshape(n, 1024)
    return rows


def write_cifar10(folder: Path, per_batch: int = 6, n_test: int = 10, seed: int = 0, py2: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``folder/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``; returns ``{split: (images, labels)}``."""
    root = folder / "cifar-10-batches-py"
    root.mkdir(parents=True, exist_ok=True)
    images, labels = make_images(5 * per_batch, 10, seed)
    for b in range(5):
        sl = slice(b * per_batch, (b + 1) * per_batch)
        batch = {b"batch_label": f"training batch {b + 1} of 5".encode(), b"labels": [int(v) for v in labels[sl]],
                 b"data": _rows(images[sl]), b"filenames": [f"img_{i}.png".encode() for i in range(per_batch)]}
        (root / f"data_batch_{b + 1}").write_bytes(_dump(batch, py2))
    test_images, test_labels = make_images(n_test, 10, seed + 1)
    test = {b"batch_label": b"testing batch 1 of 1", b"labels": [int(v) for v in test_labels], b"data": _rows(test_images),
            b"filenames": [f"t_{i}.png".encode() for i in range(n_test)]}
    (root / "test_batch").write_bytes(_dump(test, py2))
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    meta = {b"num_cases_per_batch": per_batch, b"label_names": names, b"num_vis": 3072}
    (root / "batches.meta").write_bytes(_dump(meta, py2))
    return {"train": (images, labels), "test": (test_images, test_labels)}


def write_cifar100(folder: Path, n_train: int = 40, n_test: int = 20, seed: int = 0, py2: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``folder/cifar-100-python/{train, test, meta}``; returns ``{split: (images, fine labels)}``."""
    root = folder / "cifar-100-python"
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n, s in (("train", n_train, seed), ("test", n_test, seed + 1)):
        images, labels = make_images(n, 100, s)
        d = {b"filenames": [f"{split}_{i}.png".encode() for i in range(n)], b"batch_label": f"{split} batch".encode(),
             b"fine_labels": [int(v) for v in labels], b"coarse_labels": [int(v) // 5 for v in labels],
             b"data": _rows(images)}
        (root / split).write_bytes(_dump(d, py2))
        out[split] = (images, labels)
    meta = {b"fine_label_names": [f"class_{i}".encode() for i in range(100)],
            b"coarse_label_names": [f"super_{i}".encode() for i in range(20)]}
    (root / "meta").write_bytes(_dump(meta, py2))
    return out
