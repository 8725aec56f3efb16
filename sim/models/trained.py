"""Trained networks and benchmark problems by name: the API simulate, quantize and flow call.

* :func:`load_trained_model`: a ``cimq-model`` (or ``cimq-train-state``) file
  to an ``nn.Module`` in eval mode, validated (``weights_only=True``).
* :func:`load_benchmark`: dataset + trained network for ``--dataset``:
  digits uses the embedded default (trained or cached under ``build_dir``);
  the others load ``--checkpoint`` or ``BUILD_DIR/RUN/train/model.pt`` as
  written by ``cimq train``, and check it was trained for that dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from cimq.errors import CimqInputError
from cimq.sim.data import DATASET_INFO, DatasetSplit, check_dataset_name, load_dataset
from cimq.sim.models.checkpoint import MODEL_FORMAT, STATE_FORMAT, ModelMeta, model_from_payload, read_payload

__all__ = ["Benchmark", "TrainedModel", "load_benchmark", "load_trained_model", "trained_model_path", "train_state_path"]


def trained_model_path(build_dir: Path, run: str) -> Path:
    """Where ``cimq train`` leaves the final model of a run (``BUILD_DIR/RUN/train/model.pt``)."""
    return Path(build_dir) / run / "train" / "model.pt"


def train_state_path(build_dir: Path, run: str) -> Path:
    """The per-epoch train state of a run (``BUILD_DIR/RUN/train/last.pt``), for ``--resume``."""
    return Path(build_dir) / run / "train" / "last.pt"


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A loaded network (CPU, eval mode) and what it is."""

    module: nn.Module
    meta: ModelMeta
    path: Path


def load_trained_model(path: Path | str, *, dataset: str | None = None) -> TrainedModel:
    """Load and check a trained network; with ``dataset``, it must have been trained on it."""
    path = Path(path)
    payload = read_payload(path, (MODEL_FORMAT, STATE_FORMAT))
    module, meta = model_from_payload(payload, path)
    if dataset is not None and meta.dataset != dataset:
        raise CimqInputError(f"was trained on {meta.dataset!r}, not on {dataset!r}", source=path)
    return TrainedModel(module, meta, path)


@dataclass(frozen=True, eq=False)
class Benchmark:
    """A dataset split and the trained network that classifies it."""

    data: DatasetSplit
    model: nn.Module
    model_name: str
    checkpoint: Path | None


def load_benchmark(
    dataset: str,
    *,
    data_dir: Path | str | None = None,
    build_dir: Path | str = Path("build"),
    run: str = "default",
    checkpoint: Path | str | None = None,
    limit: int | None = None,
    seed: int = 0,
) -> Benchmark:
    """Dataset ``dataset`` and its trained network, everything checked before returning.

    digits: the embedded CNN of ``seed`` (``default_model``: cached or trained
    in seconds); ``checkpoint``/``data_dir``/``limit`` must be unset. Others:
    ``checkpoint`` (default ``trained_model_path(build_dir, run)``) must be a
    network trained on ``dataset`` whose class count matches the data.
    """
    check_dataset_name(dataset)
    if dataset == "digits":
        if checkpoint is not None:
            raise CimqInputError("is not used with --dataset digits (its model is the cached default)",
                                 source="--checkpoint")
        from cimq.sim.default_model import default_model

        data = load_dataset("digits", None, limit=limit, seed=seed)
        return Benchmark(data, default_model(Path(build_dir), seed).eval(), f"digits_cnn (seed {seed})", None)
    ckpt = Path(checkpoint) if checkpoint is not None else trained_model_path(Path(build_dir), run)
    if not ckpt.is_file():
        raise CimqInputError(
            f"no trained model at {str(ckpt)!r} (run `cimq train --dataset {dataset} --data-dir DIR` first, "
            "or pass --checkpoint)", source="--checkpoint",
        )
    trained = load_trained_model(ckpt, dataset=dataset)
    data = load_dataset(dataset, data_dir, limit=limit, seed=seed)
    if trained.meta.num_classes != data.num_classes:
        raise CimqInputError(f"has {trained.meta.num_classes} classes, the data {DATASET_INFO[dataset].num_classes}",
                             source=ckpt)
    m = trained.meta
    name = f"{m.model} x{m.width:g} ({m.dataset}, seed {m.seed}, {m.epochs} epochs)"
    return Benchmark(data, trained.module, name, ckpt)
