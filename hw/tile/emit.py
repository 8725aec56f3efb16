"""Verilog, hex files and a manifest of the tile for ``cimq generate``.

Written into ``BUILD_DIR/RUN/tile/``:

* ``tile.v``: modules ``cimq_tile_periphery`` (synthesizable) and ``cimq_tile``
  (top: periphery + an instance of ``cimq_crossbar_model``);
* ``tile_conventional.v``: ``cimq_tile_conventional_periphery`` (fixed window)
  and ``cimq_tile_conventional``;
* ``crossbar_model.v``: the behavioral crossbar (simulation only);
* ``files.f``; ``crossbar_codes.hex`` and ``bias.hex`` of one chip;
* ``tile.json``: what a testbench needs to rebuild the golden numbers (the
  demo layer's integer weights and biases, geometry, layer parameters,
  variation preset, seed and chip: ``program_crossbar(w_int, arch,
  preset(variation), layer_rng(seed, chip, 0))`` gives the codes in the hex).

The demo layer is a seeded random layer filling the tile's arrays
(``in_len = max_in_len - xbar_rows // 2`` rows: a ragged last chunk when
there are several; ``out_len = outputs_per_array``), placed at array 0 and
programmed with ``--variation`` for chip ``--chip-seed``. Its layer
parameters are the params file's first layer, or FL 6/6, drop_low 8, ReLU.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from cimq.hw.regs.layer import LayerGeometry
from cimq.hw.tile.config import TileConfig
from cimq.hw.tile.contents import LayerPlacement, bias_hex, codes_hex, place_layers
from cimq.hw.tile.crossbar_model import crossbar_model_verilog
from cimq.hw.tile.periphery import TilePeriphery
from cimq.hw.tile.tile import TileTop
from cimq.hw.verilog import FixedWindow, to_verilog
from cimq.fixed import Rounding
from cimq.params import LayerParams

__all__ = ["TILE_TOP", "CONVENTIONAL_TOP", "periphery_module", "tile_rtl", "demo_layer", "tile_data_files"]

TILE_TOP = "cimq_tile"
CONVENTIONAL_TOP = "cimq_tile_conventional"


def periphery_module(top: str) -> str:
    return f"{top}_periphery"


def tile_rtl(config: TileConfig, window: FixedWindow) -> dict[str, str]:
    """``tile.v``, ``tile_conventional.v``, ``crossbar_model.v`` (file-list order)."""
    a = config.arch
    window.check_against(a)
    desc = (f"arrays={config.arrays} max_in_len={config.max_in_len} xbar={a.xbar_rows}x{a.xbar_cols} "
            f"acc_bits={a.acc_bits} out_bits={a.out_bits} arch={a.fingerprint()[:16]}")
    files = {}
    for top, conv, label in ((TILE_TOP, None, "proposed tile (configurable truncation)"),
                             (CONVENTIONAL_TOP, window, f"conventional tile (fixed window drop_low={window.drop_low} "
                                                        f"relu={int(window.relu)} rounding={Rounding(window.rounding).value})")):
        per = to_verilog(TilePeriphery(config, conventional=conv), periphery_module(top),
                         f"cimq {label} periphery, synthesizable: {desc}")
        wrap = to_verilog(TileTop(config, periphery_module(top), conventional=conv), top,
                          f"cimq {label}: periphery + behavioral crossbar instance")
        files[f"{'tile' if conv is None else 'tile_conventional'}.v"] = per + wrap
    files["crossbar_model.v"] = crossbar_model_verilog(config)
    return files


def demo_layer(config: TileConfig, layer: LayerParams, *, variation: str, seed: int, chip: int) -> tuple[LayerPlacement, dict]:
    """The seeded demo layer, programmed for one chip, and its manifest entry."""
    from cimq.sim.crossbar import program_crossbar
    from cimq.sim.variation import layer_rng, preset

    a = config.arch
    in_len = max(1, config.max_in_len - (a.xbar_rows // 2 if config.chunks > 1 else 0))
    out_len = config.outputs_per_array
    rng = np.random.default_rng(seed)
    w = rng.integers(-(1 << (a.weight_bits - 1)), 1 << (a.weight_bits - 1), (out_len, in_len))
    bias = rng.integers(-(1 << (a.acc_bits - 4)), 1 << (a.acc_bits - 4), out_len)
    xb = program_crossbar(torch.as_tensor(w), a, preset(variation), layer_rng(seed, chip, 0))
    geometry = LayerGeometry(in_len=in_len, out_len=out_len, array_base=0)
    manifest = {"layer": layer.model_dump(mode="json"), "geometry": geometry.model_dump(mode="json"),
                "w_int": w.tolist(), "bias": bias.tolist(), "variation": variation, "seed": seed, "chip": chip}
    return LayerPlacement(layer.name, xb, bias, 0), manifest


def tile_data_files(config: TileConfig, layer: LayerParams, *, variation: str, seed: int, chip: int) -> dict[str, str]:
    """``crossbar_codes.hex``, ``bias.hex`` and ``tile.json`` for one chip."""
    placement, manifest = demo_layer(config, layer, variation=variation, seed=seed, chip=chip)
    contents = place_layers(config, [placement], source="demo layer")
    doc = {"arch": config.arch.model_dump(mode="json"), "arrays": config.arrays, "max_in_len": config.max_in_len,
           "code_bits": config.code_bits, "top": TILE_TOP, "conventional_top": CONVENTIONAL_TOP, **manifest}
    return {"crossbar_codes.hex": codes_hex(contents), "bias.hex": bias_hex(contents),
            "tile.json": json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"}
