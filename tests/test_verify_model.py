"""Model level: real activations of a network, layer by layer, through the tile RTL.

Runs ``cimq verify --level model`` on the tiny network's tile (see
``cimq.verification.model.tiny``; the default network's tile takes minutes to
compile) on both simulators: programmed once by replaying the exported
register image, every layer in its own context, context switches between
single vectors, outputs compared with the golden simulator's per-layer
outputs on the same sampled chip.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from cimq.cli.main import main
from cimq.sim.data import load_dataset
from cimq.verification.model.tiny import tiny_params, write_tiny_run

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.getbasetemp() / "verify_tiny_build"  # shared with test_verify_tile
    if not (build / "tiny" / "tile" / "tile.json").is_file():
        write_tiny_run(build / "tiny")
    return build


@pytest.mark.slow
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_model_level_passes_on_real_activations(tiny_build: Path, sim: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["verify", "--level", "model", "--sim", sim, "--vectors", "6", "--seed", "2",
            "--build-dir", str(tiny_build), "--run", "tiny"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"cimq verify --level model on {sim}: PASS" in out and "params        " in out
    run = tiny_build / "tiny" / "verify" / "model"
    s = json.loads((run / sim / "summary.json").read_text())
    assert s["mismatches"] == 0 and s["checked"] == s["outputs"] == 6 * 4 + 6 * 10
    assert s["images_replayed"] == 1  # programmed once, from the exported image
    plan = json.loads((run / "plan.json").read_text())
    assert plan["segments"][0]["image"].endswith("regs/regs.bin")
    contexts = [seg["context"] for seg in plan["segments"]]
    assert s["context_switches"] == len(contexts) and contexts[-4:] == [0, 1, 0, 1]  # round robin at the end

    # The conv vectors are real input images: im2col of x_int = clamp(floor(x * 2**6 + 1/2), 0, 255).
    images = load_dataset("digits").test_x.numpy()
    conv = [v for seg in plan["segments"] if seg["layer"] == "conv" for v in seg["vectors"]]
    assert len(conv) == 6
    for v in conv:
        i, r, c = map(int, re.match(r"\(test image (\d+) position \((\d+),(\d+)\)\)", v["tag"]).groups())
        x = np.clip(np.floor(images[i, 0] * 64 + 0.5), 0, 255).astype(np.int64)
        padded = np.pad(x, 1)
        assert v["codes"] == padded[r:r + 3, c:c + 3].reshape(-1).tolist()


def test_model_level_refuses_other_params(tmp_path: Path, tiny_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.json"
    other.write_text(tiny_params(fl_w=7).model_dump_json())
    args = ["verify", "--level", "model", "--sim", "icarus", "--build-dir", str(tiny_build), "--run", "tiny"]
    assert main([*args, "--params", str(other)]) == 2
    assert "the tile was generated for other params than" in capsys.readouterr().err


def test_model_level_needs_a_model_tile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build = tmp_path / "b"
    assert main(["generate", "--build-dir", str(build)]) == 0  # the demo tile
    assert main(["verify", "--level", "model", "--sim", "icarus", "--build-dir", str(build)]) == 2
    assert "holds the demo layer, not the default model" in capsys.readouterr().err


@pytest.mark.slow
def test_waves_are_recorded_on_icarus(tiny_build: Path) -> None:
    args = ["verify", "--level", "model", "--sim", "icarus", "--vectors", "1", "--waves",
            "--build-dir", str(tiny_build), "--run", "tiny"]
    assert main(args) == 0
    fst = tiny_build / "tiny" / "verify" / "model" / "icarus" / "cimq_tile.fst"
    assert fst.is_file() and fst.stat().st_size > 1000
