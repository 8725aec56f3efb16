"""The whole quantization on a given problem: baseline, phase 1, phase 2, final evaluation.

No files are written here (see :mod:`cimq.quant.run`). The search scores
candidates on ``problem.search`` with ``config.chips`` chips of ``config.seed``;
the final figures come from ``problem.test`` on ``config.eval_chips`` fresh
chips (``config.eval_seed``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from cimq.arch import ArchConfig
from cimq.errors import CheckFailed, CimqInputError
from cimq.params import LayerParams
from cimq.quant.config import QuantConfig
from cimq.quant.evaluate import Dataset, Evaluator
from cimq.quant.formats import Calibration, calibrate, conventional_params
from cimq.quant.phase1 import Phase1Result, run_phase1
from cimq.quant.phase2 import Phase2Result, run_phase2
from cimq.quant.progress import NullProgress, ProgressSink
from cimq.sim.graph import LayerGraph
from cimq.sim.montecarlo import MonteCarloResult
from cimq.sim.network import torch_threads
from cimq.sim.variation import DeviceModel

__all__ = ["QuantProblem", "FinalEvaluation", "QuantOutcome", "DESIGNS", "quantize"]

DESIGNS = ("conventional", "phase1", "phase2")


@dataclass(frozen=True, eq=False)
class QuantProblem:
    """A captured network, its architecture, data and the variation to design against."""

    graph: LayerGraph
    arch: ArchConfig
    search: Dataset
    test: Dataset
    device_model: DeviceModel
    model_name: str
    dataset_name: str
    variation_name: str


@dataclass(frozen=True)
class FinalEvaluation:
    """Test-split figures: float, error-free and Monte Carlo accuracy of each design."""

    float_accuracy: float
    ideal: dict[str, float]
    mc: dict[str, MonteCarloResult]
    chips: int
    seed: int


@dataclass(frozen=True)
class QuantOutcome:
    config: QuantConfig
    calibration: Calibration
    search_float_accuracy: float
    conventional: list[LayerParams]
    phase1: Phase1Result
    phase2: Phase2Result
    final: FinalEvaluation
    timings: dict[str, float]
    mc_runs: int

    @property
    def threshold_met(self) -> bool:
        return self.final.mc["phase2"].accuracy.mean >= self.final.float_accuracy - self.config.threshold


def _final(problem: QuantProblem, config: QuantConfig, designs: dict[str, list[LayerParams]], progress: ProgressSink) -> FinalEvaluation:
    ev = Evaluator(problem.graph, problem.arch, problem.test, problem.device_model, chips=config.eval_chips,
                   seed=config.eval_seed, threads=config.threads, progress=progress)
    progress.start("evaluate", f"evaluation: {config.eval_chips} fresh chips, test split", len(designs) * config.eval_chips)
    ideal: dict[str, float] = {}
    mc: dict[str, MonteCarloResult] = {}
    for key, params in designs.items():
        over = ev.overflow(params)
        if over:
            raise CimqInputError(f"{key} design: accumulator of {', '.join(over)} can overflow acc_bits {problem.arch.acc_bits}")
        ideal[key] = ev.ideal(params)
        mc[key] = ev.mc(params, stats=key == "phase2", progress_key="evaluate")
        bad = [s.name for s in mc[key].layers if s.acc_overflow_rate > 0]
        if bad:
            raise CheckFailed(f"{key} design: accumulator overflow under variation in {', '.join(bad)}")
    return FinalEvaluation(ev.float_accuracy(), ideal, mc, config.eval_chips, config.eval_seed)


def quantize(problem: QuantProblem, config: QuantConfig, progress: ProgressSink | None = None) -> QuantOutcome:
    """Run the conventional baseline, phase 1, phase 2 and the final evaluation."""
    progress = progress or NullProgress()
    timings: dict[str, float] = {}
    with torch_threads(config.threads):
        t0 = time.perf_counter()
        calib = calibrate(problem.graph, problem.arch, problem.search.images, config.percentile)
        ev = Evaluator(problem.graph, problem.arch, problem.search, problem.device_model, chips=config.chips,
                       seed=config.seed, threads=config.threads, progress=progress)
        float_acc = ev.float_accuracy()
        conv = conventional_params(problem.graph, problem.arch, config.conventional_fl)
        progress.start("baseline", f"conventional baseline (FL {config.conventional_fl})", config.chips)
        if not ev.overflow(conv):
            ev.mc(conv, progress_key="baseline")
        timings["baseline"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        p1 = run_phase1(ev, calib, range(config.fl_min, config.fl_max + 1), float_accuracy=float_acc,
                        threshold=config.threshold, per_layer=config.per_layer)
        timings["phase1"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        p2 = run_phase2(ev, p1.params, calib.input_fl, radius=config.radius, top_k=config.top_k,
                        exhaustive=config.exhaustive)
        timings["phase2"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        final = _final(problem, config, {"conventional": conv, "phase1": p1.params, "phase2": p2.params}, progress)
        timings["evaluation"] = time.perf_counter() - t0
    return QuantOutcome(config, calib, float_acc, conv, p1, p2, final, timings, ev.mc_runs)
