"""``cimq fpga`` on a tiny tile: a real yosys + nextpnr-ecp5 + ecppack run (YoWASP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cimq.cli.main import main
from cimq.params import LayerParams, ModelParams


def test_fpga_tiny_tile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params = tmp_path / "params.json"
    params.write_text(ModelParams(arch={"xbar_rows": 8, "xbar_cols": 8, "layer_contexts": 2},
                                  layers=[LayerParams(name="fc", fl_w=6, fl_x=6, drop_low=4)]).model_dump_json())
    build = tmp_path / "build"
    assert main(["fpga", "--params", str(params), "--arrays", "2", "--build-dir", str(build)]) == 0
    summary = json.loads((build / "default" / "fpga" / "summary.json").read_text())
    assert summary["fmax_mhz"] > 25  # routed and timed (the board clock is 25 MHz)
    used, available = summary["utilization"]["TRELLIS_FF"]
    assert 100 < used < available  # the periphery survived optimization
    assert (build / "default" / "fpga" / "cimq_tile_fpga.bit").is_file()
    assert "Fmax" in capsys.readouterr().out


def test_fpga_bad_board(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fpga", "--board", "icebreaker", "--build-dir", str(tmp_path / "b")]) == 2
    assert "--board: 'icebreaker' is not one of ulx3s-85f" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
