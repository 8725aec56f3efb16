"""Input buffer and bit-serial DAC driver of the tile."""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from cimq.hw.tile.config import TileConfig

__all__ = ["InputBuffer"]


class InputBuffer(wiring.Component):
    """Holds one input vector and drives one row chunk's plane at a time.

    Codes are written one per cycle (``w_en``/``w_chunk``/``w_row``/``w_data``:
    layer row ``w_chunk * xbar_rows + w_row``). On every clock edge the DAC
    register loads plane
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
    w_en : In(1); w_chunk : In(range(chunks)); w_row : In(range(xbar_rows)); w_data : In(act_bits)

    The buffer is a memory of one word per row chunk (``xbar_rows`` codes,
    written one code at a time through byte-lane enables, read a whole chunk
    per cycle), so it maps to RAM and its Verilog stays small for any depth.
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
            "w_chunk": In(range(max(2, config.chunks))),
            "w_row": In(range(max(2, config.arch.xbar_rows))),
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
        m.submodules.mem = mem = Memory(shape=unsigned(rows * a.act_bits), depth=cfg.chunks, init=[])
        wr = mem.write_port(granularity=a.act_bits)
        rd = mem.read_port(domain="comb")
        m.d.comb += [
            wr.addr.eq(self.w_chunk),
            wr.data.eq(self.w_data.replicate(rows)),
            wr.en.eq(Mux(self.w_en, 1 << self.w_row, 0)),
            rd.addr.eq(self.chunk),
        ]
        # Asynchronous read, registered plane: only xbar_rows * dac_bits
        # flip-flops after the memory, one cycle from the selects to ``plane``.
        for k in range(rows):
            code = rd.data[k * a.act_bits:(k + 1) * a.act_bits]
            bits = code.bit_select(self.plane_index * dac, dac)
            m.d.sync += self.plane[k * dac:(k + 1) * dac].eq(Mux(self.valid_rows > k, bits, 0))
        m.d.sync += self.subtract.eq(self.signed_input & (self.plane_index == a.planes - 1))
        return m
