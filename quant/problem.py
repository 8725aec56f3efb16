"""The embedded default problem: the digits CNN, its data split and a variation preset."""

from __future__ import annotations

from pathlib import Path

import torch

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.quant.config import QuantConfig
from cimq.quant.evaluate import Dataset
from cimq.quant.search import QuantProblem
from cimq.sim.variation import PRESETS, DeviceModel, preset

__all__ = ["device_model_for", "search_subset", "default_problem"]


def device_model_for(config: QuantConfig) -> DeviceModel:
    """The configured preset (scaled) as a device model; unknown names name the allowed ones."""
    if config.variation not in PRESETS:
        raise CimqInputError(f"{config.variation!r} is not a known variation preset (allowed: {', '.join(PRESETS)})",
                             source="--variation")
    return DeviceModel(preset(config.variation, scale=config.variation_scale))


def search_subset(images: torch.Tensor, labels: torch.Tensor, count: int, seed: int) -> Dataset:
    """A seeded subset of ``count`` images (all of them if fewer), in index order."""
    n = images.shape[0]
    if count >= n:
        return Dataset(images, labels)
    idx = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:count].sort().values
    return Dataset(images[idx], labels[idx])


def default_problem(config: QuantConfig, arch: ArchConfig | None = None) -> QuantProblem:
    """The dataset's trained network (digits: the cached default CNN), a seeded
    search subset of its training split, and its test split."""
    from cimq.sim.capture import capture
    from cimq.sim.models.trained import load_benchmark

    dm = device_model_for(config)
    bench = load_benchmark(
        config.dataset, data_dir=config.data_dir, build_dir=config.build_dir, run=config.run,
        checkpoint=config.checkpoint, limit=config.limit, seed=config.seed,
    )
    data = bench.data
    graph = capture(bench.model)
    if arch is None:
        # The default tile holds one layer context per conv/linear layer, so a
        # whole network runs without reprogramming the register bank.
        arch = ArchConfig(layer_contexts=max(ArchConfig().layer_contexts, len(graph.matmul_layers)))
    return QuantProblem(
        graph=graph,
        arch=arch,
        search=search_subset(data.train_x, data.train_y, config.search_images, config.seed),
        test=Dataset(data.test_x, data.test_y),
        device_model=dm,
        model_name=bench.model_name,
        dataset_name=config.dataset,
        variation_name=f"{config.variation} x{config.variation_scale:g}: {dm.describe()}",
    )
