"""Energy model: per-event counts of a layer times a per-event energy table.

A layer is described by :class:`LayerWork` (rows ``K``, output columns ``N``,
output positions ``P``; ``P = 1`` for a linear layer). With ``R = ceil(K /
xbar_rows)`` row arrays, ``C = ceil(N * slices / xbar_cols)`` column arrays,
``planes`` input planes and ``slices`` weight slices, one inference counts:

==========================  ===============================================
event                       count
==========================  ===============================================
dac_row_drive               P * planes * K * C
input_register_read_bit     dac_row_drive * dac_bits
input_register_write_bit    P * K * act_bits
cell_read                   P * planes * K * N * slices
sample_hold                 P * planes * R * N * slices
adc_conversion              P * planes * R * N * slices
shift_add                   P * planes * R * N * slices
output_register_rmw         P * planes * R * N * slices
accumulator_add             P * N * R   ((R - 1) partial sums + 1 bias add)
input_sum_add               P * K       (sum(x) for the offset correction)
offset_correction           P * N
truncation                  P * N       (ReLU / saturation of the window)
config_register_read_bit    P * N * config_bits          (proposed only)
window_mux_bit              P * N * out_bits * stages    (proposed only)
==========================  ===============================================

``config_bits = bit_length(max_drop_low) + 3`` (drop_low and the relu,
rounding and signed-input mode bits); ``stages = ceil(log2(max_drop_low + 1))``
levels of 2:1 multiplexers select the kept window. The conventional design
wires a fixed window, so those two events are zero there.

Energy per event comes from a TOML table (default
``energy_isaac32nm.toml``, every number with its source). ADC energy scales
with resolution as ``pj * per_bit_factor ** (adc_bits - ref_bits)`` (Walden:
constant figure of merit, about 2x per bit); DAC energy scales with the number
of levels, ``(2**dac_bits - 1) / (2**ref_bits - 1)``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError

__all__ = [
    "DEFAULT_TABLE",
    "EVENTS",
    "Design",
    "EnergyEntry",
    "EnergyTable",
    "EventCounts",
    "LayerEnergy",
    "LayerWork",
    "NetworkEnergy",
    "config_bits",
    "correct_ops_per_energy",
    "event_energies_pj",
    "layer_energy",
    "layer_event_counts",
    "load_energy_table",
    "mux_stages",
    "network_energy",
    "total_ops",
]

DEFAULT_TABLE = "energy_isaac32nm.toml"
MAX_PJ = 1e6
MODE_BITS = 3  # relu, rounding, signed_input


class Design(str, Enum):
    """Conventional fixed truncation window, or the proposed configurable one."""

    CONVENTIONAL = "conventional"
    PROPOSED = "proposed"


@dataclass(frozen=True)
class LayerWork:
    """What one inference asks of a layer mapped on crossbars.

    Parameters
    ----------
    name:
        Layer name (as in the captured graph).
    in_rows:
        ``K``: crossbar rows, i.e. ``C_in * kh * kw`` for a conv, ``in_features`` for a linear.
    out_cols:
        ``N``: output channels / features (each uses ``slices`` physical columns).
    positions:
        ``P``: output positions per inference (``H_out * W_out`` for a conv, 1 for a linear).
    relu:
        The truncation unit applies ReLU (does not change the counts).
    """

    name: str
    in_rows: int
    out_cols: int
    positions: int = 1
    relu: bool = True

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("LayerWork.name must not be empty")
        for attr in ("in_rows", "out_cols", "positions"):
            value = getattr(self, attr)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"LayerWork {self.name!r}: {attr} must be an integer >= 1, got {value!r}")

    @property
    def macs(self) -> int:
        """Multiply-accumulates per inference: ``P * K * N``."""
        return self.positions * self.in_rows * self.out_cols


@dataclass(frozen=True)
class EventCounts:
    """How often each event happens (see the module docstring for the rules)."""

    dac_row_drive: int
    input_register_read_bit: int
    input_register_write_bit: int
    cell_read: int
    sample_hold: int
    adc_conversion: int
    shift_add: int
    output_register_rmw: int
    accumulator_add: int
    input_sum_add: int
    offset_correction: int
    truncation: int
    config_register_read_bit: int
    window_mux_bit: int

    def items(self) -> list[tuple[str, int]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


EVENTS: tuple[str, ...] = tuple(f.name for f in fields(EventCounts))


@dataclass(frozen=True)
class EnergyEntry:
    """One row of the energy table: picojoules per event and where that comes from."""

    pj: float
    source: str
    estimate: bool


@dataclass(frozen=True)
class EnergyTable:
    """Per-event energies (pJ) with sources, plus the ADC/DAC reference resolutions."""

    name: str
    path: str
    entries: dict[str, EnergyEntry]
    adc_ref_bits: int
    adc_per_bit_factor: float
    dac_ref_bits: int


@dataclass(frozen=True)
class LayerEnergy:
    """Counts and energy (joules) of one layer for one design."""

    layer: LayerWork
    design: Design
    counts: EventCounts
    energy_j: dict[str, float]

    @property
    def total_j(self) -> float:
        return math.fsum(self.energy_j.values())


@dataclass(frozen=True)
class NetworkEnergy:
    """Both designs over all layers: totals, overhead and operations."""

    conventional: tuple[LayerEnergy, ...]
    proposed: tuple[LayerEnergy, ...]
    ops: int

    @property
    def conventional_j(self) -> float:
        return math.fsum(le.total_j for le in self.conventional)

    @property
    def proposed_j(self) -> float:
        return math.fsum(le.total_j for le in self.proposed)

    @property
    def overhead_percent(self) -> float:
        """Extra energy of the proposed configurable truncation, in percent."""
        return 100.0 * (self.proposed_j - self.conventional_j) / self.conventional_j


# --------------------------------------------------------------------------- table


def _number(doc: dict[str, Any], key: str, where: str, lo: float, hi: float, *, integer: bool, source: str) -> float:
    kind = "an integer" if integer else "a number"
    allowed = f"allowed: {kind} in {lo:g}..{hi:g}"
    if key not in doc:
        raise CimqInputError(f"{where}.{key}: missing ({allowed})", source=source)
    value = doc[key]
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        raise CimqInputError(f"{where}.{key}: {value!r} is not {kind} ({allowed})", source=source)
    if not math.isfinite(value) or not lo <= value <= hi:
        raise CimqInputError(f"{where}.{key}: {value!r} is outside the allowed range {lo:g}..{hi:g}", source=source)
    return value


def _entry(doc: Any, name: str, source: str, extra: tuple[str, ...] = ()) -> EnergyEntry:
    if not isinstance(doc, dict):
        raise CimqInputError(f"{name}: missing (a table with pj, source, estimate)", source=source)
    allowed_keys = ("pj", "source", "estimate", *extra)
    for key in doc:
        if key not in allowed_keys:
            raise CimqInputError(f"{name}.{key}: unknown key (allowed: {', '.join(allowed_keys)})", source=source)
    pj = float(_number(doc, "pj", name, 0.0, MAX_PJ, integer=False, source=source))
    text = doc.get("source")
    if not isinstance(text, str) or not text.strip():
        raise CimqInputError(f"{name}.source: missing or empty (allowed: a non-empty string naming the source)", source=source)
    estimate = doc.get("estimate")
    if not isinstance(estimate, bool):
        raise CimqInputError(f"{name}.estimate: {estimate!r} is not a boolean (allowed: true, false)", source=source)
    return EnergyEntry(pj=pj, source=text.strip(), estimate=estimate)


def load_energy_table(path: str | Path | None = None) -> EnergyTable:
    """Read and validate an energy table; ``None`` loads the packaged ISAAC/PUMA 32 nm table.

    Any missing, negative or non-numeric entry raises :class:`CimqInputError`
    naming the file, the key and the allowed range.
    """
    if path is None:
        ref = resources.files("cimq.sim").joinpath(DEFAULT_TABLE)
        source, text = DEFAULT_TABLE, ref.read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CimqInputError("file not found", source=source) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CimqInputError(f"cannot be read: {exc}", source=source) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CimqInputError(f"not valid TOML: {exc}", source=source) from None

    known = {"table", *EVENTS}
    for key in doc:
        if key not in known:
            raise CimqInputError(f"{key}: unknown section (allowed: table, {', '.join(EVENTS)})", source=source)
    meta = doc.get("table", {})
    name = meta.get("name", Path(source).stem) if isinstance(meta, dict) else Path(source).stem
    extras = {"adc_conversion": ("ref_bits", "per_bit_factor"), "dac_row_drive": ("ref_bits",)}
    entries = {ev: _entry(doc.get(ev), ev, source, extras.get(ev, ())) for ev in EVENTS}
    adc = doc["adc_conversion"]
    dac = doc["dac_row_drive"]
    return EnergyTable(
        name=str(name),
        path=source,
        entries=entries,
        adc_ref_bits=int(_number(adc, "ref_bits", "adc_conversion", 1, 16, integer=True, source=source)),
        adc_per_bit_factor=float(_number(adc, "per_bit_factor", "adc_conversion", 1.0, 4.0, integer=False, source=source)),
        dac_ref_bits=int(_number(dac, "ref_bits", "dac_row_drive", 1, 8, integer=True, source=source)),
    )


# --------------------------------------------------------------------------- counts


def config_bits(arch: ArchConfig) -> int:
    """Bits of the per-layer truncation config read per output: drop_low plus mode bits."""
    return max(1, arch.max_drop_low.bit_length()) + MODE_BITS


def mux_stages(arch: ArchConfig) -> int:
    """2:1 multiplexer levels that pick one of ``max_drop_low + 1`` window positions."""
    return max(1, math.ceil(math.log2(arch.max_drop_low + 1)))


def layer_event_counts(layer: LayerWork, arch: ArchConfig, design: Design) -> EventCounts:
    """Event counts of one inference through ``layer`` (rules in the module docstring)."""
    design = Design(design)
    p, k, n = layer.positions, layer.in_rows, layer.out_cols
    row_arrays = -(-k // arch.xbar_rows)
    col_arrays = -(-(n * arch.slices) // arch.xbar_cols)
    conversions = p * arch.planes * row_arrays * n * arch.slices
    drives = p * arch.planes * k * col_arrays
    proposed = design is Design.PROPOSED
    return EventCounts(
        dac_row_drive=drives,
        input_register_read_bit=drives * arch.dac_bits,
        input_register_write_bit=p * k * arch.act_bits,
        cell_read=p * arch.planes * k * n * arch.slices,
        sample_hold=conversions,
        adc_conversion=conversions,
        shift_add=conversions,
        output_register_rmw=conversions,
        accumulator_add=p * n * row_arrays,
        input_sum_add=p * k,
        offset_correction=p * n,
        truncation=p * n,
        config_register_read_bit=p * n * config_bits(arch) if proposed else 0,
        window_mux_bit=p * n * arch.out_bits * mux_stages(arch) if proposed else 0,
    )


def event_energies_pj(table: EnergyTable, arch: ArchConfig) -> dict[str, float]:
    """Picojoules per event for ``arch`` (ADC and DAC scaled to its resolutions)."""
    out = {ev: table.entries[ev].pj for ev in EVENTS}
    assert arch.adc_bits is not None
    out["adc_conversion"] *= table.adc_per_bit_factor ** (arch.adc_bits - table.adc_ref_bits)
    out["dac_row_drive"] *= ((1 << arch.dac_bits) - 1) / ((1 << table.dac_ref_bits) - 1)
    return out


def layer_energy(layer: LayerWork, arch: ArchConfig, table: EnergyTable, design: Design) -> LayerEnergy:
    """Energy (joules) per event of one inference through ``layer``."""
    counts = layer_event_counts(layer, arch, design)
    pj = event_energies_pj(table, arch)
    energy = {ev: count * pj[ev] * 1e-12 for ev, count in counts.items()}
    return LayerEnergy(layer=layer, design=Design(design), counts=counts, energy_j=energy)


def total_ops(layers: Sequence[LayerWork]) -> int:
    """Total operations of one inference: 2 per MAC (a multiply and an add)."""
    return 2 * sum(layer.macs for layer in layers)


def network_energy(layers: Sequence[LayerWork], arch: ArchConfig, table: EnergyTable | None = None) -> NetworkEnergy:
    """Per-inference energy of ``layers`` for both designs."""
    if not layers:
        raise ValueError("network_energy needs at least one layer")
    table = load_energy_table() if table is None else table
    return NetworkEnergy(
        conventional=tuple(layer_energy(l, arch, table, Design.CONVENTIONAL) for l in layers),
        proposed=tuple(layer_energy(l, arch, table, Design.PROPOSED) for l in layers),
        ops=total_ops(layers),
    )


def correct_ops_per_energy(accuracy_percent: float, ops: float, energy_j: float) -> float:
    """Correct operations per unit energy in GOP/J: ``accuracy * ops / (100 * energy) / 1e9``."""
    if not 0.0 <= accuracy_percent <= 100.0:
        raise ValueError(f"accuracy_percent: {accuracy_percent} is outside 0..100")
    if ops < 0:
        raise ValueError(f"ops: {ops} must not be negative")
    if not energy_j > 0:
        raise ValueError(f"energy_j: {energy_j} must be positive")
    return accuracy_percent * ops / (100.0 * energy_j) / 1e9
