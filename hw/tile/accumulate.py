"""Digital accumulation of the tile: shift-and-add, offset correction and bias."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from cimq.cim import offset_correction, plane_slice_shift
from cimq.hw.tile.config import TileConfig

__all__ = ["ShiftAdd", "OffsetBias"]


def _check(config: object) -> None:
    if not isinstance(config, TileConfig):
        raise TypeError(f"Config must be a TileConfig, not {config!r}")


class ShiftAdd(wiring.Component):
    """Shift-and-add of one output over slices, planes (MSB plane first) and arrays.

    Each ``valid`` step brings the ``slices`` ADC counts of one output for one
    (plane, array); they are registered (stage R), then the slices combine as ``v = sum_s count_s << shift(0, s)``
    (:func:`cimq.cim.plane_slice_shift`), registered (stage A); then (stage B)
    ``acc <= (first ? acc << dac_bits : acc) + (subtract ? -v : v)``. Feeding
    planes from the MSB down with ``first`` on the first array of each plane is
    Horner's scheme for ``sum_b sign_b * 2**(dac_bits*b) * v_b`` without a
    barrel shifter (stage B). ``acc`` is ``acc_bits`` wide two's complement (modular:
    exact whenever the final value fits). ``clear`` zeroes ``acc`` and ``done``
    (and drops a step in stage A); ``done`` rises after the step tagged ``last``
    has been added. Latency: three cycles from a step to ``acc``.

    Attributes
    ----------
    counts : In(slices * adc_bits); valid, first, last, subtract, clear : In(1)
    acc : Out(signed(acc_bits)); done : Out(1)
    """

    def __init__(self, config: TileConfig) -> None:
        _check(config)
        self._config = config
        a = config.arch
        super().__init__({
            "counts": In(a.slices * a.adc_bits),
            "valid": In(1), "first": In(1), "last": In(1), "subtract": In(1), "clear": In(1),
            "acc": Out(signed(a.acc_bits)),
            "done": Out(1),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self._config
        a = cfg.arch
        # stage R: register the counts (the crossbar's outputs arrive through a column mux)
        counts = Signal.like(self.counts)
        r_valid, r_first, r_last, r_sub = Signal(), Signal(), Signal(), Signal()
        m.d.sync += [counts.eq(self.counts), r_first.eq(self.first), r_last.eq(self.last), r_sub.eq(self.subtract),
                     r_valid.eq(self.valid & ~self.clear)]
        # stage A: combine the slices
        total = sum(counts[s * a.adc_bits:(s + 1) * a.adc_bits] << plane_slice_shift(0, s, a)
                    for s in range(a.slices))
        v = Signal(cfg.slice_sum_bits)
        a_valid, a_first, a_last, a_sub = Signal(), Signal(), Signal(), Signal()
        m.d.sync += [v.eq(total), a_first.eq(r_first), a_last.eq(r_last), a_sub.eq(r_sub),
                     a_valid.eq(r_valid & ~self.clear)]
        base = Mux(a_first, Cat(Signal(a.dac_bits), self.acc).as_signed(), self.acc)
        term = Mux(a_sub, -v, v)
        with m.If(self.clear):
            m.d.sync += [self.acc.eq(0), self.done.eq(0)]
        with m.Elif(a_valid):
            m.d.sync += self.acc.eq((base + term)[:a.acc_bits].as_signed())
            with m.If(a_last):
                m.d.sync += self.done.eq(1)
        return m


class OffsetBias(wiring.Component):
    """Input sum, offset correction and bias: ``result = acc - 2**(WL-1)*sum(x) + bias``.

    ``x_sum`` accumulates every ``x_valid`` code (two's complement when
    ``signed_input``) and restarts at ``x_clear``. ``corr_load`` registers
    ``corr = bias - offset_correction(x_sum)`` (:func:`cimq.cim.offset_correction`);
    ``result_load`` registers ``result = acc + corr``. Both are ``acc_bits``
    two's complement (modular, like the accumulator).

    Attributes
    ----------
    x_valid, x_clear, signed_input : In(1); x_data : In(act_bits)
    bias : In(signed(acc_bits)); acc : In(signed(acc_bits)); corr_load, result_load : In(1)
    result : Out(signed(acc_bits))
    """

    def __init__(self, config: TileConfig) -> None:
        _check(config)
        self._config = config
        a = config.arch
        super().__init__({
            "x_valid": In(1), "x_clear": In(1), "signed_input": In(1), "x_data": In(a.act_bits),
            "bias": In(signed(a.acc_bits)), "acc": In(signed(a.acc_bits)),
            "corr_load": In(1), "result_load": In(1),
            "result": Out(signed(a.acc_bits)),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self._config
        a = cfg.arch
        x_sum = Signal(signed(cfg.x_sum_bits))
        corr = Signal(signed(a.acc_bits))
        scale = int(offset_correction(1, a))  # the contract's 2**(WL-1), a power of two: a shift
        shift = scale.bit_length() - 1
        assert scale == 1 << shift
        x = Mux(self.signed_input, self.x_data.as_signed(), self.x_data)
        with m.If(self.x_clear):
            m.d.sync += x_sum.eq(0)
        with m.Elif(self.x_valid):
            m.d.sync += x_sum.eq(x_sum + x)
        with m.If(self.corr_load):
            m.d.sync += corr.eq((self.bias - (x_sum << shift))[:a.acc_bits].as_signed())
        with m.If(self.result_load):
            m.d.sync += self.result.eq((self.acc + corr)[:a.acc_bits].as_signed())
        return m
