"""``cimq verify``: the generated RTL against the Python golden model, on cocotb.

Runs the testbench of ``--level`` on Icarus Verilog and/or Verilator:

* ``unit``: the truncation unit (``BUILD_DIR/RUN/rtl/files.f``) against
  :func:`cimq.fixed.truncate`; ``--vectors`` accumulators.
* ``tile``: the tile (``BUILD_DIR/RUN/tile/``, demo or model) under a
  configuration sweep exported as register images and replayed over the bus;
  ``--vectors`` input vectors in all; golden values from the simulator's
  crossbar engine on the same sampled chip.
* ``model``: the default network's real activations (digits test images),
  layer by layer, on the model tile programmed by replaying
  ``BUILD_DIR/RUN/regs/regs.bin``; ``--vectors`` vectors per layer;
  ``--params`` (default ``BUILD_DIR/RUN/params.json``, else derived FL_w 9)
  must be the params the tile and image were made for.

Builds, logs, results XML, ``summary.txt`` and ``coverage.json`` go to
``BUILD_DIR/RUN/verify/LEVEL/SIM/`` and a summary to
``BUILD_DIR/RUN/verify/summary.json``; ``--waves`` records FST (Icarus) or VCD
(Verilator) traces there. Exit code 1 on any mismatch.

``--inject-fault reference-off-by-one`` deliberately corrupts the reference
model (every expected output + 1). It exists to prove that the checker can
fail: such a run must report mismatches and exit 1.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from cimq.cli.common import BuildDirOption, RunOption, SeedOption, console, run_dir
from cimq.errors import CheckFailed, CimqInputError
from cimq.files import write_text_atomic

MAX_VECTORS = 10_000_000

SimOption = Annotated[str, typer.Option("--sim", help="Simulator: icarus, verilator or all.", show_default=True)]
VectorsOption = Annotated[
    Optional[int],
    typer.Option("--vectors", help="Vectors per simulator (unit: 100000 accumulators; tile: 72 input vectors; "
                 "model: 8 vectors per layer).", show_default=False),
]
LevelOption = Annotated[str, typer.Option("--level", help="What to verify: unit, tile or model.", show_default=True)]
WavesOption = Annotated[bool, typer.Option("--waves", help="Record waveforms (FST on Icarus, VCD on Verilator).")]
MutantOption = Annotated[
    Optional[str],
    typer.Option("--mutant", help="Run the tile/model level on a deliberately wrong copy of the tile RTL "
                 "(see cimq.verification.mutants); the run must then exit 1.", show_default=False),
]
ParamsOption = Annotated[
    Optional[Path],
    typer.Option("--params", help="Params of the model level (default: BUILD_DIR/RUN/params.json, else derived).",
                 show_default=False),
]
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


def verify_command(sim: str, vectors: int | None, seed: int, level: str, fault: str, build_dir: Path, run: str,
                   *, waves: bool = False, params: Path | None = None, mutant: str | None = None) -> list:
    """Check options and RTL, run each simulator; return the per-simulator results."""
    from cimq.verification.tile.levels import DEFAULT_VECTORS

    if level in DEFAULT_VECTORS and vectors is None:
        vectors = DEFAULT_VECTORS[level]
    sims, bench = _check_options(sim, vectors if vectors is not None else 1, seed, level, fault)
    base = run_dir(build_dir, run)
    if bench.level == "unit":
        if mutant is not None:
            raise CimqInputError("applies to --level tile or model (mutants of the tile RTL)", source="--mutant")
        results = _verify_unit(sims, bench, base, vectors, seed, fault, waves)
        extra: dict = {}
    else:
        results, extra = _verify_tile_level(sims, bench.level, base, build_dir, run, vectors, seed, fault, waves, params,
                                            mutant)
    out = base / "verify"
    summary = {
        "level": bench.level,
        "seed": seed,
        "fault": fault,
        "mutant": mutant,
        **extra,
        "simulators": [
            {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(r).items()}
            | {"passed": r.passed, "vectors_per_second": round(r.vectors_per_second)}
            for r in results
        ],
    }
    text = json.dumps(summary, indent=2, sort_keys=True) + "\n"
    write_text_atomic(out / "summary.json", text)
    if bench.level != "unit":
        write_text_atomic(out / (bench.level if mutant is None else f"{bench.level}-mutant-{mutant}") / "summary.json", text)
    return results


def _verify_unit(sims: list[str], bench, base: Path, vectors: int, seed: int, fault: str, waves: bool) -> list:
    from cimq.hw.verilog import FILE_LIST, read_file_list
    from cimq.verification.runner import run_bench

    sources = read_file_list(base / "rtl" / FILE_LIST)
    out = base / "verify"
    results = []
    for name in sims:
        console.print(f"verify {bench.level} on {name}: {vectors} vectors, seed {seed}" + (f", fault {fault}" if fault != "none" else ""))
        results.append(run_bench(bench, name, sources, out / bench.level / name, vectors=vectors, seed=seed,
                                 fault=fault, waves=waves))
    return results


def _verify_tile_level(sims: list[str], level: str, base: Path, build_dir: Path, run: str, vectors: int, seed: int,
                       fault: str, waves: bool, params: Path | None, mutant: str | None) -> tuple[list, dict]:
    from cimq.verification.tile.levels import prepare_level, run_level

    prep = prepare_level(level, base, build_dir, run, vectors=vectors, seed=seed, params=params, mutant=mutant)
    reproduce = (f"cimq verify --level {level} --sim {{sim}} --vectors {vectors} --seed {seed} --build-dir {build_dir} "
                 f"--run {run}" + (f" --params {params}" if params is not None else "")
                 + (f" --inject-fault {fault}" if fault != "none" else "")
                 + (f" --mutant {mutant}" if mutant is not None else ""))
    results = []
    for name in sims:
        console.print(f"verify {level} on {name}: {prep.plan.vectors} input vectors ({prep.plan.outputs} outputs) in "
                      f"{len(prep.plan.segments)} segments, seed {seed}" + (f", fault {fault}" if fault != "none" else ""))
        done = run_level(prep, name, base, seed=seed, fault=fault, waves=waves, reproduce=reproduce.format(sim=name))
        for line in done.lines:
            console.print(line, soft_wrap=True)
        results.append(done.result)
    extra = {k: v for k, v in prep.facts.items() if k != "images"} | {"input_vectors": prep.plan.vectors,
                                                                     "outputs": prep.plan.outputs}
    return results, extra


def register(app: typer.Typer) -> None:
    @app.command("verify")
    def verify(
        sim: SimOption = "all",
        vectors: VectorsOption = None,
        seed: SeedOption = 0,
        level: LevelOption = "unit",
        inject_fault: FaultOption = "none",
        waves: WavesOption = False,
        params: ParamsOption = None,
        mutant: MutantOption = None,
        build_dir: BuildDirOption = Path("build"),
        run: RunOption = "default",
    ) -> None:
        """Verify the generated RTL bit-exactly against cimq's golden model (cocotb)."""
        results = verify_command(sim, vectors, seed, level, inject_fault, build_dir, run, waves=waves, params=params,
                                 mutant=mutant)
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
            what = "vectors" if level == "unit" else "outputs"
            console.print(f"{r.simulator}: {r.checked} of {r.vectors} {what} checked, {r.mismatches} mismatches")
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
