"""Model-level plan: real activations of the default network, layer by layer, from the simulator.

The golden simulator runs ``images`` digits test images through the sampled
chip (:meth:`cimq.sim.network.CimNetwork.forward` with an observer); every
conv/linear layer's real input codes ``x`` and truncated outputs come from its
:class:`~cimq.sim.network.LayerEvent`. A linear layer sends one vector per
image; a conv layer sends a seeded subset of output positions (its im2col
columns, :func:`cimq.sim.crossbar.unfold_codes`), ``vectors`` per layer. The
tile is programmed once by replaying the exported register image of ``cimq
regs``; then each layer runs in its context (ACTIVE written while idle), and
a final round-robin phase switches context between single vectors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from cimq.errors import CimqInputError
from cimq.hw.regs.image_formats import read_image
from cimq.verification.tile.golden import adc_clamps
from cimq.verification.tile.plan import PlanSegment, PlanVector, TilePlan
from cimq.verification.tile.setup import TileSetup

__all__ = ["check_image", "layer_vectors", "build_model_plan"]


def check_image(setup: TileSetup, image: Path) -> None:
    """The exported image must program exactly the tile's params and placement."""
    img = read_image(image, arch=setup.config.arch)
    if list(img.layers) != [l.params for l in setup.layers]:
        raise CimqInputError("programs other layer params than the tile was generated for "
                             "(rerun `cimq regs --params` with the tile's params)", source=image)
    if list(img.geometry) != [l.geometry for l in setup.layers]:
        raise CimqInputError("has no or another placement for the layers (rerun `cimq regs --params` for the "
                             "default model)", source=image)


def layer_vectors(event, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[tuple[int, str]]]:
    """``(x, out, saturated, acc, where)``: ``count`` input vectors of one layer event and their outputs.

    ``where`` is ``(batch index, position)`` of each vector.
    """
    from cimq.sim.crossbar import unfold_codes

    layer = event.layer
    if layer.kind == "conv":
        cols = unfold_codes(event.x, layer.geometry).numpy()  # (B, K, L)
        b, _, length = cols.shape
        ow = event.out.shape[3]
        pick = np.sort(rng.choice(b * length, size=min(count, b * length), replace=False))
        bi, li = pick // length, pick % length
        x = cols[bi, :, li]
        out = event.out.numpy()[bi, :, li // ow, li % ow]
        sat = event.saturated.numpy()[bi, :, li // ow, li % ow]
        acc = event.acc.numpy()[bi, :, li // ow, li % ow]
        tags = [(int(i), f"position ({int(l) // ow},{int(l) % ow})") for i, l in zip(bi, li)]
    else:
        n = min(count, event.x.shape[0])
        x, out = event.x.numpy()[:n], event.out.numpy()[:n]
        sat, acc = event.saturated.numpy()[:n], event.acc.numpy()[:n]
        tags = [(i, "") for i in range(n)]
    return x.astype(np.int64), out.astype(np.int64), sat.astype(bool), acc.astype(np.int64), tags


def build_model_plan(setup: TileSetup, image: Path, vectors: int, seed: int) -> tuple[TilePlan, dict]:
    """The plan and facts for the summary (images used, vectors dropped for accumulator overflow)."""
    from cimq.sim.data import load_dataset

    if setup.mode != "model":
        raise CimqInputError("holds the demo layer, not the default model (run `cimq generate --params FILE` "
                             "with the model's params)", source=setup.tile_dir / "tile.json")
    check_image(setup, image)
    arch = setup.config.arch
    data = load_dataset("digits")
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(data.test_x.shape[0], size=min(vectors, data.test_x.shape[0]), replace=False))
    events = {}
    setup.model.net.forward(data.test_x[torch.as_tensor(pick)], setup.chip,
                            observer=lambda e: events.setdefault(e.layer.name, e))
    lim = 1 << (arch.acc_bits - 1)
    per_layer: list[list[PlanVector]] = []
    dropped = 0
    for layer in setup.layers:
        x, out, sat, acc, tags = layer_vectors(events[layer.name], vectors, rng)
        keep = ((acc >= -lim) & (acc < lim)).all(axis=1)
        dropped += int((~keep).sum())
        x, out, sat = x[keep], out[keep], sat[keep]
        tags = [t for t, k in zip(tags, keep) if k]
        low, high = adc_clamps(layer.crossbar, x)
        per_layer.append([PlanVector(codes=x[i].tolist(), out=out[i].tolist(), saturated=sat[i].tolist(),
                                     tag=f"(test image {int(pick[tags[i][0]])} {tags[i][1]})".replace(" )", ")"),
                                     adc_low=int(low[i]), adc_high=int(high[i])) for i in range(x.shape[0])])
    interleave = min(2, vectors // 2)
    segments: list[PlanSegment] = []

    def seg(c: int, vecs: list[PlanVector], label: str, img: Path | None) -> None:
        lp = setup.layers[c].params
        segments.append(PlanSegment(label=label, image=None if img is None else str(img), context=c,
                                    layer=lp.name, relu=lp.relu, drop_low=lp.drop_low, rounding=lp.rounding,
                                    signed_input=lp.signed_input, vectors=vecs))

    for c, layer in enumerate(setup.layers):
        block = per_layer[c][: max(0, len(per_layer[c]) - interleave)]
        seg(c, block, f"ctx {c} {layer.name} (block)", image.resolve() if c == 0 else None)
    for j in range(interleave):
        for c, layer in enumerate(setup.layers):
            vecs = per_layer[c][len(per_layer[c]) - interleave + j:][:1]
            if vecs:
                seg(c, vecs, f"ctx {c} {layer.name} (round robin {j})", None)
    plan = TilePlan(level="model", arch=arch, seed=seed, source=str(image), segments=segments)
    facts = {"images": [int(i) for i in pick], "dropped_overflow": dropped,
             "vectors_per_layer": {l.name: len(v) for l, v in zip(setup.layers, per_layer)}}
    return plan, facts
