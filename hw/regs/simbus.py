"""Driving the bank's Wishbone port from an Amaranth simulator testbench.

Used by the bank tests and meant for tile tests: ``await bus.write(ctx, a, v)``
performs one classic transfer and checks the one-cycle ``ack`` timing that
:mod:`cimq.hw.regs.wishbone` documents.
"""

from __future__ import annotations

from collections.abc import Iterable

from cimq.hw.regs.image import BusWrite

__all__ = ["WishboneSim"]


class WishboneSim:
    """An initiator for ``bank.bus`` inside ``Simulator.add_testbench``."""

    def __init__(self, bus) -> None:
        self.bus = bus

    async def _transfer(self, ctx, address: int, *, we: int, data: int = 0, sel: int = 0b1111) -> int:
        bus = self.bus
        if address % 4:
            raise ValueError(f"Address {address:#x} is not word-aligned")
        ctx.set(bus.cyc, 1)
        ctx.set(bus.stb, 1)
        ctx.set(bus.we, we)
        ctx.set(bus.adr, address >> 2)
        ctx.set(bus.dat_w, data)
        ctx.set(bus.sel, sel)
        if ctx.get(bus.ack):
            raise AssertionError("ack is high before the transfer starts")
        await ctx.tick()
        if not ctx.get(bus.ack):
            raise AssertionError(f"no ack one cycle after stb (address {address:#x})")
        value = ctx.get(bus.dat_r)
        ctx.set(bus.cyc, 0)
        ctx.set(bus.stb, 0)
        ctx.set(bus.we, 0)
        await ctx.tick()
        if ctx.get(bus.ack):
            raise AssertionError("ack stayed high for more than one cycle")
        return value

    async def write(self, ctx, address: int, value: int, sel: int = 0b1111) -> None:
        """One write transfer to byte ``address``."""
        await self._transfer(ctx, address, we=1, data=value, sel=sel)

    async def read(self, ctx, address: int) -> int:
        """One read transfer from byte ``address``; returns ``dat_r`` at ``ack``."""
        return await self._transfer(ctx, address, we=0)

    async def replay(self, ctx, writes: Iterable[BusWrite]) -> None:
        """Replay an image's writes in order."""
        for w in writes:
            await self.write(ctx, w.address, w.value)
