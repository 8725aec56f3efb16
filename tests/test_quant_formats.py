"""Conventional baseline, calibration, chains and the accumulator bound, against exact math."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch
from torch import nn

from cimq.arch import ArchConfig
from cimq.quant.formats import accumulator_bounds, calibrate, chain_params, conventional_params, covering_fl
from cimq.sim.capture import capture
from cimq.sim.network import CimNetwork, check_params

torch.set_num_threads(1)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.flat = nn.Flatten()
        self.fc1 = nn.Linear(64, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.flat(self.pool(torch.relu(self.conv(x))))
        return self.fc2(torch.relu(self.fc1(x)))


def _graph():
    torch.manual_seed(0)
    return capture(Net().eval())


def test_conventional_is_one_global_format() -> None:
    arch = ArchConfig()
    params = conventional_params(_graph(), arch, 6)
    assert [p.name for p in params] == ["conv", "fc1", "fc2"]
    for p in params:
        assert (p.fl_w, p.fl_x, p.drop_low, p.fl_out) == (6, 6, 6, 6)
    assert [p.relu for p in params] == [True, True, False]
    check_params(_graph(), arch, params)


def test_covering_fl_exact() -> None:
    for v in (0.001, 0.3, 0.99609375, 1.0, 1.7970452, 5.2, 35.26, 255.0, 300.0, 1e4):
        for max_code in (127, 255):
            f = covering_fl(v, max_code)
            assert Fraction(max_code) / Fraction(2) ** f >= Fraction(v)
            assert Fraction(max_code) / Fraction(2) ** (f + 1) < Fraction(v)


def test_calibration_and_clamped_chain() -> None:
    g, arch = _graph(), ArchConfig()
    x = torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(3)) * 255 / 256
    cal = calibrate(g, arch, x, 100.0)
    assert cal.input_fl == 8
    conv = g.matmul_layers[0]
    y = torch.relu(torch.nn.functional.conv2d(x.double(), torch.from_numpy(conv.weight), torch.from_numpy(conv.bias), padding=1))
    assert cal.quantile["conv"] == float(y.abs().max())
    assert cal.fl_out["conv"] == covering_fl(float(y.abs().max()), 255)
    # a target far above what the accumulator holds is clamped to drop_low 0; far below, to max_drop_low
    params = chain_params(g, arch, 2, 8, {"conv": 30, "fc1": -20, "fc2": 0}, clamp=True)
    assert params is not None
    assert params[0].drop_low == 0 and params[1].drop_low == arch.max_drop_low
    assert params[1].fl_x == params[0].fl_out and params[2].fl_x == params[1].fl_out
    check_params(g, arch, params)
    assert chain_params(g, arch, 2, 8, {"conv": 30, "fc1": 0, "fc2": 0}, clamp=False) is None


def test_accumulator_bound_is_exact_worst_case() -> None:
    g, arch = _graph(), ArchConfig()
    params = conventional_params(g, arch, 7)
    net = CimNetwork(g, arch, params)
    bounds = accumulator_bounds(net)
    for m, p in zip(g.matmul_layers, params):
        w = p.weight_format(arch).quantize(m.weight_matrix())  # the contract's quantizer
        b = np.rint(m.bias * 2.0**p.fl_acc).astype(np.int64)
        want = max(sum(abs(int(v)) * 255 for v in w[n]) + abs(int(b[n])) for n in range(w.shape[0]))
        assert bounds[m.name] == want
