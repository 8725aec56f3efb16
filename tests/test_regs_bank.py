"""The Amaranth register bank, simulated, against the map's Python model."""

from __future__ import annotations

import random

import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator

from cimq.arch import ArchConfig
from cimq.hw.regs import (
    CIMQ_ID,
    REGMAP_VERSION,
    RegisterBank,
    RegisterFileModel,
    build_image,
    build_register_map,
    LayerGeometry,
)
from cimq.hw.regs.fields import Access
from cimq.hw.regs.simbus import WishboneSim
from cimq.params import LayerParams, ModelParams

SMALL = ArchConfig(layer_contexts=3, acc_bits=20, out_bits=8)  # contexts not a power of two


def simulate(regmap, body, **kwargs) -> RegisterBank:
    bank = RegisterBank(regmap, **kwargs)
    sim = Simulator(bank)
    sim.add_clock(1e-6)

    async def testbench(ctx):
        await body(ctx, bank, WishboneSim(bank.bus))

    sim.add_testbench(testbench)
    sim.run()
    return bank


def ctx_outputs(ctx, bank) -> dict[str, int]:
    return {name: ctx.get(getattr(bank.ctx, name)) for name in bank.signature.members["ctx"].signature.members}


def unmapped_offsets(regmap) -> list[int]:
    span = 4 << regmap.addr_width
    return [o for o in (0x18, 0x1C, 0xFC, 0x114, 0x118, 0x11C, span - 4) if regmap.at(o) is None]


@pytest.mark.parametrize("arch", [ArchConfig(), SMALL], ids=["default", "small"])
def test_reset_values_of_every_register(arch):
    regmap = build_register_map(arch)
    model = RegisterFileModel(regmap)
    seen = {}

    async def body(ctx, bank, bus):
        for mr in regmap.walk():
            seen[mr.path] = await bus.read(ctx, mr.offset)
        assert ctx_outputs(ctx, bank) == model.active_outputs()

    simulate(regmap, body)
    assert seen == {mr.path: model.read(mr.offset) for mr in regmap.walk()}
    # Independent of the model: the identifying constants.
    assert seen["ID"] == CIMQ_ID == int.from_bytes(b"CIMQ", "big")
    assert seen["VERSION"] == REGMAP_VERSION
    assert seen["ARCH_HASH"] == int(arch.fingerprint()[-8:], 16)
    assert seen["CONTEXTS"] == arch.layer_contexts
    assert all(seen[mr.path] == 0 for mr in regmap.walk() if mr.array is not None)


def test_writes_read_back_through_masks_and_ro_ignores_writes():
    regmap = build_register_map(SMALL)
    model = RegisterFileModel(regmap)
    rng = random.Random(1)
    got, want = [], []

    async def body(ctx, bank, bus):
        for mr in regmap.walk():
            for value in (0xFFFF_FFFF, rng.getrandbits(32), 0):
                await bus.write(ctx, mr.offset, value)
                model.write(mr.offset, value)
                got.append((mr.path, value, await bus.read(ctx, mr.offset)))
                want.append((mr.path, value, model.read(mr.offset)))

    simulate(regmap, body)
    assert got == want
    # Independent of the model: RW fields take exactly their bits, RO never change.
    for path, value, read in got:
        reg = regmap.find(path).register
        for f in reg.fields:
            bits = (read >> f.lsb) & ((1 << f.width) - 1)
            if f.access is Access.RW:
                assert bits == (value >> f.lsb) & ((1 << f.width) - 1), (path, f.name)
            elif f.const:
                assert bits == f.reset, (path, f.name)


def test_byte_lanes():
    regmap = build_register_map(ArchConfig())
    off = regmap.find("CTX[1].IN_LEN").offset
    reads = []

    async def body(ctx, bank, bus):
        await bus.write(ctx, off, 0x1234)
        await bus.write(ctx, off, 0xABCD, sel=0b0010)  # only bits 15:8
        reads.append(await bus.read(ctx, off))
        await bus.write(ctx, off, 0xFFFF_FF77, sel=0b1101)  # bits 7:0 and unused upper lanes
        reads.append(await bus.read(ctx, off))

    simulate(regmap, body)
    assert reads == [0xAB34, 0xAB77]


def test_w1c_sticky_flag_and_live_inputs():
    regmap = build_register_map(SMALL)
    status = regmap.find("STATUS")
    sat = status.register.field("saturated").mask
    busy = status.register.field("busy").mask
    log = []

    async def body(ctx, bank, bus):
        log.append(("reset", await bus.read(ctx, status.offset)))
        ctx.set(bank.status.saturated_set, 1)
        await ctx.tick()
        ctx.set(bank.status.saturated_set, 0)
        await ctx.tick()
        log.append(("port", ctx.get(bank.status.saturated)))
        log.append(("set", await bus.read(ctx, status.offset)))
        await bus.write(ctx, status.offset, 0)
        log.append(("write0", await bus.read(ctx, status.offset)))
        ctx.set(bank.status.busy, 1)
        log.append(("busy", await bus.read(ctx, status.offset)))
        await bus.write(ctx, status.offset, 0xFFFF_FFFF)
        log.append(("write1", await bus.read(ctx, status.offset)))
        ctx.set(bank.status.busy, 0)
        # Set and clear on the same edge: set wins (a one-cycle pulse on the write edge).
        wb = bank.bus
        for sig, v in ((wb.cyc, 1), (wb.stb, 1), (wb.we, 1), (wb.adr, status.offset >> 2), (wb.dat_w, sat),
                       (wb.sel, 0b1111), (bank.status.saturated_set, 1)):
            ctx.set(sig, v)
        await ctx.tick()
        for sig in (wb.cyc, wb.stb, wb.we, bank.status.saturated_set):
            ctx.set(sig, 0)
        await ctx.tick()
        log.append(("both", await bus.read(ctx, status.offset)))

    simulate(regmap, body)
    assert log == [("reset", 0), ("port", 1), ("set", sat), ("write0", sat), ("busy", sat | busy),
                   ("write1", busy), ("both", sat)]


def test_unmapped_addresses_read_zero_and_ignore_writes():
    regmap = build_register_map(SMALL)
    model = RegisterFileModel(regmap)
    holes = unmapped_offsets(regmap)
    assert len(holes) >= 5
    before, after, hole_reads = {}, {}, []

    async def body(ctx, bank, bus):
        for mr in regmap.walk():
            before[mr.path] = await bus.read(ctx, mr.offset)
        for off in holes:
            await bus.write(ctx, off, 0xFFFF_FFFF)
            hole_reads.append(await bus.read(ctx, off))
        for mr in regmap.walk():
            after[mr.path] = await bus.read(ctx, mr.offset)

    simulate(regmap, body)
    assert hole_reads == [0] * len(holes)
    assert after == before == {mr.path: model.read(mr.offset) for mr in regmap.walk()}


def test_wider_address_bus_decodes_only_the_map():
    regmap = build_register_map(SMALL)
    reads = []

    async def body(ctx, bank, bus):
        alias = (1 << (regmap.addr_width + 2)) + regmap.find("ID").offset  # ID's offset plus one map span
        reads.append(await bus.read(ctx, alias))
        reads.append(await bus.read(ctx, 0))

    simulate(regmap, body, addr_width=regmap.addr_width + 3)
    assert reads == [0, CIMQ_ID]


@pytest.mark.parametrize("arch", [ArchConfig(), SMALL], ids=["default", "small"])
def test_image_replay_and_active_context_switching(arch):
    regmap = build_register_map(arch)
    rng = random.Random(7)
    n = arch.layer_contexts
    layers = [LayerParams(name=f"l{c}", fl_w=rng.randint(-4, 12), fl_x=rng.randint(0, 8),
                          drop_low=rng.randint(0, arch.max_drop_low), relu=bool(c % 2), rounding=("floor", "half_up")[c % 3 == 0],
                          signed_input=c % 4 == 1) for c in range(n)]
    geometry = {f"l{c}": LayerGeometry(in_len=rng.randint(1, 4096), out_len=rng.randint(1, 2000), array_base=rng.randint(0, 255))
                for c in range(n) if c != 1}
    image = build_image(ModelParams(arch=arch, layers=layers), geometry)
    model = RegisterFileModel(regmap)
    for w in image.writes:
        model.write(w.address, w.value)
    active = regmap.find("ACTIVE")
    seen, expected = {}, {}

    async def body(ctx, bank, bus):
        await bus.replay(ctx, image.bus_writes())
        for c in list(range(n)) + [n - 1, 0] + ([n] if n < 1 << active.register.field("context").width else []):
            await bus.write(ctx, active.offset, c)
            model.write(active.offset, c)
            seen[c] = (ctx_outputs(ctx, bank), ctx.get(bank.active.context))
            expected[c] = (model.active_outputs(), c)

    simulate(regmap, body)
    assert seen == expected
    for c in range(n):  # independent of the model: the layer's own values
        out = seen[c][0]
        geo = geometry.get(f"l{c}")
        assert (out["drop_low"], out["relu"], out["round"], out["signed_input"]) == (
            layers[c].drop_low, int(layers[c].relu), int(layers[c].rounding == "half_up"), int(layers[c].signed_input))
        assert (out["enable"], out["in_len"], out["out_len"], out["array_base"]) == (
            (1, geo.in_len, geo.out_len, geo.array_base) if geo else (0, 0, 0, 0))
    if n in seen:  # a select beyond the last context: everything 0
        assert set(seen[n][0].values()) == {0}


def test_random_traffic_matches_the_model():
    regmap = build_register_map(SMALL)
    model = RegisterFileModel(regmap)
    rng = random.Random(3)
    offsets = [mr.offset for mr in regmap.walk()] + unmapped_offsets(regmap)
    mismatches = []

    async def body(ctx, bank, bus):
        for step in range(300):
            off = rng.choice(offsets)
            if rng.random() < 0.5:
                value, sel = rng.getrandbits(32), rng.getrandbits(4)
                await bus.write(ctx, off, value, sel)
                model.write(off, value, sel)
            else:
                got = await bus.read(ctx, off)
                if got != model.read(off):
                    mismatches.append((step, hex(off), got, model.read(off)))
            if ctx_outputs(ctx, bank) != model.active_outputs():
                mismatches.append((step, "ctx"))

    simulate(regmap, body)
    assert mismatches == []


def test_constructor_validation():
    regmap = build_register_map(SMALL)
    with pytest.raises(TypeError, match=r"^Register map must be a RegisterMap, not 'x'$"):
        RegisterBank("x")
    for bad in (regmap.addr_width - 1, 31, True, 7.0):
        with pytest.raises(ValueError, match=rf"^Address width must be an integer in {regmap.addr_width}\.\.30, not "):
            RegisterBank(regmap, addr_width=bad)


def test_verilog_ports():
    bank = RegisterBank(build_register_map(ArchConfig()))
    text = verilog.convert(bank, name="cimq_regbank")
    ports = {line.split()[-1].rstrip(";") for line in text.splitlines() if line.strip().startswith(("input", "output"))}
    assert ports == {"clk", "rst", "bus__cyc", "bus__stb", "bus__we", "bus__adr", "bus__dat_w", "bus__sel", "bus__dat_r",
                     "bus__ack", "ctx__enable", "ctx__relu", "ctx__round", "ctx__signed_input", "ctx__drop_low",
                     "ctx__in_len", "ctx__out_len", "ctx__array_base", "active__context", "status__saturated",
                     "status__saturated_set", "status__busy"}
