"""Stimulus for the truncation unit: configurations, corner and random vectors.

Deterministic for a seed (``random.Random``, no global state). Corner vectors
are chosen by position only (extremes, window edges, rounding ties); whether
the unit is right is always decided by :func:`cimq.fixed.truncate`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cimq.fixed import Rounding, output_range

__all__ = ["TruncConfig", "Segment", "all_configs", "corner_accs", "random_accs", "build_segments"]


@dataclass(frozen=True)
class TruncConfig:
    """One run-time configuration of the unit (what ``cfg_*`` loads)."""

    drop_low: int
    relu: bool
    rounding: Rounding

    @property
    def half_up(self) -> bool:
        return self.rounding is Rounding.HALF_UP


@dataclass(frozen=True)
class Segment:
    """Vectors sent under one configuration (the unit is reconfigured before it)."""

    config: TruncConfig
    accs: tuple[int, ...]


def all_configs(max_drop_low: int) -> list[TruncConfig]:
    """Every ``drop_low`` in ``0..max_drop_low`` with both ReLU modes and roundings."""
    return [
        TruncConfig(d, relu, rounding)
        for d in range(max_drop_low + 1)
        for relu in (False, True)
        for rounding in (Rounding.FLOOR, Rounding.HALF_UP)
    ]


def _acc_range(acc_bits: int) -> tuple[int, int]:
    return -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1


def corner_accs(config: TruncConfig, acc_bits: int, out_bits: int) -> list[int]:
    """Extremes, both sides of each saturation edge and of zero, rounding ties."""
    amin, amax = _acc_range(acc_bits)
    d = config.drop_low
    half = (1 << (d - 1)) if d else 0
    lo, hi = output_range(out_bits, config.relu)
    points = [amin, amin + 1, -1, 0, 1, amax - 1, amax]
    for edge in (lo << d, (hi + 1) << d, 0):
        for base in (edge, edge - half):
            points += [base - 1, base, base + 1]
    for k in (lo, lo + 1, -2, -1, 0, 1, 2, hi - 1, hi):
        points += [(k << d) + half, (k << d) + half - 1]
    seen: set[int] = set()
    out = []
    for p in points:
        if amin <= p <= amax and p not in seen:
            seen.add(p)
            out.append(p)
    return out


def random_accs(rng: random.Random, config: TruncConfig, acc_bits: int, out_bits: int, n: int) -> list[int]:
    """Half uniform over the accumulator, half around the kept window."""
    amin, amax = _acc_range(acc_bits)
    lo, hi = output_range(out_bits, config.relu)
    wlo = max(amin, (lo - 2) << config.drop_low)
    whi = min(amax, ((hi + 2) << config.drop_low) - 1)
    return [rng.randint(amin, amax) if rng.random() < 0.5 else rng.randint(wlo, whi) for _ in range(n)]


def build_segments(acc_bits: int, out_bits: int, vectors: int, seed: int) -> list[Segment]:
    """``vectors`` accumulators in total, spread over every configuration in random order.

    Each configuration gets an equal share: its corner vectors first (as many
    as fit), then random ones.
    """
    if vectors < 0:
        raise ValueError(f"vectors must be non-negative, not {vectors}")
    rng = random.Random(seed)
    configs = all_configs(acc_bits - out_bits)
    rng.shuffle(configs)
    share, extra = divmod(vectors, len(configs))
    segments = []
    for i, config in enumerate(configs):
        budget = share + (1 if i < extra else 0)
        if budget == 0:
            continue
        accs = corner_accs(config, acc_bits, out_bits)[:budget]
        accs += random_accs(rng, config, acc_bits, out_bits, budget - len(accs))
        segments.append(Segment(config, tuple(accs)))
    return segments
