"""The whole tile in Amaranth's simulator against the golden simulator.

Codes come from ``program_crossbar`` with variation (one chip per layer via
``layer_rng``); expected outputs are ``mvm_reference(...) + bias`` through
``cimq.fixed.truncate``. The bank is programmed by replaying a register
image; two contexts are switched via ACTIVE; streams have random gaps.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from amaranth.sim import Simulator

from cimq.arch import ArchConfig
from cimq.cim import adc_count, input_planes
from cimq.fixed import truncate
from cimq.hw.regs import LayerGeometry, build_image, build_register_map
from cimq.hw.regs.simbus import WishboneSim
from cimq.hw.tile import LayerPlacement, Tile, TileConfig, place_layers
from cimq.hw.tile.simbench import stream_in, stream_out
from cimq.hw.verilog import FixedWindow
from cimq.params import LayerParams, ModelParams
from cimq.sim.crossbar import mvm_reference, program_crossbar
from cimq.sim.variation import layer_rng, preset

torch.set_num_threads(1)


def _layer(arch, rng, n, k, index, variation="wan2022", scale=1.0):
    w = torch.as_tensor(rng.integers(-128, 128, (n, k)))
    return program_crossbar(w, arch, preset(variation, scale=scale), layer_rng(7, 0, index))


def _expected(xb, x, bias, lp: LayerParams):
    acc = mvm_reference(xb, torch.as_tensor(x), lp.signed_input).numpy() + np.asarray(bias)
    assert np.abs(acc).max() < 1 << (xb.arch.acc_bits - 1)  # the contract's accumulator holds it
    return truncate(acc, drop_low=lp.drop_low, out_bits=xb.arch.out_bits, relu=lp.relu, rounding=lp.rounding_mode)


def _run(dut, program, jobs, rng, gap=0.3):
    """``program(ctx, bus)`` then for each ``(switch, x_rows, n_out)`` stream and collect."""
    results, status = [], []

    async def bench(ctx):
        bus = WishboneSim(dut.bus)
        await program(ctx, bus)
        for switch, xs, n_out in jobs:
            if switch is not None:
                await switch(ctx, bus)
            for x in xs:
                codes = [int(v) & 0xFF for v in x]
                ctx.set(dut.o_stream.ready, 0)
                await stream_in(ctx, dut.i_stream, codes, rng, gap)
                results.append(await stream_out(ctx, dut.o_stream, n_out, rng, gap))
        status.append(await bus.read(ctx, dut.regmap.find("STATUS").offset))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return results, status[0]


def _check(results, expected):
    out, sat = expected
    got = np.array([[o["data"] for o in r] for r in results])
    got_sat = np.array([[o["saturated"] for o in r] for r in results], dtype=bool)
    np.testing.assert_array_equal(got, np.asarray(out) & 0xFF)
    np.testing.assert_array_equal(got_sat, np.asarray(sat))
    for r in results:
        assert [o["last"] for o in r] == [0] * (len(r) - 1) + [1]


def test_two_contexts_with_variation_match_golden() -> None:
    arch = ArchConfig(xbar_rows=16, xbar_cols=16, layer_contexts=2)
    cfg = TileConfig(arch, arrays=8)
    rng = np.random.default_rng(11)
    fc1 = LayerParams(name="fc1", fl_w=6, fl_x=6, drop_low=9, relu=True)
    fc2 = LayerParams(name="fc2", fl_w=7, fl_x=5, drop_low=6, relu=False, rounding="half_up", signed_input=True)
    xb1, xb2 = _layer(arch, rng, 6, 40, 0), _layer(arch, rng, 5, 13, 1)  # 3 chunks x 2 tiles; ragged 13 rows
    b1, b2 = rng.integers(-4000, 4000, 6), rng.integers(-500, 500, 5)
    assert not xb1.ideal and not xb2.ideal
    contents = place_layers(cfg, [LayerPlacement("fc1", xb1, b1, 0), LayerPlacement("fc2", xb2, b2, 6)])
    image = build_image(ModelParams(arch=arch, layers=[fc1, fc2]),
                        {"fc1": LayerGeometry(in_len=40, out_len=6, array_base=0),
                         "fc2": LayerGeometry(in_len=13, out_len=5, array_base=6)})
    x1 = rng.integers(0, 256, (4, 40))
    x2 = rng.integers(-128, 128, (4, 13))
    x2[0] = -128  # most negative signed input
    active = build_register_map(arch).find("ACTIVE").offset

    async def program(ctx, bus):
        await bus.replay(ctx, image.bus_writes())

    async def to_fc2(ctx, bus):
        await bus.write(ctx, active, 1)

    async def to_fc1(ctx, bus):
        await bus.write(ctx, active, 0)

    dut = Tile(contents)
    results, status = _run(dut, program, [(None, x1[:2], 6), (to_fc2, x2, 5), (to_fc1, x1[2:], 6)], rng)
    e1, e2 = _expected(xb1, x1, b1, fc1), _expected(xb2, x2, b2, fc2)
    _check(results[:2], (e1[0][:2], e1[1][:2]))
    _check(results[2:6], e2)
    _check(results[6:], (e1[0][2:], e1[1][2:]))
    any_sat = bool(np.asarray(e1[1]).any() or np.asarray(e2[1]).any())
    assert any_sat and status & 1 == 1  # the sticky STATUS.saturated saw it


def test_adc_clamping_below_lossless() -> None:
    arch = ArchConfig(xbar_rows=16, xbar_cols=8, adc_bits=4, layer_contexts=1)  # lossless would be 6
    cfg = TileConfig(arch, arrays=2)
    rng = np.random.default_rng(5)
    lp = LayerParams(name="fc", fl_w=6, fl_x=6, drop_low=8, relu=False)
    w = torch.as_tensor(rng.integers(60, 128, (2, 20)))  # large offset-binary levels: columns clip
    xb = program_crossbar(w, arch, preset("uniform", sigma=0.2), layer_rng(1, 0, 0))
    x = rng.integers(128, 256, (3, 20))
    plane = torch.as_tensor(input_planes(x, arch)[7][:, :16])
    sums = plane @ xb.codes[:16, :, 3]
    assert (adc_count(sums, arch) < (sums + 128) // 256).any()  # the ADC really clamps
    contents = place_layers(cfg, [LayerPlacement("fc", xb, None, 0)])
    image = build_image(ModelParams(arch=arch, layers=[lp]), {"fc": LayerGeometry(in_len=20, out_len=2)})

    async def program(ctx, bus):
        await bus.replay(ctx, image.bus_writes())

    results, _ = _run(Tile(contents), program, [(None, x, 2)], rng, gap=0.0)
    _check(results, _expected(xb, x, np.zeros(2, np.int64), lp))


def test_conventional_tile_uses_its_wired_window() -> None:
    arch = ArchConfig(xbar_rows=16, xbar_cols=16, layer_contexts=1)
    cfg = TileConfig(arch, arrays=2)
    rng = np.random.default_rng(8)
    window = FixedWindow(drop_low=10, relu=True)
    lp = LayerParams(name="fc", fl_w=6, fl_x=6, drop_low=10, relu=True)
    xb = _layer(arch, rng, 4, 20, 0, "middle_worst")
    bias = rng.integers(-2000, 2000, 4)
    contents = place_layers(cfg, [LayerPlacement("fc", xb, bias, 0)])
    regmap = build_register_map(arch, window=False)
    ctx_arr = regmap.array("CTX")
    assert "WINDOW" not in [r.name for _, r in ctx_arr.registers]

    async def program(ctx, bus):
        for name, values in (("IN_LEN", {"in_len": 20}), ("OUT_LEN", {"out_len": 4}),
                             ("ARRAY_BASE", {"array_base": 0}), ("CTRL", {"enable": 1, "signed_input": 0})):
            await bus.write(ctx, ctx_arr.offset(0, name), ctx_arr.register(name).pack(values))

    x = rng.integers(0, 256, (3, 20))
    dut = Tile(contents, conventional=window)
    results, _ = _run(dut, program, [(None, x, 4)], rng)
    _check(results, _expected(xb, x, bias, lp))
