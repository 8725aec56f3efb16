"""The slides' networks through train -> quantize -> generate on fixture files.

AlexNet (SVHN), VGG (CIFAR-10) and ResNet (CIFAR-100, residual adds) are
trained for one epoch at a tiny width on a few images in the real on-disk
formats, then quantized with a handful of chips; the params file must carry
every conv/linear layer, chain its formats consistently, and be accepted by
``cimq generate``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fixtures_datasets import write_cifar10, write_cifar100, write_svhn  # noqa: E402

from cimq.cli.main import main  # noqa: E402
from cimq.files import load_json_model  # noqa: E402
from cimq.params import ModelParams  # noqa: E402
from cimq.sim.capture import capture  # noqa: E402
from cimq.sim.models.trained import load_trained_model  # noqa: E402
from cimq.sim.network import check_params  # noqa: E402


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bench-data")
    write_svhn(folder, n_train=16, n_test=8)
    write_cifar10(folder, per_batch=4, n_test=8)
    write_cifar100(folder, n_train=30, n_test=10)
    return folder


@pytest.mark.parametrize("dataset,model", [("svhn", "alexnet"), ("cifar10", "vgg11"), ("cifar100", "resnet20")])
def test_train_quantize_generate(tmp_path: Path, data_dir: Path, dataset: str, model: str) -> None:
    build = tmp_path / "build"
    common = ["--dataset", dataset, "--data-dir", str(data_dir), "--build-dir", str(build), "--run", dataset]
    assert main(["train", *common, "--epochs", "1", "--width", "0.0625", "--batch-size", "8", "--threads", "1"]) == 0
    quantize = ["quantize", *common, "--chips", "1", "--eval-chips", "2", "--search-images", "10",
                "--fl-min", "6", "--fl-max", "8", "--radius", "1", "--top-k", "1", "--threads", "1"]
    assert main(quantize) == 0
    params_path = build / dataset / "params.json"
    params = load_json_model(ModelParams, params_path)
    trained = load_trained_model(build / dataset / "train" / "model.pt", dataset=dataset)
    graph = capture(trained.module)
    assert [p.name for p in params.layers] == [m.name for m in graph.matmul_layers]
    check_params(graph, params.arch, params)  # formats chain from layer to layer (adds included)
    if model == "resnet20":
        assert any(type(n).__name__ == "AddNode" for n in graph.nodes)
    prov = params.provenance
    assert prov.dataset == dataset and prov.chips == 2
    assert set(prov.accuracy) >= {"float", "conventional", "phase1", "phase2"}
    assert main(["generate", "--params", str(params_path), "--build-dir", str(build), "--run", dataset]) == 0
    assert (build / dataset / "rtl" / "files.f").is_file()
    report = (build / dataset / "report.md").read_text()
    assert dataset in report
    json.loads((build / dataset / "quant" / "search.json").read_text())
