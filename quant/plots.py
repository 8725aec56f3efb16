"""Report figures as deterministic PNG bytes (Agg canvas, no pyplot state, no metadata)."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cimq.arch import ArchConfig
from cimq.params import LayerParams
from cimq.quant.phase1 import SweepRow
from cimq.sim.montecarlo import LayerErrorStats

__all__ = ["png_bytes", "accuracy_vs_fl_png", "bit_statistics_png"]


def png_bytes(fig: Figure) -> bytes:
    """Render ``fig``: the same figure gives the same bytes (no Software/time metadata)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def accuracy_vs_fl_png(sweep: tuple[SweepRow, ...], float_accuracy: float, chosen_fl: int, variation: str) -> bytes:
    """Accuracy against the weight FL: error-free and Monte Carlo, proposed and conventional."""
    fig = Figure(figsize=(7.0, 4.2))
    ax = fig.add_subplot(1, 1, 1)

    def series(get):  # type: ignore[no-untyped-def]
        pts = [(r.fl, get(r)) for r in sweep if get(r) is not None]
        return [p[0] for p in pts], [p[1] for p in pts]

    x, y = series(lambda r: r.ideal)
    ax.plot(x, y, "o--", color="tab:green", label="ideal quantized (proposed formats, no variation)")
    x, y = series(lambda r: r.proposed.mean if r.proposed else None)
    e = [r.proposed.ci95 for r in sweep if r.proposed]
    ax.errorbar(x, y, yerr=e, fmt="o-", color="tab:blue", capsize=3, label="proposed (phase 1), Monte Carlo")
    x, y = series(lambda r: r.conventional_ideal)
    ax.plot(x, y, "s--", color="tab:gray", label="conventional format, no variation")
    x, y = series(lambda r: r.conventional.mean if r.conventional else None)
    e = [r.conventional.ci95 for r in sweep if r.conventional]
    ax.errorbar(x, y, yerr=e, fmt="s-", color="tab:red", capsize=3, label="conventional hardware, Monte Carlo")
    ax.axhline(float_accuracy, color="black", lw=0.8, ls=":", label="float")
    ax.axvline(chosen_fl, color="tab:blue", lw=0.8, ls=":")
    over = [r.fl for r in sweep if r.overflow]
    if over:
        ax.axvspan(min(over) - 0.5, max(over) + 0.5, color="0.9", label="accumulator could overflow")
    ax.set_xlabel("weight fraction length FL (WL = 8)")
    ax.set_ylabel("accuracy (%), search split")
    ax.set_ylim(0, 102)
    ax.set_xticks([r.fl for r in sweep])
    ax.set_title(f"Accuracy vs weight FL ({variation})", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return png_bytes(fig)


def bit_statistics_png(stats: tuple[LayerErrorStats, ...], params: list[LayerParams], arch: ArchConfig) -> bytes:
    """Per layer: error rate and information of each accumulator bit, the kept window shaded."""
    n = len(stats)
    fig = Figure(figsize=(7.0, 1.9 * n + 0.6))
    by = {p.name: p for p in params}
    bits = list(range(arch.acc_bits))
    for i, s in enumerate(stats):
        ax = fig.add_subplot(n, 1, i + 1)
        p = by[s.name]
        ax.axvspan(p.drop_low - 0.5, p.drop_low + arch.out_bits - 0.5, color="tab:blue", alpha=0.12, label="kept window")
        ax.plot(bits, s.bits.error_rate, "o-", ms=3, color="tab:red", label="error rate")
        ax.plot(bits, s.bits.information, "s-", ms=3, color="tab:green", label="information (bits)")
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlim(-0.5, arch.acc_bits - 0.5)
        ax.set_ylabel(s.name, fontsize=8)
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.legend(fontsize=7, loc="upper right", ncol=3)
    fig.axes[-1].set_xlabel("accumulator bit (LSB = 0)")
    fig.tight_layout()
    return png_bytes(fig)
