"""``cimq generate`` writes the tile: deterministic files, hex of one chip, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cimq.cli.main import main
from cimq.hw.tile import LayerPlacement, TileConfig, place_layers, read_hex
from cimq.params import LayerParams, ModelParams
from cimq.sim.crossbar import program_crossbar
from cimq.sim.variation import layer_rng, preset

TILE_FILES = ["bias.hex", "crossbar_codes.hex", "crossbar_model.v", "files.f", "tile.json", "tile.v", "tile_conventional.v"]


def _params(tmp_path: Path, layers: int = 1, **arch) -> Path:
    arch = {"xbar_rows": 16, "xbar_cols": 16, "layer_contexts": 2, **arch}
    p = ModelParams(arch=arch, layers=[LayerParams(name=f"l{i}", fl_w=6, fl_x=6, drop_low=5, relu=False)
                                       for i in range(layers)])
    path = tmp_path / f"params{layers}.json"
    path.write_text(p.model_dump_json())
    return path


def _gen(build: Path, *extra: str) -> int:
    return main(["generate", "--build-dir", str(build), *extra])


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


def test_tile_files_are_deterministic_and_match_the_chip(tmp_path: Path) -> None:
    params = _params(tmp_path)
    args = ["--params", str(params), "--arrays", "3", "--chip-seed", "4", "--seed", "9"]
    assert _gen(tmp_path / "a", *args) == 0
    assert _gen(tmp_path / "b", *args) == 0
    first = _snapshot(tmp_path / "a" / "default" / "tile")
    assert sorted(first) == TILE_FILES
    assert first == _snapshot(tmp_path / "b" / "default" / "tile")
    assert first["files.f"] == b"tile.v\ntile_conventional.v\ncrossbar_model.v\n"
    model = first["crossbar_model.v"].decode()
    assert model.startswith("// cimq behavioral crossbar: SIMULATION MODEL ONLY")
    assert "$readmemh" in model and "$readmemh" not in first["tile.v"].decode()
    tile = first["tile.v"].decode()
    assert "module cimq_tile_periphery(" in tile and "module cimq_tile(" in tile and "cimq_crossbar_model" in tile
    assert "/work" not in tile and "src =" not in tile
    conv = first["tile_conventional.v"].decode()
    assert "module cimq_tile_conventional(" in conv and "cfg_drop_low" not in conv

    doc = json.loads(first["tile.json"])
    arch = ModelParams.model_validate_json(params.read_text()).arch
    cfg = TileConfig(arch, arrays=3)
    assert doc["layer"]["name"] == "l0" and doc["geometry"] == {"in_len": 40, "out_len": 4, "array_base": 0}
    xb = program_crossbar(torch.as_tensor(doc["w_int"]), arch, preset(doc["variation"]),
                          layer_rng(doc["seed"], doc["chip"], 0))
    want = place_layers(cfg, [LayerPlacement("l0", xb, doc["bias"], 0)])
    codes = read_hex(first["crossbar_codes.hex"].decode(), cfg.code_bits).reshape(want.codes.shape)
    np.testing.assert_array_equal(codes, want.codes)
    np.testing.assert_array_equal(read_hex(first["bias.hex"].decode(), arch.acc_bits), want.bias)

    assert _gen(tmp_path / "c", *args[:-4], "--chip-seed", "5", "--seed", "9") == 0
    other = _snapshot(tmp_path / "c" / "default" / "tile")
    assert other["crossbar_codes.hex"] != first["crossbar_codes.hex"]  # another chip sample
    assert other["tile.v"] == first["tile.v"]


@pytest.mark.parametrize("extra,needle", [
    (["--arrays", "0"], "--arrays: Array count must be an integer in 1..256, not 0"),
    (["--variation", "bogus"], "--variation: 'bogus' is not a known variation preset"),
    (["--chip-seed", "-1"], "--chip-seed: -1 is outside the allowed range"),
])
def test_bad_tile_options_exit_2(tmp_path: Path, extra: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    build = tmp_path / "build"
    assert _gen(build, "--params", str(_params(tmp_path)), *extra) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
    assert not build.exists()


def test_more_layers_than_contexts_and_bad_width(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build = tmp_path / "build"
    assert _gen(build, "--params", str(_params(tmp_path, layers=3))) == 2
    assert "3 layers do not fit the 2 layer contexts" in capsys.readouterr().err
    assert _gen(build, "--params", str(_params(tmp_path, xbar_cols=6))) == 2
    assert "xbar_cols 6 is not a multiple of the 4 slices per weight" in capsys.readouterr().err
    assert not build.exists()
