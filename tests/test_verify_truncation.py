"""cocotb testbench of the truncation unit on Icarus Verilog and Verilator.

Real simulator runs on the generated Verilog: a modest vector count must give
zero mismatches, and a deliberately wrong reference must be caught (the
checker can fail), both through the runner and through ``cimq verify`` (exit 1).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cimq.cli.commands.generate import generate_command
from cimq.cli.main import main
from cimq.verification.runner import BENCHES, run_bench
from cimq.verification.truncation.stimulus import build_segments

VECTORS = 3000
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("verify") / "build"
    generate_command(None, 6, True, "floor", True, build, "default")
    return build


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_rtl_matches_reference_and_fault_is_caught(build: Path, simulator: str) -> None:
    rtl = build / "default" / "rtl" / "truncation_unit.v"
    out = build / "bench" / simulator
    good = run_bench(BENCHES["unit"], simulator, [rtl], out, vectors=VECTORS, seed=7)
    assert good.passed, good.first_mismatches
    assert (good.tests, good.failed) == (1, 0)
    assert good.checked == good.vectors == VECTORS
    assert good.mismatches == 0
    # The same build, with the reference made wrong on purpose: every vector must mismatch.
    bad = run_bench(BENCHES["unit"], simulator, [rtl], out, vectors=VECTORS, seed=7, fault="reference-off-by-one")
    assert not bad.passed
    assert bad.failed == 1
    assert bad.mismatches == bad.checked == VECTORS
    assert "expected Result(" in bad.first_mismatches[0]


def test_stimulus_covers_every_configuration_and_edges() -> None:
    segments = build_segments(24, 8, VECTORS, seed=7)
    assert sum(len(s.accs) for s in segments) == VECTORS
    assert {(s.config.drop_low, s.config.relu, s.config.rounding) for s in segments} == {
        (d, r, m) for d in range(17) for r in (False, True) for m in ("floor", "half_up")
    }
    accs = {a for s in segments for a in s.accs}
    assert {-(1 << 23), (1 << 23) - 1, 0, -1} <= accs
    # Same seed, same vectors; another seed, other vectors.
    assert build_segments(24, 8, VECTORS, seed=7) == segments
    assert build_segments(24, 8, VECTORS, seed=8) != segments


def test_cli_verify_fault_exits_1(build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["verify", "--sim", "icarus", "--vectors", "500", "--build-dir", str(build)]
    assert main(args) == 0
    summary = json.loads((build / "default" / "verify" / "summary.json").read_text())
    assert summary["simulators"][0]["checked"] == 500 and summary["simulators"][0]["mismatches"] == 0
    assert main([*args, "--inject-fault", "reference-off-by-one"]) == 1
    out = capsys.readouterr()
    assert "500 mismatches" in out.out + out.err
    assert (build / "default" / "verify" / "unit" / "icarus" / "results.xml").is_file()


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--sim", "ghdl"], "--sim: 'ghdl' is not one of icarus, verilator, all"),
        (["--vectors", "0"], "--vectors: 0 is outside the allowed range 1..10000000"),
        (["--level", "bogus"], "--level: 'bogus' is not one of unit, tile, model"),
        (["--inject-fault", "bitflip"], "--inject-fault: 'bitflip' is not one of none, reference-off-by-one"),
    ],
)
def test_cli_verify_bad_options(build: Path, args: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--build-dir", str(build), *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
