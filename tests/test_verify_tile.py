"""Tile level: placement, regs/generate wiring, and cocotb runs on Icarus and Verilator.

The cocotb runs use the tiny network's model tile (``cimq.verification.model.tiny``:
2 contexts, 4 arrays of 16x16, seconds to build), programmed only by
replaying exported register images; a demo tile with a 4-bit ADC covers ADC
clamping. The simulator builds are shared by every test of the session
(``verify/build/SIM`` under one build folder).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from cimq.arch import ArchConfig
from cimq.cli.main import main
from cimq.errors import CimqInputError
from cimq.hw.placement import place_model
from cimq.hw.regs import read_image
from cimq.params import LayerParams, ModelParams
from cimq.sim.capture import capture
from cimq.sim.default_model import DigitsCNN
from cimq.sim.network import default_layer_params
from cimq.verification.model.tiny import write_tiny_run

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build folder whose run ``tiny`` holds the tiny model tile, its image and params."""
    build = tmp_path_factory.getbasetemp() / "verify_tiny_build"
    if not (build / "tiny" / "tile" / "tile.json").is_file():
        write_tiny_run(build / "tiny")
    return build


def _verify(build: Path, *args: str) -> int:
    return main(["verify", "--build-dir", str(build), "--run", "tiny", *args])


# ------------------------------------------------------------------ placement


def test_default_model_placement_fills_consecutive_arrays() -> None:
    graph = capture(DigitsCNN().eval())
    p = place_model(graph, ArchConfig())
    geo = {n: (g.in_len, g.out_len, g.array_base) for n, g in p.geometry.items()}
    # conv1 9x16: 1 array; conv2 144x32: 2 row chunks; fc1 512x64: 4 chunks x 2 column tiles; fc2 64x10: 1.
    assert geo == {"conv1": (9, 16, 0), "conv2": (144, 32, 1), "fc1": (512, 64, 3), "fc2": (64, 10, 11)}
    assert p.config.arrays == 12 and p.config.max_in_len == 512
    used = [set(p.config.arrays_used(g)) for g in p.geometry.values()]
    assert set().union(*used) == set(range(12)) and sum(map(len, used)) == 12  # no overlap, no gap


@pytest.mark.parametrize("arch,arrays,needle", [
    (ArchConfig(layer_contexts=3), None, "4 conv/linear layers do not fit the 3 layer contexts"),
    (ArchConfig(), 11, "the model needs 12 crossbar arrays of 128x128, more than the tile's 11 arrays"),
    (ArchConfig(xbar_rows=2, xbar_cols=4), None, "more than the 256 arrays a tile can address"),
])
def test_placement_errors(arch: ArchConfig, arrays: int | None, needle: str) -> None:
    with pytest.raises(CimqInputError, match=needle):
        place_model(capture(DigitsCNN().eval()), arch, arrays=arrays, source="params.json")


def test_regs_cli_enables_every_default_model_context(tmp_path: Path) -> None:
    graph = capture(DigitsCNN().eval())
    params = ModelParams(layers=default_layer_params(graph, ArchConfig(), fl_w=9))
    path = tmp_path / "params.json"
    path.write_text(params.model_dump_json())
    assert main(["regs", "--params", str(path), "--build-dir", str(tmp_path / "b")]) == 0
    image = read_image(tmp_path / "b" / "default" / "regs" / "regs.bin", arch=params.arch)
    assert list(image.geometry) == list(place_model(graph, params.arch).geometry.values())
    # Params for another network keep the disabled placeholder.
    other = ModelParams(layers=[LayerParams(name="l0", fl_w=6, fl_x=6, drop_low=6)])
    path.write_text(other.model_dump_json())
    assert main(["regs", "--params", str(path), "--build-dir", str(tmp_path / "c")]) == 0
    assert read_image(tmp_path / "c" / "default" / "regs" / "regs.bin").geometry == (None,)


# ------------------------------------------------------------------ cocotb


@pytest.mark.slow
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_tile_sweep_passes_with_full_coverage(tiny_build: Path, sim: str, capsys: pytest.CaptureFixture[str]) -> None:
    # 2 contexts x 68 programs would sweep everything; 72 vectors cover every drop_low on both contexts' way.
    assert _verify(tiny_build, "--level", "tile", "--sim", sim, "--vectors", "72", "--seed", "3") == 0
    out = capsys.readouterr().out
    assert f"cimq verify --level tile on {sim}: PASS" in out
    run = tiny_build / "tiny" / "verify" / "tile" / sim
    cov = {(b["group"], b["name"]): b for b in json.loads((run / "coverage.json").read_text())["coverage"]}
    for group, names in (("drop_low", [str(d) for d in range(17)]), ("relu", ["on", "off"]),
                         ("rounding", ["floor", "half_up"]), ("signed_input", ["on", "off"]),
                         ("context", ["0", "1"]), ("saturation", ["high", "low"])):
        for name in names:
            assert cov[group, name]["hit"], (group, name)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["checked"] == summary["outputs"] > 72 and summary["mismatches"] == 0
    plan = json.loads((tiny_build / "tiny" / "verify" / "tile" / "plan.json").read_text())
    assert summary["images_replayed"] == sum(1 for s in plan["segments"] if s["image"]) == 36
    assert summary["context_switches"] == len(plan["segments"]) == 72
    assert (run / "results.xml").is_file() and (run / "summary.txt").read_text().startswith("cimq verify")
    images = sorted(p.suffix for p in (tiny_build / "tiny" / "verify" / "tile" / "images").iterdir())
    assert {".bin", ".hex", ".json"} <= set(images)  # every image format is replayed


@pytest.mark.slow
def test_reference_fault_fails_with_first_mismatch(tiny_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--level", "tile", "--sim", "icarus", "--vectors", "8", "--seed", "5"]
    assert _verify(tiny_build, *args, "--inject-fault", "reference-off-by-one") == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "first mismatch" in out and "input codes [" in out
    assert "reproduce     cimq verify --level tile --sim icarus --vectors 8 --seed 5" in out


@pytest.mark.slow
def test_adc_clamping_is_covered_with_a_narrow_adc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params = ModelParams(arch=ArchConfig(xbar_rows=16, xbar_cols=8, adc_bits=4, layer_contexts=1),
                         layers=[LayerParams(name="l0", fl_w=6, fl_x=6, drop_low=8, relu=False)])
    path = tmp_path / "p.json"
    path.write_text(params.model_dump_json())
    build = tmp_path / "b"
    assert main(["generate", "--params", str(path), "--arrays", "3", "--build-dir", str(build)]) == 0
    assert main(["verify", "--level", "tile", "--sim", "icarus", "--vectors", "20", "--build-dir", str(build)]) == 0
    cov = json.loads((build / "default" / "verify" / "tile" / "icarus" / "coverage.json").read_text())["coverage"]
    hits = {(b["group"], b["name"]): b["count"] for b in cov}
    assert hits["adc_clamp", "at full scale"] > 0


def test_cli_errors_exit_2(tmp_path: Path, tiny_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--level", "tile", "--sim", "icarus", "--build-dir", str(tmp_path)]) == 2
    assert "files.f: file list not found (run `cimq generate` first)" in capsys.readouterr().err
    assert _verify(tiny_build, "--level", "tile", "--mutant", "bogus") == 2
    assert "--mutant: 'bogus' is not one of trunc-round-off-by-one" in capsys.readouterr().err
    assert main(["verify", "--level", "unit", "--mutant", "signed-plane-sign", "--build-dir", str(tmp_path)]) == 2
    # A tile whose hex files do not hold the chip tile.json describes is refused.
    broken = tmp_path / "broken"
    shutil.copytree(tiny_build / "tiny", broken)
    hexfile = broken / "tile" / "crossbar_codes.hex"
    lines = hexfile.read_text().splitlines()
    lines[0] = "001" if lines[0] != "001" else "002"
    hexfile.write_text("\n".join(lines) + "\n")
    assert main(["verify", "--level", "tile", "--sim", "icarus", "--build-dir", str(tmp_path), "--run", "broken"]) == 2
    assert "crossbar_codes.hex: does not hold the chip tile.json describes" in capsys.readouterr().err
