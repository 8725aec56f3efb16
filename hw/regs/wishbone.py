"""The bank's bus: Wishbone B4 classic, 32-bit data, word addresses.

Members are declared from the initiator's side (as amaranth-soc does), so a
target uses ``In(wishbone_signature(...))``:

=======  =====  ==========================================================
cyc      out    bus cycle in progress
stb      out    this transfer is valid
we       out    1 write, 0 read
adr      out    word address (byte offset >> 2), ``addr_width`` bits
dat_w    out    write data, 32 bits
sel      out    byte-lane enables (4 bits; tie to 0b1111 without lanes)
dat_r    in     read data, 32 bits, valid while ``ack``
ack      in     transfer done
=======  =====  ==========================================================

Timing of the cimq bank: with ``cyc & stb`` high and ``ack`` low on a clock
edge, the bank performs the access on that edge (a write updates the
register, a read samples it into ``dat_r``) and raises ``ack`` for exactly
one cycle. The initiator drops ``stb`` (or presents the next transfer) after
seeing ``ack``: a transfer takes two cycles, back-to-back transfers one every
two cycles. There is no ``err``: unmapped addresses read 0 and ignore writes.
"""

from __future__ import annotations

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["wishbone_signature", "DATA_WIDTH", "SEL_WIDTH"]

DATA_WIDTH = 32
SEL_WIDTH = DATA_WIDTH // 8


def wishbone_signature(addr_width: int) -> wiring.Signature:
    """A Wishbone classic signature with ``addr_width`` word-address bits."""
    if not isinstance(addr_width, int) or isinstance(addr_width, bool) or not 1 <= addr_width <= 30:
        raise ValueError(f"Address width must be an integer in 1..30, not {addr_width!r}")
    return wiring.Signature({
        "cyc": Out(1),
        "stb": Out(1),
        "we": Out(1),
        "adr": Out(addr_width),
        "dat_w": Out(DATA_WIDTH),
        "sel": Out(SEL_WIDTH),
        "dat_r": In(DATA_WIDTH),
        "ack": In(1),
    })
