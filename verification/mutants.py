"""Deliberately wrong RTL: textual mutations of the generated tile Verilog.

Each mutant edits one construct of the generated ``tile.v`` (inside one
named module) or of ``crossbar_model.v`` with a regular expression that must
match exactly once, so a mutant can never silently become a no-op when the
generator's output changes: :func:`apply_mutant` raises
:class:`MutationError` instead, and the mutant needs updating. Textual
mutation (not Amaranth parameters) keeps the hardware source untouched and
mutates exactly what the simulators compile.

``make_mutant_tile`` copies a generated ``tile/`` folder and mutates the
copy; ``cimq verify --level tile --mutant NAME`` runs the testbench on it,
which must report mismatches and exit 1.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cimq.arch import ArchConfig

__all__ = ["Mutant", "MUTANTS", "MutationError", "apply_mutant", "make_mutant_tile"]


class MutationError(RuntimeError):
    """The mutant's pattern does not match the generated RTL exactly once."""


@dataclass(frozen=True)
class Mutant:
    """``pattern`` (regex) -> ``replacement`` inside ``module`` of ``file``.

    ``pattern``/``replacement`` are functions of the architecture (widths
    appear in the text).
    """

    name: str
    file: str
    module: str | None
    pattern: Callable[[ArchConfig], str]
    replacement: Callable[[ArchConfig], str]
    doc: str


def _slice(arch: ArchConfig, s: int) -> str:
    a = arch.adc_bits
    return re.escape(f"counts[{a * (s + 1) - 1}:{a * s}]")


MUTANTS: dict[str, Mutant] = {m.name: m for m in (
    Mutant("trunc-round-off-by-one", "tile.v", r"\cimq_tile_periphery.trunc",
           lambda a: r"=\s*(?:half_up|cfg_round)\s*&", lambda a: "= 1'h0 &",
           "truncation: the half-up bump is never added (half_up rounds like floor, one LSB low on ties and above)"),
    Mutant("shift-add-swapped-slices", "tile.v", r"\cimq_tile_periphery.shift_add",
           lambda a: f"({_slice(a, 0)})(.*?)({_slice(a, 1)})",
           lambda a: r"\3\2\1",
           "shift-and-add: the ADC counts of slices 0 and 1 swap their shifts"),
    Mutant("offset-correction-missing", "tile.v", r"\cimq_tile_periphery.offset_bias",
           lambda a: r"\$signed\(bias\)\s*-\s*\$signed\([^)]*\)", lambda a: "$signed(bias)",
           "offset/bias: 2**(WL-1) * sum(x) is never subtracted"),
    Mutant("signed-plane-sign", "tile.v", r"\cimq_tile_periphery.shift_add",
           lambda a: r"\?\s*\\\$\d+\s*:\s*\{ 1'h0, v \}", lambda a: "? { 1'h0, v } : { 1'h0, v }",
           "shift-and-add: the MSB plane of two's complement inputs is added, not subtracted"),
    Mutant("adc-clamp-low-off-by-one", "crossbar_model.v", None,
           lambda a: r"if \(r < 0\)", lambda a: "if (r < 2)",
           "crossbar model ADC: a count of 1 is clamped to 0"),
    Mutant("adc-clamp-high-off-by-one", "crossbar_model.v", None,
           lambda a: r"else if \(r > \d+\) counts\[c\*ADC \+: ADC\] = \{ADC\{1'b1\}\};",
           lambda a: f"else if (r > {(1 << a.adc_bits) - 2}) counts[c*ADC +: ADC] = {(1 << a.adc_bits) - 2};",
           "crossbar model ADC: full scale clamps one count low (needs an ADC that clamps: adc_bits below lossless)"),
)}


def _module_span(text: str, module: str) -> tuple[int, int]:
    start = text.find(f"module {module} ")
    if start < 0:
        start = text.find(f"module {module}(")
    if start < 0:
        raise MutationError(f"module {module} not found")
    end = text.find("endmodule", start)
    return start, end


def apply_mutant(text: str, mutant: Mutant, arch: ArchConfig) -> str:
    """``text`` with the mutation applied (exactly one match, else :class:`MutationError`)."""
    start, end = _module_span(text, mutant.module) if mutant.module else (0, len(text))
    body = text[start:end]
    pattern = re.compile(mutant.pattern(arch), re.S)
    found = len(pattern.findall(body))
    if found != 1:
        raise MutationError(f"mutant {mutant.name}: pattern matches {found} times in "
                            f"{mutant.module or mutant.file} (expected exactly 1): update the mutant")
    return text[:start] + pattern.sub(mutant.replacement(arch), body, count=1) + text[end:]


def make_mutant_tile(tile_dir: Path, target: Path, name: str, arch: ArchConfig) -> Path:
    """Copy ``tile_dir`` to ``target`` and apply mutant ``name`` there."""
    if name not in MUTANTS:
        raise KeyError(name)
    mutant = MUTANTS[name]
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(tile_dir, target)
    path = target / mutant.file
    path.write_text(apply_mutant(path.read_text(), mutant, arch))
    return target
