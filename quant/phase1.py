"""Phase 1: the weight fraction length, with activations' FL_out derived from calibration.

For every weight FL in the sweep, the proposed design is
``chain_params(fl_w=FL, targets=calibration, clamp=True)``: FL_out of each
layer is the calibrated one, moved into what ``0..max_drop_low`` allows. The
same sweep scores the conventional design at that global FL (weights and
activations at FL, the same window everywhere), so the report can show both
curves. Selection: candidates whose accumulator could overflow are out;
among the rest, those whose error-free accuracy is within ``threshold`` of
float are preferred (all of the rest if none is); the best Monte Carlo mean
wins, ties going to the smaller FL (more integer range).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cimq.errors import CimqInputError
from cimq.params import LayerParams
from cimq.quant.evaluate import Evaluator
from cimq.quant.formats import Calibration, chain_params, conventional_params
from cimq.sim.montecarlo import AccuracySummary

__all__ = ["SweepRow", "CoordinateStep", "Phase1Result", "phase1_params", "run_phase1", "select_fl"]


@dataclass(frozen=True)
class SweepRow:
    """One weight FL of the sweep (accuracies in percent; ``None`` where not evaluated)."""

    fl: int
    overflow: str  # "" or the layers whose accumulator could overflow
    ideal: float | None
    proposed: AccuracySummary | None
    meets_threshold: bool
    conventional_overflow: str
    conventional_ideal: float | None
    conventional: AccuracySummary | None

    @property
    def feasible(self) -> bool:
        return not self.overflow


@dataclass(frozen=True)
class CoordinateStep:
    """One per-layer trial of the coordinate search."""

    layer: str
    fl_w: int
    accuracy: float | None
    note: str
    accepted: bool


@dataclass(frozen=True)
class Phase1Result:
    sweep: tuple[SweepRow, ...]
    fl: int
    fl_w: dict[str, int]
    params: list[LayerParams]
    accuracy: AccuracySummary
    coordinate: tuple[CoordinateStep, ...] = field(default=())


def phase1_params(ev: Evaluator, calib: Calibration, fl_w: int | dict[str, int]) -> list[LayerParams]:
    """The proposed design at weight FL ``fl_w`` (one value or per layer)."""
    params = chain_params(ev.graph, ev.arch, fl_w, calib.input_fl, calib.fl_out, clamp=True)
    if params is None:  # only when an FL leaves -32..32
        raise CimqInputError(f"weight FL {fl_w} gives fraction lengths outside -32..32", source="--fl-min/--fl-max")
    return params


def _describe(overflow: dict[str, int], acc_bits: int) -> str:
    return ", ".join(f"{k} (|acc| up to {v} >= 2^{acc_bits - 1})" for k, v in overflow.items())


def select_fl(rows: tuple[SweepRow, ...]) -> SweepRow:
    """The phase-1 choice from the sweep (see the module docstring)."""
    feasible = [r for r in rows if r.feasible and r.proposed is not None]
    preferred = [r for r in feasible if r.meets_threshold] or feasible
    if not preferred:
        raise CimqInputError("no weight FL in the sweep is feasible")
    return max(preferred, key=lambda r: (r.proposed.mean, -r.fl))  # type: ignore[union-attr]


def run_phase1(
    ev: Evaluator,
    calib: Calibration,
    fls: range,
    *,
    float_accuracy: float,
    threshold: float,
    per_layer: bool = False,
    conventional_curve: bool = True,
) -> Phase1Result:
    """Sweep ``fls``, pick the weight FL, optionally refine per layer."""
    acc_bits = ev.arch.acc_bits
    per_fl = ev.chips * (2 if conventional_curve else 1)
    ev.progress.start("phase1", f"phase 1: weight FL {fls.start}..{fls.stop - 1}", per_fl * len(fls))
    rows: list[SweepRow] = []
    for fl in fls:
        params = phase1_params(ev, calib, fl)
        over = ev.overflow(params)
        ideal = prop = None
        if over:
            ev.progress.advance("phase1", ev.chips)
        else:
            ideal = ev.ideal(params)
            prop = ev.mc(params, progress_key="phase1").accuracy
        c_over: dict[str, int] = {}
        cparams: list[LayerParams] | None = None
        c_ideal = conv = None
        if conventional_curve:
            try:
                cparams = conventional_params(ev.graph, ev.arch, fl)
            except CimqInputError:  # the fixed window does not fit the accumulator at this FL
                cparams = None
            c_over = ev.overflow(cparams) if cparams is not None else {}
            if cparams is None or c_over:
                ev.progress.advance("phase1", ev.chips)
            else:
                c_ideal = ev.ideal(cparams)
                conv = ev.mc(cparams, progress_key="phase1").accuracy
        meets = ideal is not None and ideal >= float_accuracy - threshold
        c_note = _describe(c_over, acc_bits) if cparams is not None or not conventional_curve else (
            f"drop_low {fl} outside 0..{ev.arch.max_drop_low}")
        rows.append(SweepRow(fl, _describe(over, acc_bits), ideal, prop, meets, c_note, c_ideal, conv))
    sweep = tuple(rows)
    if not any(r.feasible for r in sweep):
        worst = sweep[0].overflow
        raise CimqInputError(
            f"the model does not fit the architecture: at every weight FL in {fls.start}..{fls.stop - 1} "
            f"an accumulator can overflow acc_bits {acc_bits} (at FL {fls.start}: {worst}); "
            "use a wider accumulator (ArchConfig.acc_bits) or a smaller --fl-min"
        )
    best = select_fl(sweep)
    fl_w = {m.name: best.fl for m in ev.graph.matmul_layers}
    params = phase1_params(ev, calib, fl_w)
    acc = best.proposed
    assert acc is not None
    steps: list[CoordinateStep] = []
    if per_layer:
        deltas = (-2, -1, 1, 2)
        ev.progress.start("phase1-layers", "phase 1: per-layer weight FL", len(fl_w) * len(deltas) * ev.chips)
        for name in list(fl_w):
            base = fl_w[name]
            for d in deltas:
                trial = dict(fl_w, **{name: base + d})
                tparams = phase1_params(ev, calib, trial)
                over = ev.overflow(tparams)
                if over:
                    ev.progress.advance("phase1-layers", ev.chips)
                    steps.append(CoordinateStep(name, trial[name], None, "accumulator overflow", False))
                    continue
                if best.meets_threshold and ev.ideal(tparams) < float_accuracy - threshold:
                    ev.progress.advance("phase1-layers", ev.chips)
                    steps.append(CoordinateStep(name, trial[name], None, "error-free accuracy below threshold", False))
                    continue
                r = ev.mc(tparams, progress_key="phase1-layers").accuracy
                better = r.mean > acc.mean
                steps.append(CoordinateStep(name, trial[name], r.mean, "", better))
                if better:
                    fl_w, params, acc = trial, tparams, r
    return Phase1Result(sweep, best.fl, fl_w, params, acc, tuple(steps))
