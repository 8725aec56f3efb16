"""The embedded default: digits split, the small CNN, its cache and ``cimq train``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import typer
from sklearn.datasets import load_digits

from cimq.cli.commands import train as train_cmd
from cimq.errors import CimqInputError
from cimq.sim import default_model as dm
from cimq.sim.data import DIGITS_TEST_SIZE, check_dataset_name, load_digits_dataset


@pytest.fixture(scope="module")
def trained() -> dm.TrainResult:
    """One training at the default settings, shared by the accuracy and cache tests."""
    return dm.train_default_model(seed=0)


def _rows(x: torch.Tensor) -> list[bytes]:
    return sorted(row.tobytes() for row in x.reshape(x.shape[0], -1).numpy())


# ----------------------------------------------------------------------------- data


def test_split_is_deterministic_and_covers_every_image_once() -> None:
    a, b, c = load_digits_dataset(0), load_digits_dataset(0), load_digits_dataset(1)
    assert a.train_x.shape == (1797 - DIGITS_TEST_SIZE, 1, 8, 8) and a.test_x.shape == (450, 1, 8, 8)
    assert a.train_x.dtype == torch.float32 and a.train_y.dtype == torch.int64
    for name in ("train_x", "train_y", "test_x", "test_y"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert not torch.equal(a.test_x, c.test_x)
    # Train + test are exactly the 1797 digits, pixel v -> min(16 v, 255) / 256.
    raw = load_digits()
    expected = np.minimum(raw.images.astype(np.int64) * 16, 255).astype(np.float32) / 256
    got = torch.cat([a.train_x, a.test_x])
    assert _rows(got) == _rows(torch.from_numpy(expected))
    assert float(got.min()) >= 0.0 and float(got.max()) < 1.0
    codes = got * 256
    assert torch.equal(codes, codes.round())  # exact unsigned 8-bit codes at FL_x = 8


def test_split_is_stratified() -> None:
    split = load_digits_dataset(0)
    totals = Counter(load_digits().target.tolist())
    test = Counter(split.test_y.tolist())
    for cls, total in totals.items():
        assert abs(test[cls] - DIGITS_TEST_SIZE * total / 1797) <= 1, cls


def test_unknown_dataset_lists_allowed_values() -> None:
    assert check_dataset_name("digits") == "digits"
    with pytest.raises(CimqInputError) as info:
        check_dataset_name("imagenet")
    assert str(info.value) == "--dataset: 'imagenet' is not a known dataset (allowed: digits, svhn, cifar10, cifar100)"


# ----------------------------------------------------------------------------- model


def test_cnn_uses_only_cim_layers_and_has_a_multi_array_layer() -> None:
    model = dm.DigitsCNN()
    allowed = (torch.nn.Conv2d, torch.nn.ReLU, torch.nn.MaxPool2d, torch.nn.Flatten, torch.nn.Linear)
    assert all(isinstance(m, allowed) for m in model.children())
    rows = [m.in_channels * m.kernel_size[0] * m.kernel_size[1] for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    rows += [m.in_features for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert max(rows) > 128
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


def test_default_model_reaches_95_percent(trained: dm.TrainResult) -> None:
    data = load_digits_dataset(0)
    with torch.no_grad():
        pred = trained.model.eval()(data.test_x).argmax(dim=1)
    measured = 100.0 * int((pred == data.test_y).sum()) / data.test_y.numel()
    assert measured == pytest.approx(trained.test_accuracy)
    assert measured >= 95.0
    assert trained.epochs == dm.DEFAULT_EPOCHS and len(trained.losses) == dm.DEFAULT_EPOCHS
    assert trained.losses[-1] < trained.losses[0]


def test_training_is_deterministic_and_restores_torch_settings() -> None:
    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    a = dm.train_default_model(seed=3, epochs=2)
    b = dm.train_default_model(seed=3, epochs=2)
    c = dm.train_default_model(seed=4, epochs=2)
    assert (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()) == (threads, det)
    sa, sb, sc = a.model.state_dict(), b.model.state_dict(), c.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert dm.checkpoint_bytes(a) == dm.checkpoint_bytes(b)
    assert a.losses == b.losses
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert dm.checkpoint_bytes(a) != dm.checkpoint_bytes(c)


# ----------------------------------------------------------------------------- cache


def _same_weights(m1: torch.nn.Module, m2: torch.nn.Module) -> bool:
    s1, s2 = m1.state_dict(), m2.state_dict()
    return s1.keys() == s2.keys() and all(torch.equal(s1[k], s2[k]) for k in s1)


def test_cache_hit_loads_without_training(tmp_path: Path, trained: dm.TrainResult, monkeypatch) -> None:
    path = dm.checkpoint_path(tmp_path, 0)
    assert path == tmp_path / "cache" / "digits_cnn_seed0.pt"
    path.parent.mkdir(parents=True)
    path.write_bytes(dm.checkpoint_bytes(trained))

    def no_training(*args, **kwargs):
        raise AssertionError("a valid cache must not be retrained")

    monkeypatch.setattr(dm, "train_default_model", no_training)
    model = dm.default_model(tmp_path, seed=0)
    assert _same_weights(model, trained.model)
    # torch.load(weights_only=True) reads the file: only tensors and plain values.
    payload = torch.load(path, weights_only=True)
    assert payload["seed"] == 0 and payload["format"] == dm.CHECKPOINT_FORMAT


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong_seed", "missing_key"])
def test_corrupt_cache_is_retrained_and_rewritten(tmp_path: Path, trained: dm.TrainResult, damage: str) -> None:
    path = dm.checkpoint_path(tmp_path, 0)
    path.parent.mkdir(parents=True)
    good = dm.checkpoint_bytes(trained)
    if damage == "garbage":
        path.write_bytes(b"not a checkpoint at all")
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    else:
        import io

        payload = torch.load(io.BytesIO(good), weights_only=True)
        if damage == "wrong_seed":
            payload["seed"] = 7
        else:
            del payload["state_dict"]["fc2.bias"]
        buf = io.BytesIO()
        torch.save(payload, buf)
        path.write_bytes(buf.getvalue())
    assert dm.load_checkpoint(path, 0) is None
    model = dm.default_model(tmp_path, seed=0)
    assert _same_weights(model, trained.model)  # retrained deterministically
    assert path.read_bytes() == good
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left over


# ----------------------------------------------------------------------------- CLI


def _app() -> typer.Typer:
    # Mirrors cimq.cli.main: a group whose commands each module registers.
    app = typer.Typer()

    @app.callback()
    def _group() -> None:
        pass

    train_cmd.register(app)
    return app


def test_cli_train_writes_checkpoint_and_metrics(tmp_path: Path) -> None:
    _app()(args=["train", "--epochs", "3", "--seed", "2", "--build-dir", str(tmp_path), "--run", "r1"], standalone_mode=False)
    metrics = json.loads((tmp_path / "r1" / "train" / "metrics.json").read_text())
    assert metrics["dataset"] == "digits" and metrics["epochs"] == 3 and metrics["seed"] == 2
    assert (metrics["train_size"], metrics["test_size"]) == (1347, 450)
    model = dm.load_checkpoint(tmp_path / "cache" / "digits_cnn_seed2.pt", 2)
    assert model is not None
    data = load_digits_dataset(2)
    with torch.no_grad():
        acc = 100.0 * int((model(data.test_x).argmax(1) == data.test_y).sum()) / 450
    assert metrics["float_test_accuracy"] == pytest.approx(acc, abs=1e-3)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--dataset", "cifar"], "--dataset: 'cifar' is not a known dataset (allowed: digits, svhn, cifar10, cifar100)"),
        (["--epochs", "0"], "--epochs: 0 is outside the allowed range 1..1000"),
        (["--seed", "-1"], "--seed: -1 is outside the allowed range 0..4294967295"),
        (["--run", "../x"], "--run: '../x' is not a valid run name (letters, digits, '_', '.', '-'; at most 64)"),
    ],
)
def test_cli_train_rejects_bad_options_and_writes_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    build = tmp_path / "build"
    with pytest.raises(CimqInputError) as info:
        _app()(args=["train", "--build-dir", str(build), *args], standalone_mode=False)
    assert str(info.value) == message
    assert not build.exists()
