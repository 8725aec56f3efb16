"""cocotb test module of the tile (tile and model levels; loaded by the runner)."""

from __future__ import annotations

import cocotb

from cimq.verification.tile.settings import Settings
from cimq.verification.tile.testbench import TileTestbench


@cocotb.test()
async def tile_against_golden(dut) -> None:
    """Replay register images, stream the plan's vectors, compare every output with the golden simulator."""
    tb = TileTestbench(dut, Settings.from_env())
    s = await tb.run()
    dut._log.info("%s %s: %d of %d outputs checked (%d vectors), %d mismatches, %d cycles, %.2f s",
                  s.simulator, s.level, s.checked, s.outputs, s.input_vectors, s.mismatches, s.cycles, s.seconds)
    for line in s.first_mismatches:
        dut._log.error("mismatch: %s", line)
    assert not s.hung, s.hung
    assert s.mismatches == 0, f"{s.mismatches} mismatches"
    assert s.unexpected == 0, f"{s.unexpected} outputs without a matching input"
    assert s.outstanding == 0, f"{s.outstanding} outputs never came out"
    assert s.checked == s.outputs
