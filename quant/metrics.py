"""Hardware figures for the report: energy (``cimq.sim.energy``), COPE and synthesized area."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cimq.arch import ArchConfig
from cimq.quant.formats import layer_outputs_shape
from cimq.sim.energy import LayerWork, NetworkEnergy, correct_ops_per_energy, network_energy
from cimq.sim.graph import LayerGraph

__all__ = ["Comparison", "layer_work", "compare", "read_area"]


@dataclass(frozen=True)
class Area:
    conventional: float
    proposed: float
    unit: str
    overhead_percent: float


@dataclass(frozen=True)
class Comparison:
    """The slides' table: accuracy, energy, area and correct operations per unit energy."""

    energy: NetworkEnergy
    conventional_accuracy: float
    proposed_accuracy: float
    conventional_cope: float
    proposed_cope: float
    area: Area | None

    @property
    def cope_ratio(self) -> float:
        return self.proposed_cope / self.conventional_cope if self.conventional_cope > 0 else float("inf")


def layer_work(graph: LayerGraph, image_shape: tuple[int, ...]) -> list[LayerWork]:
    """One :class:`LayerWork` per conv/linear layer (output positions from a float pass)."""
    shapes = layer_outputs_shape(graph, image_shape)
    out = []
    for m in graph.matmul_layers:
        shape = shapes[m.name]
        positions = int(shape[1] * shape[2]) if m.kind == "conv" else 1
        out.append(LayerWork(m.name, m.rows, m.out_features, positions, m.relu))
    return out


def read_area(run_dir: Path) -> Area | None:
    """Synthesized area of the conventional and the proposed hardware from ``cimq synth``.

    The tile periphery (``synth/tile_summary.json``) is the figure the slides
    compare; without it, the truncation units alone (``synth/summary.json``).
    """
    for name, scope in (("tile_summary.json", "tile periphery"), ("summary.json", "truncation unit")):
        path = Path(run_dir) / "synth" / name
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            conf, fixed = doc["configurable"], doc["fixed"]
            if conf.get("area") is not None and fixed.get("area") is not None:
                a, b, unit = float(fixed["area"]), float(conf["area"]), f"{scope}, liberty area"
            else:
                a, b, unit = float(fixed["transistors"]), float(conf["transistors"]), f"{scope}, transistors (Yosys CMOS estimate)"
        except (OSError, ValueError, KeyError, TypeError):
            continue
        return Area(a, b, unit, 100.0 * (b - a) / a if a else float("inf"))
    return None


def compare(graph: LayerGraph, arch: ArchConfig, image_shape: tuple[int, ...], conventional_accuracy: float,
            proposed_accuracy: float, run_dir: Path | None) -> Comparison:
    energy = network_energy(layer_work(graph, image_shape), arch)
    return Comparison(
        energy=energy,
        conventional_accuracy=conventional_accuracy,
        proposed_accuracy=proposed_accuracy,
        conventional_cope=correct_ops_per_energy(conventional_accuracy, energy.ops, energy.conventional_j),
        proposed_cope=correct_ops_per_energy(proposed_accuracy, energy.ops, energy.proposed_j),
        area=read_area(run_dir) if run_dir is not None else None,
    )
