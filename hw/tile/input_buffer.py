"""Input buffer and bit-serial DAC driver of the tile."""

from __future__ import annotations

from amaranth.hdl import Array, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from cimq.hw.tile.config import TileConfig

__all__ = ["InputBuffer"]


class InputBuffer(wiring.Component):
    """Holds one input vector and drives one row chunk's plane at a time.

    Codes are written one per cycle (``w_en``/``w_addr``/``w_data``, row
    ``w_addr`` of the layer). On every clock edge the DAC register loads plane
    ``plane_index`` (LSB plane 0; ``dac_bits`` bits per row) of row chunk
    ``chunk`` (buffer rows ``chunk*xbar_rows ...``): row ``k`` of ``plane``
    gets ``(x[chunk*xbar_rows + k] >> dac_bits*plane_index) & (2**dac_bits-1)``
    for ``k < valid_rows`` and 0 beyond (a ragged last chunk), and
    ``subtract`` is set for the MSB plane of two's complement inputs
    (:func:`cimq.cim.plane_sign` is -1). One cycle from the select inputs to
    ``plane``/``subtract``.

    Parameters
    ----------
    config : TileConfig
        Buffer depth ``max_in_len``, ``xbar_rows``, ``act_bits``, ``dac_bits``.

    Attributes
    ----------
    w_en : In(1); w_addr : In(range(max_in_len)); w_data : In(act_bits)
    chunk : In(range(chunks)); plane_index : In(range(planes));
    valid_rows : In(range(xbar_rows + 1)); signed_input : In(1)
    plane : Out(xbar_rows * dac_bits); subtract : Out(1)
    """

    def __init__(self, config: TileConfig) -> None:
        if not isinstance(config, TileConfig):
            raise TypeError(f"Config must be a TileConfig, not {config!r}")
        self._config = config
        a = config.arch
        super().__init__({
            "w_en": In(1),
            "w_addr": In(range(max(2, config.max_in_len))),
            "w_data": In(a.act_bits),
            "chunk": In(range(max(2, config.chunks))),
            "plane_index": In(range(max(2, a.planes))),
            "valid_rows": In(range(a.xbar_rows + 1)),
            "signed_input": In(1),
            "plane": Out(a.xbar_rows * a.dac_bits),
            "subtract": Out(1),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self._config
        a = cfg.arch
        rows, dac = a.xbar_rows, a.dac_bits
        buf = [Signal(a.act_bits, name=f"x{i}") for i in range(cfg.max_in_len)]
        with m.If(self.w_en):
            m.d.sync += Array(buf)[self.w_addr].eq(self.w_data)
        for k in range(rows):
            entries = [buf[ch * rows + k] if ch * rows + k < cfg.max_in_len else Const(0, a.act_bits)
                       for ch in range(cfg.chunks)]
            code = Array(entries)[self.chunk] if len(entries) > 1 else entries[0]
            bits = code.bit_select(self.plane_index * dac, dac)
            m.d.sync += self.plane[k * dac:(k + 1) * dac].eq(Mux(self.valid_rows > k, bits, 0))
        m.d.sync += self.subtract.eq(self.signed_input & (self.plane_index == a.planes - 1))
        return m
