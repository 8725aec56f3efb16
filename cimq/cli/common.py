"""Options and helpers every CLI command shares."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cimq.errors import CimqInputError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

BuildDirOption = Annotated[
    Path,
    typer.Option("--build-dir", help="Folder that holds every run's outputs.", show_default=True),
]
RunOption = Annotated[
    str,
    typer.Option("--run", help="Run name: outputs go to BUILD_DIR/RUN/.", show_default=True),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed for every random choice.", show_default=True)]


def run_dir(build_dir: Path, run: str) -> Path:
    """``build_dir/run``, after checking the run name is a plain folder name."""
    if not _RUN_NAME.match(run):
        raise CimqInputError(
            f"{run!r} is not a valid run name (letters, digits, '_', '.', '-'; at most 64)",
            source="--run",
        )
    return build_dir / run
