"""Monte Carlo summaries and per-layer / per-bit statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from cimq.arch import ArchConfig
from cimq.sim.capture import capture
from cimq.sim.montecarlo import ideal_bit_statistics, monte_carlo, summarize_accuracy, t_critical_95
from cimq.sim.network import CimNetwork, default_layer_params
from cimq.sim.variation import DeviceModel, GaussianVariation, NoVariation

torch.set_num_threads(1)


def test_summary_matches_textbook_values() -> None:
    vals = [90.0, 92.0, 88.0, 91.0, 89.0]
    s = summarize_accuracy(vals)
    mean = sum(vals) / 5
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / 4)
    assert s.mean == pytest.approx(mean) and s.std == pytest.approx(std)
    assert s.ci95 == pytest.approx(2.776 * std / math.sqrt(5), rel=1e-3)  # t(0.975, 4)
    assert (s.min, s.max, s.chips) == (88.0, 92.0, 5)
    assert s.to_stat().chips == 5
    assert t_critical_95(1) == pytest.approx(12.706, rel=1e-3)
    assert summarize_accuracy([50.0]).ci95 == 0.0


def _net() -> tuple[CimNetwork, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 3)).eval()
    graph = capture(m)
    arch = ArchConfig(xbar_rows=8, xbar_cols=16)
    net = CimNetwork(graph, arch, default_layer_params(graph, arch, fl_w=7, fl_x=6))
    x = torch.rand(40, 1, 4, 4)
    labels = m(x).argmax(1)
    return net, x, labels


def test_ideal_device_has_no_errors() -> None:
    net, x, y = _net()
    r = monte_carlo(net, x, y, DeviceModel(NoVariation()), chips=3, seed=0)
    assert r.accuracy.values == (r.ideal_accuracy,) * 3 and r.float_accuracy == 100.0
    for layer in r.layers:
        assert layer.acc_mean_abs_error == 0 and layer.out_mismatch_rate == 0
        assert set(layer.bits.error_rate) == {0.0}


def test_variation_statistics_are_seeded_and_consistent() -> None:
    net, x, y = _net()
    dm = DeviceModel(GaussianVariation(0.3))
    a = monte_carlo(net, x, y, dm, chips=3, seed=5)
    b = monte_carlo(net, x, y, dm, chips=3, seed=5)
    assert a == b
    c = monte_carlo(net, x, y, dm, chips=3, seed=6)
    assert c.layers[0].acc_mean_abs_error != a.layers[0].acc_mean_abs_error
    first = a.layers[0]
    assert first.outputs == 3 * 40 * 12 and first.acc_mean_abs_error > 0
    assert len(first.bits.error_rate) == net.arch.acc_bits
    # an accumulator bit can only differ when the accumulator differs
    assert 0 < max(first.bits.error_rate) <= first.acc_mismatch_rate
    assert first.out_mismatch_rate <= first.acc_mismatch_rate
    assert all(0.0 <= e <= 1.0 for e in first.bits.error_rate)


def test_bit_information_by_hand() -> None:
    net, x, _ = _net()
    stats = ideal_bit_statistics(net, x)
    # recompute the ideal first-layer accumulators independently and count bits
    accs: list[torch.Tensor] = []
    net.forward(x, None, observer=lambda ev: accs.append(ev.acc) if ev.layer.name == "1" else None)
    vals = [int(v) for v in torch.cat([a.flatten() for a in accs])]
    bits = net.arch.acc_bits
    table = np.array([[(v >> i) & 1 for i in range(bits)] for v in vals])
    p1 = table.mean(0)
    one, ent, info = stats["1"]
    assert np.allclose(one, p1)

    def h(ps: list[float]) -> float:
        return -sum(p * math.log2(p) for p in ps if p > 0)

    assert np.allclose(ent, [h([p, 1 - p]) for p in p1])
    for i in range(bits - 1):
        pair = table[:, i] * 2 + table[:, i + 1]
        joint = [float(np.mean(pair == k)) for k in range(4)]
        assert info[i] == pytest.approx(max(0.0, h(joint) - h([p1[i + 1], 1 - p1[i + 1]])), abs=1e-9)
    # the accumulators are small, so the top bits are pure sign extension: no information
    assert info[bits - 2] == pytest.approx(0.0) and info[bits - 3] == pytest.approx(0.0)
