"""Tile-level stimulus: a configuration sweep over reconfigured contexts, corner and random codes.

Every context mode (each ``drop_low`` in ``0..max_drop_low`` x ReLU x rounding x
signed inputs) is assigned in turn to the tile's layer contexts; one
*program* assigns a mode to every context and is exported as a register image
file (``.bin``, ``.hex`` and ``.json`` in rotation, all read back by
:func:`cimq.hw.regs.read_image`) that the testbench replays over the bus.
The mode order makes a prefix hit every ``drop_low`` first. Each (program,
context) segment gets its share of ``vectors``: corner input codes first
(zeros, full scale, alternating, most negative for signed inputs) and
random ones (dense and ReLU-like sparse) alternate, rotating from segment to
segment so that even one vector per segment covers every kind. Vectors whose accumulator would
leave ``acc_bits`` are outside the contract and replaced.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cimq.files import write_bytes_atomic, write_text_atomic
from cimq.hw.regs.image import build_image
from cimq.hw.regs.image_formats import image_hex, image_json
from cimq.params import LayerParams, ModelParams
from cimq.verification.tile.golden import accumulate, adc_clamps, fits_accumulator, golden_outputs
from cimq.verification.tile.plan import PlanSegment, PlanVector, TilePlan
from cimq.verification.tile.setup import TileSetup

__all__ = ["ContextMode", "sweep_modes", "corner_codes", "random_codes", "build_tile_plan"]


@dataclass(frozen=True)
class ContextMode:
    drop_low: int
    relu: bool
    rounding: str
    signed_input: bool

    @property
    def label(self) -> str:
        return f"drop_low={self.drop_low} relu={int(self.relu)} {self.rounding} signed={int(self.signed_input)}"


def sweep_modes(max_drop_low: int) -> list[ContextMode]:
    """All modes; entry ``i`` has ``drop_low = i % (max+1)`` and the other bits vary fast."""
    n = max_drop_low + 1
    modes = []
    for i in range(8 * n):
        combo = (i // n + i % n) % 8
        modes.append(ContextMode(i % n, bool(combo & 1), "half_up" if combo & 2 else "floor", bool(combo & 4)))
    return modes


def corner_codes(k: int, act_bits: int, signed: bool) -> list[np.ndarray]:
    top = (1 << (act_bits - 1)) - 1 if signed else (1 << act_bits) - 1
    low = -(1 << (act_bits - 1)) if signed else 0
    alt = np.where(np.arange(k) % 2 == 0, top, low)
    one_hot = np.zeros(k, np.int64)
    one_hot[k // 3] = top  # one active row per plane: single-cell column sums, small ADC counts
    out = [np.zeros(k, np.int64), np.full(k, top, np.int64), one_hot, alt.astype(np.int64), np.full(k, 1, np.int64)]
    if signed:
        out.insert(1, np.full(k, low, np.int64))
    return out


def random_codes(rng: np.random.Generator, k: int, act_bits: int, signed: bool) -> np.ndarray:
    low, high = (-(1 << (act_bits - 1)), 1 << (act_bits - 1)) if signed else (0, 1 << act_bits)
    x = rng.integers(low, high, k)
    kind = rng.random()
    if kind < 0.35:  # ReLU-like: many zeros, small values
        x = np.where(rng.random(k) < 0.5, 0, x // (1 << int(rng.integers(0, act_bits - 1))))
    elif kind < 0.6:  # very sparse: a few active rows, small column sums
        x = np.where(rng.random(k) < 2.0 / k, x, 0)
    return x.astype(np.int64)


def _write_image(path: Path, params: ModelParams, geometry, fmt: str) -> Path:
    image = build_image(params, geometry, source="tile sweep")
    data = image.to_bytes()
    target = path.with_suffix(f".{fmt}")
    if fmt == "bin":
        write_bytes_atomic(target, data)
    elif fmt == "hex":
        write_text_atomic(target, image_hex(data))
    else:
        write_text_atomic(target, image_json(image, data))
    return target


def _segment(setup: TileSetup, layer, mode: ContextMode, count: int, rng: np.random.Generator, label: str,
             image: Path | None, context: int, index: int) -> tuple[PlanSegment, int]:
    """``count`` vectors: corner and random codes alternate, rotating with the segment ``index``."""
    arch = setup.config.arch
    k = layer.geometry.in_len
    corners = corner_codes(k, arch.act_bits, mode.signed_input)
    xs = [corners[((index + i) // 2) % len(corners)] if (index + i) % 2 == 0
          else random_codes(rng, k, arch.act_bits, mode.signed_input) for i in range(count)]
    x = np.stack(xs)
    acc = accumulate(layer.crossbar, x, layer.bias, mode.signed_input)
    keep = fits_accumulator(acc, arch.acc_bits)
    dropped = int((~keep).sum())
    x, acc = x[keep], acc[keep]
    out, sat = golden_outputs(acc, drop_low=mode.drop_low, out_bits=arch.out_bits, relu=mode.relu,
                              rounding=mode.rounding)
    low, high = adc_clamps(layer.crossbar, x)
    vectors = [PlanVector(codes=x[i].tolist(), out=out[i].tolist(), saturated=sat[i].tolist(),
                          adc_low=int(low[i]), adc_high=int(high[i])) for i in range(x.shape[0])]
    seg = PlanSegment(label=label, image=None if image is None else str(image), context=context, layer=layer.name,
                      relu=mode.relu, drop_low=mode.drop_low, rounding=mode.rounding,
                      signed_input=mode.signed_input, vectors=vectors)
    return seg, dropped


def build_tile_plan(setup: TileSetup, vectors: int, seed: int, image_dir: Path) -> tuple[TilePlan, int]:
    """The sweep plan for ``vectors`` input vectors; returns it and the vectors dropped (overflow)."""
    arch = setup.config.arch
    modes = sweep_modes(arch.max_drop_low)
    layers = setup.layers
    n = len(layers)
    programs = max(1, min(-(-len(modes) // n), vectors // n))
    share, extra = divmod(vectors, programs * n)
    rng = np.random.default_rng(seed)
    order = random.Random(seed)
    segments: list[PlanSegment] = []
    dropped = 0
    for p in range(programs):
        assigned = [modes[(p * n + c) % len(modes)] for c in range(n)]
        params = ModelParams(arch=arch, layers=[
            LayerParams(name=l.name, fl_w=l.params.fl_w, fl_x=l.params.fl_x, drop_low=m.drop_low, relu=m.relu,
                        rounding=m.rounding, signed_input=m.signed_input) for l, m in zip(layers, assigned)])
        image = _write_image(image_dir.resolve() / f"program_{p:03d}", params, setup.geometry, ("bin", "hex", "json")[p % 3])
        contexts = list(range(n))
        order.shuffle(contexts)
        pending: Path | None = image
        for i, c in enumerate(contexts):
            count = share + (1 if p * n + i < extra else 0)
            if count == 0:
                continue
            label = f"program {p} ctx {c} ({layers[c].name}: {assigned[c].label})"
            seg, lost = _segment(setup, layers[c], assigned[c], count, rng, label, pending, c, len(segments))
            pending = None
            dropped += lost
            segments.append(seg)
    return TilePlan(level="tile", arch=arch, seed=seed, source=str(setup.tile_dir), segments=segments), dropped
