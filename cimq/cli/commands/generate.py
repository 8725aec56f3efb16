"""``cimq generate``: Verilog of the truncation units for an architecture.

Writes ``BUILD_DIR/RUN/rtl/truncation_unit.v`` (configurable window, run-time
registers), ``truncation_unit_fixed.v`` (conventional fixed window, the area
reference) and ``files.f`` (file names relative to ``rtl/``). Widths come from
``--params FILE``'s ``arch`` or the default :class:`~cimq.arch.ArchConfig`. The
fixed window defaults to the conventional format of the seed slides: FL_w =
FL_x = 6 give FL_acc = 12, keeping FL_out = 6 drops 6 bits (``--fixed-drop-low
6``), ReLU on, floor rounding. Output is byte-identical across runs; every
option is checked before ``rtl/`` is replaced as a whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cimq.cli.common import BuildDirOption, RunOption, console, run_dir
from cimq.errors import CimqInputError
from cimq.fixed import Rounding
from cimq.files import staged_directory

ParamsOption = Annotated[
    Path | None,
    typer.Option("--params", help="Params file whose `arch` fixes the widths (default: ArchConfig()).", show_default=False),
]
PipelineOption = Annotated[
    bool,
    typer.Option("--pipeline/--no-pipeline", help="Register the unit's output (one cycle latency).", show_default=True),
]


def parse_rounding(value: str, source: str) -> Rounding:
    """``floor`` or ``half_up`` (what the truncation units implement)."""
    if value not in (Rounding.FLOOR.value, Rounding.HALF_UP.value):
        raise CimqInputError(f"{value!r} is not one of 'floor', 'half_up'", source=source)
    return Rounding(value)


def generate_command(
    params: Path | None,
    fixed_drop_low: int,
    fixed_relu: bool,
    fixed_rounding: str,
    pipeline: bool,
    build_dir: Path,
    run: str,
) -> list[Path]:
    """Validate everything, emit both units, swap ``rtl/`` in; return the written files."""
    from cimq.hw.verilog import FILE_LIST, FixedWindow, file_list, load_arch, truncation_rtl

    out = run_dir(build_dir, run) / "rtl"
    arch = load_arch(params)
    window = FixedWindow(fixed_drop_low, fixed_relu, parse_rounding(fixed_rounding, "--fixed-rounding"))
    window.check_against(arch)
    files = truncation_rtl(arch, window, pipeline=pipeline)
    files[FILE_LIST] = file_list(list(files))
    with staged_directory(out) as stage:
        for name, text in files.items():
            (stage / name).write_text(text, encoding="utf-8")
    return [out / name for name in files]


def register(app: typer.Typer) -> None:
    @app.command("generate")
    def generate(
        params: ParamsOption = None,
        fixed_drop_low: Annotated[
            int, typer.Option("--fixed-drop-low", help="drop_low wired into the fixed unit (conventional FL 6/6 -> 6).")
        ] = 6,
        fixed_relu: Annotated[
            bool, typer.Option("--fixed-relu/--fixed-no-relu", help="ReLU (unsigned output) in the fixed unit.")
        ] = True,
        fixed_rounding: Annotated[
            str, typer.Option("--fixed-rounding", help="Rounding of the fixed unit: floor or half_up.")
        ] = "floor",
        pipeline: PipelineOption = True,
        build_dir: BuildDirOption = Path("build"),
        run: RunOption = "default",
    ) -> None:
        """Write the truncation units' Verilog and file list to BUILD_DIR/RUN/rtl/."""
        written = generate_command(params, fixed_drop_low, fixed_relu, fixed_rounding, pipeline, build_dir, run)
        for path in written:
            console.print(f"wrote {path}")
