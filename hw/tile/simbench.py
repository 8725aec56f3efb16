"""Driving a tile from an Amaranth simulator testbench (streams with gaps and back-pressure).

Used by the tile tests: :func:`stream_in` feeds codes on ``i_stream`` with
random valid gaps, :func:`stream_out` collects results on ``o_stream`` with
random ready gaps, both in the ``sync`` domain of ``Simulator.add_testbench``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["stream_in", "stream_out"]


async def stream_in(ctx, port, codes: Sequence[int], rng: np.random.Generator | None = None, gap: float = 0.0) -> None:
    """Send ``codes`` (raw bit patterns) over ``port`` (an ``In`` stream of the DUT)."""
    for code in codes:
        while rng is not None and rng.random() < gap:
            ctx.set(port.valid, 0)
            await ctx.tick()
        ctx.set(port.payload, int(code))
        ctx.set(port.valid, 1)
        await ctx.tick().until(port.ready)
    ctx.set(port.valid, 0)


async def stream_out(ctx, port, count: int, rng: np.random.Generator | None = None, gap: float = 0.0,
                     timeout: int = 1_000_000) -> list[dict]:
    """Take ``count`` payloads from ``port`` (an ``Out`` stream of the DUT) as dicts of fields."""
    got: list[dict] = []
    cycles = 0
    while len(got) < count:
        ready = not (rng is not None and rng.random() < gap)
        ctx.set(port.ready, int(ready))
        _, _, valid, payload = await ctx.tick().sample(port.valid, port.payload)
        cycles += 1
        if cycles > timeout:
            raise TimeoutError(f"only {len(got)} of {count} outputs after {timeout} cycles")
        if valid and ready:
            got.append({name: int(getattr(payload, name)) for name in ("data", "saturated", "last")})
    ctx.set(port.ready, 0)
    return got
