"""Monte Carlo evaluation over sampled chips, with per-layer and per-bit error statistics.

Accuracy: one value per chip (chip ``i`` sampled from ``(seed, i, layer)``
streams), summarized by mean, sample standard deviation, min, max and the
half-width of a 95 % confidence interval of the mean from Student's t
(``scipy.stats.t`` when importable, else a table; normal 1.96 beyond 120
degrees of freedom).

Per layer: accumulators of each chip are compared with the no-variation
accumulator *on the same layer input* (so each layer's own error is measured,
not the error it inherits). Per accumulator bit ``i`` (two's complement,
``acc_bits`` wide, LSB first): how often it differs from the ideal bit, and the
entropy of the bit over the ideal network's accumulators on the data (how much
information it carries; a bit that is pure sign extension or always 0 has
entropy 0). Phase 2 of the quantization discards bits with high error and low
entropy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from cimq.errors import CimqInputError
from cimq.fixed import truncate
from cimq.params import AccuracyStat, LayerParams
from cimq.sim.network import Chip, CimNetwork, LayerEvent
from cimq.sim.variation import DeviceModel

__all__ = [
    "AccuracySummary",
    "BitStatistics",
    "LayerErrorStats",
    "MonteCarloResult",
    "summarize_accuracy",
    "t_critical_95",
    "monte_carlo",
    "ideal_bit_statistics",
]

# two-sided 95 % critical values of Student's t, by degrees of freedom
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
        20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048,
        29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000, 80: 1.990, 100: 1.984, 120: 1.980}


def t_critical_95(dof: int) -> float:
    """Two-sided 95 % Student-t critical value (scipy if present; else table, rounding dof down)."""
    if dof < 1:
        raise ValueError("dof must be >= 1")
    try:
        from scipy.stats import t

        return float(t.ppf(0.975, dof))
    except ImportError:  # pragma: no cover - scipy comes with scikit-learn
        if dof > 120:
            return 1.959964
        return _T95[max(k for k in _T95 if k <= dof)]


@dataclass(frozen=True)
class AccuracySummary:
    """Accuracy over chips, percent."""

    values: tuple[float, ...]
    mean: float
    std: float
    min: float
    max: float
    ci95: float

    @property
    def chips(self) -> int:
        return len(self.values)

    def to_stat(self) -> AccuracyStat:
        """As the params file's :class:`~cimq.params.AccuracyStat`."""
        return AccuracyStat(mean=self.mean, ci95=self.ci95, std=self.std, min=self.min, chips=self.chips)


def summarize_accuracy(values: list[float] | tuple[float, ...]) -> AccuracySummary:
    """Mean, sample std (ddof 1), min, max and the 95 % CI half-width of the mean."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        raise ValueError("no accuracy values")
    std = float(v.std(ddof=1)) if v.size > 1 else 0.0
    ci = t_critical_95(v.size - 1) * std / math.sqrt(v.size) if v.size > 1 else 0.0
    return AccuracySummary(tuple(float(x) for x in v), float(v.mean()), std, float(v.min()), float(v.max()), ci)


@dataclass(frozen=True)
class BitStatistics:
    """Per accumulator bit, LSB first (``acc_bits`` entries each).

    ``error_rate``: fraction of outputs whose bit differs from the ideal bit.
    ``one_rate``/``entropy``: how often the ideal bit is 1 and its entropy
    (bits). ``information``: ``H(bit_i | bit_{i+1})``, the entropy the bit adds
    to the bit above it (the MSB keeps its own entropy); sign-extension bits
    have 0 there even though their marginal entropy is high.
    """

    error_rate: tuple[float, ...]
    one_rate: tuple[float, ...]
    entropy: tuple[float, ...]
    information: tuple[float, ...]


@dataclass(frozen=True)
class LayerErrorStats:
    """One layer's errors against the ideal accumulator on the same input, over all chips."""

    name: str
    outputs: int
    acc_mean_abs_error: float
    acc_rms_error: float
    acc_max_abs_error: int
    acc_mismatch_rate: float
    out_mismatch_rate: float
    saturation_rate: float
    acc_overflow_rate: float
    bits: BitStatistics


@dataclass(frozen=True)
class MonteCarloResult:
    """Accuracy over chips and per-layer statistics."""

    accuracy: AccuracySummary
    ideal_accuracy: float
    float_accuracy: float
    layers: tuple[LayerErrorStats, ...]
    device_model: str
    seed: int


def _bits(acc: torch.Tensor, acc_bits: int) -> torch.Tensor:
    """Two's complement bits ``(M, acc_bits)`` (uint8) of int64 values, LSB first."""
    shifts = torch.arange(acc_bits, dtype=torch.int64)
    return ((acc.reshape(-1, 1) >> shifts) & 1).to(torch.uint8)


def _floats(a: np.ndarray) -> tuple[float, ...]:
    return tuple(float(x) for x in a)


def _entropy(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return np.nan_to_num(h, nan=0.0)


class _LayerTally:
    """Running sums for one layer."""

    def __init__(self, acc_bits: int) -> None:
        self.acc_bits = acc_bits
        self.n = 0
        self.abs_sum = 0.0
        self.sq_sum = 0.0
        self.max_abs = 0
        self.mismatch = 0
        self.acc_mismatch = 0
        self.saturated = 0
        self.overflow = 0
        self.bit_err = np.zeros(acc_bits, dtype=np.int64)

    def add(self, p: LayerParams, out_bits: int, acc: torch.Tensor, ideal: torch.Tensor, out: torch.Tensor, sat: torch.Tensor) -> None:
        err = (acc - ideal).to(torch.float64)
        self.n += acc.numel()
        self.abs_sum += float(err.abs().sum())
        self.sq_sum += float(err.square().sum())
        self.max_abs = max(self.max_abs, int(err.abs().max()) if err.numel() else 0)
        out_ideal, _ = truncate(ideal, drop_low=p.drop_low, out_bits=out_bits, relu=p.relu, rounding=p.rounding_mode)
        self.mismatch += int((out != out_ideal).sum())
        self.acc_mismatch += int((acc != ideal).sum())
        self.saturated += int(sat.sum())
        half = 1 << (self.acc_bits - 1)
        self.overflow += int(((acc < -half) | (acc >= half)).sum())
        self.bit_err += _bits(acc ^ ideal, self.acc_bits).sum(0, dtype=torch.int64).numpy()


def _joint_entropy(p1: np.ndarray, p11: np.ndarray, p1_up: np.ndarray) -> np.ndarray:
    """``H(b_i, b_{i+1})`` from ``P(b_i=1)``, ``P(both 1)`` and ``P(b_{i+1}=1)``."""
    p10, p01 = p1 - p11, p1_up - p11
    p00 = 1.0 - p11 - p10 - p01
    table = np.clip(np.stack([p00, p01, p10, p11]), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(-(table * np.log2(table)), nan=0.0).sum(0)


def ideal_bit_statistics(net: CimNetwork, images: torch.Tensor) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per layer ``(one_rate, entropy, information)`` of the ideal network's accumulator bits."""
    ones: dict[str, np.ndarray] = {}
    pairs: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    nb = net.arch.acc_bits

    def obs(ev: LayerEvent) -> None:
        name = ev.layer.name
        b = _bits(ev.acc, nb)
        zero = np.zeros(nb, dtype=np.int64)
        ones[name] = ones.get(name, zero) + b.sum(0, dtype=torch.int64).numpy()
        both = (b[:, :-1] & b[:, 1:]).sum(0, dtype=torch.int64).numpy()
        pairs[name] = pairs.get(name, zero[:-1]) + both
        counts[name] = counts.get(name, 0) + ev.acc.numel()

    net.forward(images, None, observer=obs)
    out = {}
    for k in ones:
        n = max(1, counts[k])
        p1 = ones[k] / n
        h = _entropy(p1)
        info = h.copy()
        info[:-1] = _joint_entropy(p1[:-1], pairs[k] / n, p1[1:]) - h[1:]
        out[k] = (p1, h, np.clip(info, 0.0, None))
    return out


def monte_carlo(
    net: CimNetwork,
    images: torch.Tensor,
    labels: torch.Tensor,
    device_model: DeviceModel,
    *,
    chips: int,
    seed: int,
    layer_stats: bool = True,
    progress: Callable[[int, float], None] | None = None,
) -> MonteCarloResult:
    """Accuracy of ``chips`` sampled chips (``0 .. chips-1``) and, optionally, per-layer statistics.

    ``progress(chip_index, accuracy)`` is called after each chip.
    """
    if chips < 1:
        raise CimqInputError(f"chips: {chips} must be >= 1")
    if images.shape[0] != labels.shape[0] or images.shape[0] == 0:
        raise CimqInputError(f"images ({images.shape[0]}) and labels ({labels.shape[0]}) must be equally many, > 0")
    labels = labels.to(torch.int64)
    tallies = {m.name: _LayerTally(net.arch.acc_bits) for m in net.layers}

    def obs(ev: LayerEvent) -> None:
        assert ev.acc_ideal is not None
        tallies[ev.layer.name].add(ev.params, net.arch.out_bits, ev.acc, ev.acc_ideal, ev.out, ev.saturated)

    accs: list[float] = []
    for i in range(chips):
        chip: Chip = net.program(device_model, seed, i)
        codes = net.forward(images, chip, observer=obs if layer_stats else None, compare_ideal=layer_stats).codes
        acc = 100.0 * float((codes.argmax(1) == labels).double().mean())
        accs.append(acc)
        if progress is not None:
            progress(i, acc)
    ideal_acc = net.accuracy(images, labels, None)
    float_acc = 100.0 * float((net.float_forward(images).argmax(1) == labels).double().mean())
    layers: list[LayerErrorStats] = []
    if layer_stats:
        one = ideal_bit_statistics(net, images)
        for m in net.layers:
            t = tallies[m.name]
            n = max(1, t.n)
            p1, h, info = one[m.name]
            layers.append(
                LayerErrorStats(
                    name=m.name, outputs=t.n, acc_mean_abs_error=t.abs_sum / n, acc_rms_error=math.sqrt(t.sq_sum / n),
                    acc_max_abs_error=t.max_abs,
                    acc_mismatch_rate=t.acc_mismatch / n, out_mismatch_rate=t.mismatch / n, saturation_rate=t.saturated / n,
                    acc_overflow_rate=t.overflow / n,
                    bits=BitStatistics(_floats(t.bit_err / n), _floats(p1), _floats(h), _floats(info)),
                )
            )
    return MonteCarloResult(summarize_accuracy(accs), ideal_acc, float_acc, tuple(layers), device_model.describe(), seed)
