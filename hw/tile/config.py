"""Elaboration-time shape of a tile: the architecture plus how many arrays it has.

:class:`TileConfig` derives every width the tile's components need from one
:class:`~cimq.arch.ArchConfig`, so the periphery, the behavioral crossbar, the
hex files and the tests agree on them. It also places a layer on the physical
arrays (:meth:`TileConfig.array_index`) and checks a layer's geometry against
the tile (:meth:`TileConfig.check_geometry`).

Array placement of a layer with ``R = ceil(in_len / xbar_rows)`` row chunks and
``T = ceil(out_len / outputs_per_array)`` column tiles: chunk ``r`` of column
tile ``t`` sits in physical array ``array_base + t * R + r``; the bias of
output ``n`` sits at bias address ``array_base * outputs_per_array + n``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.hw.regs.definition import MAX_ARRAYS, geometry_limits
from cimq.hw.regs.layer import LayerGeometry

__all__ = ["TileConfig", "code_bits", "signed_bits"]


def signed_bits(lo: int, hi: int) -> int:
    """Two's complement width holding every integer in ``lo..hi``."""
    return max(max(hi, 0).bit_length(), max(-lo - 1, 0).bit_length()) + 1


def code_bits(arch: ArchConfig) -> int:
    """Width of one signed conductance code.

    Codes lie within two level steps of the level range (the head-room
    :class:`ArchConfig` reserves for variation): ``|g| <= (2**cell_bits + 1) * 2**GF``.
    """
    bound = ((1 << arch.cell_bits) + 1) << arch.g_frac_bits
    return signed_bits(-bound, bound)


@dataclass(frozen=True)
class TileConfig:
    """A tile: ``arch`` plus ``arrays`` physical crossbar arrays.

    Parameters
    ----------
    arch:
        The architecture (widths, array size).
    arrays:
        Physical arrays in the crossbar (1..MAX_ARRAYS).
    max_in_len:
        Depth of the input buffer (longest input vector); defaults to
        ``arrays * xbar_rows``.
    """

    arch: ArchConfig
    arrays: int = 2
    max_in_len: int | None = None

    def __post_init__(self) -> None:
        arch = self.arch
        if not isinstance(arch, ArchConfig):
            raise TypeError(f"Architecture must be an ArchConfig, not {arch!r}")
        if not isinstance(self.arrays, int) or isinstance(self.arrays, bool) or not 1 <= self.arrays <= MAX_ARRAYS:
            raise ValueError(f"Array count must be an integer in 1..{MAX_ARRAYS}, not {self.arrays!r}")
        if arch.xbar_cols % arch.slices:
            raise ValueError(
                f"xbar_cols {arch.xbar_cols} is not a multiple of the {arch.slices} slices per weight"
            )
        limit = min(self.arrays * arch.xbar_rows, geometry_limits(arch)[0])
        if self.max_in_len is None:
            object.__setattr__(self, "max_in_len", limit)
        elif not isinstance(self.max_in_len, int) or isinstance(self.max_in_len, bool) \
                or not 1 <= self.max_in_len <= limit:
            raise ValueError(f"Input buffer depth must be an integer in 1..{limit}, not {self.max_in_len!r}")

    # ---------------------------------------------------------------- widths
    @property
    def rows(self) -> int:
        return self.arch.xbar_rows

    @property
    def cols(self) -> int:
        return self.arch.xbar_cols

    @property
    def outputs_per_array(self) -> int:
        """Outputs (weights) one array's columns hold: ``xbar_cols / slices``."""
        return self.arch.xbar_cols // self.arch.slices

    @property
    def chunks(self) -> int:
        """Row chunks the input buffer can hold."""
        return math.ceil(self.max_in_len / self.rows)

    @property
    def code_bits(self) -> int:
        return code_bits(self.arch)

    @property
    def bias_depth(self) -> int:
        return self.arrays * self.outputs_per_array

    @property
    def x_sum_bits(self) -> int:
        """Signed width of the sum of one vector's inputs (signed or unsigned codes)."""
        a = self.arch.act_bits
        return signed_bits(-self.max_in_len << (a - 1), self.max_in_len * ((1 << a) - 1))

    @property
    def slice_sum_bits(self) -> int:
        """Width of ``sum_s count_s << (cell_bits * s)`` of one output."""
        a = self.arch
        top = sum(((1 << a.adc_bits) - 1) << (a.cell_bits * s) for s in range(a.slices))
        return top.bit_length()

    # ---------------------------------------------------------------- placement
    def array_index(self, geometry: LayerGeometry, chunk: int, tile: int) -> int:
        """Physical array of a layer's row chunk ``chunk`` in column tile ``tile``."""
        return geometry.array_base + tile * self.row_chunks(geometry) + chunk

    def row_chunks(self, geometry: LayerGeometry) -> int:
        return math.ceil(geometry.in_len / self.rows)

    def col_tiles(self, geometry: LayerGeometry) -> int:
        return math.ceil(geometry.out_len / self.outputs_per_array)

    def arrays_used(self, geometry: LayerGeometry) -> range:
        """Physical arrays a layer occupies."""
        n = self.row_chunks(geometry) * self.col_tiles(geometry)
        return range(geometry.array_base, geometry.array_base + n)

    def check_geometry(self, geometry: LayerGeometry, *, what: str = "layer", source: str | None = None) -> None:
        """Raise :class:`CimqInputError` when a layer does not fit the tile."""
        if geometry.in_len > self.max_in_len:
            raise CimqInputError(
                f"{what}: in_len {geometry.in_len} exceeds the input buffer depth {self.max_in_len}", source=source)
        used = self.arrays_used(geometry)
        if used.stop > self.arrays:
            raise CimqInputError(
                f"{what}: needs arrays {used.start}..{used.stop - 1}, but the tile has arrays 0..{self.arrays - 1}",
                source=source)
