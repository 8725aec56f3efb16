"""Each tile component alone, against the cimq contract functions."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from amaranth.sim import Simulator

from cimq.arch import ArchConfig
from cimq.cim import adc_count, input_planes, offset_correction, plane_sign, plane_slice_shift
from cimq.errors import CimqInputError
from cimq.hw.tile import (CrossbarContents, CrossbarModel, InputBuffer, LayerPlacement, OffsetBias, ShiftAdd,
                          TileConfig, bias_hex, codes_hex, crossbar_model_verilog, place_layers, read_hex)
from cimq.sim.crossbar import program_crossbar
from cimq.sim.variation import layer_rng, preset

ARCH = ArchConfig(xbar_rows=16, xbar_cols=8)
CFG = TileConfig(ARCH, arrays=3)


def _sim(dut, bench, clock: bool = True):
    sim = Simulator(dut)
    if clock:
        sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


def _contents(seed: int = 0) -> tuple[CrossbarContents, object]:
    rng = np.random.default_rng(seed)
    xb = program_crossbar(torch.as_tensor(rng.integers(-128, 128, (2, 30))), ARCH, preset("wan2022"), layer_rng(seed, 0, 0))
    return place_layers(CFG, [LayerPlacement("fc", xb, rng.integers(-999, 999, 2), 1)]), xb


def test_input_buffer_planes_mask_and_sign() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, CFG.max_in_len)
    dut = InputBuffer(CFG)
    planes = input_planes(x, ARCH)

    async def bench(ctx):
        for i, v in enumerate(x):
            ctx.set(dut.w_en, 1), ctx.set(dut.w_chunk, i // CFG.arch.xbar_rows), ctx.set(dut.w_row, i % CFG.arch.xbar_rows), ctx.set(dut.w_data, int(v))
            await ctx.tick()
        ctx.set(dut.w_en, 0)
        for chunk, b, valid, signed in [(0, 0, 16, 0), (1, 3, 16, 0), (2, 7, 5, 1), (2, 6, 16, 1), (1, 7, 0, 1)]:
            ctx.set(dut.chunk, chunk), ctx.set(dut.plane_index, b), ctx.set(dut.valid_rows, valid)
            ctx.set(dut.signed_input, signed)
            await ctx.tick()
            rows = planes[b][chunk * 16:(chunk + 1) * 16]
            want = sum(int(bit) << k for k, bit in enumerate(rows) if k < valid)
            assert ctx.get(dut.plane) == want
            assert ctx.get(dut.subtract) == int(plane_sign(b, ARCH, bool(signed)) == -1)

    _sim(dut, bench)


def test_shift_add_is_the_contract_sum() -> None:
    rng = np.random.default_rng(2)
    dut = ShiftAdd(CFG)
    for signed in (False, True):
        counts = rng.integers(0, 1 << ARCH.adc_bits, (ARCH.planes, 2, ARCH.slices))  # plane, array, slice
        want = sum(plane_sign(b, ARCH, signed) * int(counts[b, r, s]) << plane_slice_shift(b, s, ARCH)
                   for b in range(ARCH.planes) for r in range(2) for s in range(ARCH.slices))

        async def bench(ctx, counts=counts, signed=signed):
            ctx.set(dut.clear, 1)
            await ctx.tick()
            ctx.set(dut.clear, 0)
            for b in reversed(range(ARCH.planes)):
                for r in range(2):
                    word = sum(int(counts[b, r, s]) << (s * ARCH.adc_bits) for s in range(ARCH.slices))
                    ctx.set(dut.counts, word), ctx.set(dut.valid, 1), ctx.set(dut.first, r == 0)
                    ctx.set(dut.last, b == 0 and r == 1), ctx.set(dut.subtract, plane_sign(b, ARCH, signed) == -1)
                    await ctx.tick()
            ctx.set(dut.valid, 0)
            await ctx.tick().until(dut.done)
            assert ctx.get(dut.acc) == want

        _sim(dut, bench)


def test_offset_bias() -> None:
    rng = np.random.default_rng(3)
    dut = OffsetBias(CFG)
    for signed in (False, True):
        x = rng.integers(-128, 128, 20) if signed else rng.integers(0, 256, 20)
        acc, bias = int(rng.integers(-(1 << 20), 1 << 20)), int(rng.integers(-5000, 5000))

        async def bench(ctx, x=x, acc=acc, bias=bias, signed=signed):
            ctx.set(dut.x_clear, 1), ctx.set(dut.signed_input, signed)
            await ctx.tick()
            ctx.set(dut.x_clear, 0)
            for v in x:
                ctx.set(dut.x_valid, 1), ctx.set(dut.x_data, int(v) & 0xFF)
                await ctx.tick()
            ctx.set(dut.x_valid, 0), ctx.set(dut.bias, bias), ctx.set(dut.corr_load, 1)
            await ctx.tick()
            ctx.set(dut.corr_load, 0), ctx.set(dut.acc, acc), ctx.set(dut.result_load, 1)
            await ctx.tick()
            assert ctx.get(dut.result) == acc - int(offset_correction(int(x.sum()), ARCH)) + bias

        _sim(dut, bench)


def test_crossbar_model_counts_and_bias() -> None:
    contents, _ = _contents()
    dut = CrossbarModel(contents)
    rng = np.random.default_rng(4)

    async def bench(ctx):
        for _ in range(12):
            p, bits, addr = int(rng.integers(0, 3)), rng.integers(0, 2, 16), int(rng.integers(0, CFG.bias_depth))
            ctx.set(dut.array, p), ctx.set(dut.plane, sum(int(v) << k for k, v in enumerate(bits)))
            ctx.set(dut.bias_addr, addr)
            await ctx.delay(1e-9)
            want = adc_count(bits @ contents.codes[p], ARCH)
            got = [(ctx.get(dut.counts) >> (c * ARCH.adc_bits)) & ((1 << ARCH.adc_bits) - 1) for c in range(8)]
            assert got == list(want)
            assert ctx.get(dut.bias) == contents.bias[addr]

    _sim(dut, bench, clock=False)


def test_placement_and_hex_round_trip() -> None:
    contents, xb = _contents(5)
    assert (contents.codes[0] == 0).all()  # array 0 unused
    np.testing.assert_array_equal(contents.codes[1], xb.array_codes(0, 0))
    np.testing.assert_array_equal(contents.codes[2, :14], xb.array_codes(1, 0))
    np.testing.assert_array_equal(contents.codes[2, 14:], 0)
    assert (read_hex(codes_hex(contents), CFG.code_bits).reshape(contents.codes.shape) == contents.codes).all()
    assert (read_hex(bias_hex(contents), ARCH.acc_bits) == contents.bias).all()
    assert codes_hex(contents) == codes_hex(_contents(5)[0])  # deterministic


def test_bad_configs_and_placements() -> None:
    with pytest.raises(ValueError, match=r"Array count must be an integer in 1..256, not 0"):
        TileConfig(ARCH, arrays=0)
    with pytest.raises(ValueError, match="xbar_cols 6 is not a multiple of the 4 slices per weight"):
        TileConfig(ArchConfig(xbar_rows=16, xbar_cols=6))
    with pytest.raises(ValueError, match=r"Input buffer depth must be an integer in 1..48, not 49"):
        TileConfig(ARCH, arrays=3, max_in_len=49)
    with pytest.raises(TypeError, match="Config must be a TileConfig"):
        InputBuffer(ARCH)
    _, xb = _contents(6)
    with pytest.raises(CimqInputError, match=r"layer b: needs arrays 2..3, but the tile has arrays 0..2"):
        place_layers(CFG, [LayerPlacement("b", xb, None, 2)])
    with pytest.raises(CimqInputError, match="array 1 is already used by layer a"):
        place_layers(CFG, [LayerPlacement("a", xb, None, 0), LayerPlacement("b", xb, None, 1)])
    with pytest.raises(CimqInputError, match="bias codes do not fit the 24-bit accumulator"):
        place_layers(CFG, [LayerPlacement("a", xb, [1 << 23, 0], 0)])
    wild = program_crossbar(xb.w_int, ARCH, preset("uniform", sigma=3.0), layer_rng(0, 0, 0))
    with pytest.raises(CimqInputError, match="do not fit 12-bit signed codes"):
        place_layers(CFG, [LayerPlacement("a", wild, None, 0)])


def test_verilog_model_equals_adc_count(tmp_path: Path) -> None:
    """The behavioral Verilog crossbar on Icarus against adc_count."""
    contents, _ = _contents(7)
    (tmp_path / "crossbar_codes.hex").write_text(codes_hex(contents))
    (tmp_path / "bias.hex").write_text(bias_hex(contents))
    (tmp_path / "model.v").write_text(crossbar_model_verilog(CFG))
    rng = np.random.default_rng(9)
    cases = [(int(rng.integers(0, 3)), int(rng.integers(0, 1 << 16)), int(rng.integers(0, CFG.bias_depth))) for _ in range(20)]
    stim = "".join(f"    array = {p}; plane = {v}; bias_addr = {a}; #1 $display(\"%0d %0d\", counts, $signed(bias));\n"
                   for p, v, a in cases)
    (tmp_path / "tb.v").write_text(
        "module tb; reg [1:0] array; reg [15:0] plane; reg [3:0] bias_addr; wire [47:0] counts; wire [23:0] bias;\n"
        "  cimq_crossbar_model dut(.array(array), .plane(plane), .bias_addr(bias_addr), .counts(counts), .bias(bias));\n"
        f"  initial begin #1;\n{stim}    $finish; end\nendmodule\n")
    iverilog = shutil.which("iverilog")
    assert iverilog, "iverilog is required"
    subprocess.run([iverilog, "-o", "sim.vvp", "model.v", "tb.v"], cwd=tmp_path, check=True)
    out = subprocess.run(["vvp", "-n", "sim.vvp"], cwd=tmp_path, check=True, capture_output=True, text=True).stdout
    lines = [l for l in out.splitlines() if l and l[0].isdigit()]
    assert len(lines) == len(cases)
    for (p, v, a), line in zip(cases, lines):
        counts, bias = map(int, line.split())
        bits = np.array([(v >> k) & 1 for k in range(16)])
        want = adc_count(bits @ contents.codes[p], ARCH)
        assert [(counts >> (6 * c)) & 63 for c in range(8)] == list(want)
        assert bias == contents.bias[a]
