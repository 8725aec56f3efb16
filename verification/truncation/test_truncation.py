"""cocotb test module for the truncation unit (loaded by the runner)."""

from __future__ import annotations

import cocotb

from cimq.verification.truncation.settings import Settings
from cimq.verification.truncation.testbench import TruncationTestbench


@cocotb.test()
async def truncation_unit(dut) -> None:
    """Random and corner vectors under every configuration, compared with cimq.fixed.truncate."""
    tb = TruncationTestbench(dut, Settings.from_sources(cocotb.plusargs))
    s = await tb.run()
    dut._log.info(
        "%s: %d vectors checked, %d mismatches, %d cycles, %.2f s (%.0f vectors/s)",
        s.simulator, s.checked, s.mismatches, s.cycles, s.seconds, s.checked / max(s.seconds, 1e-9),
    )
    for line in s.first_mismatches:
        dut._log.error("mismatch: %s", line)
    assert s.mismatches == 0, f"{s.mismatches} of {s.checked} vectors mismatched"
    assert s.unexpected == 0, f"{s.unexpected} outputs without a matching input"
    assert s.outstanding == 0, f"{s.outstanding} vectors never came out"
    assert s.checked == s.vectors
