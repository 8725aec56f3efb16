"""Functional coverage of a tile/model run: which configurations and corners were checked.

Counted over the outputs the scoreboard actually checked (the run's
``per_segment`` counts), from the plan's segments: every layer context,
every ``drop_low`` value, ReLU on/off, both roundings, signed/unsigned
inputs, saturation at the top and at the bottom of the window, ADC
conversions clamped at 0 and at full scale, image replays and context
switches. Each bin is reported as a count with a hit/miss mark.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

from cimq.fixed import output_range
from cimq.verification.tile.plan import TilePlan

__all__ = ["CoverageBin", "collect_coverage", "coverage_lines", "coverage_json"]


@dataclass(frozen=True)
class CoverageBin:
    group: str
    name: str
    count: int

    @property
    def hit(self) -> bool:
        return self.count > 0


def collect_coverage(plan: TilePlan, per_segment: list[int], contexts: int, *, images: int = 0,
                     switches: int = 0) -> list[CoverageBin]:
    """Bins of ``plan`` given how many outputs of each segment were checked."""
    arch = plan.arch
    c: Counter[tuple[str, str]] = Counter()
    active = 0
    for i, seg in enumerate(plan.segments):
        if seg.context is not None:
            active = seg.context
        left = per_segment[i] if i < len(per_segment) else 0
        lo, hi = output_range(arch.out_bits, seg.relu)
        for vec in seg.vectors:
            if left <= 0:
                break
            n = min(left, len(vec.out))
            left -= n
            c["context", str(active)] += n
            c["drop_low", str(seg.drop_low)] += n
            c["relu", "on" if seg.relu else "off"] += n
            c["rounding", seg.rounding] += n
            c["signed_input", "on" if seg.signed_input else "off"] += n
            for value, sat in zip(vec.out[:n], vec.saturated[:n]):
                if sat and value == hi:
                    c["saturation", "high"] += 1
                if sat and value == lo:
                    c["saturation", "low"] += 1
            if n == len(vec.out):
                c["adc_clamp", "at 0"] += vec.adc_low
                c["adc_clamp", "at full scale"] += vec.adc_high
    names: list[tuple[str, str]] = [("context", str(k)) for k in range(contexts)]
    names += [("drop_low", str(d)) for d in range(arch.max_drop_low + 1)]
    names += [("relu", "on"), ("relu", "off"), ("rounding", "floor"), ("rounding", "half_up"),
              ("signed_input", "off"), ("signed_input", "on"), ("saturation", "high"), ("saturation", "low"),
              ("adc_clamp", "at 0"), ("adc_clamp", "at full scale")]
    bins = [CoverageBin(g, n, c[g, n]) for g, n in names]
    bins += [CoverageBin("bus", "images replayed", images), CoverageBin("bus", "context switches", switches)]
    return bins


def coverage_lines(bins: list[CoverageBin]) -> list[str]:
    """One line per group: ``name=count`` with ``+`` hit / ``-`` miss, then the totals."""
    groups: dict[str, list[CoverageBin]] = {}
    for b in bins:
        groups.setdefault(b.group, []).append(b)
    lines = []
    for group, items in groups.items():
        cells = " ".join(f"{'+' if b.hit else '-'}{b.name}={b.count}" for b in items)
        lines.append(f"  {group:<13} {sum(b.hit for b in items)}/{len(items)}  {cells}")
    hit = sum(b.hit for b in bins)
    lines.append(f"  total         {hit}/{len(bins)} bins hit")
    return lines


def coverage_json(bins: list[CoverageBin]) -> list[dict]:
    return [asdict(b) | {"hit": b.hit} for b in bins]
