"""The one-screen summary of a tile/model verification run (text and JSON).

What a reader needs to trust or reproduce a run: what was checked (vectors,
outputs, mismatches, bus traffic), where the numbers came from (params file,
chip, variation), the first mismatch with its inputs and both values, the
command that reproduces the run, and the coverage bins.
"""

from __future__ import annotations

import json
from pathlib import Path

from cimq.files import write_text_atomic
from cimq.verification.coverage import CoverageBin, coverage_json, coverage_lines

__all__ = ["summary_lines", "write_summary"]


def summary_lines(level: str, result, facts: dict, bins: list[CoverageBin], reproduce: str) -> list[str]:
    """Text lines of the summary of one simulator's run."""
    extra = facts.get("sim_summary", {})
    verdict = "PASS" if result.passed else "FAIL"
    lines = [
        f"cimq verify --level {level} on {result.simulator}: {verdict}",
        f"  source        {facts.get('source', '')}",
    ]
    for key in ("params", "chip", "tile"):
        if key in facts:
            lines.append(f"  {key:<13} {facts[key]}")
    lines += [
        f"  vectors       {extra.get('input_vectors', '?')} input vectors, {extra.get('outputs', '?')} outputs; "
        f"{result.checked} outputs checked, {result.mismatches} mismatches",
        f"  bus           {extra.get('images_replayed', 0)} register images replayed ({extra.get('bus_writes', 0)} writes), "
        f"{extra.get('context_switches', 0)} context switches, {extra.get('status_checks', 0)} STATUS checks",
        f"  time          build {result.build_seconds:.1f} s, simulation {result.run_seconds:.1f} s, "
        f"bench {result.bench_seconds:.1f} s ({result.vectors_per_second:,.0f} outputs/s)",
    ]
    if facts.get("dropped_overflow"):
        lines.append(f"  left out      {facts['dropped_overflow']} vectors whose accumulator leaves acc_bits (outside the contract)")
    if extra.get("hung"):
        lines.append(f"  HUNG          {extra['hung']}")
    for m in result.first_mismatches[:1]:
        lines.append(f"  first mismatch {m}")
    lines.append(f"  reproduce     {reproduce}")
    lines.append("  coverage (+ hit, - miss):")
    lines += coverage_lines(bins)
    return lines


def write_summary(out_dir: Path, lines: list[str], data: dict, bins: list[CoverageBin]) -> None:
    """``summary.txt`` and ``coverage.json`` next to the run's results XML."""
    write_text_atomic(Path(out_dir) / "summary.txt", "\n".join(lines) + "\n")
    write_text_atomic(Path(out_dir) / "coverage.json",
                      json.dumps({**data, "coverage": coverage_json(bins)}, indent=2, sort_keys=True) + "\n")
