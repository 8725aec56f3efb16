"""``cimq flow``: the whole job on the embedded default, stage after stage.

Each stage is the very command a user would type (same options, same
outputs), run in this process; the flow stops at the first stage that fails
and exits with its code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer

from cimq.cli.common import BuildDirOption, RunOption, SeedOption, console, run_dir


@dataclass(frozen=True)
class Stage:
    """One command of the flow and its arguments."""

    title: str
    args: tuple[str, ...]


def flow_stages(build_dir: Path, run: str, seed: int, chips: int, vectors: int) -> list[Stage]:
    """The stages in order. Synthesis runs before the quantization so that the
    report's comparison table carries the synthesized area overhead."""
    common = ("--build-dir", str(build_dir), "--run", run)
    params = str(run_dir(build_dir, run) / "params.json")
    return [
        Stage("train the default CNN (digits)", ("train", "--seed", str(seed), *common)),
        Stage("generate RTL for the default architecture", ("generate", *common)),
        Stage("synthesize: proposed against conventional (Yosys)", ("synth", *common)),
        Stage(
            "quantize: conventional, phase 1, phase 2, report",
            ("quantize", "--eval-chips", str(chips), "--seed", str(seed), *common),
        ),
        Stage("generate RTL and crossbar contents for the quantized model", ("generate", "--params", params, *common)),
        Stage("register map and images", ("regs", "--params", params, *common)),
        Stage(
            "verify the truncation unit (cocotb, Icarus and Verilator)",
            ("verify", "--level", "unit", "--vectors", str(vectors), "--seed", str(seed), *common),
        ),
        Stage(
            # Verilator: Icarus checks the same run in about 7 minutes (README).
            "verify the quantized model layer by layer through the tile RTL (Verilator)",
            ("verify", "--level", "model", "--sim", "verilator", "--params", params, "--seed", str(seed), *common),
        ),
    ]


def run_flow(stages: list[Stage], invoke: Callable[[list[str]], int]) -> int:
    start = time.perf_counter()
    for i, stage in enumerate(stages, 1):
        console.rule(f"[bold]{i}/{len(stages)} {stage.title}[/]  cimq {' '.join(stage.args)}")
        t0 = time.perf_counter()
        code = invoke(list(stage.args))
        console.print(f"[dim]{stage.args[0]}: exit {code} after {time.perf_counter() - t0:.1f} s[/]")
        if code != 0:
            console.print(f"[bold red]flow stopped at stage {i} ({stage.args[0]})[/]")
            return code
    console.rule(f"[bold green]flow finished in {time.perf_counter() - start:.1f} s[/]")
    return 0


def register(app: typer.Typer) -> None:
    @app.command("flow")
    def flow(
        chips: int = typer.Option(20, "--chips", min=1, max=10000, help="Fresh Monte Carlo chips for the final accuracies."),
        vectors: int = typer.Option(100_000, "--vectors", min=1, help="Vectors per simulator for unit verification."),
        seed: SeedOption = 0,
        build_dir: BuildDirOption = Path("build"),
        run: RunOption = "default",
    ) -> None:
        """Train, synthesize, quantize, generate, export registers and verify the embedded default."""
        from cimq.cli.main import main

        run_dir(build_dir, run)  # validates the run name before anything runs
        code = run_flow(flow_stages(build_dir, run, seed, chips, vectors), main)
        if code:
            raise typer.Exit(code)
