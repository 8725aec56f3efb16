"""Resumable training of the benchmark networks (SGD + Nesterov momentum, cosine LR per epoch).

After every epoch the whole training state (model, optimizer, schedule, RNG
states, history) is written atomically to the state file, so ``resume=True``
continues exactly where the last completed epoch ended: on the CPU, a run cut
after epoch k and resumed gives the same weights as an uninterrupted run.

Determinism: the initial weights come from ``torch.manual_seed(seed)`` on the
CPU (same on every device); shuffling and augmentation draw from one seeded CPU
generator. On the CPU deterministic kernels are enforced (results depend on
the thread count); on CUDA cuDNN runs in deterministic mode but some CUDA
backward kernels are not, so GPU runs are seeded, not bit-reproducible.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cimq.errors import CimqInputError
from cimq.sim.data import DatasetSplit
from cimq.sim.default_model import accuracy_percent
from cimq.sim.models.augment import augment_batch
from cimq.sim.models.checkpoint import STATE_FORMAT, VERSION, ModelMeta, check_state_dict, read_payload, write_payload
from cimq.sim.models.registry import DEFAULT_MODELS, build_model, check_model_name

__all__ = [
    "EpochReport",
    "TrainConfig",
    "TrainOutcome",
    "check_device",
    "default_config",
    "read_state_config",
    "train_network",
]

MAX_EPOCHS = 1000
MAX_BATCH = 65536


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the trained weights (device and threads only decide speed)."""

    dataset: str
    model: str
    width: float = 1.0
    epochs: int = 30
    batch_size: int = 128
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    crop_pad: int = 0
    flip: bool = False
    seed: int = 0
    limit: int | None = None

    def __post_init__(self) -> None:
        checks = [
            ("--epochs", self.epochs, 1 <= self.epochs <= MAX_EPOCHS, f"1..{MAX_EPOCHS}"),
            ("--batch-size", self.batch_size, 2 <= self.batch_size <= MAX_BATCH, f"2..{MAX_BATCH}"),
            ("--lr", self.lr, 0.0 < self.lr <= 10.0 and math.isfinite(self.lr), "(0, 10]"),
            ("--seed", self.seed, 0 <= self.seed < 2**32, f"0..{2**32 - 1}"),
            ("momentum", self.momentum, 0.0 <= self.momentum < 1.0, "[0, 1)"),
            ("weight_decay", self.weight_decay, 0.0 <= self.weight_decay < 1.0, "[0, 1)"),
            ("crop_pad", self.crop_pad, 0 <= self.crop_pad <= 16, "0..16"),
        ]
        for name, value, ok, allowed in checks:
            if not ok:
                raise CimqInputError(f"{value} is outside the allowed range {allowed}", source=name)
        if self.limit is not None and self.limit < 1:
            raise CimqInputError(f"{self.limit} must be at least 1", source="--limit")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_config(dataset: str, model: str | None = None, **overrides: Any) -> TrainConfig:
    """The recipe for ``dataset`` (and ``model``, default the slides' pairing), with overrides.

    SVHN: AlexNet, no augmentation, lr 0.01 (no batch norm), 30 epochs.
    CIFAR-10/100: crop (pad 4) + flip, lr 0.05 (VGG) / 0.1 (ResNet), 60 / 100 epochs.
    """
    name = model or DEFAULT_MODELS.get(dataset, "")
    if dataset == "digits":
        raise CimqInputError("digits trains through cimq.sim.default_model, not this trainer", source="--dataset")
    cifar = dataset.startswith("cifar")
    base: dict[str, Any] = dict(
        dataset=dataset, model=name, epochs={"svhn": 30, "cifar10": 60, "cifar100": 100}.get(dataset, 30),
        lr=0.01 if name == "alexnet" else (0.1 if name.startswith("resnet") else 0.05),
        crop_pad=4 if cifar else 0, flip=cifar,
    )
    base.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig(**base)


def read_state_config(path: Path) -> tuple[TrainConfig, int]:
    """The config stored in a train-state file and how many epochs it completed."""
    payload = read_payload(path, (STATE_FORMAT,))
    cfg = payload.get("config")
    names = {f.name for f in fields(TrainConfig)}
    if not isinstance(cfg, dict) or set(cfg) != names:
        raise CimqInputError(f"config must hold exactly {', '.join(sorted(names))}", source=path)
    epoch = payload.get("epoch")
    if not isinstance(epoch, int) or epoch < 0:
        raise CimqInputError(f"epoch is {epoch!r}, expected a completed-epoch count", source=path)
    return TrainConfig(**cfg), epoch


@dataclass(frozen=True)
class EpochReport:
    """One finished epoch: mean training loss, running train accuracy, test accuracy (percent)."""

    epoch: int
    loss: float
    train_accuracy: float
    test_accuracy: float
    lr: float
    seconds: float


@dataclass(frozen=True)
class TrainOutcome:
    """The trained network (CPU, eval mode), its config and history; ``resumed_from`` = epochs loaded."""

    model: nn.Module
    config: TrainConfig
    history: tuple[EpochReport, ...]
    resumed_from: int
    seconds: float

    @property
    def test_accuracy(self) -> float:
        return self.history[-1].test_accuracy if self.history else float("nan")

    def meta(self) -> ModelMeta:
        c = self.config
        return ModelMeta(c.dataset, c.model, c.width, _num_classes(self.model), c.seed, len(self.history), self.test_accuracy)


def _num_classes(model: nn.Module) -> int:
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    return int(last.out_features)


def check_device(device: str) -> torch.device:
    """``cpu`` or ``cuda`` (only when this torch sees a GPU); else a clear error."""
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda":
        if not torch.cuda.is_available():
            raise CimqInputError(
                f"'cuda' is not available (torch {torch.__version__} sees no CUDA GPU; use --device cpu)",
                source="--device",
            )
        return torch.device("cuda")
    raise CimqInputError(f"{device!r} is not a device (allowed: cpu, cuda)", source="--device")


@contextmanager
def _torch_mode(device: torch.device, threads: int | None) -> Iterator[None]:
    """Deterministic kernels on CPU, deterministic cuDNN on CUDA, ``threads`` intra-op threads; restored after."""
    old = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
           torch.is_deterministic_algorithms_warn_only_enabled(),
           torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    if threads is not None:
        torch.set_num_threads(threads)
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True)
    else:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.set_num_threads(old[0])
        torch.use_deterministic_algorithms(old[1], warn_only=old[2])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = old[3], old[4]


def _rng_state(gen: torch.Generator, device: torch.device) -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "generator": gen.get_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: Any, gen: torch.Generator, device: torch.device, path: Path) -> None:
    try:
        torch.set_rng_state(state["torch"])
        gen.set_state(state["generator"])
        if device.type == "cuda" and "cuda" in state:
            torch.cuda.set_rng_state_all(state["cuda"])
    except Exception as exc:  # noqa: BLE001
        raise CimqInputError(f"rng state is unusable ({type(exc).__name__}: {exc})".splitlines()[0], source=path) from None


def _history_from(payload: dict[str, Any], path: Path) -> list[EpochReport]:
    rows = payload.get("history")
    names = [f.name for f in fields(EpochReport)]
    if not isinstance(rows, list) or any(not isinstance(r, dict) or set(r) != set(names) for r in rows):
        raise CimqInputError("history must be a list of per-epoch records", source=path)
    return [EpochReport(**r) for r in rows]


def train_network(
    config: TrainConfig,
    data: DatasetSplit,
    *,
    device: str = "cpu",
    threads: int | None = None,
    state_path: Path | None = None,
    resume: bool = False,
    on_batch: Callable[[int, int, float], None] | None = None,
    on_epoch: Callable[[EpochReport], None] | None = None,
) -> TrainOutcome:
    """Train ``config.model`` on ``data`` (train split), evaluating the test split after each epoch.

    ``state_path``: the train-state file rewritten after every epoch (``None``: none).
    ``resume``: load it first; its config must equal ``config``.
    ``on_batch(done, total, loss)`` (about 50 calls per epoch) and ``on_epoch(report)`` drive progress bars.
    """
    spec = check_model_name(config.model, data.image_shape)
    if data.name != config.dataset:
        raise CimqInputError(f"the data is {data.name!r} but the config says {config.dataset!r}", source="--dataset")
    if resume and state_path is None:
        raise CimqInputError("needs a train-state file", source="--resume")
    dev = check_device(device)
    start = time.perf_counter()
    with _torch_mode(dev, threads):
        torch.manual_seed(config.seed)
        model = build_model(spec.name, num_classes=data.num_classes, width=config.width).to(dev)
        opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                              nesterov=config.momentum > 0, weight_decay=config.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
        gen = torch.Generator().manual_seed(config.seed)
        history: list[EpochReport] = []
        if resume:
            assert state_path is not None
            stored, done = read_state_config(state_path)
            if stored != config:
                diff = next(k for k, v in stored.to_dict().items() if config.to_dict()[k] != v)
                raise CimqInputError(
                    f"the checkpoint {str(state_path)!r} was made with {diff} = {stored.to_dict()[diff]!r}, "
                    f"this run asks for {config.to_dict()[diff]!r} (pass the same options, or train without --resume)",
                    source="--resume",
                )
            payload = read_payload(state_path, (STATE_FORMAT,))
            model.load_state_dict(check_state_dict(payload.get("state_dict"), model, state_path))
            try:
                opt.load_state_dict(payload["optimizer"])
                sched.load_state_dict(payload["scheduler"])
            except Exception as exc:  # noqa: BLE001
                raise CimqInputError(f"optimizer/scheduler state is unusable ({type(exc).__name__})", source=state_path) from None
            _set_rng_state(payload.get("rng"), gen, dev, state_path)
            history = _history_from(payload, state_path)
            if len(history) != done:
                raise CimqInputError(f"history has {len(history)} epochs but epoch is {done}", source=state_path)
        resumed_from = len(history)
        lossf = nn.CrossEntropyLoss()
        train_x, train_y = data.train_x.to(dev), data.train_y.to(dev)
        test_x, test_y = data.test_x.to(dev), data.test_y.to(dev)
        n = train_x.shape[0]
        steps = math.ceil(n / config.batch_size)
        every = max(1, steps // 50)
        for epoch in range(len(history), config.epochs):
            t0 = time.perf_counter()
            model.train()
            order = torch.randperm(n, generator=gen).to(dev)
            loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
            correct = torch.zeros((), dtype=torch.int64, device=dev)
            seen = 0
            lr = opt.param_groups[0]["lr"]
            for step in range(steps):
                idx = order[step * config.batch_size : (step + 1) * config.batch_size]
                if idx.numel() < 2:  # batch norm cannot train on one image
                    continue
                xb = augment_batch(train_x[idx], gen, crop_pad=config.crop_pad, flip=config.flip)
                yb = train_y[idx]
                opt.zero_grad(set_to_none=True)
                logits = model(xb)
                loss = lossf(logits, yb)
                loss.backward()
                opt.step()
                loss_sum += loss.detach().to(torch.float64) * idx.numel()
                correct += (logits.detach().argmax(1) == yb).sum()
                seen += idx.numel()
                if on_batch is not None and ((step + 1) % every == 0 or step + 1 == steps):
                    on_batch(step + 1, steps, float(loss.detach()))
            sched.step()
            mean_loss = float(loss_sum) / max(1, seen)
            if not math.isfinite(mean_loss):
                raise CimqInputError(f"training diverged at epoch {epoch + 1} (loss {mean_loss}); lower --lr",
                                     source="--lr")
            report = EpochReport(
                epoch=epoch + 1, loss=mean_loss, train_accuracy=100.0 * int(correct) / max(1, seen),
                test_accuracy=accuracy_percent(model, test_x, test_y), lr=float(lr),
                seconds=time.perf_counter() - t0,
            )
            history.append(report)
            if state_path is not None:
                write_payload(state_path, {
                    "format": STATE_FORMAT, "version": VERSION, "config": config.to_dict(), "epoch": epoch + 1,
                    "dataset": config.dataset, "model": config.model, "width": config.width,
                    "num_classes": data.num_classes, "seed": config.seed, "epochs": epoch + 1,
                    "test_accuracy": report.test_accuracy,
                    "state_dict": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                    "rng": _rng_state(gen, dev), "history": [asdict(h) for h in history],
                })
            if on_epoch is not None:
                on_epoch(report)
        model = model.to("cpu").eval()
    return TrainOutcome(model, config, tuple(history), resumed_from, time.perf_counter() - start)

