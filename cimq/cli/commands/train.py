"""``cimq train``: train the embedded default or one of the slides' benchmark networks.

* ``--dataset digits`` (default): the small CNN on scikit-learn's digits, in
  seconds; writes ``BUILD_DIR/cache/digits_cnn_seed{SEED}.pt`` (the checkpoint
  later stages load through :func:`cimq.sim.default_model.default_model`).
* ``--dataset svhn|cifar10|cifar100 --data-dir DIR``: the dataset's network
  (``--model``, default AlexNet / VGG-11 / ResNet-20) with per-epoch train
  state ``BUILD_DIR/RUN/train/last.pt`` (``--resume`` continues from it) and the
  final ``BUILD_DIR/RUN/train/model.pt``.

Both write ``BUILD_DIR/RUN/train/metrics.json``. Every option is checked
before training starts, and every file is written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from cimq.cli.common import BuildDirOption, RunOption, SeedOption, console, run_dir
from cimq.errors import CimqInputError
from cimq.files import write_bytes_atomic, write_text_atomic

if TYPE_CHECKING:
    from cimq.sim.models.trainer import TrainConfig

MAX_EPOCHS = 1000

DatasetOption = Annotated[
    str,
    typer.Option("--dataset", help="Training dataset (allowed: digits, svhn, cifar10, cifar100).", show_default=True),
]
EpochsOption = Annotated[
    int | None,
    typer.Option("--epochs", help=f"Training epochs, 1..{MAX_EPOCHS} (default: the recipe's).", show_default=False),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Folder with the dataset's official files (never downloaded).", show_default=False),
]


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]train[/] {task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
        transient=False,
    )


def train_command(
    dataset: str,
    epochs: int | None,
    seed: int,
    build_dir: Path,
    run: str,
    **bench: Any,
) -> dict[str, object]:
    """Validate the options, train, write checkpoint(s) and metrics; return the metrics."""
    from cimq.sim.data import check_dataset_name

    run_dir(build_dir, run)
    check_dataset_name(dataset)
    if dataset == "digits":
        return _train_digits(epochs, seed, build_dir, run, **bench)
    return _train_benchmark(dataset, epochs, seed, build_dir, run, **bench)


def _train_digits(epochs: int | None, seed: int, build_dir: Path, run: str, **bench: Any) -> dict[str, object]:
    """The embedded default, unchanged: deterministic single-thread CPU training and the seed cache."""
    from cimq.sim.data import load_digits_dataset
    from cimq.sim.default_model import DEFAULT_EPOCHS, checkpoint_bytes, checkpoint_path, train_default_model

    out = run_dir(build_dir, run)
    for option, value in bench.items():
        unused = value is None or value is False or (option == "device" and value == "cpu") or (
            option == "model" and value == "digits_cnn")
        if not unused:
            flag = "--" + option.replace("_", "-")
            raise CimqInputError("is not supported with --dataset digits (the embedded default trains on one CPU thread "
                                 "with a fixed recipe)", source=flag)
    epochs = DEFAULT_EPOCHS if epochs is None else epochs
    if not 1 <= epochs <= MAX_EPOCHS:
        raise CimqInputError(f"{epochs} is outside the allowed range 1..{MAX_EPOCHS}", source="--epochs")
    if not 0 <= seed < 2**32:
        raise CimqInputError(f"{seed} is outside the allowed range 0..{2**32 - 1}", source="--seed")
    data = load_digits_dataset(seed)

    with _progress() as progress:
        task = progress.add_task(f"digits seed {seed}", total=epochs, info="")

        def on_epoch(epoch: int, loss: float) -> None:
            progress.update(task, completed=epoch, info=f"loss {loss:.4f}")

        result = train_default_model(seed, epochs, data=data, on_epoch=on_epoch)

    ckpt = write_bytes_atomic(checkpoint_path(build_dir, seed), checkpoint_bytes(result))
    metrics: dict[str, object] = {
        "dataset": "digits",
        "model": "DigitsCNN",
        "seed": seed,
        "epochs": epochs,
        "train_size": int(data.train_y.shape[0]),
        "test_size": int(data.test_y.shape[0]),
        "float_test_accuracy": round(result.test_accuracy, 4),
        "float_train_accuracy": round(result.train_accuracy, 4),
        "final_loss": result.losses[-1],
        "train_seconds": round(result.seconds, 3),
        "checkpoint": str(ckpt),
    }
    write_text_atomic(out / "train" / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return metrics


def _bench_config(dataset: str, epochs: int | None, seed: int, state: Path, bench: dict[str, Any]) -> TrainConfig:
    """The run's :class:`TrainConfig`: the recipe with the given options, or the stored one on ``--resume``."""
    from cimq.sim.models.trainer import default_config, read_state_config

    asked = {"model": bench["model"], "width": bench["width"], "epochs": epochs, "batch_size": bench["batch_size"],
             "lr": bench["lr"], "limit": bench["limit"]}
    if not bench["resume"]:
        return default_config(dataset, asked.pop("model"), seed=seed, **asked)
    if not state.is_file():
        raise CimqInputError(f"no train state at {str(state)!r} to resume (train without --resume first)",
                             source="--resume")
    stored, _ = read_state_config(state)
    for key, value in {"dataset": dataset, "seed": seed, **asked}.items():
        if value is not None and getattr(stored, key) != value:
            raise CimqInputError(
                f"the train state {str(state)!r} was made with {key} = {getattr(stored, key)!r}, this run asks for "
                f"{value!r} (pass the same options, or train without --resume)", source="--resume",
            )
    return stored


def _train_benchmark(dataset: str, epochs: int | None, seed: int, build_dir: Path, run: str, **bench: Any) -> dict[str, object]:
    """A benchmark network with per-epoch train state, ``--resume`` and a rich progress bar."""
    from cimq.sim.data import DATASET_INFO, load_dataset
    from cimq.sim.models.checkpoint import write_model
    from cimq.sim.models.registry import check_model_name, model_size
    from cimq.sim.models.trained import train_state_path, trained_model_path
    from cimq.sim.models.trainer import check_device, read_state_config, train_network

    out = run_dir(build_dir, run)
    info = DATASET_INFO[dataset]
    if bench["data_dir"] is None:
        raise CimqInputError(f"is required for --dataset {dataset} (a folder holding {info.files})", source="--data-dir")
    if bench["width"] is not None:
        from cimq.sim.models.widths import MAX_WIDTH

        if not 0.0 < bench["width"] <= MAX_WIDTH:
            raise CimqInputError(f"{bench['width']} is outside the allowed range (0, {MAX_WIDTH:g}]", source="--width")
    state = train_state_path(build_dir, run)
    config = _bench_config(dataset, epochs, seed, state, bench)
    check_model_name(config.model, info.image_shape)
    check_device(bench["device"])
    if bench["threads"] is not None and bench["threads"] < 1:
        raise CimqInputError(f"{bench['threads']} must be at least 1", source="--threads")
    data = load_dataset(dataset, bench["data_dir"], limit=config.limit, seed=config.seed)

    with _progress() as progress:
        epochs_task = progress.add_task(f"{config.model} epochs", total=config.epochs, info="")
        batch_task = progress.add_task(f"{config.model} batch ", total=1, info="")

        def on_batch(done: int, total: int, loss: float) -> None:
            progress.update(batch_task, completed=done, total=total, info=f"loss {loss:.3f}")

        def on_epoch(r: Any) -> None:
            progress.update(epochs_task, completed=r.epoch,
                            info=f"loss {r.loss:.3f} train {r.train_accuracy:.1f}% test {r.test_accuracy:.1f}%")

        if bench["resume"]:
            progress.update(epochs_task, completed=read_state_config(state)[1])
        outcome = train_network(config, data, device=bench["device"], threads=bench["threads"], state_path=state,
                                resume=bench["resume"], on_batch=on_batch, on_epoch=on_epoch)

    meta = outcome.meta()
    model_path = write_model(trained_model_path(build_dir, run), outcome.model, meta)
    size = model_size(outcome.model, data.image_shape)
    last = outcome.history[-1]
    metrics: dict[str, object] = {
        "dataset": dataset,
        "model": config.model,
        "config": config.to_dict(),
        "seed": config.seed,
        "epochs": config.epochs,
        "resumed_from": outcome.resumed_from,
        "train_size": int(data.train_y.shape[0]),
        "test_size": int(data.test_y.shape[0]),
        "float_test_accuracy": round(last.test_accuracy, 4),
        "running_train_accuracy": round(last.train_accuracy, 4),
        "final_loss": last.loss,
        "train_seconds": round(outcome.seconds, 3),
        "device": bench["device"],
        "threads": bench["threads"],
        "parameters": size.parameters,
        "macs_per_image": size.macs,
        "history": [r.__dict__ for r in outcome.history],
        "checkpoint": str(model_path),
        "train_state": str(state),
    }
    write_text_atomic(out / "train" / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return metrics


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        dataset: DatasetOption = "digits",
        data_dir: DataDirOption = None,
        model: Annotated[str | None, typer.Option("--model", help="Network (default: the dataset's: alexnet, vgg11, resnet20; also vgg16, resnet32).", show_default=False)] = None,
        width: Annotated[float | None, typer.Option("--width", help="Width multiplier of the network's channels, (0, 4] (default 1).", show_default=False)] = None,
        epochs: EpochsOption = None,
        batch_size: Annotated[int | None, typer.Option("--batch-size", help="Images per SGD step (default 128).", show_default=False)] = None,
        lr: Annotated[float | None, typer.Option("--lr", help="Peak learning rate (default: the recipe's).", show_default=False)] = None,
        limit: Annotated[int | None, typer.Option("--limit", help="Use a seeded random subset of N images per split (quick runs).", show_default=False)] = None,
        resume: Annotated[bool, typer.Option("--resume", help="Continue from BUILD_DIR/RUN/train/last.pt.")] = False,
        device: Annotated[str, typer.Option("--device", help="Torch device: cpu or cuda.")] = "cpu",
        threads: Annotated[int | None, typer.Option("--threads", help="Torch intra-op threads (default: torch's).", show_default=False)] = None,
        seed: SeedOption = 0,
        build_dir: BuildDirOption = Path("build"),
        run: RunOption = "default",
    ) -> None:
        """Train the embedded default CNN (digits) or a benchmark network (SVHN, CIFAR-10, CIFAR-100)."""
        m = train_command(dataset, epochs, seed, build_dir, run, data_dir=data_dir, model=model, width=width,
                          batch_size=batch_size, lr=lr, limit=limit, resume=resume, device=device, threads=threads)
        console.print(
            f"trained {m['model']} on {m['dataset']} (seed {m['seed']}, {m['epochs']} epochs) in "
            f"{m['train_seconds']:.1f} s: float test accuracy {m['float_test_accuracy']:.2f} % "
            f"({m['test_size']} images)"
        )
        console.print(f"checkpoint: {m['checkpoint']}")
        console.print(f"metrics:    {run_dir(build_dir, run) / 'train' / 'metrics.json'}")
