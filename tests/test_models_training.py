"""Training of the benchmark networks: per-epoch train state, exact resume, safe checkpoints."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from fixtures_datasets import write_cifar10  # noqa: E402

from cimq.errors import CimqInputError  # noqa: E402
from cimq.sim.data import load_dataset  # noqa: E402
from cimq.sim.default_model import accuracy_percent  # noqa: E402
from cimq.sim.models.checkpoint import STATE_FORMAT, write_model  # noqa: E402
from cimq.sim.models.trained import load_trained_model  # noqa: E402
from cimq.sim.models.trainer import TrainConfig, check_device, default_config, read_state_config, train_network  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("cifar")
    write_cifar10(folder, per_batch=6, n_test=10)
    return load_dataset("cifar10", folder)


def _config(**changes) -> TrainConfig:
    return replace(default_config("cifar10", "vgg11", width=0.0625, epochs=3, batch_size=8), **changes)


class _Crash(Exception):
    pass


def test_resume_after_a_crash_equals_an_uninterrupted_run(tmp_path: Path, data) -> None:
    config = _config()
    straight = train_network(config, data, threads=1, state_path=tmp_path / "a.pt")

    def crash_after_first(report) -> None:
        if report.epoch == 1:
            raise _Crash

    state = tmp_path / "b.pt"
    with pytest.raises(_Crash):
        train_network(config, data, threads=1, state_path=state, on_epoch=crash_after_first)
    assert read_state_config(state) == (config, 1)
    resumed = train_network(config, data, threads=1, state_path=state, resume=True)
    assert resumed.resumed_from == 1 and len(resumed.history) == 3
    sa, sb = straight.model.state_dict(), resumed.model.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    strip = [(h.epoch, h.loss, h.train_accuracy, h.test_accuracy, h.lr) for h in straight.history]
    assert strip == [(h.epoch, h.loss, h.train_accuracy, h.test_accuracy, h.lr) for h in resumed.history]
    assert straight.history[0].lr > straight.history[-1].lr  # cosine schedule restored on resume
    # The reported test accuracy is the model's own.
    assert resumed.test_accuracy == pytest.approx(accuracy_percent(resumed.model, data.test_x, data.test_y))
    # A different seed trains differently.
    other = train_network(replace(config, seed=1, epochs=1), data, threads=1)
    assert not torch.equal(other.model.state_dict()["classifier.weight"], sa["classifier.weight"])


def test_train_state_holds_only_tensors_and_plain_values(tmp_path: Path, data) -> None:
    state = tmp_path / "s.pt"
    train_network(_config(epochs=1), data, threads=1, state_path=state)
    payload = torch.load(state, weights_only=True)
    assert payload["format"] == STATE_FORMAT and payload["epoch"] == 1
    assert set(payload) >= {"state_dict", "optimizer", "scheduler", "rng", "history", "config"}
    assert payload["optimizer"]["state"] and isinstance(payload["rng"]["generator"], torch.Tensor)
    assert [p.name for p in tmp_path.iterdir()] == ["s.pt"]  # written atomically, no temporaries left


def test_resume_refuses_a_different_recipe(tmp_path: Path, data) -> None:
    state = tmp_path / "s.pt"
    train_network(_config(epochs=1), data, threads=1, state_path=state)
    with pytest.raises(CimqInputError) as info:
        train_network(_config(epochs=1, batch_size=4), data, threads=1, state_path=state, resume=True)
    assert str(info.value) == (f"--resume: the checkpoint {str(state)!r} was made with batch_size = 8, this run asks "
                               "for 4 (pass the same options, or train without --resume)")


def test_trained_model_round_trip_and_bad_files(tmp_path: Path, data) -> None:
    outcome = train_network(_config(epochs=1), data, threads=1)
    path = write_model(tmp_path / "model.pt", outcome.model, outcome.meta())
    loaded = load_trained_model(path, dataset="cifar10")
    assert loaded.meta.model == "vgg11" and loaded.meta.width == 0.0625 and loaded.meta.num_classes == 10
    s1, s2 = loaded.module.state_dict(), outcome.model.state_dict()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    with pytest.raises(CimqInputError, match=r"model.pt: was trained on 'cifar10', not on 'svhn'$"):
        load_trained_model(path, dataset="svhn")

    good = path.read_bytes()
    bad = tmp_path / "bad.pt"
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(CimqInputError, match=r"bad.pt: not a readable checkpoint \(truncated, corrupt or unsafe"):
        load_trained_model(bad)
    for damage, message in (
        ("shape", r"state_dict\['classifier.weight'\] is \(3, 3\) torch.float32, expected \(10, 32\) torch.float32"),
        ("nan", r"state_dict\['classifier.bias'\] holds NaN or infinite values"),
        ("missing", r"state_dict lacks 'classifier.bias' \(1 missing, 0 unexpected tensors\)"),
        ("format", r"format is 'something', expected cimq-model or cimq-train-state"),
    ):
        payload = torch.load(io.BytesIO(good), weights_only=True)
        sd = payload["state_dict"]
        if damage == "shape":
            sd["classifier.weight"] = torch.zeros(3, 3)
        elif damage == "nan":
            sd["classifier.bias"][0] = float("nan")
        elif damage == "missing":
            del sd["classifier.bias"]
        else:
            payload["format"] = "something"
        buf = io.BytesIO()
        torch.save(payload, buf)
        bad.write_bytes(buf.getvalue())
        with pytest.raises(CimqInputError, match=message):
            load_trained_model(bad)


class _Exploit:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_checkpoint_that_would_run_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    bad = tmp_path / "evil.pt"
    torch.save({"format": "cimq-model", "version": 1, "x": _Exploit(f"touch {marker}")}, bad)
    with pytest.raises(CimqInputError, match=r"evil.pt: not a readable checkpoint"):
        load_trained_model(bad)
    assert not marker.exists()


def test_device_check() -> None:
    assert check_device("cpu").type == "cpu"
    if torch.cuda.is_available():
        assert check_device("cuda").type == "cuda"
    else:
        with pytest.raises(CimqInputError, match=r"^--device: 'cuda' is not available \(torch .* sees no CUDA GPU"):
            check_device("cuda")
    with pytest.raises(CimqInputError, match=r"^--device: 'tpu' is not a device \(allowed: cpu, cuda\)"):
        check_device("tpu")


def test_recipes_and_config_ranges() -> None:
    svhn, c10, c100 = default_config("svhn"), default_config("cifar10"), default_config("cifar100")
    assert (svhn.model, c10.model, c100.model) == ("alexnet", "vgg11", "resnet20")
    assert (svhn.flip, svhn.crop_pad, c10.flip, c10.crop_pad) == (False, 0, True, 4)
    with pytest.raises(CimqInputError, match=r"^--epochs: 0 is outside the allowed range 1..1000"):
        default_config("cifar10", epochs=0)
    with pytest.raises(CimqInputError, match=r"^--batch-size: 1 is outside the allowed range 2..65536"):
        default_config("cifar10", batch_size=1)
    with pytest.raises(CimqInputError, match=r"^--lr: -0.1 is outside the allowed range \(0, 10\]"):
        default_config("cifar10", lr=-0.1)
