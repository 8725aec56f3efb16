"""The tile testbench: bus programming from images, streams, scoreboard, one loop.

One coroutine steps the stream components once per clock (drive after the
rising edge, sample at the falling edge). While the tile computes (the driver
offers a code the tile does not take and no output is offered) the loop does
not step cycle by cycle: it waits for ``i_stream.ready`` or ``o_stream.valid``
to rise, so the run costs Python time per transfer, not per compute cycle,
and never depends on the tile's exact latency. Between segments, with every
expected output received, it polls STATUS until ``busy`` is 0, checks and
clears the sticky ``saturated`` flag, replays the segment's register image
and writes ACTIVE.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, First, RisingEdge, Timer

from cimq.hw.regs.definition import build_register_map
from cimq.verification.tile.bus import WishboneDriver
from cimq.verification.tile.driver import StreamDriver
from cimq.verification.tile.plan import TilePlan, read_plan
from cimq.verification.tile.scoreboard import Scoreboard
from cimq.verification.tile.settings import Settings
from cimq.verification.truncation.monitor import OutputMonitor, OutputSink

__all__ = ["Summary", "TileTestbench"]

CLOCK_NS = 10


@dataclass(frozen=True)
class Summary:
    """What one run checked (written as JSON for the runner)."""

    simulator: str
    level: str
    seed: int
    fault: str
    vectors: int  # outputs to check (what ``checked`` counts, as the runner expects)
    input_vectors: int
    outputs: int
    checked: int
    mismatches: int
    unexpected: int
    outstanding: int
    status_checks: int
    status_mismatches: int
    bus_writes: int
    images_replayed: int
    context_switches: int
    hung: str
    cycles: int
    seconds: float
    per_segment: list[int]
    segment_seconds: list[float]
    first_mismatches: list[str]


class TileTestbench:
    def __init__(self, dut: Any, settings: Settings, plan: TilePlan | None = None) -> None:
        self.dut = dut
        self.settings = settings
        self.plan = plan or read_plan(Path(settings.plan))
        arch = self.plan.arch
        self.out_bits = arch.out_bits
        regmap = build_register_map(arch)
        self.active = regmap.find("ACTIVE").offset
        status = regmap.find("STATUS")
        self.status = status.offset
        self.busy_bit = status.register.field("busy").lsb
        self.sat_bit = status.register.field("saturated").lsb
        rng = random.Random(settings.seed)
        self.driver = StreamDriver(dut, random.Random(rng.random()), settings.valid_gap)
        self.sink = OutputSink(dut, random.Random(rng.random()), settings.ready_prob)
        self.scoreboard = Scoreboard(self.out_bits, settings.fault)
        self.monitor = OutputMonitor(dut, self.sink, self.scoreboard.observe)
        self.bus = WishboneDriver(dut)
        self.cycles = 0
        self.status_checks = 0
        self.status_mismatches = 0
        self.images = 0
        self.switches = 0
        self.hung = ""
        self.extra_errors: list[str] = []
        self.segment_seconds: list[float] = []

    async def reset(self) -> None:
        self.driver.reset_values()
        self.dut.o_stream__ready.value = 0  # the sink only writes changes: start from a driven 0
        self.bus.idle()
        self.dut.rst.value = 1
        for _ in range(3):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await FallingEdge(self.dut.clk)

    def _budget(self, segment) -> int:
        """Cycles a segment may take before the tile counts as hung (generous, latency-agnostic)."""
        a = self.plan.arch
        total = 0
        for v in segment.vectors:
            chunks = -(-len(v.codes) // a.xbar_rows)
            total += 4 * len(v.codes) + 20 * len(v.out) * (a.planes * chunks + 16)
        return total + 2000

    async def _stream(self, budget: int) -> bool:
        """Step until the driver is done and every expected output arrived; False if hung."""
        clk = self.dut.clk
        edge, settled = RisingEdge(clk), FallingEdge(clk)
        ready, valid = self.dut.i_stream__ready, self.dut.o_stream__valid
        spent = 0
        while not (self.driver.done and self.scoreboard.outstanding == 0):
            if spent > budget:
                return False
            await edge
            self.driver.drive()
            self.sink.drive()
            await settled
            self.driver.sample()
            self.monitor.sample()
            self.cycles += 1
            spent += 1
            if (self.driver.stalled or self.driver.done) and not valid.value and self.scoreboard.outstanding:
                wake = await First(RisingEdge(ready), RisingEdge(valid), Timer(budget * CLOCK_NS, unit="ns"))
                if isinstance(wake, Timer):
                    return False
                await settled
                self.driver.sample()
                self.monitor.sample()
                self.cycles += 1
                spent += 1
        return True

    async def _status(self, expect_saturated: bool, where: str) -> None:
        """Wait for busy = 0, then check and clear the sticky saturated flag."""
        for _ in range(1000):
            word = await self.bus.read(self.status)
            if not word >> self.busy_bit & 1:
                break
        else:
            self.status_mismatches += 1
            self.extra_errors.append(f"{where}: STATUS.busy stayed 1 with no vector in flight")
            return
        self.status_checks += 1
        got = bool(word >> self.sat_bit & 1)
        if got != expect_saturated:
            self.status_mismatches += 1
            self.extra_errors.append(f"{where}: STATUS.saturated is {int(got)}, expected {int(expect_saturated)}")
        if got:
            await self.bus.write(self.status, 1 << self.sat_bit)

    async def _segments(self) -> None:
        sticky = False
        for i, seg in enumerate(self.plan.segments):
            t0 = time.perf_counter()
            if seg.image is not None or seg.context is not None:
                await self._status(sticky, f"before {seg.label}")
                sticky = False
                if seg.image is not None:
                    await self.bus.replay(seg.image)
                    self.images += 1
                if seg.context is not None:
                    await self.bus.write(self.active, seg.context)
                    self.switches += 1
            for v in seg.vectors:
                self.driver.queue(v.codes)
            self.scoreboard.expect(i, seg)
            ok = await self._stream(self._budget(seg))
            self.segment_seconds.append(round(time.perf_counter() - t0, 4))
            if not ok:
                self.hung = f"{seg.label}: {self.scoreboard.outstanding} outputs never came (tile hung)"
                return
            sticky = sticky or any(s for v in seg.vectors for s in v.saturated)
        await self._status(sticky, "end")

    async def run(self) -> Summary:
        Clock(self.dut.clk, CLOCK_NS, unit="ns").start()
        await self.reset()
        start = time.perf_counter()
        try:
            await self._segments()
        except Exception as exc:  # noqa: BLE001 - a bus protocol or file error: report it, still write the summary
            self.hung = f"testbench stopped: {exc}"
        # Drain: nothing further may come out.
        for _ in range(8):
            await RisingEdge(self.dut.clk)
            self.sink.drive(always=True)
            await FallingEdge(self.dut.clk)
            self.monitor.sample()
        seconds = time.perf_counter() - start
        sb = self.scoreboard
        summary = Summary(
            simulator=cocotb.SIM_NAME, level=self.plan.level, seed=self.settings.seed, fault=self.settings.fault,
            vectors=self.plan.outputs, input_vectors=self.plan.vectors, outputs=self.plan.outputs, checked=sb.checked,
            mismatches=sb.mismatches + self.status_mismatches, unexpected=sb.unexpected, outstanding=sb.outstanding,
            status_checks=self.status_checks, status_mismatches=self.status_mismatches, bus_writes=self.bus.writes,
            images_replayed=self.images, context_switches=self.switches, hung=self.hung, cycles=self.cycles,
            seconds=round(seconds, 3), per_segment=sb.per_segment, segment_seconds=self.segment_seconds,
            first_mismatches=[str(m) for m in sb.first] + self.extra_errors[:5],
        )
        if self.settings.summary:
            Path(self.settings.summary).write_text(json.dumps(asdict(summary), indent=2) + "\n")
        return summary
