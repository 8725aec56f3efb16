"""Truncation units: keep an ``out_bits`` window of a signed accumulator.

The proposed CIM hardware holds the window position (``drop_low``) and the
mode bits (ReLU, rounding) in per-layer registers and selects the window with a
shifter; the conventional hardware wires one fixed window. Both compute exactly
:func:`cimq.fixed.truncate` (tests check them against it), and both share one
stream interface so they can be swapped and compared for area.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from cimq.fixed import Rounding, output_range

__all__ = ["output_layout", "TruncationUnit", "FixedTruncationUnit"]


def output_layout(out_bits: int) -> data.StructLayout:
    """Output payload: the kept window (raw bits) and a saturation flag.

    ``data`` is unsigned after ReLU and two's complement otherwise; in Verilog
    the payload is one vector, ``data`` in bits ``[out_bits-1:0]`` and
    ``saturated`` in bit ``out_bits``.
    """
    return data.StructLayout({"data": unsigned(out_bits), "saturated": unsigned(1)})


def _check_widths(acc_bits: object, out_bits: object, pipeline: object) -> None:
    if not isinstance(acc_bits, int) or isinstance(acc_bits, bool) or acc_bits <= 0:
        raise TypeError(f"Accumulator width must be a positive integer, not {acc_bits!r}")
    if not isinstance(out_bits, int) or isinstance(out_bits, bool) or out_bits < 2:
        raise TypeError(f"Output width must be an integer of at least 2, not {out_bits!r}")
    if out_bits > acc_bits:
        raise ValueError(f"Output width {out_bits} exceeds accumulator width {acc_bits}")
    if not isinstance(pipeline, bool):
        raise TypeError(f"Pipeline option must be a bool, not {pipeline!r}")


def _shift(acc: Value, *, drop_low: int | Value, half_up: bool | Value) -> tuple[Value, Value]:
    """``floor(2*acc / 2**drop_low)`` and the half-up bump (see :func:`_shift_round`)."""
    doubled = Cat(Const(0, 1), acc).as_signed()  # 2*acc, acc_bits+1 bits
    if isinstance(drop_low, int):
        scaled = doubled.shift_right(drop_low)
        bump = half_up if drop_low > 0 else False
    else:
        scaled = doubled >> drop_low  # arithmetic: doubled is signed
        bump = half_up & (drop_low != 0)
    if isinstance(bump, bool):
        bump = Const(int(bump), 1)
    return scaled, bump


def _shift_round(m: Module, acc: Value, *, drop_low: int | Value, half_up: bool | Value) -> Value:
    """``floor(acc / 2**drop_low)``, rounded half up when asked; Python constants
    give the fixed (shifter-free) variant.

    ``floor((acc + 2**(d-1)) / 2**d) == floor((floor(2*acc / 2**d) + 1) / 2)``,
    so the half-up bias becomes a +1 before a final 1-bit shift: one shifter and
    an incrementer on an intermediate two bits wider than ``acc`` (no overflow).
    """
    scaled, bump = _shift(acc, drop_low=drop_low, half_up=half_up)
    rounded = Signal(signed(len(acc) + 1))  # floor(acc / 2**d), rounded; cannot overflow
    m.d.comb += rounded.eq((scaled + bump).as_signed().shift_right(1))
    return rounded


@dataclass(frozen=True)
class _Compact:
    """The shifted accumulator in ``out_bits + 3`` bits, for the pipeline register.

    Saturation only needs the value exactly while it lies within a few bits of
    the output range; beyond that its sign suffices. ``low`` holds the low bits,
    ``fits`` says they are the whole value (the bits above are sign extension),
    ``sign`` is the value's sign. :meth:`expand` gives the exact value when it
    fits and a value of the right sign beyond the output range otherwise, so
    the register is ``out_bits + 5`` bits instead of ``acc_bits + 1``.
    """

    low: Value
    fits: Value
    sign: Value

    @classmethod
    def of(cls, m: Module, scaled: Value, out_bits: int) -> "_Compact":
        width = min(out_bits + 3, len(scaled))
        upper = scaled[width - 1 :]
        fits = Signal()
        m.d.comb += fits.eq(upper.all() | ~upper.any())
        return cls(scaled[:width], fits, scaled[-1])

    @property
    def width(self) -> int:
        return len(self.low)

    def signals(self) -> dict[str, Value]:
        return {"low": self.low, "fits": self.fits, "sign": self.sign}

    def expand(self) -> Value:
        w = self.width
        beyond = Mux(self.sign, Const(-(1 << (w - 1)), signed(w)), Const((1 << (w - 1)) - 1, signed(w)))
        return Mux(self.fits, self.low.as_signed(), beyond)


def _clip(rounded: Value, *, out_bits: int, relu: bool | Value) -> tuple[Value, Value]:
    """Saturate to the output range: unsigned after ReLU, signed otherwise."""

    def clip(is_relu: bool) -> tuple[Value, Value]:
        lo, hi = output_range(out_bits, is_relu)
        over = rounded > hi
        under = rounded < lo
        value = Mux(over, hi, Mux(under, lo, rounded))[:out_bits]
        # A negative value clipped to 0 by ReLU is ReLU, not saturation.
        return value, (over if is_relu else over | under)

    if isinstance(relu, bool):
        return clip(relu)
    relu_value, relu_sat = clip(True)
    signed_value, signed_sat = clip(False)
    return Mux(relu, relu_value, signed_value), Mux(relu, relu_sat, signed_sat)


class _TruncationBase(wiring.Component):
    """Stream plumbing shared by both variants (combinational or one register)."""

    def __init__(self, acc_bits: int, out_bits: int, pipeline: bool, members: dict) -> None:
        self._acc_bits = acc_bits
        self._out_bits = out_bits
        self._pipeline = pipeline
        super().__init__(
            {
                "i_stream": In(stream.Signature(signed(acc_bits))),
                "o_stream": Out(stream.Signature(output_layout(out_bits))),
                **members,
            }
        )

    @property
    def acc_bits(self) -> int:
        return self._acc_bits

    @property
    def out_bits(self) -> int:
        return self._out_bits

    @property
    def pipeline(self) -> bool:
        return self._pipeline

    @property
    def max_drop_low(self) -> int:
        return self._acc_bits - self._out_bits

    def _connect(self, m: Module, value: Value, saturated: Value) -> None:
        i, o = self.i_stream, self.o_stream
        if not self._pipeline:
            m.d.comb += [
                o.valid.eq(i.valid),
                i.ready.eq(o.ready),
                o.payload.data.eq(value),
                o.payload.saturated.eq(saturated),
            ]
            return
        m.d.comb += i.ready.eq(~o.valid | o.ready)
        with m.If(o.valid & o.ready):
            m.d.sync += o.valid.eq(0)
        with m.If(i.valid & i.ready):
            m.d.sync += [
                o.valid.eq(1),
                o.payload.data.eq(value),
                o.payload.saturated.eq(saturated),
            ]


class TruncationUnit(_TruncationBase):
    """Configurable truncation unit: the window is chosen at run time.

    Computes ``cimq.fixed.truncate(acc, drop_low=, out_bits=, relu=, rounding=)``
    for each accumulator on ``i_stream``, with ``drop_low``/``relu``/``round``
    taken from configuration registers inside the unit.

    Configuration protocol: drive ``cfg_drop_low``, ``cfg_relu``, ``cfg_round``
    and pulse ``cfg_we`` for one cycle; the registers load at that clock edge and
    apply to inputs accepted from the next cycle on. Reconfigure between vectors,
    while ``i_stream.valid`` is low (results already inside the pipeline keep
    the window they were computed with). A write whose ``cfg_drop_low`` exceeds
    ``acc_bits - out_bits`` is ignored as a whole and sets ``cfg_error`` until the
    next accepted write. After reset: ``drop_low = 0``, signed, floor.

    Parameters
    ----------
    acc_bits : int
        Accumulator width (signed input).
    out_bits : int
        Width of the kept window (at least 2, at most ``acc_bits``).
    pipeline : bool
        Two register stages, after the shifter and at the output (two cycles
        latency, full throughput; reaches 100 MHz on ECP5 speed grade 6);
        otherwise the datapath is combinational from ``i_stream`` to ``o_stream``.

    Attributes
    ----------
    i_stream : In(stream.Signature(signed(acc_bits)))
        Accumulators.
    o_stream : Out(stream.Signature(output_layout(out_bits)))
        ``data`` (unsigned when ReLU is on, signed otherwise) and ``saturated``.
    cfg_we : In(1)
        Load the three ``cfg_*`` values into the configuration registers.
    cfg_drop_low : In(range(acc_bits - out_bits + 1))
        Accumulator bits dropped below the window.
    cfg_relu : In(1)
        1: ReLU, unsigned output; 0: signed output.
    cfg_round : In(1)
        0: floor; 1: half up (adds ``2**(drop_low-1)`` before the shift).
    cfg_error : Out(1)
        The last configuration write was rejected (``drop_low`` out of range).

    With ``held_config=True`` the unit has no configuration registers, no
    ``cfg_we`` and no ``cfg_error``: ``cfg_drop_low``/``cfg_relu``/``cfg_round``
    are used as they are and must stay stable while data is inside the unit.
    The CIM tile uses this, because its register bank already holds the active
    layer's window; a second copy would only cost area.
    """

    def __init__(self, acc_bits: int, out_bits: int, *, pipeline: bool = True, held_config: bool = False) -> None:
        _check_widths(acc_bits, out_bits, pipeline)
        if not isinstance(held_config, bool):
            raise TypeError(f"Held-config option must be a bool, not {held_config!r}")
        max_drop_low = acc_bits - out_bits
        self._held_config = held_config
        ports = {
            "cfg_drop_low": In(range(max_drop_low + 1)),
            "cfg_relu": In(1),
            "cfg_round": In(1),
        }
        if not held_config:
            ports = {"cfg_we": In(1), **ports, "cfg_error": Out(1)}
        super().__init__(acc_bits, out_bits, pipeline, ports)

    @property
    def held_config(self) -> bool:
        return self._held_config

    def _config_registers(self, m: Module) -> tuple[Value, Value, Value]:
        drop_low = Signal(range(self.max_drop_low + 1))
        relu = Signal()
        half_up = Signal()
        with m.If(self.cfg_we):
            with m.If(self.cfg_drop_low > self.max_drop_low):
                m.d.sync += self.cfg_error.eq(1)
            with m.Else():
                m.d.sync += [
                    drop_low.eq(self.cfg_drop_low),
                    relu.eq(self.cfg_relu),
                    half_up.eq(self.cfg_round),
                    self.cfg_error.eq(0),
                ]
        return drop_low, relu, half_up

    def elaborate(self, platform: object) -> Module:
        m = Module()
        if self._held_config:
            drop_low, relu, half_up = self.cfg_drop_low, self.cfg_relu, self.cfg_round
        else:
            drop_low, relu, half_up = self._config_registers(m)
        if not self.pipeline:
            rounded = _shift_round(m, self.i_stream.payload, drop_low=drop_low, half_up=half_up)
            value, saturated = _clip(rounded, out_bits=self.out_bits, relu=relu)
            self._connect(m, value, saturated)
            return m
        # Two stages: the variable shifter and the saturation logic would not
        # both fit in one 10 ns cycle on an ECP5. The mode travels with the data.
        scaled, bump = _shift(self.i_stream.payload, drop_low=drop_low, half_up=half_up)
        compact = _Compact.of(m, scaled, self.out_bits)
        mid_valid = Signal()
        mid = {name: Signal.like(sig, name=f"mid_{name}") for name, sig in compact.signals().items()}
        mid_bump = Signal()
        mid_relu = Signal()
        out_ready = ~self.o_stream.valid | self.o_stream.ready
        mid_ready = ~mid_valid | out_ready
        m.d.comb += self.i_stream.ready.eq(mid_ready)
        with m.If(mid_ready):
            m.d.sync += mid_valid.eq(self.i_stream.valid)
            with m.If(self.i_stream.valid):
                m.d.sync += [mid[k].eq(v) for k, v in compact.signals().items()]
                m.d.sync += [mid_bump.eq(bump), mid_relu.eq(relu)]
        rounded = Signal(signed(compact.width))
        m.d.comb += rounded.eq((_Compact(**mid).expand() + mid_bump).as_signed().shift_right(1))
        value, saturated = _clip(rounded, out_bits=self.out_bits, relu=mid_relu)
        with m.If(out_ready):
            m.d.sync += self.o_stream.valid.eq(mid_valid)
            with m.If(mid_valid):
                m.d.sync += [
                    self.o_stream.payload.data.eq(value),
                    self.o_stream.payload.saturated.eq(saturated),
                ]
        return m




class FixedTruncationUnit(_TruncationBase):
    """Conventional truncation unit: one window wired at elaboration time.

    Same stream interface and arithmetic as :class:`TruncationUnit`, without
    configuration registers or a shifter; the area reference for the
    configurable unit.

    Parameters
    ----------
    acc_bits, out_bits, pipeline :
        As for :class:`TruncationUnit`.
    drop_low : int
        Accumulator bits dropped below the window, ``0..acc_bits-out_bits``.
    relu : bool
        Unsigned output with ReLU; signed otherwise.
    rounding : Rounding
        ``Rounding.FLOOR`` or ``Rounding.HALF_UP``.

    Attributes
    ----------
    i_stream, o_stream :
        As for :class:`TruncationUnit`.
    """

    def __init__(
        self,
        acc_bits: int,
        out_bits: int,
        *,
        drop_low: int,
        relu: bool = True,
        rounding: Rounding | str = Rounding.FLOOR,
        pipeline: bool = True,
    ) -> None:
        _check_widths(acc_bits, out_bits, pipeline)
        if not isinstance(drop_low, int) or isinstance(drop_low, bool) or drop_low < 0:
            raise TypeError(f"drop_low must be a non-negative integer, not {drop_low!r}")
        if drop_low > acc_bits - out_bits:
            raise ValueError(
                f"drop_low {drop_low} is outside 0..{acc_bits - out_bits} "
                f"(acc_bits {acc_bits} - out_bits {out_bits})"
            )
        if not isinstance(relu, bool):
            raise TypeError(f"ReLU option must be a bool, not {relu!r}")
        if rounding not in (Rounding.FLOOR, Rounding.HALF_UP):
            raise ValueError(f"Rounding must be 'floor' or 'half_up', not {rounding!r}")
        self._drop_low = drop_low
        self._relu = relu
        self._rounding = Rounding(rounding)
        super().__init__(acc_bits, out_bits, pipeline, {})

    @property
    def drop_low(self) -> int:
        return self._drop_low

    @property
    def relu(self) -> bool:
        return self._relu

    @property
    def rounding(self) -> Rounding:
        return self._rounding

    def elaborate(self, platform: object) -> Module:
        m = Module()
        rounded = _shift_round(
            m, self.i_stream.payload, drop_low=self._drop_low, half_up=self._rounding is Rounding.HALF_UP
        )
        value, saturated = _clip(rounded, out_bits=self.out_bits, relu=self._relu)
        self._connect(m, value, saturated)
        return m
