"""The behavioral crossbar: a SIMULATION MODEL of the analog arrays and their ADCs.

Not synthesizable periphery. The tile's digital periphery drives it through
the ``xbar`` port (:func:`crossbar_signature`); synthesis and the FPGA build
leave it out. Two implementations of the same function, one per simulator:

* :class:`CrossbarModel` (Amaranth, for Amaranth's simulator): the codes and
  biases of a :class:`~cimq.hw.tile.contents.CrossbarContents` are baked in
  as constants.
* :func:`crossbar_model_verilog`: behavioral Verilog ``cimq_crossbar_model``
  (Icarus, Verilator) whose memories are loaded with ``$readmemh`` from
  ``crossbar_codes.hex`` and ``bias.hex`` (names overridable with the plusargs
  ``+CIMQ_CODES_HEX=path`` and ``+CIMQ_BIAS_HEX=path``).

Both are combinational: for the addressed ``array`` and the driven ``plane``
(row ``k`` gets ``plane[k*dac_bits +: dac_bits]``), every column ``c`` gives
``adc_count(sum_k plane_k * g[array, k, c])`` (:func:`cimq.cim.adc_count`:
``clamp(floor((S + 2**(GF-1)) / 2**GF), 0, 2**adc_bits - 1)``) in
``counts[c*adc_bits +: adc_bits]``; ``bias`` is the bias code at ``bias_addr``.
"""

from __future__ import annotations

from amaranth.hdl import Array, Const, Instance, Module, Mux, Shape, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from cimq.hw.tile.config import TileConfig, signed_bits
from cimq.hw.tile.contents import CrossbarContents

__all__ = ["MODEL_MODULE", "crossbar_signature", "CrossbarModel", "CrossbarInstance", "crossbar_model_verilog",
           "column_sum_bits"]

#: Verilog module name of the behavioral crossbar.
MODEL_MODULE = "cimq_crossbar_model"


def crossbar_signature(config: TileConfig) -> wiring.Signature:
    """The periphery's side of the crossbar port.

    ``array`` (physical array), ``plane`` (``xbar_rows * dac_bits`` DAC bits),
    ``bias_addr`` out; ``counts`` (``xbar_cols * adc_bits``), ``bias`` (signed
    ``acc_bits``) in.
    """
    a = config.arch
    return wiring.Signature({
        "array": Out(range(max(2, config.arrays))),
        "plane": Out(a.xbar_rows * a.dac_bits),
        "bias_addr": Out(range(max(2, config.bias_depth))),
        "counts": In(a.xbar_cols * a.adc_bits),
        "bias": In(signed(a.acc_bits)),
    })


def column_sum_bits(config: TileConfig) -> int:
    """Signed width of one column sum ``sum_k plane_k * g``."""
    a = config.arch
    bound = (1 << (config.code_bits - 1)) * a.xbar_rows * ((1 << a.dac_bits) - 1)
    return signed_bits(-bound, bound)


class CrossbarModel(wiring.Component):
    """Amaranth behavioral crossbar holding ``contents`` (one chip's codes).

    Parameters
    ----------
    contents : CrossbarContents
        Codes and bias codes; its ``config`` fixes the port widths.

    Attributes
    ----------
    array, plane, bias_addr : In
        As :func:`crossbar_signature` (flipped).
    counts, bias : Out
        ADC counts of every column of ``array``; the bias code at ``bias_addr``.
    """

    def __init__(self, contents: CrossbarContents) -> None:
        if not isinstance(contents, CrossbarContents):
            raise TypeError(f"Contents must be CrossbarContents, not {contents!r}")
        self._contents = contents
        super().__init__(crossbar_signature(contents.config).flip())

    @property
    def contents(self) -> CrossbarContents:
        return self._contents

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self._contents.config
        a = cfg.arch
        dac = a.dac_bits
        sums = [Signal(signed(column_sum_bits(cfg)), name=f"sum{c}") for c in range(a.xbar_cols)]
        rows = [self.plane[k * dac:(k + 1) * dac] for k in range(a.xbar_rows)]
        with m.Switch(self.array):
            for p in range(cfg.arrays):
                with m.Case(p):
                    g = self._contents.codes[p]
                    for c in range(a.xbar_cols):
                        terms = [Mux(rows[k], int(g[k, c]), 0) if dac == 1 else rows[k] * int(g[k, c])
                                 for k in range(a.xbar_rows) if g[k, c]]
                        m.d.comb += sums[c].eq(sum(terms) if terms else 0)
        half = 1 << (a.g_frac_bits - 1) if a.g_frac_bits else 0
        top = (1 << a.adc_bits) - 1
        for c, s in enumerate(sums):
            rounded = Signal(signed(len(s) + 1), name=f"rounded{c}")
            m.d.comb += rounded.eq((s + half) >> a.g_frac_bits)
            m.d.comb += self.counts[c * a.adc_bits:(c + 1) * a.adc_bits].eq(
                Mux(rounded < 0, 0, Mux(rounded > top, top, rounded)))
        table = Array(Const(int(b), signed(a.acc_bits)) for b in self._contents.bias)
        m.d.comb += self.bias.eq(table[self.bias_addr])
        return m


class CrossbarInstance(wiring.Component):
    """The crossbar as an instance of the external Verilog module (for emission)."""

    def __init__(self, config: TileConfig) -> None:
        self._config = config
        super().__init__(crossbar_signature(config).flip())

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.model = Instance(
            MODEL_MODULE,
            ("i", "array", self.array), ("i", "plane", self.plane), ("i", "bias_addr", self.bias_addr),
            ("o", "counts", self.counts), ("o", "bias", self.bias),
        )
        return m


def crossbar_model_verilog(config: TileConfig) -> str:
    """Behavioral Verilog of ``cimq_crossbar_model`` for ``config`` (see module docstring)."""
    a = config.arch
    sig = crossbar_signature(config).members
    aw, bw = (Shape.cast(sig[name].shape).width for name in ("array", "bias_addr"))
    sw = column_sum_bits(config) + 1
    half = 1 << (a.g_frac_bits - 1) if a.g_frac_bits else 0
    return f"""// cimq behavioral crossbar: SIMULATION MODEL ONLY, not synthesizable periphery.
// {config.arrays} arrays of {a.xbar_rows}x{a.xbar_cols} cells, {config.code_bits}-bit signed conductance
// codes (units of 2^-{a.g_frac_bits} level step), dac_bits={a.dac_bits}, adc_bits={a.adc_bits}, acc_bits={a.acc_bits}.
// count[c] = clamp(floor((sum_k plane_k*g[array,k,c] + {half}) / 2^{a.g_frac_bits}), 0, {(1 << a.adc_bits) - 1})  (cimq.cim.adc_count)
// Memories: $readmemh from crossbar_codes.hex / bias.hex (or +CIMQ_CODES_HEX= / +CIMQ_BIAS_HEX=).
module {MODEL_MODULE}(array, plane, bias_addr, counts, bias);
  localparam ARRAYS = {config.arrays};
  localparam ROWS = {a.xbar_rows};
  localparam COLS = {a.xbar_cols};
  localparam DAC = {a.dac_bits};
  localparam ADC = {a.adc_bits};
  localparam CW = {config.code_bits};
  localparam ACC = {a.acc_bits};
  localparam GF = {a.g_frac_bits};
  localparam SW = {sw};
  localparam BIAS_DEPTH = {config.bias_depth};
  input wire [{aw - 1}:0] array;
  input wire [{a.xbar_rows * a.dac_bits - 1}:0] plane;
  input wire [{bw - 1}:0] bias_addr;
  output reg [{a.xbar_cols * a.adc_bits - 1}:0] counts;
  output reg [{a.acc_bits - 1}:0] bias;

  reg [CW-1:0] codes [0:ARRAYS*ROWS*COLS-1];
  reg [ACC-1:0] biases [0:BIAS_DEPTH-1];
  reg [8*1024-1:0] codes_file;
  reg [8*1024-1:0] bias_file;
  initial begin
    if (!$value$plusargs("CIMQ_CODES_HEX=%s", codes_file)) codes_file = "crossbar_codes.hex";
    if (!$value$plusargs("CIMQ_BIAS_HEX=%s", bias_file)) bias_file = "bias.hex";
    $readmemh(codes_file, codes);
    $readmemh(bias_file, biases);
  end

  integer k, c;
  reg signed [SW-1:0] s;
  reg signed [SW-1:0] r;
  // Explicit sensitivity: the memories are constant after $readmemh, and an
  // @* over them would make Icarus watch every one of their words.
  always @(array or plane or bias_addr) begin
    for (c = 0; c < COLS; c = c + 1) begin
      s = 0;
      if (array < ARRAYS)
        for (k = 0; k < ROWS; k = k + 1)
          s = s + $signed(codes[(array * ROWS + k) * COLS + c]) * $signed({{1'b0, plane[k*DAC +: DAC]}});
      r = (s + {half}) >>> GF;
      if (r < 0) counts[c*ADC +: ADC] = 0;
      else if (r > {(1 << a.adc_bits) - 1}) counts[c*ADC +: ADC] = {{ADC{{1'b1}}}};
      else counts[c*ADC +: ADC] = r[ADC-1:0];
    end
    bias = (bias_addr < BIAS_DEPTH) ? biases[bias_addr] : {{ACC{{1'b0}}}};
  end
endmodule
"""
