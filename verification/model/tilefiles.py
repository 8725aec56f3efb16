"""``cimq generate --params`` for the default network: the tile sized for it and its chip.

The tile gets exactly the arrays :func:`cimq.hw.placement.place_model` needs
(or ``arrays``), an input buffer as deep as the longest layer input, and the
crossbar/bias hex files of ALL layers for one sampled chip: the codes are the
simulator's own (:meth:`cimq.sim.network.CimNetwork.program` with
``preset(variation)``, ``seed``, ``chip``), the biases ``rint(bias * 2**FL_acc)``
as :meth:`~cimq.sim.network.CimNetwork.bias_codes` gives them. ``tile.json``
(``"mode": "model"``) records the params and the chip, so ``cimq verify``
rebuilds the same golden numbers.
"""

from __future__ import annotations

import json

from cimq.hw.tile.contents import bias_hex, codes_hex
from cimq.hw.tile.emit import CONVENTIONAL_TOP, TILE_TOP, tile_rtl
from cimq.hw.verilog import FILE_LIST, FixedWindow, file_list
from cimq.verification.model.network import ModelSetup, model_chip, model_contents

__all__ = ["model_manifest", "model_tile_files"]


def model_manifest(setup: ModelSetup, *, variation: str, seed: int, chip: int, model_seed: int) -> dict:
    cfg = setup.placement.config
    return {
        "mode": "model", "arch": cfg.arch.model_dump(mode="json"), "arrays": cfg.arrays, "max_in_len": cfg.max_in_len,
        "code_bits": cfg.code_bits, "top": TILE_TOP, "conventional_top": CONVENTIONAL_TOP,
        "model": setup.model_name, "model_seed": model_seed, "params": setup.params.model_dump(mode="json"),
        "geometry": {n: g.model_dump(mode="json") for n, g in setup.placement.geometry.items()},
        "variation": variation, "seed": seed, "chip": chip,
    }


def model_tile_files(setup: ModelSetup, window: FixedWindow, *, variation: str, seed: int, chip: int,
                     model_seed: int = 0) -> dict[str, str]:
    """Every file of ``tile/`` (file-list order first); validates before returning."""
    contents = model_contents(setup, model_chip(setup, variation, seed, chip))
    files = tile_rtl(setup.placement.config, window)
    files[FILE_LIST] = file_list(list(files))
    doc = model_manifest(setup, variation=variation, seed=seed, chip=chip, model_seed=model_seed)
    files.update({"crossbar_codes.hex": codes_hex(contents), "bias.hex": bias_hex(contents),
                  "tile.json": json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"})
    return files
