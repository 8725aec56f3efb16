"""The benchmark networks: sizes from independent arithmetic, capture, and CIM smoke runs.

Full-size networks are only built and captured (no training); tiny-width ones
are trained one epoch on fixture files and run through ``CimNetwork`` on the
ideal chip and on sampled chips of a variation preset, residual adds included.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from fixtures_datasets import write_cifar10, write_cifar100, write_svhn  # noqa: E402

from cimq.arch import ArchConfig  # noqa: E402
from cimq.errors import CimqInputError  # noqa: E402
from cimq.sim.capture import capture  # noqa: E402
from cimq.sim.data import load_dataset  # noqa: E402
from cimq.sim.graph import AddNode, MatmulLayer, ReluNode  # noqa: E402
from cimq.sim.models.registry import DEFAULT_MODELS, MODELS, build_model, check_model_name, model_size  # noqa: E402
from cimq.sim.models.trainer import default_config, train_network  # noqa: E402
from cimq.sim.montecarlo import monte_carlo  # noqa: E402
from cimq.sim.network import CimNetwork, default_layer_params  # noqa: E402
from cimq.sim.variation import DeviceModel, preset  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _conv(cin: int, cout: int, k: int, bias: bool) -> int:
    return cin * cout * k * k + (cout if bias else 0)


def _bn(c: int) -> int:
    return 2 * c


# ----------------------------------------------------------------------------- full size


def test_full_size_parameter_counts_match_the_architectures() -> None:
    alex = (_conv(3, 64, 5, True) + _conv(64, 192, 3, True) + _conv(192, 384, 3, True) + _conv(384, 256, 3, True)
            + _conv(256, 256, 3, True) + 4096 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10)
    chans = [3, 64, 128, 256, 256, 512, 512, 512, 512]
    vgg11 = sum(_conv(a, b, 3, False) + _bn(b) for a, b in zip(chans, chans[1:])) + 512 * 10 + 10
    res = _conv(3, 16, 3, False) + _bn(16) + 3 * 2 * (_conv(16, 16, 3, False) + _bn(16))
    for cin, c in ((16, 32), (32, 64)):
        res += _conv(cin, c, 3, False) + _conv(c, c, 3, False) + 2 * _bn(c) + _conv(cin, c, 1, False) + _bn(c)
        res += 2 * 2 * (_conv(c, c, 3, False) + _bn(c))
    res += 64 * 100 + 100
    for name, classes, expected in (("alexnet", 10, alex), ("vgg11", 10, vgg11), ("resnet20", 100, res)):
        model = build_model(name, num_classes=classes)
        assert model_size(model, MODELS[name].image_shape).parameters == expected, name


def test_resnet20_macs_from_the_layer_shapes() -> None:
    macs = 32 * 32 * 16 * 27 + 6 * 32 * 32 * 16 * 144  # stem + stage 1
    macs += 16 * 16 * 32 * 144 + 5 * 16 * 16 * 32 * 288 + 16 * 16 * 32 * 16  # stage 2 (+ 1x1 shortcut)
    macs += 8 * 8 * 64 * 288 + 5 * 8 * 8 * 64 * 576 + 8 * 8 * 64 * 32  # stage 3
    macs += 64 * 100
    assert model_size(build_model("resnet20", num_classes=100), (3, 32, 32)).macs == macs


@pytest.mark.parametrize("name,layers,adds", [("alexnet", 8, 0), ("vgg11", 9, 0), ("vgg16", 14, 0), ("resnet20", 22, 9),
                                              ("resnet32", 34, 15)])
def test_full_size_networks_capture(name: str, layers: int, adds: int) -> None:
    torch.manual_seed(0)
    model = build_model(name, num_classes=10).eval()
    for m in model.modules():  # non-trivial BN statistics, so folding is checked
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)
    graph = capture(model)
    assert len(graph.matmul_layers) == layers
    assert sum(isinstance(n, AddNode) for n in graph.nodes) == adds
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        ref = model(x).double()
    from cimq.sim.network import float_forward

    assert torch.allclose(float_forward(graph, x), ref, atol=1e-4, rtol=1e-4)


def test_residual_blocks_capture_as_add_then_relu() -> None:
    graph = capture(build_model("resnet20", num_classes=10, width=0.25).eval())
    by_name = {n.name: n for n in graph.nodes}
    adds = [n for n in graph.nodes if isinstance(n, AddNode)]
    for add in adds:
        a, b = by_name[add.a], by_name[add.b]
        assert isinstance(a, MatmulLayer) and not a.relu and a.name.endswith("conv2")  # BN folded, no ReLU before the add
        # identity shortcut: the block input (a ReLU, or the stem conv with its fused ReLU); else the 1x1 conv
        assert isinstance(b, ReluNode) or (isinstance(b, MatmulLayer) and (b.relu or "shortcut" in b.name))
        assert any(isinstance(n, ReluNode) and n.input == add.name for n in graph.nodes)


def test_resnet_on_the_ideal_chip_tracks_the_float_network() -> None:
    """8-bit CIM inference through 9 residual adds stays close to float (untrained, in range)."""
    torch.manual_seed(0)
    model = build_model("resnet20", num_classes=10, width=0.5).eval()
    graph = capture(model)
    arch = ArchConfig()
    net = CimNetwork(graph, arch, default_layer_params(graph, arch, fl_w=6, fl_x=6), threads=1)
    x = torch.randint(0, 256, (16, 3, 32, 32)).float() / 256
    cim = net.forward(x).to_real().flatten()
    ref = net.float_forward(x).flatten()
    assert float(torch.corrcoef(torch.stack([cim, ref]))[0, 1]) > 0.99


def test_model_names_and_widths_are_checked() -> None:
    assert DEFAULT_MODELS == {"digits": "digits_cnn", "svhn": "alexnet", "cifar10": "vgg11", "cifar100": "resnet20"}
    with pytest.raises(CimqInputError, match=r"^--model: 'vgg19' is not a known model \(allowed: digits_cnn, alexnet"):
        check_model_name("vgg19")
    with pytest.raises(CimqInputError, match=r"^--model: 'digits_cnn' does not take \(3, 32, 32\) images \(allowed: alexnet, vgg11"):
        check_model_name("digits_cnn", (3, 32, 32))
    with pytest.raises(CimqInputError, match=r"width: 0.0 is outside the allowed range \(0, 4\]"):
        build_model("vgg11", num_classes=10, width=0.0)
    tiny = model_size(build_model("vgg11", num_classes=10, width=0.0625), (3, 32, 32))
    assert tiny.parameters < 50_000 < model_size(build_model("vgg11", num_classes=10), (3, 32, 32)).parameters


# ----------------------------------------------------------------------------- train + simulate


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    write_svhn(folder, n_train=32, n_test=12)
    write_cifar10(folder, per_batch=6, n_test=12)
    write_cifar100(folder, n_train=32, n_test=12)
    return folder


@pytest.mark.parametrize("dataset,width", [("svhn", 0.0625), ("cifar10", 0.0625), ("cifar100", 0.25)])
def test_one_epoch_then_cim_simulation(fixture_dir: Path, dataset: str, width: float) -> None:
    data = load_dataset(dataset, fixture_dir)
    config = default_config(dataset, width=width, epochs=1, batch_size=8)
    outcome = train_network(config, data, threads=1)
    assert len(outcome.history) == 1 and torch.isfinite(torch.tensor(outcome.history[0].loss))
    model = outcome.model
    assert not model.training and next(model.parameters()).device.type == "cpu"

    graph = capture(model)
    arch = ArchConfig()
    net = CimNetwork(graph, arch, default_layer_params(graph, arch, fl_w=6, fl_x=6), threads=1)
    with torch.no_grad():
        ref = model(data.test_x).double()
    assert torch.allclose(net.float_forward(data.test_x), ref, atol=1e-5)  # BN folding, dropout dropped
    ideal = net.accuracy(data.test_x, data.test_y)
    result = monte_carlo(net, data.test_x, data.test_y, DeviceModel(preset("wan2022")), chips=2, seed=0)
    assert result.ideal_accuracy == ideal
    assert len(result.accuracy.values) == 2 and all(0.0 <= a <= 100.0 for a in result.accuracy.values)
    assert [s.name for s in result.layers] == [m.name for m in graph.matmul_layers]
    assert any(s.acc_mismatch_rate > 0 for s in result.layers)  # variation reached the accumulators
    if dataset == "cifar100":
        assert sum(isinstance(n, AddNode) for n in graph.nodes) == 9
