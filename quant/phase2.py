"""Phase 2: per-layer truncation window from the accumulator bits' error and information.

The search variable is each layer's FL_out (its window position): a layer
whose FL_out moves by ``k`` changes its own ``drop_low`` by ``-k`` and its
consumers' ``fl_x`` by ``k``; their ``drop_low`` follows so that every other
layer's FL_out stays where it was (:func:`cimq.quant.formats.chain_params`).

Ranking (see ``quant/README.md``): with ``I_i`` the information of
accumulator bit ``i`` (``H(b_i | b_{i+1})`` on the ideal network) and ``e_i``
its error rate under variation, a window starting at bit ``d`` (``W`` bits)
costs, in accumulator units,

* saturation ``sum_{d+W <= i < A-1} I_i 2^i``: informative bits above the
  window are replaced by saturation;
* resolution ``sum_{i < d} I_i (1 - H2(e_i)) 2^i``: the reliable part of the
  information below it is discarded;
* kept error ``sum_{d <= i < d+W} e_i 2^i``: erroneous bits kept in the window.

Bits that are only sign extension (``I_i = 0``) cost nothing to discard, and
low bits that are mostly error (``H2(e_i)`` near 1) cost nothing either: the
slides' "discard bits with low information but high error content".

``smart``: greedy in layer order; a layer's ``top_k`` cheapest candidate
windows are confirmed by Monte Carlo on the evaluator's chips, and the best
replaces the current window if its mean accuracy is higher. ``exhaustive``:
every combination within ``radius`` of phase 1 (small networks).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.params import LayerParams
from cimq.quant.evaluate import Evaluator
from cimq.quant.formats import chain_params, fl_out_targets
from cimq.sim.montecarlo import AccuracySummary, BitStatistics, MonteCarloResult

__all__ = [
    "MAX_EXHAUSTIVE",
    "WindowCost",
    "WindowCandidate",
    "Phase2Result",
    "window_cost",
    "run_phase2",
]

MAX_EXHAUSTIVE = 1000
"""Most combinations the exhaustive mode will evaluate."""


def _h2(p: float) -> float:
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -(p * math.log2(p) + (1.0 - p) * math.log2(1.0 - p))


@dataclass(frozen=True)
class WindowCost:
    """Cost terms of one window (accumulator units)."""

    saturation: float
    resolution: float
    error: float

    @property
    def total(self) -> float:
        return self.saturation + self.resolution + self.error


def window_cost(bits: BitStatistics, drop_low: int, arch: ArchConfig) -> WindowCost:
    """The cost of keeping bits ``drop_low .. drop_low + out_bits - 1`` (module docstring)."""
    a, w = arch.acc_bits, arch.out_bits
    info, err = bits.information, bits.error_rate
    sat = math.fsum(info[i] * 2.0**i for i in range(drop_low + w, a - 1))
    res = math.fsum(info[i] * (1.0 - _h2(err[i])) * 2.0**i for i in range(0, min(drop_low, a)))
    kept = math.fsum(err[i] * 2.0**i for i in range(drop_low, min(drop_low + w, a)))
    return WindowCost(sat, res, kept)


@dataclass(frozen=True)
class WindowCandidate:
    """One candidate window of one layer, its cost rank and (if confirmed) Monte Carlo accuracy."""

    layer: str
    fl_out: int
    drop_low: int
    cost: WindowCost
    rank: int
    accuracy: float | None
    current: bool
    accepted: bool


@dataclass(frozen=True)
class Phase2Result:
    mode: str
    params: list[LayerParams]
    fl_out: dict[str, int]
    accuracy: AccuracySummary
    final: MonteCarloResult  # the chosen design on the search chips (no per-layer statistics)
    candidates: tuple[WindowCandidate, ...]
    evaluations: int


def _chain(ev: Evaluator, params0: Sequence[LayerParams], input_fl: int, targets: dict[str, int]) -> list[LayerParams] | None:
    fl_w = {p.name: p.fl_w for p in params0}
    rounding = params0[0].rounding
    params = chain_params(ev.graph, ev.arch, fl_w, input_fl, targets, clamp=False, rounding=rounding)
    if params is None or ev.overflow(params):
        return None
    return params


def _smart(ev: Evaluator, params0: list[LayerParams], input_fl: int, radius: int, top_k: int, stats_chips: int) -> Phase2Result:
    layers = [m.name for m in ev.graph.matmul_layers]
    ev.progress.start("phase2", "phase 2: windows (smart)", (1 + len(layers) * top_k) * ev.chips)
    targets = fl_out_targets(params0)
    cur_params = params0
    cur = ev.mc(cur_params, progress_key="phase2")
    bit_stats = ev.stats(cur_params, stats_chips)
    log: list[WindowCandidate] = []
    runs = 1
    for li, name in enumerate(layers):
        stats = bit_stats.layers[li]
        assert stats.name == name
        p = {q.name: q for q in cur_params}[name]
        options: list[tuple[WindowCost, int, int, list[LayerParams] | None]] = []
        for f in range(targets[name] - radius, targets[name] + radius + 1):
            d = p.fl_acc - f
            if not 0 <= d <= ev.arch.max_drop_low:
                continue
            params = cur_params if f == targets[name] else _chain(ev, params0, input_fl, dict(targets, **{name: f}))
            if params is None:
                continue
            options.append((window_cost(stats.bits, d, ev.arch), f, d, params))
        options.sort(key=lambda o: (o[0].total, abs(o[1] - targets[name]), o[1]))
        trials = [o for o in options if o[1] != targets[name]][:top_k]
        results: dict[int, MonteCarloResult] = {}
        for _, f, _, params in trials:
            assert params is not None
            results[f] = ev.mc(params, progress_key="phase2")
            runs += 1
        ev.progress.advance("phase2", (top_k - len(trials)) * ev.chips)
        best_f = targets[name]
        best = cur
        for f, r in results.items():  # in rank order; only a strict improvement moves the window
            if r.accuracy.mean > best.accuracy.mean:
                best_f, best = f, r
        for rank, (cost, f, d, params) in enumerate(options):
            acc = cur.accuracy.mean if f == targets[name] else (results[f].accuracy.mean if f in results else None)
            log.append(WindowCandidate(name, f, d, cost, rank, acc, f == targets[name], f == best_f))
        if best_f != targets[name]:
            targets = dict(targets, **{name: best_f})
            cur_params = next(o[3] for o in options if o[1] == best_f)  # type: ignore[assignment]
            cur = best
            if li + 1 < len(layers):  # later layers' inputs changed: measure their bits again
                bit_stats = ev.stats(cur_params, stats_chips)
    return Phase2Result("smart", list(cur_params), targets, cur.accuracy, cur, tuple(log), runs)


def _exhaustive(ev: Evaluator, params0: list[LayerParams], input_fl: int, radius: int) -> Phase2Result:
    layers = [m.name for m in ev.graph.matmul_layers]
    targets0 = fl_out_targets(params0)
    total = (2 * radius + 1) ** len(layers)
    if total > MAX_EXHAUSTIVE:
        raise CimqInputError(
            f"{total} window combinations ({len(layers)} layers, radius {radius}) exceed the limit {MAX_EXHAUSTIVE}; "
            "use the smart search (drop --exhaustive) or a smaller radius",
            source="--exhaustive",
        )
    combos: list[tuple[tuple[int, ...], list[LayerParams]]] = []
    for delta in itertools.product(range(-radius, radius + 1), repeat=len(layers)):
        t = {n: targets0[n] + k for n, k in zip(layers, delta)}
        params = params0 if not any(delta) else _chain(ev, params0, input_fl, t)
        if params is not None:
            combos.append((delta, params))
    ev.progress.start("phase2", "phase 2: windows (exhaustive)", len(combos) * ev.chips)
    best_key: tuple | None = None
    best: tuple[tuple[int, ...], list[LayerParams], MonteCarloResult] | None = None
    for delta, params in combos:
        r = ev.mc(params, progress_key="phase2")
        key = (r.accuracy.mean, -sum(abs(k) for k in delta), tuple(-k for k in delta))
        if best_key is None or key > best_key:
            best_key, best = key, (delta, params, r)
    assert best is not None
    delta, params, _ = best
    final = ev.mc(params)
    fl_out = {n: targets0[n] + k for n, k in zip(layers, delta)}
    return Phase2Result("exhaustive", list(params), fl_out, final.accuracy, final, (), len(combos))


def run_phase2(
    ev: Evaluator,
    params0: list[LayerParams],
    input_fl: int,
    *,
    radius: int = 3,
    top_k: int = 2,
    exhaustive: bool = False,
    stats_chips: int = 3,
) -> Phase2Result:
    """Choose every layer's window, starting from phase 1's ``params0``.

    ``stats_chips``: chips whose per-bit statistics rank the candidates (the
    bits of every output of every image are counted, so a few chips suffice).
    """
    if exhaustive:
        return _exhaustive(ev, params0, input_fl, radius)
    return _smart(ev, params0, input_fl, radius, top_k, stats_chips)
