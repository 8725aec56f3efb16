"""Truncation units in Amaranth's simulator, checked against cimq.fixed.truncate.

Random valid gaps on the input, random backpressure on the output, every
drop_low and mode, reconfiguration between segments without draining; an
exhaustive sweep on a small unit; constructor errors with exact messages.
"""

from __future__ import annotations

import gc
import random
import warnings
from collections.abc import Iterator

import pytest
from amaranth.hdl import ClockDomain, Module, UnusedElaboratable
from amaranth.sim import Simulator

from cimq.fixed import Rounding
from cimq.hw.truncation import FixedTruncationUnit, TruncationUnit
from cimq.verification.truncation.model import ReferenceModel, Result
from cimq.verification.truncation.stimulus import Segment, TruncConfig, all_configs, build_segments



@pytest.fixture(autouse=True)
def _collect_unused_units() -> Iterator[None]:
    """Units built only to check constructor errors or ports are never elaborated:
    collect them here, so Amaranth's UnusedElaboratable warning stays out of other tests."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        gc.collect()


def _run(dut, segments: list[Segment], *, seed: int, configure: bool | str) -> list[Result]:
    """Send every segment through ``dut`` with gaps and backpressure; collect outputs.

    ``configure``: True writes each segment's window through ``cfg_we``;
    ``"held"`` drives the held-config ports once the unit has drained.
    """
    total = sum(len(s.accs) for s in segments)
    rng_in, rng_out = random.Random(seed), random.Random(seed + 1)
    got: list[tuple[int, int]] = []

    async def producer(ctx) -> None:
        sent = 0
        for segment in segments:
            if configure == "held":
                while len(got) < sent:  # the window may change only while the unit is empty
                    await ctx.tick()
                c = segment.config
                ctx.set(dut.cfg_drop_low, c.drop_low)
                ctx.set(dut.cfg_relu, c.relu)
                ctx.set(dut.cfg_round, c.half_up)
                sent += len(segment.accs)
            elif configure:
                c = segment.config
                ctx.set(dut.cfg_drop_low, c.drop_low)
                ctx.set(dut.cfg_relu, c.relu)
                ctx.set(dut.cfg_round, c.half_up)
                ctx.set(dut.cfg_we, 1)
                await ctx.tick()
                ctx.set(dut.cfg_we, 0)
                assert not ctx.get(dut.cfg_error)
            for acc in segment.accs:
                if rng_in.random() < 0.3:
                    ctx.set(dut.i_stream.valid, 0)
                    await ctx.tick().repeat(rng_in.randint(1, 3))
                ctx.set(dut.i_stream.payload, acc)
                ctx.set(dut.i_stream.valid, 1)
                await ctx.tick().until(dut.i_stream.ready)
            ctx.set(dut.i_stream.valid, 0)

    async def consumer(ctx) -> None:
        while len(got) < total:
            ctx.set(dut.o_stream.ready, rng_out.random() < 0.7)
            _, _, valid, ready, value, sat = await ctx.tick().sample(
                dut.o_stream.valid, dut.o_stream.ready, dut.o_stream.payload.data, dut.o_stream.payload.saturated
            )
            if valid and ready:
                got.append((value, sat))
        # Nothing more may come out.
        ctx.set(dut.o_stream.ready, 1)
        for _ in range(4):
            _, _, valid = await ctx.tick().sample(dut.o_stream.valid)
            assert not valid

    top = Module()  # a sync domain even for the combinational variant
    top.domains.sync = ClockDomain()
    top.submodules.dut = dut
    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    results = []
    seg_of = [s.config for s in segments for _ in s.accs]
    for (value, sat), config in zip(got, seg_of):
        if not config.relu and value >> (dut.out_bits - 1):
            value -= 1 << dut.out_bits
        results.append(Result(value, bool(sat)))
    return results


def _expected(segments: list[Segment], out_bits: int) -> list[Result]:
    model = ReferenceModel(out_bits)
    return [r for s in segments for r in model.predict(s)]


@pytest.mark.parametrize("pipeline", [True, False])
def test_held_config_matches_truncate(pipeline: bool) -> None:
    dut = TruncationUnit(24, 8, pipeline=pipeline, held_config=True)
    assert not hasattr(dut, "cfg_we") and not hasattr(dut, "cfg_error")
    segments = build_segments(24, 8, 3000, seed=5)
    assert _run(dut, segments, seed=6, configure="held") == _expected(segments, 8)


@pytest.mark.parametrize("pipeline", [True, False])
def test_configurable_matches_truncate(pipeline: bool) -> None:
    dut = TruncationUnit(24, 8, pipeline=pipeline)
    segments = build_segments(24, 8, 68 * 30, seed=3)
    assert {s.config.drop_low for s in segments} == set(range(17))
    assert _run(dut, segments, seed=5, configure=True) == _expected(segments, 8)


def test_configurable_exhaustive_small_unit() -> None:
    """Every accumulator value of a 7-bit unit under every configuration."""
    dut = TruncationUnit(7, 3, pipeline=True)
    segments = [Segment(c, tuple(range(-64, 64))) for c in all_configs(4)]
    results = _run(dut, segments, seed=9, configure=True)
    expected = _expected(segments, 3)
    assert results == expected
    # The sweep really covers saturation on both sides and ReLU clipping.
    assert any(r.saturated and r.value == 3 for r in expected)
    assert any(r.saturated and r.value == -4 for r in expected)
    assert any(not r.saturated and r.value == 0 for r in expected)


@pytest.mark.parametrize(
    "drop_low,relu,rounding,pipeline",
    [(6, True, Rounding.FLOOR, True), (0, False, Rounding.HALF_UP, False), (16, False, Rounding.HALF_UP, True), (3, True, Rounding.HALF_UP, True)],
)
def test_fixed_matches_truncate(drop_low: int, relu: bool, rounding: Rounding, pipeline: bool) -> None:
    dut = FixedTruncationUnit(24, 8, drop_low=drop_low, relu=relu, rounding=rounding, pipeline=pipeline)
    config = TruncConfig(drop_low, relu, rounding)
    full = build_segments(24, 8, 68 * 40, seed=11)
    accs = tuple(a for s in full for a in s.accs if s.config.drop_low == drop_low)
    segments = [Segment(config, accs)]
    assert _run(dut, segments, seed=13, configure=False) == _expected(segments, 8)


def test_rejected_configuration_keeps_previous_window() -> None:
    dut = TruncationUnit(12, 8, pipeline=True)  # drop_low 0..4, register holds 0..7
    seen = []

    async def bench(ctx) -> None:
        for d, relu, expect_error in [(2, 1, 0), (5, 0, 1), (7, 0, 1), (4, 1, 0)]:
            ctx.set(dut.cfg_drop_low, d)
            ctx.set(dut.cfg_relu, relu)
            ctx.set(dut.cfg_we, 1)
            await ctx.tick()
            ctx.set(dut.cfg_we, 0)
            assert ctx.get(dut.cfg_error) == expect_error
            ctx.set(dut.i_stream.payload, 0x7FF)
            ctx.set(dut.i_stream.valid, 1)
            ctx.set(dut.o_stream.ready, 1)
            await ctx.tick()
            ctx.set(dut.i_stream.valid, 0)
            for _ in range(4):  # the pipeline's latency is not part of the contract
                if ctx.get(dut.o_stream.valid):
                    break
                await ctx.tick()
            assert ctx.get(dut.o_stream.valid)
            seen.append(ctx.get(dut.o_stream.payload.data))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    # Rejected writes leave drop_low 2 (ReLU): 0x7FF >> 2 = 511 saturates to 255.
    assert seen == [255, 255, 255, 0x7FF >> 4]


@pytest.mark.parametrize(
    "kwargs,exc,message",
    [
        (dict(acc_bits=-1, out_bits=8), TypeError, "Accumulator width must be a positive integer, not -1"),
        (dict(acc_bits="24", out_bits=8), TypeError, "Accumulator width must be a positive integer, not '24'"),
        (dict(acc_bits=24, out_bits=1), TypeError, "Output width must be an integer of at least 2, not 1"),
        (dict(acc_bits=6, out_bits=8), ValueError, "Output width 8 exceeds accumulator width 6"),
        (dict(acc_bits=24, out_bits=8, pipeline=1), TypeError, "Pipeline option must be a bool, not 1"),
    ],
)
def test_constructor_errors(kwargs: dict, exc: type, message: str) -> None:
    with pytest.raises(exc) as info:
        TruncationUnit(**kwargs)
    assert str(info.value) == message
    with pytest.raises(exc) as info:
        FixedTruncationUnit(**kwargs, drop_low=0)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "kwargs,exc,message",
    [
        (dict(drop_low=17), ValueError, "drop_low 17 is outside 0..16 (acc_bits 24 - out_bits 8)"),
        (dict(drop_low=-1), TypeError, "drop_low must be a non-negative integer, not -1"),
        (dict(drop_low=2.0), TypeError, "drop_low must be a non-negative integer, not 2.0"),
        (dict(drop_low=2, relu=1), TypeError, "ReLU option must be a bool, not 1"),
        (dict(drop_low=2, rounding=Rounding.HALF_EVEN), ValueError, "Rounding must be 'floor' or 'half_up', not <Rounding.HALF_EVEN: 'half_even'>"),
    ],
)
def test_fixed_constructor_errors(kwargs: dict, exc: type, message: str) -> None:
    with pytest.raises(exc) as info:
        FixedTruncationUnit(24, 8, **kwargs)
    assert str(info.value) == message


def test_signature_ports() -> None:
    dut = TruncationUnit(24, 8)
    members = dict(dut.signature.members.flatten())
    assert len(dut.cfg_drop_low) == 5
    assert len(dut.i_stream.payload) == 24 and dut.i_stream.payload.shape().signed
    assert len(dut.o_stream.payload.as_value()) == 9
    assert ("cfg_error",) in members
    fixed = FixedTruncationUnit(24, 8, drop_low=6)
    assert not hasattr(fixed, "cfg_we")
