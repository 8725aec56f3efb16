"""Mutation check: deliberately wrong tile RTL must make the testbench fail (exit 1).

Every mutant of ``cimq.verification.mutants`` is applied to the generated
Verilog of the tiny model tile and run at tile level on Icarus with few
vectors; the ADC full-scale mutant runs on a demo tile whose 4-bit ADC really
clamps; one mutant also runs on Verilator.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from cimq.arch import ArchConfig
from cimq.cli.main import main
from cimq.params import LayerParams, ModelParams
from cimq.verification.model.tiny import write_tiny_run
from cimq.verification.mutants import MUTANTS, Mutant, MutationError, apply_mutant

torch.set_num_threads(1)

ON_TINY = [name for name in MUTANTS if name != "adc-clamp-high-off-by-one"]


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.getbasetemp() / "verify_tiny_build"  # shared with test_verify_tile
    if not (build / "tiny" / "tile" / "tile.json").is_file():
        write_tiny_run(build / "tiny")
    return build


def _caught(build: Path, run: str, name: str, sim: str, capsys: pytest.CaptureFixture[str]) -> dict:
    args = ["verify", "--level", "tile", "--sim", sim, "--vectors", "24", "--seed", "1", "--mutant", name,
            "--build-dir", str(build), "--run", run]
    assert main(args) == 1, f"mutant {name} was not caught"
    out = capsys.readouterr().out
    assert "FAIL" in out and "first mismatch" in out
    s = json.loads((build / run / "verify" / f"tile-mutant-{name}" / sim / "summary.json").read_text())
    assert s["mismatches"] > 0
    return s


@pytest.mark.slow
@pytest.mark.parametrize("name", ON_TINY)
def test_mutant_is_caught_on_icarus(tiny_build: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    _caught(tiny_build, "tiny", name, "icarus", capsys)
    # The unmutated tile passes the same run.
    assert main(["verify", "--level", "tile", "--sim", "icarus", "--vectors", "24", "--seed", "1",
                 "--build-dir", str(tiny_build), "--run", "tiny"]) == 0


@pytest.mark.slow
def test_adc_full_scale_mutant_is_caught(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params = ModelParams(arch=ArchConfig(xbar_rows=16, xbar_cols=8, adc_bits=4, layer_contexts=1),
                         layers=[LayerParams(name="l0", fl_w=6, fl_x=6, drop_low=8, relu=False)])
    path = tmp_path / "p.json"
    path.write_text(params.model_dump_json())
    assert main(["generate", "--params", str(path), "--arrays", "3", "--build-dir", str(tmp_path)]) == 0
    _caught(tmp_path, "default", "adc-clamp-high-off-by-one", "icarus", capsys)


@pytest.mark.slow
def test_mutant_is_caught_on_verilator(tiny_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _caught(tiny_build, "tiny", "offset-correction-missing", "verilator", capsys)


def test_mutant_that_no_longer_matches_is_an_error(tiny_build: Path) -> None:
    text = (tiny_build / "tiny" / "tile" / "tile.v").read_text()
    arch = ArchConfig.model_validate(json.loads((tiny_build / "tiny" / "tile" / "tile.json").read_text())["arch"])
    for mutant in MUTANTS.values():
        if mutant.file == "tile.v":
            assert apply_mutant(text, mutant, arch) != text
    gone = Mutant("gone", "tile.v", r"\cimq_tile_periphery.trunc", lambda a: "no such text", lambda a: "", "")
    with pytest.raises(MutationError, match="matches 0 times"):
        apply_mutant(text, gone, arch)
