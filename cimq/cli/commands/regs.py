"""``cimq regs``: register images and the register map, or decode an image.

When the params name exactly the default network's conv/linear layers, every
context gets its layer's geometry from :func:`cimq.hw.placement.place_model`
(the same placement ``cimq generate --params`` uses), so the image enables
the contexts; other params keep the disabled placeholder geometry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cimq.cli.common import BuildDirOption, RunOption, console, run_dir
from cimq.files import load_json_model, staged_directory
from cimq.params import ModelParams


def _write(params_path: Path, build_dir: Path, run: str) -> None:
    from cimq.hw.regs.outputs import render_regs_outputs, write_regs_outputs

    target = run_dir(build_dir, run) / "regs"
    params = load_json_model(ModelParams, params_path)
    geometry = _default_model_geometry(params, str(params_path))
    files = render_regs_outputs(params, geometry, source=str(params_path))  # validates everything first
    with staged_directory(target) as stage:
        names = write_regs_outputs(stage, files)
    console.print(f"wrote {target}/: {', '.join(names)}", soft_wrap=True)


def _default_model_geometry(params: ModelParams, source: str):
    """The default network's placement when ``params`` are for it, else ``None``."""
    from cimq.verification.model.network import is_default_model_params

    if not is_default_model_params(params):
        return None
    from cimq.hw.placement import place_model
    from cimq.sim.capture import capture
    from cimq.sim.default_model import DigitsCNN

    return dict(place_model(capture(DigitsCNN().eval()), params.arch, source=source).geometry)


def _decode(image_path: Path, params_path: Path | None) -> None:
    from cimq.hw.regs.image_formats import read_image

    arch = load_json_model(ModelParams, params_path).arch if params_path is not None else None
    image = read_image(image_path, arch=arch)
    console.print(f"{image_path}: {len(image.writes)} bus writes, arch {image.arch.fingerprint()[:16]}..., "
                  f"{len(image.layers)} of {image.arch.layer_contexts} contexts used", soft_wrap=True)
    for c, (layer, geo) in enumerate(zip(image.layers, image.geometry)):
        where = "disabled (no geometry)" if geo is None else \
            f"in_len {geo.in_len} out_len {geo.out_len} array_base {geo.array_base}"
        console.print(f"  CTX[{c}] {layer.name}: fl_w {layer.fl_w} fl_x {layer.fl_x} drop_low {layer.drop_low} "
                      f"relu {int(layer.relu)} rounding {layer.rounding} signed_input {int(layer.signed_input)}; {where}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    @app.command("regs")
    def regs(
        params: Annotated[Optional[Path], typer.Option("--params", help="Params JSON (ModelParams).")] = None,
        decode: Annotated[Optional[Path], typer.Option(
            "--decode", help="Print a register image (.bin/.hex/.json) instead; --params then checks its arch.")] = None,
        build_dir: BuildDirOption = Path("build"),
        run: RunOption = "default",
    ) -> None:
        """Write register images and the register map to BUILD_DIR/RUN/regs/."""
        from cimq.errors import CimqInputError

        if decode is not None:
            _decode(decode, params)
            return
        if params is None:
            raise CimqInputError("--params FILE is required (or --decode IMAGE)", source="cimq regs")
        _write(params, build_dir, run)
