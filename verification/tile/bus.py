"""Wishbone classic initiator: programs the register bank by replaying image files.

Timing per :mod:`cimq.hw.regs.wishbone`: the request is presented after a
rising edge, the bank performs it on the next edge and raises ``ack`` for one
cycle; the initiator then drops ``stb``. No backdoor: every context register
the tile runs with arrives through :meth:`replay` of an exported image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cocotb.triggers import FallingEdge, RisingEdge

from cimq.hw.regs.image_formats import read_image

__all__ = ["BusError", "WishboneDriver"]


class BusError(AssertionError):
    """The bank broke the bus protocol (no ack, or ack held)."""


class WishboneDriver:
    def __init__(self, dut: Any) -> None:
        self.dut = dut
        self.clk = dut.clk
        self.writes = 0
        self.reads = 0

    def idle(self) -> None:
        d = self.dut
        for name in ("bus__cyc", "bus__stb", "bus__we", "bus__adr", "bus__dat_w", "bus__sel"):
            getattr(d, name).value = 0

    async def _transfer(self, address: int, *, we: int, data: int = 0) -> int:
        if address % 4:
            raise ValueError(f"Address {address:#x} is not word-aligned")
        d = self.dut
        await RisingEdge(self.clk)
        d.bus__cyc.value = 1
        d.bus__stb.value = 1
        d.bus__we.value = we
        d.bus__adr.value = address >> 2
        d.bus__dat_w.value = data
        d.bus__sel.value = 0b1111
        await RisingEdge(self.clk)
        await FallingEdge(self.clk)
        if not d.bus__ack.value:
            raise BusError(f"no ack one cycle after stb (address {address:#x})")
        raw = d.bus__dat_r.value
        if not raw.is_resolvable:
            raise BusError(f"dat_r is {raw} (not 0/1) at address {address:#x}")
        value = raw.to_unsigned()
        d.bus__cyc.value = 0
        d.bus__stb.value = 0
        d.bus__we.value = 0
        await RisingEdge(self.clk)
        await FallingEdge(self.clk)
        if d.bus__ack.value:
            raise BusError(f"ack held for more than one cycle (address {address:#x})")
        return value

    async def write(self, address: int, value: int) -> None:
        await self._transfer(address, we=1, data=value)
        self.writes += 1

    async def read(self, address: int) -> int:
        self.reads += 1
        return await self._transfer(address, we=0)

    async def replay(self, image: str | Path) -> int:
        """Replay every write of a register image file (.bin/.hex/.json); returns the count."""
        n = 0
        for w in read_image(Path(image)).bus_writes():
            await self.write(w.address, w.value)
            n += 1
        return n
