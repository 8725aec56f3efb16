"""Integer network execution against an independent integer re-computation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.fixed import truncate
from cimq.sim.capture import capture
from cimq.sim.graph import PoolNode
from cimq.sim.intops import QTensor, add_codes, pool_codes
from cimq.sim.network import CimNetwork, default_layer_params
from cimq.sim.variation import DeviceModel, GaussianVariation

torch.set_num_threads(1)


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(3 * 2 * 2, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.relu(self.conv(x))), 1))


def _tiny() -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(3)
    m = Tiny().eval()
    return m, torch.rand(6, 1, 4, 4)


def _independent(m: Tiny, x: torch.Tensor, fl_w: int, fl_x: int) -> np.ndarray:
    """The contract by hand: integer conv/linear loops, NumPy rounding, cimq.fixed.truncate."""
    xi = np.clip(np.floor(x.numpy().astype(np.float64) * 2**fl_x + 0.5), 0, 255).astype(np.int64)
    wc = np.clip(np.rint(m.conv.weight.detach().double().numpy() * 2**fl_w), -128, 127).astype(np.int64)
    bc = np.rint(m.conv.bias.detach().double().numpy() * 2 ** (fl_w + fl_x)).astype(np.int64)
    b, _, h, w = xi.shape
    pad = np.pad(xi, ((0, 0), (0, 0), (1, 1), (1, 1)))
    acc = np.zeros((b, 3, h, w), dtype=np.int64)
    for n in range(b):
        for o in range(3):
            for i in range(h):
                for j in range(w):
                    acc[n, o, i, j] = int((pad[n, 0, i : i + 3, j : j + 3] * wc[o, 0]).sum()) + bc[o]
    y, _ = truncate(acc, drop_low=fl_w, out_bits=8, relu=True)  # FL_out = fl_x
    pooled = y.reshape(b, 3, 2, 2, 2, 2).max(axis=(3, 5))
    flat = pooled.reshape(b, -1)
    wf = np.clip(np.rint(m.fc.weight.detach().double().numpy() * 2**fl_w), -128, 127).astype(np.int64)
    bf = np.rint(m.fc.bias.detach().double().numpy() * 2 ** (fl_w + fl_x)).astype(np.int64)
    acc2 = flat @ wf.T + bf
    out, _ = truncate(acc2, drop_low=fl_w, out_bits=8, relu=False)
    return out


@pytest.mark.parametrize("fl_w,fl_x", [(6, 6), (9, 5), (4, 7)])
def test_ideal_network_equals_independent_integer_math(fl_w: int, fl_x: int) -> None:
    m, x = _tiny()
    graph = capture(m)
    arch = ArchConfig(xbar_rows=8, xbar_cols=8)  # conv 9 rows, fc 12 rows: two arrays each
    net = CimNetwork(graph, arch, default_layer_params(graph, arch, fl_w=fl_w, fl_x=fl_x))
    out = net.forward(x)
    assert out.fl == fl_x and out.signed
    assert np.array_equal(out.codes.numpy(), _independent(m, x, fl_w, fl_x))


def test_variation_chips_seeded_and_batch_chunking_invariant() -> None:
    m, x = _tiny()
    graph = capture(m)
    arch = ArchConfig(xbar_rows=8, xbar_cols=8)
    params = default_layer_params(graph, arch, fl_w=7, fl_x=6)
    net_a = CimNetwork(graph, arch, params, batch_size=512)
    net_b = CimNetwork(graph, arch, params, batch_size=4, threads=1)
    dm = DeviceModel(GaussianVariation(0.3))
    a = net_a.forward(x, net_a.program(dm, 1, 0)).codes
    assert torch.equal(a, net_b.forward(x, net_b.program(dm, 1, 0)).codes)
    assert not torch.equal(a, net_a.forward(x, net_a.program(dm, 1, 1)).codes)
    assert not torch.equal(a, net_a.forward(x).codes)


def test_read_noise_same_chip_same_results() -> None:
    m, x = _tiny()
    graph = capture(m)
    arch = ArchConfig(xbar_rows=8, xbar_cols=8)
    net = CimNetwork(graph, arch, default_layer_params(graph, arch, fl_w=7, fl_x=6))
    chip = net.program(DeviceModel(GaussianVariation(0.1), read_noise=0.3), 2, 0)
    assert torch.equal(net.forward(x, chip).codes, net.forward(x, chip).codes)


def test_params_validation() -> None:
    m, _ = _tiny()
    graph = capture(m)
    arch = ArchConfig()
    good = default_layer_params(graph, arch, fl_w=6, fl_x=6)
    conv, fc = good
    with pytest.raises(CimqInputError, match="no requantizer"):
        CimNetwork(graph, arch, [conv, fc.model_copy(update={"fl_x": 5})])
    with pytest.raises(CimqInputError, match="relu is False"):
        CimNetwork(graph, arch, [conv.model_copy(update={"relu": False}), fc])
    with pytest.raises(CimqInputError, match="no parameters for layer 'fc'"):
        CimNetwork(graph, arch, [conv])
    with pytest.raises(CimqInputError, match="'other' is not a conv/linear layer"):
        CimNetwork(graph, arch, [conv, fc, fc.model_copy(update={"name": "other"})])
    with pytest.raises(CimqInputError, match="signed_input"):
        CimNetwork(graph, arch, [conv.model_copy(update={"signed_input": True}), fc])
    with pytest.raises(CimqInputError, match="drop_low"):
        default_layer_params(graph, arch, fl_w=6, fl_x=6, fl_out=30)


def test_avg_pool_is_floor_of_sum_over_count() -> None:
    codes = torch.tensor([[[[-3, 0, 5, 6], [1, 1, -8, 2], [7, 7, 7, 6], [0, 0, 0, -1]]]])
    node = PoolNode("p", "x", "avg", kernel=(2, 2), stride=(2, 2))
    out = pool_codes(node, QTensor(codes, 4, True))
    c = codes[0, 0].tolist()
    expect = [[(c[i][j] + c[i][j + 1] + c[i + 1][j] + c[i + 1][j + 1]) // 4 for j in (0, 2)] for i in (0, 2)]
    assert out.codes[0, 0].tolist() == expect and out.fl == 4
    node = PoolNode("p", "x", "avg", kernel=(3, 3), stride=(1, 1), padding=(1, 1), count_include_pad=False)
    out = pool_codes(node, QTensor(codes, 4, True))
    corner = (c[0][0] + c[0][1] + c[1][0] + c[1][1]) // 4  # 4 real pixels in the corner window
    assert int(out.codes[0, 0, 0, 0]) == corner


def test_add_aligns_to_the_coarser_format_and_saturates() -> None:
    a = QTensor(torch.tensor([100, -7, 127, 5]), 6, True)
    b = QTensor(torch.tensor([255, 255, 200, 3]), 4, False)
    out = add_codes(a, b, 8)
    expect = [max(-128, min(127, (int(x) >> 2) + int(y))) for x, y in zip(a.codes, b.codes)]
    assert out.codes.tolist() == expect and out.fl == 4 and out.signed


def test_observer_sees_each_layers_input_and_output() -> None:
    m, x = _tiny()
    graph = capture(m)
    arch = ArchConfig(xbar_rows=8, xbar_cols=8)
    net = CimNetwork(graph, arch, default_layer_params(graph, arch, fl_w=7, fl_x=6), batch_size=4)
    chip = net.program(DeviceModel(GaussianVariation(0.2)), 0, 0)
    events = []
    final = net.forward(x, chip, observer=events.append, compare_ideal=True).codes
    assert [(e.layer.name, e.start) for e in events] == [("conv", 0), ("fc", 0), ("conv", 4), ("fc", 4)]
    conv0, fc0 = events[0], events[1]
    assert torch.equal(conv0.x, net.quantize_input(x[:4]).codes)
    pooled = conv0.out.view(4, 3, 2, 2, 2, 2).amax(dim=(3, 5)).flatten(1)
    assert torch.equal(fc0.x, pooled)
    assert torch.equal(fc0.out, final[:4])
    for e in events:
        out, sat = truncate(e.acc, drop_low=e.params.drop_low, out_bits=8, relu=e.params.relu)
        assert torch.equal(out, e.out) and torch.equal(sat, e.saturated)
        assert e.acc_ideal is not None and torch.equal(e.acc_ideal, net.layer_acc(e.layer.name, e.x, None))
