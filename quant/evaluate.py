"""Monte Carlo evaluation of candidate designs on one data set, with caching.

Every candidate is scored on the *same* chips (indices ``0..chips-1`` of one
seed), so differences between candidates are not drowned by chip-to-chip
spread (common random numbers). Results are cached by the candidate's params.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from cimq.arch import ArchConfig
from cimq.params import LayerParams
from cimq.quant.formats import overflowing_layers
from cimq.quant.progress import NullProgress, ProgressSink
from cimq.sim.graph import LayerGraph
from cimq.sim.montecarlo import MonteCarloResult, monte_carlo
from cimq.sim.network import CimNetwork
from cimq.sim.variation import DeviceModel

__all__ = ["Dataset", "Evaluator", "params_key"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images (float, in the model's input range) and integer labels."""

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self) -> None:
        if self.images.shape[0] != self.labels.shape[0] or self.images.shape[0] == 0:
            raise ValueError("images and labels must be equally many, and not none")


def params_key(params: Sequence[LayerParams]) -> tuple:
    """A hashable identity of a candidate design."""
    return tuple((p.name, p.fl_w, p.fl_x, p.drop_low, p.relu, p.rounding, p.signed_input) for p in params)


class Evaluator:
    """Accuracy of candidate params over chips (cached), ideal and float accuracy."""

    def __init__(
        self,
        graph: LayerGraph,
        arch: ArchConfig,
        data: Dataset,
        device_model: DeviceModel,
        *,
        chips: int,
        seed: int,
        threads: int | None = None,
        batch_size: int = 512,
        progress: ProgressSink | None = None,
    ) -> None:
        self.graph = graph
        self.arch = arch
        self.data = data
        self.device_model = device_model
        self.chips = chips
        self.seed = seed
        self.threads = threads
        self.batch_size = batch_size
        self.progress = progress or NullProgress()
        self._mc: dict[tuple, MonteCarloResult] = {}
        self._ideal: dict[tuple, float] = {}
        self._stats: dict[tuple, MonteCarloResult] = {}
        self.mc_runs = 0

    def network(self, params: Sequence[LayerParams]) -> CimNetwork:
        return CimNetwork(self.graph, self.arch, list(params), threads=self.threads, batch_size=self.batch_size)

    def overflow(self, params: Sequence[LayerParams]) -> dict[str, int]:
        """Layers whose static accumulator bound overflows ``acc_bits`` (empty: safe)."""
        return overflowing_layers(self.network(params))

    def ideal(self, params: Sequence[LayerParams]) -> float:
        """Accuracy of the error-free chip, percent."""
        key = params_key(params)
        if key not in self._ideal:
            self._ideal[key] = self.network(params).accuracy(self.data.images, self.data.labels, None)
        return self._ideal[key]

    def float_accuracy(self) -> float:
        net_out = self.network_float()
        return 100.0 * float((net_out.argmax(1) == self.data.labels).double().mean())

    def network_float(self) -> torch.Tensor:
        from cimq.sim.network import float_forward

        return float_forward(self.graph, self.data.images)

    def stats(self, params: Sequence[LayerParams], chips: int) -> MonteCarloResult:
        """Per-layer, per-bit error statistics over the first ``chips`` chips (cached)."""
        key = (params_key(params), chips)
        if key not in self._stats:
            self._stats[key] = monte_carlo(self.network(params), self.data.images, self.data.labels, self.device_model,
                                           chips=min(chips, self.chips), seed=self.seed, layer_stats=True)
            self.mc_runs += 1
        return self._stats[key]

    def mc(self, params: Sequence[LayerParams], *, stats: bool = False, progress_key: str | None = None) -> MonteCarloResult:
        """Monte Carlo over ``chips`` chips; ``stats`` adds per-layer, per-bit error statistics."""
        key = params_key(params)
        hit = self._mc.get(key)
        if hit is not None and (hit.layers or not stats):
            if progress_key is not None:
                self.progress.advance(progress_key, self.chips)
            return hit

        def step(i: int, acc: float) -> None:
            if progress_key is not None:
                self.progress.advance(progress_key)

        res = monte_carlo(self.network(params), self.data.images, self.data.labels, self.device_model,
                          chips=self.chips, seed=self.seed, layer_stats=stats, progress=step)
        self.mc_runs += 1
        self._mc[key] = res
        return res
