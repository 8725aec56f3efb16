"""SVHN (cropped digits, "format 2") from the official MATLAB files; never downloads.

Expected files (from http://ufldl.stanford.edu/housenumbers/): ``train_32x32.mat``
and ``test_32x32.mat`` in the data folder (or in ``DATA_DIR/svhn/``). Each is a
MATLAB v5 file with ``X``: uint8 ``(32, 32, 3, N)`` (height, width, RGB,
image) and ``y``: ``(N, 1)`` labels 1..10, where 10 stands for the digit 0.
Images become ``[N, 3, 32, 32]`` (``X[h, w, c, n]`` -> ``x[n, c, h, w]``) and
label 10 becomes class 0, so class ``k`` is the digit ``k``. ``extra_32x32.mat``
is not used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cimq.errors import CimqInputError
from cimq.sim.datasets.split import DatasetSplit, make_split

__all__ = ["SVHN_FILES", "svhn_folder", "read_svhn_mat", "load_svhn"]

SVHN_FILES = ("train_32x32.mat", "test_32x32.mat")
_EXPECTED = "an SVHN MATLAB v5 file with X: uint8 (32, 32, 3, N) and y: (N, 1) labels 1..10"


def svhn_folder(data_dir: Path) -> Path:
    """``data_dir`` if it holds the .mat files, else ``data_dir/svhn`` if that does; else ``data_dir``."""
    data_dir = Path(data_dir)
    for cand in (data_dir, data_dir / "svhn"):
        if (cand / SVHN_FILES[0]).is_file():
            return cand
    return data_dir


def read_svhn_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One SVHN .mat file as uint8 images ``[N, 3, 32, 32]`` and int64 labels 0..9 (10 -> 0)."""
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise CimqInputError(f"missing file (expected {_EXPECTED})", source=path)
    try:
        mat = loadmat(str(path), variable_names=["X", "y"])
    except NotImplementedError:  # scipy's answer to MATLAB v7.3 (HDF5) files
        raise CimqInputError(f"is a MATLAB v7.3 (HDF5) file; expected {_EXPECTED}", source=path) from None
    except Exception as exc:  # noqa: BLE001 - truncated/corrupt .mat files raise many types
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        raise CimqInputError(f"not a readable MATLAB .mat file (truncated or corrupt? {detail}); expected {_EXPECTED}",
                             source=path) from None
    for key in ("X", "y"):
        if key not in mat:
            raise CimqInputError(f"has no variable {key!r}; expected {_EXPECTED}", source=path)
    x, y = mat["X"], mat["y"]
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8:
        raise CimqInputError(f"X has dtype {getattr(x, 'dtype', type(x).__name__)}, expected uint8", source=path)
    if x.ndim != 4 or x.shape[:3] != (32, 32, 3) or x.shape[3] < 1:
        raise CimqInputError(f"X has shape {x.shape}, expected (32, 32, 3, N) with N >= 1", source=path)
    n = x.shape[3]
    if not isinstance(y, np.ndarray) or y.shape not in ((n, 1), (n,)):
        raise CimqInputError(f"y has shape {getattr(y, 'shape', None)}, expected ({n}, 1) to match X", source=path)
    y = y.reshape(n)
    if not (np.issubdtype(y.dtype, np.integer) or (np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y)))):
        raise CimqInputError(f"y has dtype {y.dtype}, expected integer labels 1..10", source=path)
    labels = y.astype(np.int64)
    if labels.min() < 1 or labels.max() > 10:
        raise CimqInputError(f"y has labels {labels.min()}..{labels.max()}, expected 1..10 (10 is the digit 0)",
                             source=path)
    images = np.ascontiguousarray(x.transpose(3, 2, 0, 1))
    return images, labels % 10


def load_svhn(data_dir: Path, *, limit: int | None = None, seed: int = 0) -> DatasetSplit:
    """SVHN train (73,257) / test (26,032) as a :class:`DatasetSplit` (10 classes, digit k = class k)."""
    folder = svhn_folder(data_dir)
    train = read_svhn_mat(folder / SVHN_FILES[0])
    test = read_svhn_mat(folder / SVHN_FILES[1])
    return make_split(
        "svhn", train, test, num_classes=10, class_names=tuple(str(d) for d in range(10)),
        seed=seed, source=str(folder), limit=limit,
    )
