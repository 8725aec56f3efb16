"""The tile's synthesizable periphery: controller, buffers, accumulation, truncation, registers.

Everything of the tile except the analog crossbar, which is reached through
the ``xbar`` port (:func:`~cimq.hw.tile.crossbar_model.crossbar_signature`).
Two variants share one datapath: the proposed one (configurable
:class:`~cimq.hw.truncation.TruncationUnit`, window and mode from the active
layer context) and the conventional one (:class:`FixedTruncationUnit`, the
register map without WINDOW and CTRL.relu/round).
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from cimq.hw.regs.bank import RegisterBank
from cimq.hw.regs.definition import build_register_map
from cimq.hw.regs.wishbone import wishbone_signature
from cimq.hw.tile.accumulate import OffsetBias, ShiftAdd
from cimq.hw.tile.config import TileConfig
from cimq.hw.tile.crossbar_model import crossbar_signature
from cimq.hw.tile.input_buffer import InputBuffer
from cimq.hw.truncation import FixedTruncationUnit, TruncationUnit
from cimq.hw.verilog import FixedWindow

__all__ = ["tile_output_layout", "TilePeriphery"]


def tile_output_layout(out_bits: int) -> data.StructLayout:
    """Output payload: ``data`` (bits ``[out_bits-1:0]``), ``saturated`` (bit
    ``out_bits``), ``last`` (bit ``out_bits+1``: the vector's last output)."""
    return data.StructLayout({"data": unsigned(out_bits), "saturated": unsigned(1), "last": unsigned(1)})


class TilePeriphery(wiring.Component):
    """The tile minus the crossbar.

    Protocol: program the register bank over ``bus`` (Wishbone classic, see
    :mod:`cimq.hw.regs.wishbone`), e.g. by replaying a register image. A
    vector starts when the active context is enabled and ``i_stream.valid``
    is high while the tile is idle: that cycle samples the context (geometry,
    mode, window) and accepts nothing; the next ``in_len`` transfers on
    ``i_stream`` are the input codes (row 0 first; two's complement bits when
    ``signed_input``). While the active context is disabled the tile accepts
    nothing. Then ``out_len`` results leave on ``o_stream`` in output order,
    the last one flagged ``last``; a new vector is accepted once the last
    result has left ``o_stream`` (``status.busy`` covers the whole vector, since
    the truncation unit reads its window from the active context). Change ACTIVE or a context
    only while ``status.busy`` is 0 and no input is presented.

    Schedule per output ``n`` (column tile ``t = n // outputs_per_array``):
    planes MSB first, row chunks inside, one ADC step per cycle, so an output
    takes ``planes * row_chunks`` steps plus 6 cycles (bias/offset, pipeline,
    result); the first result is valid ``planes * row_chunks + 7`` cycles after
    the last input transfer, the next ones every ``planes * row_chunks + 6``
    cycles (with ``o_stream.ready`` high).

    Parameters
    ----------
    config : TileConfig
    conventional : FixedWindow or None
        ``None``: the proposed tile. A window: the conventional tile with that
        wired truncation window.

    Attributes
    ----------
    i_stream : In(stream.Signature(unsigned(act_bits)))
    o_stream : Out(stream.Signature(tile_output_layout(out_bits)))
    bus : In(wishbone_signature(addr_width of the register map))
    xbar : Out(crossbar_signature(config))
    """

    def __init__(self, config: TileConfig, *, conventional: FixedWindow | None = None) -> None:
        if not isinstance(config, TileConfig):
            raise TypeError(f"Config must be a TileConfig, not {config!r}")
        if conventional is not None:
            if not isinstance(conventional, FixedWindow):
                raise TypeError(f"Conventional window must be a FixedWindow or None, not {conventional!r}")
            conventional.check_against(config.arch)
        self._config = config
        self._conventional = conventional
        self._regmap = build_register_map(config.arch, window=conventional is None)
        a = config.arch
        super().__init__({
            "i_stream": In(stream.Signature(unsigned(a.act_bits))),
            "o_stream": Out(stream.Signature(tile_output_layout(a.out_bits))),
            "bus": In(wishbone_signature(self._regmap.addr_width)),
            "xbar": Out(crossbar_signature(config)),
        })

    @property
    def config(self) -> TileConfig:
        return self._config

    @property
    def conventional(self) -> FixedWindow | None:
        return self._conventional

    @property
    def regmap(self):
        return self._regmap

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self._config
        a = cfg.arch
        opa = cfg.outputs_per_array
        m.submodules.bank = bank = RegisterBank(self._regmap)
        m.submodules.inbuf = inbuf = InputBuffer(cfg)
        m.submodules.shift_add = sa = ShiftAdd(cfg)
        m.submodules.offset_bias = ob = OffsetBias(cfg)
        if self._conventional is None:
            # The bank holds the active context's window: no second copy in the unit.
            trunc = TruncationUnit(a.acc_bits, a.out_bits, pipeline=True, held_config=True)
        else:
            w = self._conventional
            trunc = FixedTruncationUnit(a.acc_bits, a.out_bits, drop_low=w.drop_low, relu=w.relu,
                                        rounding=w.rounding, pipeline=True)
        m.submodules.trunc = trunc
        wiring.connect(m, wiring.flipped(self.bus), bank.bus)
        ctx = bank.ctx

        in_len = Signal.like(ctx.in_len)
        out_len = Signal.like(ctx.out_len)
        signed_input = Signal()
        load_addr = Signal(range(max(2, cfg.max_in_len)))
        load_row = Signal(range(max(2, a.xbar_rows)))
        load_chunk = Signal(range(max(2, cfg.chunks)))
        chunks = Signal(range(cfg.chunks + 1))
        last_rows = Signal(range(a.xbar_rows + 1))
        n = Signal.like(ctx.out_len)
        j = Signal(range(max(2, opa)))
        tile_base = Signal(range(max(2, cfg.arrays + 1)))
        bias_ptr = Signal(range(max(2, cfg.bias_depth + 1)))
        b = Signal(range(max(2, a.planes)))
        r = Signal(range(max(2, cfg.chunks)))
        step, step_first, step_last = Signal(), Signal(), Signal()
        s1_valid, s1_first, s1_last = Signal(), Signal(), Signal()
        array = Signal.like(self.xbar.array)
        emitted_all = Signal()  # every output of the vector is inside the truncation unit
        pending = Signal(range(4))  # outputs inside the truncation unit (at most 2 stages)
        accepted = trunc.i_stream.valid & trunc.i_stream.ready
        delivered = self.o_stream.valid & self.o_stream.ready
        m.d.sync += pending.eq(pending + accepted - delivered)
        if self._conventional is None:
            # The window is sampled with the geometry when a vector starts: a
            # register here keeps the context mux out of the shifter's path.
            window = [Signal.like(trunc.cfg_drop_low, name="win_drop_low"), Signal(name="win_relu"),
                      Signal(name="win_round")]
            m.d.comb += [trunc.cfg_drop_low.eq(window[0]), trunc.cfg_relu.eq(window[1]),
                         trunc.cfg_round.eq(window[2])]

        m.d.comb += [
            inbuf.w_chunk.eq(load_chunk), inbuf.w_row.eq(load_row), inbuf.w_data.eq(self.i_stream.payload),
            inbuf.chunk.eq(r), inbuf.plane_index.eq(b), inbuf.signed_input.eq(signed_input),
            inbuf.valid_rows.eq(Mux(r == chunks - 1, last_rows, a.xbar_rows)),
            self.xbar.plane.eq(inbuf.plane), self.xbar.array.eq(array), self.xbar.bias_addr.eq(bias_ptr),
            sa.counts.eq(self.xbar.counts.word_select(j, a.slices * a.adc_bits)),
            sa.valid.eq(s1_valid), sa.first.eq(s1_first), sa.last.eq(s1_last), sa.subtract.eq(inbuf.subtract),
            ob.x_data.eq(self.i_stream.payload), ob.signed_input.eq(signed_input),
            ob.bias.eq(self.xbar.bias), ob.acc.eq(sa.acc),
            trunc.i_stream.payload.eq(ob.result),
            self.o_stream.valid.eq(trunc.o_stream.valid), trunc.o_stream.ready.eq(self.o_stream.ready),
            self.o_stream.payload.data.eq(trunc.o_stream.payload.data),
            self.o_stream.payload.saturated.eq(trunc.o_stream.payload.saturated),
            self.o_stream.payload.last.eq(emitted_all & (pending == 1)),
            bank.status.saturated_set.eq(self.o_stream.valid & self.o_stream.ready
                                         & self.o_stream.payload.saturated),
        ]
        m.d.sync += [s1_valid.eq(step), s1_first.eq(step_first), s1_last.eq(step_last), array.eq(tile_base + r)]

        with m.FSM():
            with m.State("IDLE"):
                with m.If(ctx.enable & self.i_stream.valid):
                    m.d.sync += [in_len.eq(ctx.in_len), out_len.eq(ctx.out_len), signed_input.eq(ctx.signed_input),
                                 tile_base.eq(ctx.array_base), bias_ptr.eq(ctx.array_base * opa),
                                 load_addr.eq(0), load_row.eq(0), load_chunk.eq(0)]
                    m.d.comb += ob.x_clear.eq(1)
                    if self._conventional is None:
                        m.d.sync += [window[0].eq(ctx.drop_low), window[1].eq(ctx.relu), window[2].eq(ctx.round)]
                    m.next = "LOAD"
            with m.State("LOAD"):
                m.d.comb += [bank.status.busy.eq(1), self.i_stream.ready.eq(1)]
                with m.If(self.i_stream.valid):
                    m.d.comb += [inbuf.w_en.eq(1), ob.x_valid.eq(1)]
                    m.d.sync += load_addr.eq(load_addr + 1)
                    with m.If(load_row == a.xbar_rows - 1):
                        m.d.sync += [load_row.eq(0), load_chunk.eq(load_chunk + 1)]
                    with m.Else():
                        m.d.sync += load_row.eq(load_row + 1)
                    with m.If(load_addr == in_len - 1):
                        m.d.sync += [chunks.eq(load_chunk + 1), last_rows.eq(load_row + 1), n.eq(0), j.eq(0)]
                        m.next = "PREP"
            with m.State("PREP"):
                m.d.comb += [bank.status.busy.eq(1), ob.corr_load.eq(1), sa.clear.eq(1)]
                m.d.sync += [b.eq(a.planes - 1), r.eq(0)]
                m.next = "RUN"
            with m.State("RUN"):
                m.d.comb += [bank.status.busy.eq(1), step.eq(1), step_first.eq(r == 0),
                             step_last.eq((b == 0) & (r == chunks - 1))]
                with m.If(r == chunks - 1):
                    m.d.sync += [r.eq(0), b.eq(b - 1)]
                    with m.If(b == 0):
                        m.next = "WAIT"
                with m.Else():
                    m.d.sync += r.eq(r + 1)
            with m.State("WAIT"):
                m.d.comb += bank.status.busy.eq(1)
                with m.If(sa.done):
                    m.d.comb += ob.result_load.eq(1)
                    m.next = "EMIT"
            with m.State("EMIT"):
                m.d.comb += [bank.status.busy.eq(1), trunc.i_stream.valid.eq(1)]
                with m.If(trunc.i_stream.ready):
                    m.d.sync += [n.eq(n + 1), bias_ptr.eq(bias_ptr + 1)]
                    with m.If(j == opa - 1):
                        m.d.sync += [j.eq(0), tile_base.eq(tile_base + chunks)]
                    with m.Else():
                        m.d.sync += j.eq(j + 1)
                    with m.If(n == out_len - 1):
                        m.d.sync += emitted_all.eq(1)
                        m.next = "DRAIN"
                    with m.Else():
                        m.next = "PREP"
            with m.State("DRAIN"):
                # The window (the active context) must hold until the last
                # output has left; ``last`` marks it.
                m.d.comb += bank.status.busy.eq(1)
                with m.If((pending == 1) & delivered):
                    m.d.sync += emitted_all.eq(0)
                    m.next = "IDLE"
        return m

