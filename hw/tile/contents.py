"""What the crossbar holds for one sampled chip: conductance codes and bias codes.

:class:`CrossbarContents` is the single source of the behavioral crossbar's
memories: the Amaranth model (:mod:`cimq.hw.tile.crossbar_model`) is built
from it, and :func:`codes_hex` / :func:`bias_hex` write the ``$readmemh`` files
the Verilog model loads. Layers are placed with :func:`place_layers` from
:func:`cimq.sim.crossbar.program_crossbar` results (one chip sample each).

Hex files (``$readmemh``, one word per line, two's complement, fixed width):

* ``crossbar_codes.hex``: ``arrays * xbar_rows * xbar_cols`` codes of
  ``TileConfig.code_bits`` bits, address ``(array * xbar_rows + row) * xbar_cols + col``.
  Cells no layer uses hold 0.
* ``bias.hex``: ``arrays * outputs_per_array`` codes of ``acc_bits`` bits;
  layer output ``n`` at ``array_base * outputs_per_array + n``; unused: 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cimq.errors import CimqInputError
from cimq.hw.regs.layer import LayerGeometry
from cimq.hw.tile.config import TileConfig

__all__ = ["LayerPlacement", "CrossbarContents", "place_layers", "codes_hex", "bias_hex", "read_hex"]


@dataclass(frozen=True, eq=False)
class LayerPlacement:
    """One programmed layer and where it goes.

    ``crossbar`` is a :class:`cimq.sim.crossbar.ProgrammedCrossbar` (codes of
    one chip); ``bias`` the integer bias codes ``rint(bias * 2**FL_acc)``, one
    per output (``None``: zeros); ``array_base`` the first physical array.
    """

    name: str
    crossbar: object
    bias: Sequence[int] | np.ndarray | None = None
    array_base: int = 0

    @property
    def geometry(self) -> LayerGeometry:
        xb = self.crossbar
        return LayerGeometry(in_len=xb.rows, out_len=xb.outputs, array_base=self.array_base)


@dataclass(frozen=True, eq=False)
class CrossbarContents:
    """Codes ``(arrays, xbar_rows, xbar_cols)`` and bias ``(bias_depth,)``, int64."""

    config: TileConfig
    codes: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        cfg = self.config
        if self.codes.shape != (cfg.arrays, cfg.rows, cfg.cols):
            raise ValueError(f"codes must have shape {(cfg.arrays, cfg.rows, cfg.cols)}, not {self.codes.shape}")
        if self.bias.shape != (cfg.bias_depth,):
            raise ValueError(f"bias must have shape {(cfg.bias_depth,)}, not {self.bias.shape}")

    @classmethod
    def empty(cls, config: TileConfig) -> "CrossbarContents":
        return cls(config, np.zeros((config.arrays, config.rows, config.cols), np.int64),
                   np.zeros(config.bias_depth, np.int64))


def _fits(values: np.ndarray, bits: int) -> bool:
    return values.size == 0 or (int(values.min()) >= -(1 << (bits - 1)) and int(values.max()) < 1 << (bits - 1))


def place_layers(config: TileConfig, layers: Sequence[LayerPlacement], *, source: str | None = None) -> CrossbarContents:
    """Write each layer's codes and bias into the arrays it occupies.

    Raises :class:`CimqInputError` if a layer does not fit the tile, two layers
    share an array, a code does not fit ``code_bits`` (variation beyond the
    head-room) or a bias does not fit ``acc_bits``.
    """
    arch = config.arch
    codes = np.zeros((config.arrays, config.rows, config.cols), np.int64)
    bias = np.zeros(config.bias_depth, np.int64)
    owner: dict[int, str] = {}
    opa = config.outputs_per_array
    for layer in layers:
        xb = layer.crossbar
        if xb.arch != arch:
            raise CimqInputError(f"layer {layer.name}: programmed for another architecture", source=source)
        geo = layer.geometry
        config.check_geometry(geo, what=f"layer {layer.name}", source=source)
        for p in config.arrays_used(geo):
            if p in owner:
                raise CimqInputError(f"layer {layer.name}: array {p} is already used by layer {owner[p]}", source=source)
            owner[p] = layer.name
        layer_codes = xb.codes.cpu().numpy()
        if not _fits(layer_codes, config.code_bits):
            raise CimqInputError(
                f"layer {layer.name}: conductance codes {int(layer_codes.min())}..{int(layer_codes.max())} do not fit "
                f"{config.code_bits}-bit signed codes (variation beyond two level steps)", source=source)
        for t in range(config.col_tiles(geo)):
            for r in range(config.row_chunks(geo)):
                block = xb.array_codes(r, t)
                codes[config.array_index(geo, r, t), : block.shape[0], : block.shape[1]] = block
        b = np.zeros(geo.out_len, np.int64) if layer.bias is None else np.asarray(layer.bias, dtype=np.int64).reshape(-1)
        if b.shape != (geo.out_len,):
            raise CimqInputError(f"layer {layer.name}: {b.size} bias codes for {geo.out_len} outputs", source=source)
        if not _fits(b, arch.acc_bits):
            raise CimqInputError(f"layer {layer.name}: bias codes do not fit the {arch.acc_bits}-bit accumulator",
                                 source=source)
        start = geo.array_base * opa
        bias[start : start + geo.out_len] = b
    return CrossbarContents(config, codes, bias)


def _hex_lines(values: np.ndarray, bits: int) -> str:
    digits = -(-bits // 4)
    mask = (1 << bits) - 1
    return "".join(f"{int(v) & mask:0{digits}x}\n" for v in values.reshape(-1))


def codes_hex(contents: CrossbarContents) -> str:
    """``crossbar_codes.hex`` text."""
    return _hex_lines(contents.codes, contents.config.code_bits)


def bias_hex(contents: CrossbarContents) -> str:
    """``bias.hex`` text."""
    return _hex_lines(contents.bias, contents.config.arch.acc_bits)


def read_hex(text: str, bits: int) -> np.ndarray:
    """Parse a hex file written above back to signed int64 values."""
    vals = np.array([int(line, 16) for line in text.split()], dtype=np.int64)
    return np.where(vals >= 1 << (bits - 1), vals - (1 << bits), vals)
