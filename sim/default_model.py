"""The embedded default network: a small CNN for the digits, trained in seconds.

The CNN uses only layers the CIM flow maps (Conv2d, ReLU, MaxPool2d, Flatten,
Linear). Two layers have more than 128 input rows (conv2: 16*3*3 = 144, fc1:
512), so multi-array accumulation is exercised by the default flow.

Training is deterministic: one thread, ``torch.use_deterministic_algorithms``,
a seeded initialisation and a seeded shuffle; the same seed gives a
byte-identical checkpoint. One thread costs nothing here (a few seconds).

The checkpoint cache lives at ``BUILD_DIR/cache/digits_cnn_seed{seed}.pt``;
:func:`default_model` loads it (``weights_only=True``, validated) or retrains
and writes it atomically when it is missing or unreadable.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from cimq.files import write_bytes_atomic
from cimq.sim.data import DigitsSplit, load_digits_dataset

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "DEFAULT_EPOCHS",
    "DigitsCNN",
    "TrainResult",
    "accuracy_percent",
    "checkpoint_bytes",
    "checkpoint_path",
    "default_model",
    "deterministic_torch",
    "load_checkpoint",
    "train_default_model",
]

CHECKPOINT_FORMAT = "cimq-digits-cnn"
CHECKPOINT_VERSION = 1
DEFAULT_EPOCHS = 20
DEFAULT_LR = 3e-3
DEFAULT_BATCH = 32


class DigitsCNN(nn.Module):
    """conv3x3(1->16)+ReLU, conv3x3(16->32)+ReLU, maxpool2, flatten, fc(512->64)+ReLU, fc(64->10).

    Input ``[N, 1, 8, 8]`` in [0, 1); output ``[N, 10]`` logits.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu1(self.conv1(x))
        x = self.relu2(self.conv2(x))
        x = self.flatten(self.pool(x))
        x = self.relu3(self.fc1(x))
        return self.fc2(x)


@dataclass(frozen=True)
class TrainResult:
    """A trained model and how it was made (accuracies in percent, float model)."""

    model: DigitsCNN
    seed: int
    epochs: int
    test_accuracy: float
    train_accuracy: float
    seconds: float
    losses: tuple[float, ...]


@contextmanager
def deterministic_torch(threads: int = 1) -> Iterator[None]:
    """Run the body single-threaded with deterministic kernels; restore the settings after."""
    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    old_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old_det, warn_only=old_warn)
        torch.set_num_threads(old_threads)


@torch.no_grad()
def accuracy_percent(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 512) -> float:
    """Top-1 accuracy of ``model`` on ``(x, y)`` in percent."""
    was_training = model.training
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch):
        correct += int((model(x[i : i + batch]).argmax(dim=1) == y[i : i + batch]).sum())
    model.train(was_training)
    return 100.0 * correct / max(1, x.shape[0])


def train_default_model(
    seed: int = 0,
    epochs: int = DEFAULT_EPOCHS,
    *,
    lr: float = DEFAULT_LR,
    batch_size: int = DEFAULT_BATCH,
    data: DigitsSplit | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Train :class:`DigitsCNN` on the digits split of ``seed`` (Adam, cross-entropy).

    ``on_epoch(epoch, mean_loss)`` is called after each epoch (progress bars).
    """
    if epochs < 1:
        raise ValueError(f"epochs: {epochs} must be at least 1")
    data = load_digits_dataset(seed) if data is None else data
    start = time.perf_counter()
    losses: list[float] = []
    with deterministic_torch():
        torch.manual_seed(seed)
        model = DigitsCNN()
        gen = torch.Generator().manual_seed(seed)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        lossf = nn.CrossEntropyLoss()
        n = data.train_x.shape[0]
        model.train()
        for epoch in range(epochs):
            order = torch.randperm(n, generator=gen)
            total = 0.0
            for i in range(0, n, batch_size):
                idx = order[i : i + batch_size]
                opt.zero_grad(set_to_none=True)
                loss = lossf(model(data.train_x[idx]), data.train_y[idx])
                loss.backward()
                opt.step()
                total += float(loss.detach()) * idx.numel()
            losses.append(total / n)
            if on_epoch is not None:
                on_epoch(epoch + 1, losses[-1])
        model.eval()
        test_acc = accuracy_percent(model, data.test_x, data.test_y)
        train_acc = accuracy_percent(model, data.train_x, data.train_y)
    return TrainResult(
        model=model,
        seed=seed,
        epochs=epochs,
        test_accuracy=test_acc,
        train_accuracy=train_acc,
        seconds=time.perf_counter() - start,
        losses=tuple(losses),
    )


def checkpoint_path(build_dir: Path, seed: int) -> Path:
    """Where the cached default model of ``seed`` lives."""
    return Path(build_dir) / "cache" / f"digits_cnn_seed{seed}.pt"


def checkpoint_bytes(result: TrainResult) -> bytes:
    """The checkpoint file: format tag, seed, epochs, accuracy and the state dict.

    Only tensors and plain values, so ``torch.load(weights_only=True)`` reads it.
    """
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "seed": result.seed,
        "epochs": result.epochs,
        "test_accuracy": result.test_accuracy,
        "state_dict": {k: v.detach().clone().contiguous() for k, v in result.model.state_dict().items()},
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    return buf.getvalue()


def load_checkpoint(path: Path, seed: int) -> DigitsCNN | None:
    """The model in ``path``, or ``None`` if the file is missing, unreadable or not ours."""
    try:
        payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - any unreadable cache means "retrain"
        return None
    if not isinstance(payload, dict):
        return None
    if payload.get("format") != CHECKPOINT_FORMAT or payload.get("version") != CHECKPOINT_VERSION:
        return None
    if payload.get("seed") != seed:
        return None
    state = payload.get("state_dict")
    model = DigitsCNN()
    expected = model.state_dict()
    if not isinstance(state, dict) or set(state) != set(expected):
        return None
    for key, ref in expected.items():
        value = state[key]
        if not isinstance(value, torch.Tensor) or value.shape != ref.shape or value.dtype != ref.dtype:
            return None
        if not bool(torch.isfinite(value).all()):
            return None
    model.load_state_dict(state)
    model.eval()
    return model


def default_model(build_dir: Path, seed: int = 0) -> nn.Module:
    """The trained default CNN: from the cache, or trained now and cached atomically."""
    path = checkpoint_path(build_dir, seed)
    model = load_checkpoint(path, seed)
    if model is not None:
        return model
    result = train_default_model(seed)
    write_bytes_atomic(path, checkpoint_bytes(result))
    return result.model
