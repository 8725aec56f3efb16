"""Wall time of the whole quantization on the default model, split by phase.

Not a test: prints seconds per stage. Target: the search (baseline + phase 1 +
phase 2) under 60 s on 2 cores with at least 10 Monte Carlo chips; the final
evaluation (fresh chips on the test split) is timed separately.

    .venv/bin/python bench/bench_quant.py [--threads 2] [--chips 10] [--eval-chips 20] [--build-dir build]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from cimq.quant.config import QuantConfig
from cimq.quant.problem import default_problem
from cimq.quant.search import quantize


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--chips", type=int, default=10)
    ap.add_argument("--eval-chips", type=int, default=20)
    ap.add_argument("--variation", default="wan2022")
    ap.add_argument("--build-dir", type=Path, default=Path("build"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = QuantConfig(chips=args.chips, eval_chips=args.eval_chips, threads=args.threads, variation=args.variation,
                      build_dir=args.build_dir)
    problem = default_problem(cfg)  # trains or loads the cached model (not timed)
    t0 = time.perf_counter()
    out = quantize(problem, cfg)
    total = time.perf_counter() - t0
    search = sum(v for k, v in out.timings.items() if k != "evaluation")
    print(f"default digits CNN, {cfg.variation}, {cfg.chips} search chips, {cfg.eval_chips} evaluation chips, "
          f"{args.threads} threads, {out.mc_runs} Monte Carlo runs")
    for k, v in out.timings.items():
        print(f"  {k:<11} {v:8.1f} s")
    print(f"  search      {search:8.1f} s   (target < 60 s)")
    print(f"  total       {total:8.1f} s")
    f = out.final
    for key in ("conventional", "phase1", "phase2"):
        a = f.mc[key].accuracy
        print(f"  {key:<12} {a.mean:6.2f} +- {a.ci95:.2f} %  (error-free {f.ideal[key]:.2f} %)")
    print(f"  float        {f.float_accuracy:6.2f} %")


if __name__ == "__main__":
    main()
