"""Verification speed: outputs/s per simulator at tile level, and the time to verify a whole model.

Not a test: prints numbers. Tile level runs on the tiny network's tile
(``cimq.verification.model.tiny``). The whole-model estimate uses a model
level run: its per-layer rates (outputs/s, from the testbench's per-segment
times) times every vector of every test image (a conv layer sends one vector
per output position, a linear layer one per image). With ``--model-build
DIR`` it measures on the default network's tile in ``DIR/RUN`` (made by
``cimq generate --params`` and ``cimq regs --params``; builds take many
minutes), otherwise on the tiny network.

    .venv/bin/python bench/bench_verify.py [--sims icarus,verilator] [--vectors N] [--model-build DIR --run RUN]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from cimq.verification.model.tiny import write_tiny_run
from cimq.verification.tile.levels import prepare_level, run_level


def _layer_rates(base: Path, sim: str, prep) -> dict[str, tuple[int, float]]:
    s = json.loads((base / "verify" / prep.name / sim / "summary.json").read_text())
    rates: dict[str, list[float]] = {}
    for seg, n, sec in zip(prep.plan.segments, s["per_segment"], s["segment_seconds"]):
        vecs = len(seg.vectors)
        r = rates.setdefault(seg.layer, [0, 0.0])
        r[0] += vecs if n == sum(len(v.out) for v in seg.vectors) else 0
        r[1] += sec
    return {k: (int(v[0]), v[1]) for k, v in rates.items()}


def _vectors_per_image(prep, image: torch.Tensor) -> dict[str, int]:
    """Input vectors one image sends per layer (conv: output positions; linear: 1)."""
    counts: dict[str, int] = {}
    prep.setup.model.net.forward(image, None, observer=lambda e: counts.setdefault(
        e.layer.name, int(e.out.shape[2] * e.out.shape[3]) if e.out.dim() == 4 else 1))
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", default="icarus,verilator")
    ap.add_argument("--vectors", type=int, default=120, help="tile-level input vectors")
    ap.add_argument("--model-vectors", type=int, default=8, help="model-level vectors per layer")
    ap.add_argument("--model-build", type=Path, default=None)
    ap.add_argument("--run", default="default")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(dir="build", prefix="bench_verify_") as tmp:
        build = Path(tmp)
        base = write_tiny_run(build / "tiny")
        tile = prepare_level("tile", base, build, "tiny", vectors=args.vectors, seed=0)
        if args.model_build is None:
            mbase, mbuild, mrun = base, build, "tiny"
        else:
            mbuild, mrun = args.model_build, args.run
            mbase = mbuild / mrun
        model = prepare_level("model", mbase, mbuild, mrun, vectors=args.model_vectors, seed=0)
        from cimq.sim.data import load_dataset

        test_x = load_dataset("digits").test_x
        images = int(test_x.shape[0])
        per_image = _vectors_per_image(model, test_x[:1])
        for sim in args.sims.split(","):
            t0 = time.perf_counter()
            done = run_level(tile, sim, base, seed=0)
            r = done.result
            print(f"tile level  {sim:9s}: {r.checked} outputs ({tile.plan.vectors} vectors) in {r.bench_seconds:.2f} s "
                  f"bench = {r.vectors_per_second:,.0f} outputs/s, {tile.plan.vectors / max(r.bench_seconds, 1e-9):,.1f} "
                  f"vectors/s; build {r.build_seconds:.1f} s, total {time.perf_counter() - t0:.1f} s, "
                  f"{'pass' if r.passed else 'FAIL'}")
            t0 = time.perf_counter()
            done = run_level(model, sim, mbase, seed=0)
            r = done.result
            rates = _layer_rates(mbase, sim, model)
            total = 0.0
            parts = []
            for layer, (n, sec) in rates.items():
                need = images * per_image[layer]
                est = need * sec / max(n, 1)
                total += est
                parts.append(f"{layer}: {n / max(sec, 1e-9):,.1f} vectors/s x {need} vectors = {est / 60:,.1f} min")
            print(f"model level {sim:9s}: {model.setup.model.model_name}: {r.checked} outputs in {r.bench_seconds:.2f} s; "
                  f"build {r.build_seconds:.1f} s, total {time.perf_counter() - t0:.1f} s, {'pass' if r.passed else 'FAIL'}")
            print(f"  whole model ({images} test images): {total / 60:,.1f} min ({'; '.join(parts)})")


if __name__ == "__main__":
    main()
