"""``cimq train --dataset ...`` and ``cimq simulate --dataset ...`` end to end on fixture files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from fixtures_datasets import write_cifar10, write_svhn  # noqa: E402

from cimq.cli.main import main  # noqa: E402
from cimq.sim.data import load_dataset  # noqa: E402
from cimq.sim.default_model import accuracy_percent  # noqa: E402
from cimq.sim.models.trained import load_trained_model  # noqa: E402

TINY = ["--width", "0.0625", "--batch-size", "8", "--threads", "1"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    write_cifar10(folder, per_batch=6, n_test=12)
    write_svhn(folder, n_train=16, n_test=8)
    return folder


def test_train_resume_then_simulate(tmp_path: Path, data_dir: Path) -> None:
    build = tmp_path / "build"
    common = ["--dataset", "cifar10", "--data-dir", str(data_dir), "--build-dir", str(build), "--run", "c10"]
    assert main(["train", *common, "--epochs", "1", *TINY]) == 0
    out = build / "c10" / "train"
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["model"], metrics["epochs"], metrics["resumed_from"]) == ("vgg11", 1, 0)
    assert (metrics["train_size"], metrics["test_size"]) == (30, 12) and len(metrics["history"]) == 1
    trained = load_trained_model(out / "model.pt", dataset="cifar10")
    data = load_dataset("cifar10", data_dir)
    assert metrics["float_test_accuracy"] == pytest.approx(accuracy_percent(trained.module, data.test_x, data.test_y), abs=1e-3)
    assert torch.load(out / "last.pt", weights_only=True)["epoch"] == 1

    # --resume with a higher target is refused (the schedule was planned for 1 epoch) ...
    assert main(["train", *common, "--resume", "--epochs", "2", "--threads", "1"]) == 2
    # ... while --resume takes the stored recipe and finds the run complete.
    assert main(["train", *common, "--resume", "--threads", "1"]) == 0
    again = json.loads((out / "metrics.json").read_text())
    assert again["resumed_from"] == 1 and again["history"] == metrics["history"]

    sim = ["simulate", "--dataset", "cifar10", "--data-dir", str(data_dir), "--build-dir", str(build), "--run", "c10",
           "--chips", "2", "--fl-w", "7", "--fl-x", "6", "--threads", "1"]
    assert main(sim) == 0
    doc = json.loads((build / "c10" / "sim" / "simulate.json").read_text())
    assert doc["dataset"] == "cifar10" and doc["test_images"] == 12 and doc["model"].startswith("vgg11 x0.0625")
    assert len(doc["result"]["accuracy"]["values"]) == 2
    assert [layer["name"] for layer in doc["layers"]][-1] == "classifier"
    assert doc["result"]["float_accuracy"] == pytest.approx(metrics["float_test_accuracy"], abs=1e-3)


def test_train_svhn_alexnet_with_limit(tmp_path: Path, data_dir: Path) -> None:
    build = tmp_path / "b"
    args = ["train", "--dataset", "svhn", "--data-dir", str(data_dir), "--epochs", "1", "--limit", "6",
            *TINY, "--build-dir", str(build)]
    assert main(args) == 0
    metrics = json.loads((build / "default" / "train" / "metrics.json").read_text())
    assert metrics["model"] == "alexnet" and (metrics["train_size"], metrics["test_size"]) == (6, 6)
    assert metrics["config"]["limit"] == 6 and metrics["config"]["flip"] is False


@pytest.mark.parametrize(
    "args,message",
    [
        (["--dataset", "cifar10"], "--data-dir: is required for --dataset cifar10"),
        (["--dataset", "cifar10", "--data-dir", "{data}", "--model", "vgg19"], "--model: 'vgg19' is not a known model"),
        (["--dataset", "cifar10", "--data-dir", "{data}", "--model", "digits_cnn"], "--model: 'digits_cnn' does not take (3, 32, 32) images"),
        (["--dataset", "cifar10", "--data-dir", "{data}", "--width", "0"], "--width: 0.0 is outside the allowed range (0, 4]"),
        (["--dataset", "cifar10", "--data-dir", "{data}", "--resume"], "--resume: no train state at"),
        (["--dataset", "cifar10", "--data-dir", "{data}", "--device", "gpu"], "--device: 'gpu' is not a device"),
        (["--dataset", "cifar100", "--data-dir", "{data}"], "cifar-100-python/meta: missing file"),
        (["--resume"], "--resume: is not supported with --dataset digits"),
        (["--limit", "5"], "--limit: is not supported with --dataset digits"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(tmp_path: Path, data_dir: Path, capsys, args: list[str], message: str) -> None:
    build = tmp_path / "build"
    argv = ["train", *[a.replace("{data}", str(data_dir)) for a in args], "--build-dir", str(build)]
    assert main(argv) == 2
    assert message in " ".join(capsys.readouterr().err.split())
    assert not build.exists()


def test_cuda_request_without_a_gpu(tmp_path: Path, data_dir: Path, capsys) -> None:
    argv = ["train", "--dataset", "cifar10", "--data-dir", str(data_dir), "--device", "cuda", "--epochs", "1", *TINY,
            "--build-dir", str(tmp_path / "b")]
    if torch.cuda.is_available():
        assert main(argv) == 0
    else:
        assert main(argv) == 2
        assert "--device: 'cuda' is not available" in capsys.readouterr().err
        assert not (tmp_path / "b").exists()


def test_simulate_without_a_trained_model(tmp_path: Path, data_dir: Path, capsys) -> None:
    argv = ["simulate", "--dataset", "cifar10", "--data-dir", str(data_dir), "--build-dir", str(tmp_path / "b")]
    assert main(argv) == 2
    assert "--checkpoint: no trained model at" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "b" / "default" / "sim").exists()
