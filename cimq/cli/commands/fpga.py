"""``cimq fpga``: place and route the tile periphery on an FPGA board, report Fmax and utilization.

Builds :class:`cimq.hw.fpga.FpgaTop` (see :mod:`cimq.hw.fpga` for exactly what
is measured: the synthesizable periphery, a registered crossbar stand-in,
LFSR-driven inputs, XOR-folded outputs) for the architecture of ``--params``
(default ``ArchConfig()``) with ``--arrays`` arrays, using the YoWASP tools.
Logs, bitstream and ``summary.json`` go to ``BUILD_DIR/RUN/fpga/`` (replaced
as a whole). ``--conventional`` builds the conventional tile instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cimq.cli.common import BuildDirOption, RunOption, console, run_dir
from cimq.errors import CimqInputError
from cimq.files import staged_directory


def fpga_command(params: Path | None, board: str, arrays: int, conventional: bool, build_dir: Path, run: str):
    """Validate, build into a fresh ``fpga/``; return the :class:`FpgaResult`."""
    from cimq.hw.fpga import BOARDS, fpga_build
    from cimq.hw.tile.config import TileConfig
    from cimq.hw.verilog import FixedWindow, load_arch

    if board not in BOARDS:
        raise CimqInputError(f"{board!r} is not one of {', '.join(BOARDS)}", source="--board")
    base = run_dir(build_dir, run)
    arch = load_arch(params)
    try:
        config = TileConfig(arch, arrays=arrays)
    except ValueError as exc:
        raise CimqInputError(str(exc), source="--arrays" if "Array count" in str(exc) else params or "arch") from None
    with staged_directory(base / "fpga") as stage:
        result = fpga_build(config, stage, board=board, conventional=FixedWindow() if conventional else None)
        (stage / "summary.json").write_text(json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n",
                                            encoding="utf-8")
    return result


def register(app: typer.Typer) -> None:
    @app.command("fpga")
    def fpga(
        params: Annotated[Path | None, typer.Option("--params", help="Params file whose `arch` fixes the widths.",
                                                    show_default=False)] = None,
        board: Annotated[str, typer.Option("--board", help="Target board: ulx3s-85f.")] = "ulx3s-85f",
        arrays: Annotated[int, typer.Option("--arrays", help="Physical crossbar arrays of the tile.")] = 1,
        conventional: Annotated[bool, typer.Option("--conventional/--proposed",
                                                   help="Build the conventional (fixed-window) tile.")] = False,
        build_dir: BuildDirOption = Path("build"),
        run: RunOption = "default",
    ) -> None:
        """Place and route the tile periphery (YoWASP nextpnr-ecp5); report Fmax and utilization."""
        r = fpga_command(params, board, arrays, conventional, build_dir, run)
        console.print(f"{r.board}: Fmax {r.fmax_mhz} MHz ({r.seconds} s)")
        for name, (used, avail) in r.utilization.items():
            console.print(f"  {name}: {used} / {avail} ({100 * used / avail:.1f} %)")
