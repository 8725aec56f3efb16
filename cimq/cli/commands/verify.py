"""``cimq verify``: the generated RTL against the Python golden model, on cocotb.

Runs the testbench of ``--level`` (``unit``: the truncation unit against
:func:`cimq.fixed.truncate`; tile/model levels are added to
:data:`cimq.verification.runner.BENCHES`) on Icarus Verilog and/or Verilator,
reading the RTL named by ``BUILD_DIR/RUN/rtl/files.f`` (``cimq generate``).
Simulator builds, logs and results XML go to ``BUILD_DIR/RUN/verify/LEVEL/SIM/``
and a summary to ``BUILD_DIR/RUN/verify/summary.json``. Exit code 1 on any
mismatch.

``--inject-fault reference-off-by-one`` deliberately corrupts the reference
model (every expected output + 1). It exists to prove that the checker can
fail: such a run must report mismatches and exit 1.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cimq.cli.common import BuildDirOption, RunOption, SeedOption, console, run_dir
from cimq.errors import CheckFailed, CimqInputError
from cimq.files import write_text_atomic

MAX_VECTORS = 10_000_000

SimOption = Annotated[str, typer.Option("--sim", help="Simulator: icarus, verilator or all.", show_default=True)]
VectorsOption = Annotated[int, typer.Option("--vectors", help="Vectors per simulator.", show_default=True)]
LevelOption = Annotated[str, typer.Option("--level", help="What to verify: unit (the truncation unit).", show_default=True)]
FaultOption = Annotated[
    str,
    typer.Option(
        "--inject-fault",
        help="Deliberately corrupt the reference (reference-off-by-one) to prove the checker fails; "
        "the run must then exit 1. Default: none.",
        show_default=True,
    ),
]


def _check_options(sim: str, vectors: int, seed: int, level: str, fault: str) -> tuple[list[str], object]:
    from cimq.verification.runner import BENCHES, SIMULATORS
    from cimq.verification.truncation.model import FAULTS

    if sim not in (*SIMULATORS, "all"):
        raise CimqInputError(f"{sim!r} is not one of {', '.join((*SIMULATORS, 'all'))}", source="--sim")
    if not 1 <= vectors <= MAX_VECTORS:
        raise CimqInputError(f"{vectors} is outside the allowed range 1..{MAX_VECTORS}", source="--vectors")
    if not 0 <= seed < 2**32:
        raise CimqInputError(f"{seed} is outside the allowed range 0..{2**32 - 1}", source="--seed")
    if level not in BENCHES:
        raise CimqInputError(f"{level!r} is not one of {', '.join(BENCHES)}", source="--level")
    if fault not in FAULTS:
        raise CimqInputError(f"{fault!r} is not one of {', '.join(FAULTS)}", source="--inject-fault")
    return (list(SIMULATORS) if sim == "all" else [sim]), BENCHES[level]


def verify_command(sim: str, vectors: int, seed: int, level: str, fault: str, build_dir: Path, run: str) -> list:
    """Check options and RTL, run each simulator; return the per-simulator results."""
    from cimq.hw.verilog import FILE_LIST, read_file_list
    from cimq.verification.runner import run_bench

    base = run_dir(build_dir, run)
    sims, bench = _check_options(sim, vectors, seed, level, fault)
    sources = read_file_list(base / "rtl" / FILE_LIST)
    out = base / "verify"
    results = []
    for name in sims:
        console.print(f"verify {bench.level} on {name}: {vectors} vectors, seed {seed}" + (f", fault {fault}" if fault != "none" else ""))
        results.append(run_bench(bench, name, sources, out / bench.level / name, vectors=vectors, seed=seed, fault=fault))
    summary = {
        "level": bench.level,
        "seed": seed,
        "fault": fault,
        "simulators": [
            {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(r).items()}
            | {"passed": r.passed, "vectors_per_second": round(r.vectors_per_second)}
            for r in results
        ],
    }
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return results


def register(app: typer.Typer) -> None:
    @app.command("verify")
    def verify(
        sim: SimOption = "all",
        vectors: VectorsOption = 100_000,
        seed: SeedOption = 0,
        level: LevelOption = "unit",
        inject_fault: FaultOption = "none",
        build_dir: BuildDirOption = Path("build"),
        run: RunOption = "default",
    ) -> None:
        """Verify the generated RTL bit-exactly against cimq's golden model (cocotb)."""
        results = verify_command(sim, vectors, seed, level, inject_fault, build_dir, run)
        table = Table(title=f"cimq verify --level {level}")
        for col in ("simulator", "checked", "mismatches", "build s", "sim s", "vectors/s", "result"):
            table.add_column(col, justify="left" if col in ("simulator", "result") else "right")
        for r in results:
            table.add_row(
                r.simulator,
                f"{r.checked}",
                str(r.mismatches),
                f"{r.build_seconds:.1f}",
                f"{r.run_seconds:.1f}",
                f"{r.vectors_per_second:,.0f}",
                "pass" if r.passed else "FAIL",
            )
        console.print(table)
        for r in results:
            console.print(f"{r.simulator}: {r.checked} of {r.vectors} vectors checked, {r.mismatches} mismatches")
        failed = [r for r in results if not r.passed]
        for r in failed:
            for line in r.first_mismatches[:3]:
                console.print(f"  {r.simulator}: {line}")
        if failed:
            detail = "; ".join(
                f"{r.simulator}: {r.mismatches} mismatches, {r.checked}/{r.vectors} vectors checked (log {r.log})"
                for r in failed
            )
            raise CheckFailed(detail)
