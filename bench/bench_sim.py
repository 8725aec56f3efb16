"""Simulator speed against the float model, measured in the same process.

Not a test: prints times and ratios. Targets (VGG-sized conv 3x3x256 -> 256,
16x16 maps, batch 64): at most 40x the float layer with variation, at most 2x
without.

    .venv/bin/python bench/bench_sim.py [--threads N] [--repeat R] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from cimq.arch import ArchConfig
from cimq.sim.crossbar import crossbar_conv, exact_conv, program_crossbar
from cimq.sim.graph import ConvGeometry
from cimq.sim.variation import layer_rng, wan2022


def best_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_vgg_conv(repeat: int, device: str, weights: str) -> None:
    """``weights``: "uniform" (every code -128..127: the worst case for the exact path,
    which then needs several float32 groups) or "trained" (Gaussian, sigma 16 codes,
    like a trained layer's weights: one group)."""
    arch = ArchConfig()
    g = torch.Generator().manual_seed(0)
    b, c, n, hw = 64, 256, 256, 16
    if weights == "uniform":
        w_int = torch.randint(-128, 128, (n, c, 3, 3), generator=g)
    else:
        w_int = (torch.randn((n, c, 3, 3), generator=g) * 16).round().clamp(-128, 127).long()
    x_int = torch.randint(0, 256, (b, c, hw, hw), generator=g)
    geom = ConvGeometry((3, 3), padding=(1, 1))
    wf, xf = w_int.float().to(device), x_int.float().to(device)
    t_float = best_time(lambda: F.conv2d(xf, wf, padding=1), repeat)
    t_exact = best_time(lambda: exact_conv(w_int, x_int, geom, device), repeat)
    xb = program_crossbar(w_int.reshape(n, -1), arch, wan2022(), layer_rng(0, 0, 0))
    t_var = best_time(lambda: crossbar_conv(xb, x_int, geom, False, device=device), max(1, repeat // 2))
    print(f"VGG conv 3x3x{c}->{n}, {hw}x{hw}, batch {b}, {weights} weights ({torch.get_num_threads()} threads, {device})")
    print(f"  float conv2d          {t_float * 1e3:9.1f} ms")
    print(f"  sim, variation off    {t_exact * 1e3:9.1f} ms   {t_exact / t_float:6.2f}x float (target <= 2x)")
    print(f"  sim, variation on     {t_var * 1e3:9.1f} ms   {t_var / t_float:6.2f}x float (target <= 40x)")


def bench_default_network(repeat: int, device: str) -> None:
    from cimq.sim.capture import capture
    from cimq.sim.data import load_digits_dataset
    from cimq.sim.default_model import default_model
    from cimq.sim.network import CimNetwork, default_layer_params
    from cimq.sim.variation import DeviceModel

    with tempfile.TemporaryDirectory() as tmp:
        model = default_model(Path(tmp)).eval()
    data = load_digits_dataset()
    x = data.test_x
    graph = capture(model)
    arch = ArchConfig()
    net = CimNetwork(graph, arch, default_layer_params(graph, arch, fl_w=9, fl_x=6), device=device, batch_size=512)
    chip = net.program(DeviceModel(wan2022()), 0, 0)
    model = model.to(device)
    xd = x.to(device)
    with torch.no_grad():
        t_float = best_time(lambda: model(xd), repeat)
    t_ideal = best_time(lambda: net.forward(x), repeat)
    t_var = best_time(lambda: net.forward(x, chip), repeat)
    n = x.shape[0]
    print(f"default digits CNN, {n} images")
    print(f"  float model           {n / t_float:12.0f} images/s")
    print(f"  sim, variation off    {n / t_ideal:12.0f} images/s   {t_ideal / t_float:6.1f}x float time")
    print(f"  sim, variation on     {n / t_var:12.0f} images/s   {t_var / t_float:6.1f}x float time")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    bench_vgg_conv(args.repeat, args.device, "trained")
    bench_vgg_conv(args.repeat, args.device, "uniform")
    bench_default_network(args.repeat, args.device)


if __name__ == "__main__":
    main()
