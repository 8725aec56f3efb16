"""The params file and the search log, as deterministic bytes (no timestamps, rounded floats)."""

from __future__ import annotations

import json
from typing import Any

from cimq.params import AccuracyStat, ModelParams, Provenance
from cimq.quant.search import DESIGNS, QuantOutcome, QuantProblem
from cimq.sim.montecarlo import AccuracySummary

__all__ = ["DIGITS", "accuracy_stats", "model_params", "params_bytes", "search_log_bytes"]

DIGITS = 4
"""Decimals kept of every accuracy figure (percent)."""


def _r(x: float) -> float:
    return round(float(x), DIGITS)


def _stat(s: AccuracySummary) -> AccuracyStat:
    return AccuracyStat(mean=_r(s.mean), ci95=_r(s.ci95), std=_r(s.std), min=_r(s.min), chips=s.chips)


def accuracy_stats(outcome: QuantOutcome) -> dict[str, AccuracyStat]:
    """Test-split accuracies: float, error-free at the chosen formats, and each design over chips."""
    f = outcome.final

    def one(v: float) -> AccuracyStat:  # a single deterministic figure: min is the value itself
        return AccuracyStat(mean=_r(v), min=_r(v))

    out = {
        "float": one(f.float_accuracy),
        "ideal_quantized": one(f.ideal["phase2"]),
        "ideal_conventional": one(f.ideal["conventional"]),
        "ideal_phase1": one(f.ideal["phase1"]),
    }
    for key in DESIGNS:
        out[key] = _stat(f.mc[key].accuracy)
    return out


def model_params(problem: QuantProblem, outcome: QuantOutcome) -> ModelParams:
    """The phase-2 design with its provenance (chips: the evaluation chips)."""
    c = outcome.config
    return ModelParams(
        arch=problem.arch,
        layers=outcome.phase2.params,
        provenance=Provenance(
            seed=c.seed,
            model=problem.model_name,
            dataset=problem.dataset_name,
            variation=problem.variation_name,
            chips=c.eval_chips,
            accuracy=accuracy_stats(outcome),
        ),
    )


def params_bytes(params: ModelParams) -> bytes:
    return (json.dumps(params.model_dump(mode="json"), indent=2) + "\n").encode("utf-8")


def _summary(s: AccuracySummary | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"mean": _r(s.mean), "ci95": _r(s.ci95), "min": _r(s.min), "chips": s.chips}


def search_log(outcome: QuantOutcome) -> dict[str, Any]:
    """Sweep, per-layer trials and window candidates (search split, search chips)."""
    p1, p2 = outcome.phase1, outcome.phase2
    return {
        "format": "cimq-quant-search",
        "version": 1,
        "config": outcome.config.model_dump(mode="json", exclude={"build_dir", "run", "threads"}),
        "search_float_accuracy": _r(outcome.search_float_accuracy),
        "calibration": {
            "percentile": outcome.calibration.percentile,
            "input_fl": outcome.calibration.input_fl,
            "fl_out": dict(outcome.calibration.fl_out),
            "quantile": {k: _r(v) for k, v in outcome.calibration.quantile.items()},
        },
        "sweep": [
            {
                "fl": r.fl, "overflow": r.overflow, "ideal": None if r.ideal is None else _r(r.ideal),
                "proposed": _summary(r.proposed), "meets_threshold": r.meets_threshold,
                "conventional_overflow": r.conventional_overflow,
                "conventional_ideal": None if r.conventional_ideal is None else _r(r.conventional_ideal),
                "conventional": _summary(r.conventional),
            }
            for r in p1.sweep
        ],
        "phase1": {
            "fl": p1.fl, "fl_w": p1.fl_w, "accuracy": _summary(p1.accuracy),
            "coordinate": [
                {"layer": s.layer, "fl_w": s.fl_w, "accuracy": None if s.accuracy is None else _r(s.accuracy),
                 "note": s.note, "accepted": s.accepted}
                for s in p1.coordinate
            ],
        },
        "phase2": {
            "mode": p2.mode, "fl_out": p2.fl_out, "accuracy": _summary(p2.accuracy), "evaluations": p2.evaluations,
            "candidates": [
                {"layer": c.layer, "fl_out": c.fl_out, "drop_low": c.drop_low, "rank": c.rank,
                 "cost": {"saturation": _r(c.cost.saturation), "resolution": _r(c.cost.resolution),
                          "error": _r(c.cost.error)},
                 "accuracy": None if c.accuracy is None else _r(c.accuracy), "current": c.current, "accepted": c.accepted}
                for c in p2.candidates
            ],
        },
    }


def search_log_bytes(outcome: QuantOutcome) -> bytes:
    return (json.dumps(search_log(outcome), indent=1, sort_keys=True) + "\n").encode("utf-8")
