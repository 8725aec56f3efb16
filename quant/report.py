"""``report.md``: the sweep, the chosen parameters and the conventional/proposed comparison."""

from __future__ import annotations

from cimq.quant.metrics import Comparison
from cimq.quant.search import DESIGNS, QuantOutcome, QuantProblem
from cimq.sim.montecarlo import AccuracySummary

__all__ = ["report_markdown"]


def _acc(s: AccuracySummary | None) -> str:
    return "-" if s is None else f"{s.mean:.2f} ± {s.ci95:.2f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def report_markdown(problem: QuantProblem, outcome: QuantOutcome, cmp: Comparison, files: dict[str, str]) -> str:
    c, f, p1, p2 = outcome.config, outcome.final, outcome.phase1, outcome.phase2
    arch = problem.arch
    L: list[str] = []
    L += ["# cimq quantization report", ""]
    L += [f"- model: {problem.model_name}; dataset: {problem.dataset_name}",
          f"- variation: {problem.variation_name}",
          f"- search: {problem.search.images.shape[0]} training images, {c.chips} chips (seed {c.seed}); "
          f"final figures: {problem.test.images.shape[0]} test images, {f.chips} fresh chips (seed {f.seed})",
          f"- threshold: {c.threshold:g} points below float -> "
          f"{'met' if outcome.threshold_met else 'NOT met'}",
          f"- architecture: {arch.xbar_rows}x{arch.xbar_cols} crossbars, {arch.weight_bits}-bit weights on "
          f"{arch.cell_bits}-bit cells, {arch.act_bits}-bit activations, acc {arch.acc_bits} bits, window {arch.out_bits} bits",
          ""]
    L += ["## Accuracy (test split, mean ± 95 % CI over chips)", "",
          "| design | error-free chip | hardware (Monte Carlo) | min chip |", "|---|---|---|---|",
          f"| float (software) | {f.float_accuracy:.2f} | - | - |"]
    for key in DESIGNS:
        s = f.mc[key].accuracy
        L.append(f"| {key} | {f.ideal[key]:.2f} | {_acc(s)} | {s.min:.2f} |")
    L += ["", f"Phase 2 vs error-free at its formats: {f.ideal['phase2'] - f.mc['phase2'].accuracy.mean:+.2f} points lost; "
          f"vs float: {f.float_accuracy - f.mc['phase2'].accuracy.mean:+.2f} points lost; conventional loses "
          f"{f.float_accuracy - f.mc['conventional'].accuracy.mean:.2f} points.", ""]
    L += ["## Phase 1: accuracy vs weight FL (search split)", "", f"![accuracy vs FL]({files['sweep']})", "",
          "| FL | error-free (proposed) | proposed MC | conventional error-free | conventional MC | note |",
          "|---|---|---|---|---|---|"]
    for r in p1.sweep:
        note = []
        if r.overflow:
            note.append(f"proposed: accumulator could overflow in {r.overflow}")
        if r.conventional_overflow:
            note.append(f"conventional: overflow in {r.conventional_overflow}")
        if r.fl == p1.fl:
            note.append("**chosen**")
        if r.ideal is not None and not r.meets_threshold:
            note.append("error-free accuracy below threshold")
        L.append(f"| {r.fl} | {_pct(r.ideal)} | {_acc(r.proposed)} | {_pct(r.conventional_ideal)} | "
                 f"{_acc(r.conventional)} | {'; '.join(note)} |")
    L += ["", f"Activations: FL_out calibrated at the {outcome.calibration.percentile:g}th percentile of |output| "
          f"(input FL {outcome.calibration.input_fl}).", ""]
    if p1.coordinate:
        L += ["Per-layer coordinate search:", "", "| layer | FL_w | MC accuracy | accepted | note |", "|---|---|---|---|---|"]
        for s in p1.coordinate:
            L.append(f"| {s.layer} | {s.fl_w} | {_pct(s.accuracy)} | {'yes' if s.accepted else ''} | {s.note} |")
        L.append("")
    L += [f"## Phase 2: truncation windows ({p2.mode}, {p2.evaluations} Monte Carlo evaluations)", ""]
    if p2.candidates:
        L += ["| layer | FL_out | drop_low | rank | cost: saturation / resolution / error | MC accuracy | |",
              "|---|---|---|---|---|---|---|"]
        for w in p2.candidates:
            tag = ("phase 1" if w.current else "") + (" **chosen**" if w.accepted else "")
            L.append(f"| {w.layer} | {w.fl_out} | {w.drop_low} | {w.rank} | {w.cost.saturation:.3g} / "
                     f"{w.cost.resolution:.3g} / {w.cost.error:.3g} | {_pct(w.accuracy)} | {tag.strip()} |")
        L.append("")
    L += [f"![bit statistics]({files['bits']})", "",
          "Per-bit error rate and information of the phase-2 design's accumulators (test split, evaluation chips).", ""]
    L += ["## Per-layer parameters", "",
          "| layer | FL_w | FL_x | drop_low | FL_out | relu | conventional drop_low / FL_out | phase 1 drop_low / FL_out |",
          "|---|---|---|---|---|---|---|---|"]
    conv = {p.name: p for p in outcome.conventional}
    ph1 = {p.name: p for p in p1.params}
    for p in p2.params:
        L.append(f"| {p.name} | {p.fl_w} | {p.fl_x} | {p.drop_low} | {p.fl_out} | {p.relu} | "
                 f"{conv[p.name].drop_low} / {conv[p.name].fl_out} | {ph1[p.name].drop_low} / {ph1[p.name].fl_out} |")
    e = cmp.energy
    area = cmp.area
    area_row = ("| Area | not synthesized (run cimq synth) | not synthesized (run cimq synth) | - |" if area is None else
                f"| Area ({area.unit}) | {area.conventional:g} | {area.proposed:g} | {area.overhead_percent:+.1f} % |")
    L += ["", "## Conventional vs proposed", "",
          "| metric | conventional | proposed | proposed / conventional |", "|---|---|---|---|",
          f"| Software (float) accuracy (%) | {f.float_accuracy:.2f} | {f.float_accuracy:.2f} | 1.00 |",
          f"| Hardware accuracy (%) | {cmp.conventional_accuracy:.2f} | {cmp.proposed_accuracy:.2f} | "
          f"{cmp.proposed_accuracy / max(cmp.conventional_accuracy, 1e-9):.2f} |",
          f"| Energy per inference (nJ) | {e.conventional_j * 1e9:.3f} | {e.proposed_j * 1e9:.3f} | "
          f"{e.proposed_j / e.conventional_j:.4f} ({e.overhead_percent:+.2f} %) |",
          area_row,
          f"| Correct operations per unit energy (GOP/J) | {cmp.conventional_cope:.2f} | {cmp.proposed_cope:.2f} | "
          f"{cmp.cope_ratio:.2f}x |",
          "", f"Operations per inference: {e.ops} (2 per MAC). COPE = accuracy x operations / (100 x energy).", ""]
    L.append("")
    return "\n".join(L)
