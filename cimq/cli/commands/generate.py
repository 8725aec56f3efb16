"""``cimq generate``: Verilog of the truncation units for an architecture.

Writes ``BUILD_DIR/RUN/rtl/truncation_unit.v`` (configurable window, run-time
registers), ``truncation_unit_fixed.v`` (conventional fixed window, the area
reference) and ``files.f`` (file names relative to ``rtl/``). Widths come from
``--params FILE``'s ``arch`` or the default :class:`~cimq.arch.ArchConfig`. The
fixed window defaults to the conventional format of the seed slides: FL_w =
FL_x = 6 give FL_acc = 12, keeping FL_out = 6 drops 6 bits (``--fixed-drop-low
6``), ReLU on, floor rounding. Output is byte-identical across runs; every
option is checked before ``rtl/`` is replaced as a whole.

It also writes the CIM tile to ``BUILD_DIR/RUN/tile/`` (see
:mod:`cimq.hw.tile.emit`): ``tile.v`` (proposed), ``tile_conventional.v``
(the same fixed window as above), ``crossbar_model.v`` (behavioral, simulation
only), ``files.f``, and for one sampled chip (``--chip-seed``, variation
``--variation``) ``crossbar_codes.hex``, ``bias.hex`` and ``tile.json`` of a
seeded random demo layer (``--seed``) with the params' first layer's mode.
``--arrays`` sets the tile's physical crossbar arrays.

When ``--params`` names exactly the default network's conv/linear layers (the
params ``cimq quantize`` writes for the digits CNN), the tile is the *model
tile* instead (:mod:`cimq.verification.model.tilefiles`): sized for the model
by :func:`cimq.hw.placement.place_model` (``--arrays`` may only add arrays),
with the crossbar and bias hex files of every layer for the chip
``CimNetwork.program(preset(--variation), --seed, --chip-seed)``, and a
``tile.json`` recording params and chip. Other params keep the demo layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Optional

import typer

from cimq.cli.common import BuildDirOption, RunOption, SeedOption, console, run_dir
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


@dataclass(frozen=True)
class TileOptions:
    """What ``cimq generate`` needs for the tile beyond the truncation units."""

    arrays: int | None = None  # None: 1 for the demo layer, what the model needs for the model tile
    chip_seed: int = 0
    variation: str = "wan2022"
    seed: int = 0
    build_dir: Path = Path("build")  # where the default network's checkpoint is cached


def _tile_files(params: Path | None, window, options: TileOptions) -> dict[str, str]:
    """All files of ``tile/``; raises :class:`CimqInputError` before anything is written."""
    from cimq.files import load_json_model
    from cimq.hw.tile.config import TileConfig
    from cimq.hw.tile.emit import tile_data_files, tile_rtl
    from cimq.hw.verilog import FILE_LIST, file_list
    from cimq.params import LayerParams, ModelParams
    from cimq.sim.variation import preset

    model = load_json_model(ModelParams, params) if params is not None else None
    if model is not None:
        from cimq.verification.model.network import is_default_model_params

        if is_default_model_params(model):
            return _model_tile_files(model, str(params), window, options)
    arch = model.arch if model is not None else load_arch_default()
    if model is not None and len(model.layers) > arch.layer_contexts:
        raise CimqInputError(f"layers: {len(model.layers)} layers do not fit the {arch.layer_contexts} layer "
                             "contexts (arch.layer_contexts)", source=params)
    try:
        config = TileConfig(arch, arrays=1 if options.arrays is None else options.arrays)
    except ValueError as exc:
        raise CimqInputError(str(exc), source="--arrays" if "Array count" in str(exc) else params or "arch") from None
    if not 0 <= options.chip_seed < 2**32:
        raise CimqInputError(f"{options.chip_seed} is outside the allowed range 0..{2**32 - 1}", source="--chip-seed")
    if not 0 <= options.seed < 2**32:
        raise CimqInputError(f"{options.seed} is outside the allowed range 0..{2**32 - 1}", source="--seed")
    preset(options.variation)  # an unknown name fails here, with the allowed ones
    layer = model.layers[0] if model is not None else LayerParams(name="demo", fl_w=6, fl_x=6, drop_low=8)
    files = tile_rtl(config, window)
    files[FILE_LIST] = file_list(list(files))
    files.update(tile_data_files(config, layer, variation=options.variation, seed=options.seed, chip=options.chip_seed))
    return files


def _check_tile_options(options: TileOptions) -> None:
    from cimq.sim.variation import preset

    if not 0 <= options.chip_seed < 2**32:
        raise CimqInputError(f"{options.chip_seed} is outside the allowed range 0..{2**32 - 1}", source="--chip-seed")
    if not 0 <= options.seed < 2**32:
        raise CimqInputError(f"{options.seed} is outside the allowed range 0..{2**32 - 1}", source="--seed")
    if options.arrays is not None and not 1 <= options.arrays <= 256:
        raise CimqInputError(f"Array count must be an integer in 1..256, not {options.arrays}", source="--arrays")
    preset(options.variation)


def _model_tile_files(model, source: str, window, options: TileOptions) -> dict[str, str]:
    """The model tile of the default network (see the module docstring)."""
    from cimq.verification.model.network import bind_model_setup, default_graph
    from cimq.verification.model.tilefiles import model_tile_files

    _check_tile_options(options)
    window.check_against(model.arch)
    build_dir = Path(options.build_dir)
    setup = bind_model_setup(default_graph(build_dir, 0), model, source, arrays=options.arrays)
    return model_tile_files(setup, window, variation=options.variation, seed=options.seed, chip=options.chip_seed)


def load_arch_default():
    from cimq.arch import ArchConfig

    return ArchConfig()


def generate_command(
    params: Path | None,
    fixed_drop_low: int,
    fixed_relu: bool,
    fixed_rounding: str,
    pipeline: bool,
    build_dir: Path,
    run: str,
    tile: TileOptions | None = TileOptions(),
) -> list[Path]:
    """Validate everything, emit both units and the tile, swap ``rtl/`` and ``tile/`` in.

    ``tile=None`` skips the tile. Returns the written files.
    """
    from cimq.hw.verilog import FILE_LIST, FixedWindow, file_list, load_arch, truncation_rtl

    base = run_dir(build_dir, run)
    arch = load_arch(params)
    window = FixedWindow(fixed_drop_low, fixed_relu, parse_rounding(fixed_rounding, "--fixed-rounding"))
    window.check_against(arch)
    files = truncation_rtl(arch, window, pipeline=pipeline)
    files[FILE_LIST] = file_list(list(files))
    tile_files = _tile_files(params, window, tile) if tile is not None else {}
    written = []
    for folder, content in (("rtl", files), ("tile", tile_files)):
        if not content:
            continue
        with staged_directory(base / folder) as stage:
            for name, text in content.items():
                (stage / name).write_text(text, encoding="utf-8")
        written += [base / folder / name for name in content]
    return written


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
        arrays: Annotated[Optional[int], typer.Option(
            "--arrays", help="Physical crossbar arrays of the tile (default: 1, or what the model needs).",
            show_default=False)] = None,
        chip_seed: Annotated[
            int, typer.Option("--chip-seed", help="Chip sample whose conductance codes go into crossbar_codes.hex.")
        ] = 0,
        variation: Annotated[str, typer.Option("--variation", help="Variation preset of the sampled chip.")] = "wan2022",
        seed: SeedOption = 0,
        build_dir: BuildDirOption = Path("build"),
        run: RunOption = "default",
    ) -> None:
        """Write the truncation units (BUILD_DIR/RUN/rtl/) and the CIM tile (BUILD_DIR/RUN/tile/)."""
        written = generate_command(params, fixed_drop_low, fixed_relu, fixed_rounding, pipeline, build_dir, run,
                                   TileOptions(arrays, chip_seed, variation, seed, build_dir))
        for path in written:
            console.print(f"wrote {path}")
