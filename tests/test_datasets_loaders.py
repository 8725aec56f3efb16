"""SVHN / CIFAR-10 / CIFAR-100 loaders on tiny files written in the real formats.

Checks the layout (which byte lands in which pixel), the label mapping, the
exact ``v / 256`` scaling, ``limit`` subsets, and one-line errors naming the
file for missing, truncated, corrupt, mis-shaped and malicious files.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from fixtures_datasets import dump_py2_pickle, write_cifar10, write_cifar100, write_svhn  # noqa: E402

from cimq.errors import CimqInputError  # noqa: E402
from cimq.sim.data import load_dataset  # noqa: E402


def _codes(x: torch.Tensor) -> np.ndarray:
    """Images back to the 8-bit codes they must be exactly (x * 256 is an integer < 256)."""
    scaled = x.double() * 256
    assert torch.equal(scaled, scaled.round()) and float(x.min()) >= 0 and float(x.max()) < 1
    return scaled.to(torch.int64).numpy()


# ----------------------------------------------------------------------------- good files


def test_svhn_layout_labels_and_scaling(tmp_path: Path) -> None:
    wrote = write_svhn(tmp_path, n_train=20, n_test=11)
    split = load_dataset("svhn", tmp_path)
    assert split.train_x.shape == (20, 3, 32, 32) and split.test_x.shape == (11, 3, 32, 32)
    assert split.train_x.dtype == torch.float32 and split.train_y.dtype == torch.int64
    assert split.num_classes == 10 and split.class_names == tuple("0123456789")
    for name in ("train", "test"):
        images, digits = wrote[name]
        assert np.array_equal(_codes(getattr(split, f"{name}_x")), images)
        assert np.array_equal(getattr(split, f"{name}_y").numpy(), digits)  # file label 10 -> class 0
    assert 0 in split.train_y.tolist()
    # One pixel by hand: X[h, w, c, n] of the .mat is x[n, c, h, w] here.
    from scipy.io import loadmat

    raw = loadmat(str(tmp_path / "train_32x32.mat"))
    assert int(raw["X"][5, 7, 2, 3]) == int(round(float(split.train_x[3, 2, 5, 7]) * 256))
    assert int(raw["y"][3, 0]) % 10 == int(split.train_y[3])


@pytest.mark.parametrize("py2", [True, False], ids=["python2-pickles", "python3-protocol2"])
def test_cifar10_layout_labels_and_names(tmp_path: Path, py2: bool) -> None:
    wrote = write_cifar10(tmp_path, per_batch=4, n_test=7, py2=py2)
    split = load_dataset("cifar10", tmp_path)
    assert split.train_x.shape == (20, 3, 32, 32) and split.test_x.shape == (7, 3, 32, 32)
    for name in ("train", "test"):
        images, labels = wrote[name]
        assert np.array_equal(_codes(getattr(split, f"{name}_x")), images)
        assert np.array_equal(getattr(split, f"{name}_y").numpy(), labels)
    assert split.class_names[0] == "airplane" and split.class_names[9] == "truck"
    # The inner folder itself is accepted as --data-dir too.
    inner = load_dataset("cifar10", tmp_path / "cifar-10-batches-py")
    assert torch.equal(inner.train_x, split.train_x)


def test_cifar100_fine_labels(tmp_path: Path) -> None:
    wrote = write_cifar100(tmp_path, n_train=30, n_test=12)
    split = load_dataset("cifar100", tmp_path)
    assert split.num_classes == 100 and len(split.class_names) == 100 and split.class_names[42] == "class_42"
    images, labels = wrote["train"]
    assert np.array_equal(_codes(split.train_x), images)
    assert np.array_equal(split.train_y.numpy(), labels) and int(split.train_y.max()) == 29  # fine, not coarse


def test_limit_takes_a_seeded_subset_of_each_split(tmp_path: Path) -> None:
    write_cifar10(tmp_path, per_batch=6, n_test=10)
    full = load_dataset("cifar10", tmp_path)
    a = load_dataset("cifar10", tmp_path, limit=8, seed=3)
    b = load_dataset("cifar10", tmp_path, limit=8, seed=3)
    c = load_dataset("cifar10", tmp_path, limit=8, seed=4)
    assert a.train_x.shape[0] == 8 and a.test_x.shape[0] == 8 and a.limit == 8
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.test_y, b.test_y)
    assert not torch.equal(a.train_x, c.train_x)
    rows = {r.tobytes() for r in full.train_x.numpy()}
    assert all(r.tobytes() in rows for r in a.train_x.numpy())  # a subset, no duplicates
    assert len({r.tobytes() for r in a.train_x.numpy()}) == 8
    assert load_dataset("cifar10", tmp_path, limit=1000).train_x.shape[0] == 30


# ----------------------------------------------------------------------------- bad input


def test_missing_folder_and_files(tmp_path: Path) -> None:
    with pytest.raises(CimqInputError, match=r"^--data-dir: is required for --dataset svhn"):
        load_dataset("svhn", None)
    with pytest.raises(CimqInputError, match=r"^--data-dir: '.*nope' is not a folder"):
        load_dataset("cifar10", tmp_path / "nope")
    with pytest.raises(CimqInputError) as info:
        load_dataset("svhn", tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'train_32x32.mat'}: missing file (expected an SVHN MATLAB v5 file")
    write_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(CimqInputError, match=r"data_batch_3: missing file \(expected a cifar10 batch"):
        load_dataset("cifar10", tmp_path)
    with pytest.raises(CimqInputError, match=r"^--limit: 0 must be at least 1"):
        load_dataset("cifar10", tmp_path, limit=0)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_truncated_or_corrupt_files(tmp_path: Path, damage: str) -> None:
    write_svhn(tmp_path)
    write_cifar100(tmp_path)
    for path in (tmp_path / "test_32x32.mat", tmp_path / "cifar-100-python" / "train"):
        good = path.read_bytes()
        bad = {"truncated": good[: len(good) // 2], "garbage": b"\x00\x13garbage" * 50, "empty": b""}[damage]
        path.write_bytes(bad)
    with pytest.raises(CimqInputError) as info:
        load_dataset("svhn", tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'test_32x32.mat'}: not a readable MATLAB .mat file")
    with pytest.raises(CimqInputError) as info:
        load_dataset("cifar100", tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'cifar-100-python' / 'train'}: not a readable python pickle")


def _savemat(path: Path, **arrays: np.ndarray) -> None:
    from scipy.io import savemat

    savemat(str(path), arrays)


@pytest.mark.parametrize(
    "arrays,message",
    [
        (dict(X=np.zeros((32, 32, 3, 4), np.float64), y=np.ones((4, 1), np.uint8)), "X has dtype float64, expected uint8"),
        (dict(X=np.zeros((28, 28, 3, 4), np.uint8), y=np.ones((4, 1), np.uint8)), "X has shape (28, 28, 3, 4), expected (32, 32, 3, N)"),
        (dict(X=np.zeros((32, 32, 3, 4), np.uint8), y=np.ones((5, 1), np.uint8)), "y has shape (5, 1), expected (4, 1) to match X"),
        (dict(X=np.zeros((32, 32, 3, 4), np.uint8), y=np.full((4, 1), 11, np.uint8)), "y has labels 11..11, expected 1..10"),
        (dict(X=np.zeros((32, 32, 3, 4), np.uint8), y=np.zeros((4, 1), np.uint8)), "y has labels 0..0, expected 1..10"),
        (dict(images=np.zeros((32, 32, 3, 4), np.uint8), y=np.ones((4, 1), np.uint8)), "has no variable 'X'"),
    ],
)
def test_svhn_wrong_contents(tmp_path: Path, arrays: dict[str, np.ndarray], message: str) -> None:
    write_svhn(tmp_path)
    _savemat(tmp_path / "train_32x32.mat", **arrays)
    with pytest.raises(CimqInputError) as info:
        load_dataset("svhn", tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'train_32x32.mat'}: {message}")


@pytest.mark.parametrize(
    "batch,message",
    [
        ({b"data": np.zeros((3, 3072), np.int32), b"labels": [0, 1, 2]}, "b'data' has dtype int32, expected uint8"),
        ({b"data": np.zeros((3, 1024), np.uint8), b"labels": [0, 1, 2]}, "b'data' has shape (3, 1024), expected (N, 3072)"),
        ({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1]}, "b'labels' must be 3 integer labels to match b'data', got 2"),
        ({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1, 10]}, "b'labels' has labels 0..10, expected 0..9"),
        ({b"data": np.zeros((3, 3072), np.uint8)}, "has no key b'labels'"),
        ([1, 2, 3], "holds a list, expected a cifar10 batch"),
    ],
)
def test_cifar_wrong_contents(tmp_path: Path, batch: object, message: str) -> None:
    write_cifar10(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(dump_py2_pickle(batch))
    with pytest.raises(CimqInputError) as info:
        load_dataset("cifar10", tmp_path)
    assert str(info.value).startswith(f"{path}: {message}")


def test_cifar_meta_with_wrong_class_count(tmp_path: Path) -> None:
    write_cifar100(tmp_path)
    path = tmp_path / "cifar-100-python" / "meta"
    path.write_bytes(dump_py2_pickle({b"fine_label_names": [b"a"] * 20}))
    with pytest.raises(CimqInputError, match=r"b'fine_label_names' has 20 entries; expected the cifar100 meta file"):
        load_dataset("cifar100", tmp_path)


class _Exploit:
    """Unpickling calls ``fn(*args)``: how a malicious pickle runs code."""

    def __init__(self, fn: object, *args: object) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.fn, self.args


@pytest.mark.parametrize("how", ["os.system", "eval", "nested-in-batch", "codecs-rot13"])
def test_malicious_pickle_is_refused_without_running(tmp_path: Path, how: str) -> None:
    import builtins
    import codecs
    import os

    write_cifar10(tmp_path)
    marker = tmp_path / "pwned"
    command = f"touch {marker}"
    path = tmp_path / "cifar-10-batches-py" / "data_batch_1"
    if how == "os.system":
        payload = pickle.dumps(_Exploit(os.system, command), protocol=2)
        refused = "posix.system"
    elif how == "eval":
        payload = pickle.dumps(_Exploit(builtins.eval, f"__import__('os').system({command!r})"), protocol=2)
        refused = "__builtin__.eval"  # protocol 2 writes Python 2 names
    elif how == "nested-in-batch":  # a valid-looking batch whose labels hide the call
        payload = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, _Exploit(os.system, command)]}, protocol=2)
        refused = "posix.system"
    else:  # _codecs.encode is allowed for bytes, but only with latin-1
        payload = pickle.dumps(_Exploit(codecs.encode, "abc", "rot13"), protocol=2)
        refused = None
    path.write_bytes(payload)
    with pytest.raises(CimqInputError) as info:
        load_dataset("cifar10", tmp_path)
    msg = str(info.value)
    assert msg.startswith(str(path))
    if refused:
        assert f"refused: the pickle references {refused}" in msg and "nothing was executed" in msg
    else:
        assert "latin-1" in msg
    assert not marker.exists()
