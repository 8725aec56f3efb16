"""``cimq train``: train the embedded default model and cache its checkpoint.

Writes ``BUILD_DIR/cache/digits_cnn_seed{SEED}.pt`` (the checkpoint later
stages load through :func:`cimq.sim.default_model.default_model`) and
``BUILD_DIR/RUN/train/metrics.json``. Every option is checked before training
starts, and both files are written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cimq.cli.common import BuildDirOption, RunOption, SeedOption, console, run_dir
from cimq.errors import CimqInputError
from cimq.files import write_bytes_atomic, write_text_atomic

MAX_EPOCHS = 1000

DatasetOption = Annotated[
    str,
    typer.Option("--dataset", help="Training dataset (allowed: digits).", show_default=True),
]
EpochsOption = Annotated[
    int | None,
    typer.Option("--epochs", help=f"Training epochs, 1..{MAX_EPOCHS} (default: the model's default).", show_default=False),
]


def train_command(
    dataset: str,
    epochs: int | None,
    seed: int,
    build_dir: Path,
    run: str,
) -> dict[str, object]:
    """Validate the options, train, write checkpoint and metrics; return the metrics."""
    from cimq.sim.data import check_dataset_name, load_digits_dataset
    from cimq.sim.default_model import DEFAULT_EPOCHS, checkpoint_bytes, checkpoint_path, train_default_model

    out = run_dir(build_dir, run)
    check_dataset_name(dataset)
    epochs = DEFAULT_EPOCHS if epochs is None else epochs
    if not 1 <= epochs <= MAX_EPOCHS:
        raise CimqInputError(f"{epochs} is outside the allowed range 1..{MAX_EPOCHS}", source="--epochs")
    if not 0 <= seed < 2**32:
        raise CimqInputError(f"{seed} is outside the allowed range 0..{2**32 - 1}", source="--seed")
    data = load_digits_dataset(seed)

    with Progress(
        TextColumn("[bold]train[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(f"{dataset} seed {seed}", total=epochs, loss=float("nan"))

        def on_epoch(epoch: int, loss: float) -> None:
            progress.update(task, completed=epoch, loss=loss)

        result = train_default_model(seed, epochs, data=data, on_epoch=on_epoch)

    ckpt = write_bytes_atomic(checkpoint_path(build_dir, seed), checkpoint_bytes(result))
    metrics: dict[str, object] = {
        "dataset": dataset,
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


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        dataset: DatasetOption = "digits",
        epochs: EpochsOption = None,
        seed: SeedOption = 0,
        build_dir: BuildDirOption = Path("build"),
        run: RunOption = "default",
    ) -> None:
        """Train the embedded default CNN and cache its checkpoint."""
        m = train_command(dataset, epochs, seed, build_dir, run)
        console.print(
            f"trained DigitsCNN on {m['dataset']} (seed {m['seed']}, {m['epochs']} epochs) in "
            f"{m['train_seconds']:.1f} s: float test accuracy {m['float_test_accuracy']:.2f} % "
            f"({m['test_size']} images)"
        )
        console.print(f"checkpoint: {m['checkpoint']}")
        console.print(f"metrics:    {run_dir(build_dir, run) / 'train' / 'metrics.json'}")
