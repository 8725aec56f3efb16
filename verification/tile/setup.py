"""What a generated tile holds: its layers, their chip and the checks that the hex files agree.

Reads ``BUILD_DIR/RUN/tile/tile.json``: a demo tile (one seeded random layer,
``cimq generate`` without model params) or a model tile (``"mode": "model"``:
every layer of the default network, see :mod:`cimq.verification.model.tilefiles`).
The programmed crossbars are rebuilt exactly as the simulator builds them and
compared with ``crossbar_codes.hex`` / ``bias.hex``: the RTL must hold the
simulator's chip, or verification would compare different chips.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cimq.errors import CimqInputError
from cimq.hw.regs.layer import LayerGeometry
from cimq.hw.tile.config import TileConfig
from cimq.hw.tile.contents import CrossbarContents, LayerPlacement, place_layers, read_hex
from cimq.params import LayerParams, ModelParams

__all__ = ["TileLayer", "TileSetup", "load_tile_setup", "model_tile_setup", "check_hex", "verification_sources"]


@dataclass(frozen=True, eq=False)
class TileLayer:
    """One layer on the tile: its sampled crossbar, bias codes, geometry and params."""

    name: str
    crossbar: object  # cimq.sim.crossbar.ProgrammedCrossbar
    bias: np.ndarray
    geometry: LayerGeometry
    params: LayerParams


@dataclass(frozen=True, eq=False)
class TileSetup:
    config: TileConfig
    layers: tuple[TileLayer, ...]
    mode: str  # "demo" or "model"
    manifest: dict
    tile_dir: Path
    model: object | None = None  # ModelSetup for model tiles
    chip: object | None = None  # cimq.sim.network.Chip for model tiles

    @property
    def params(self) -> ModelParams:
        return ModelParams(arch=self.config.arch, layers=[l.params for l in self.layers])

    @property
    def geometry(self) -> dict[str, LayerGeometry]:
        return {l.name: l.geometry for l in self.layers}

    def contents(self) -> CrossbarContents:
        return place_layers(self.config, [LayerPlacement(l.name, l.crossbar, l.bias, l.geometry.array_base)
                                          for l in self.layers], source=str(self.tile_dir / "tile.json"))


def _demo_layers(doc: dict, arch) -> tuple[TileLayer, ...]:
    import torch

    from cimq.sim.crossbar import program_crossbar
    from cimq.sim.variation import layer_rng, preset

    xb = program_crossbar(torch.as_tensor(doc["w_int"]), arch, preset(doc["variation"]),
                          layer_rng(doc["seed"], doc["chip"], 0))
    lp = LayerParams.model_validate(doc["layer"])
    return (TileLayer(lp.name, xb, np.asarray(doc["bias"], np.int64), LayerGeometry.model_validate(doc["geometry"]), lp),)


def load_tile_setup(tile_dir: Path, build_dir: Path) -> TileSetup:
    """Rebuild the tile's layers from ``tile.json`` and check the hex files hold that chip."""
    from cimq.arch import ArchConfig

    manifest_path = tile_dir / "tile.json"
    if not manifest_path.is_file():
        raise CimqInputError("not found: run `cimq generate` first", source=manifest_path)
    try:
        doc = json.loads(manifest_path.read_text())
        arch = ArchConfig.model_validate(doc["arch"])
        config = TileConfig(arch, arrays=int(doc["arrays"]), max_in_len=int(doc["max_in_len"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise CimqInputError(f"not a tile manifest ({exc})", source=manifest_path) from None
    if doc.get("mode") == "model":
        from cimq.verification.model.network import bind_model_setup, default_graph
        from cimq.verification.model.tiny import TINY_NETWORK, tiny_graph

        params = ModelParams.model_validate(doc["params"])
        tiny = doc.get("network") == TINY_NETWORK
        graph = tiny_graph() if tiny else default_graph(build_dir, int(doc["model_seed"]))
        model = bind_model_setup(graph, params, str(manifest_path), model_seed=int(doc["model_seed"]),
                                 arrays=config.arrays, model_name="tiny digits net" if tiny else None)
        setup = model_tile_setup(model, tile_dir, doc)
    else:
        setup = TileSetup(config, _demo_layers(doc, arch), "demo", doc, tile_dir)
    check_hex(setup)
    return setup


def model_tile_setup(model, tile_dir: Path, manifest: dict) -> TileSetup:
    """A model tile's layers for the chip ``manifest`` names (``variation``, ``seed``, ``chip``)."""
    from cimq.verification.model.network import model_chip

    chip = model_chip(model, manifest["variation"], int(manifest["seed"]), int(manifest["chip"]))
    layers = tuple(TileLayer(n, chip.crossbars[n], model.net.bias_codes(n).numpy(), g, model.params.layer(n))
                   for n, g in model.placement.geometry.items())
    return TileSetup(model.placement.config, layers, "model", manifest, tile_dir, model, chip)


def check_hex(setup: TileSetup) -> None:
    """``crossbar_codes.hex`` / ``bias.hex`` must hold exactly the setup's chip."""
    config, tile_dir, arch = setup.config, setup.tile_dir, setup.config.arch
    want = setup.contents()
    for name, values, bits in (("crossbar_codes.hex", want.codes, config.code_bits),
                               ("bias.hex", want.bias, arch.acc_bits)):
        path = tile_dir / name
        try:
            got = read_hex(path.read_text(), bits)
        except (OSError, ValueError) as exc:
            raise CimqInputError(f"unreadable ({exc})", source=path) from None
        if got.size != values.size or not np.array_equal(got, values.reshape(-1)):
            raise CimqInputError("does not hold the chip tile.json describes (rerun `cimq generate`)", source=path)


def verification_sources(tile_dir: Path) -> list[Path]:
    """The proposed tile and the crossbar model (the conventional tile is not simulated)."""
    from cimq.hw.verilog import FILE_LIST, read_file_list

    files = read_file_list(tile_dir / FILE_LIST)
    return [f for f in files if f.name != "tile_conventional.v"]
