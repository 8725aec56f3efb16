"""A tiny network and its complete model tile, for quick model-level checks (tests, benchmarks).

The default network's tile (12 arrays of 128x128, a 512-deep input buffer)
takes minutes to compile; this one keeps every feature of the model level
(a conv layer sent as im2col positions, ReLU, pooling, a linear layer over
several column tiles, two contexts, real digits images, sampled variation)
in a tile that builds in seconds: conv3x3(1->4)+ReLU, maxpool4, flatten,
fc(16->10) on 16x16 crossbars (4 arrays, input buffer 16). Weights are
seeded random (accuracy is not the point: bit-exactness is).

:func:`write_tiny_run` writes ``BUILD_DIR/RUN/`` as the CLI would: ``tile/``
(manifest ``"network": "tiny"``), ``regs/regs.bin`` (with geometry) and
``params.json``, so ``cimq verify --level tile|model --run RUN`` runs on it.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from cimq.arch import ArchConfig
from cimq.files import staged_directory, write_text_atomic
from cimq.params import ModelParams

__all__ = ["TINY_NETWORK", "TinyDigitsNet", "tiny_arch", "tiny_graph", "tiny_params", "write_tiny_run"]

TINY_NETWORK = "tiny"


class TinyDigitsNet(nn.Module):
    """conv3x3(1->4)+ReLU, maxpool4, flatten, fc(16->10); input ``[N, 1, 8, 8]``."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(4)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.pool(self.relu(self.conv(x)))))


def tiny_arch(**overrides) -> ArchConfig:
    return ArchConfig(**({"xbar_rows": 16, "xbar_cols": 16, "layer_contexts": 2} | overrides))


def tiny_graph(seed: int = 0):
    from cimq.sim.capture import capture

    gen = torch.Generator().manual_seed(seed)
    model = TinyDigitsNet()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_((torch.rand(p.shape, generator=gen) - 0.5) * 0.8)
    return capture(model.eval())


def tiny_params(arch: ArchConfig | None = None, *, fl_w: int = 6, fl_x: int = 6, rounding: str = "floor") -> ModelParams:
    from cimq.sim.network import default_layer_params

    arch = arch or tiny_arch()
    return ModelParams(arch=arch, layers=default_layer_params(tiny_graph(), arch, fl_w=fl_w, fl_x=fl_x,
                                                              rounding=rounding))


def write_tiny_run(run_dir: Path, params: ModelParams | None = None, *, variation: str = "wan2022", seed: int = 0,
                   chip: int = 0) -> Path:
    """``tile/``, ``regs/`` and ``params.json`` of the tiny network under ``run_dir``."""
    from cimq.hw.regs.outputs import render_regs_outputs
    from cimq.hw.verilog import FixedWindow
    from cimq.verification.model.network import bind_model_setup
    from cimq.verification.model.tilefiles import model_tile_files

    params = params or tiny_params()
    setup = bind_model_setup(tiny_graph(), params, "tiny params", model_name="tiny digits net")
    files = model_tile_files(setup, FixedWindow(), variation=variation, seed=seed, chip=chip)
    doc = json.loads(files["tile.json"]) | {"network": TINY_NETWORK}
    files["tile.json"] = json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"
    with staged_directory(run_dir / "tile") as stage:
        for name, text in files.items():
            (stage / name).write_text(text, encoding="utf-8")
    regs = render_regs_outputs(params, dict(setup.placement.geometry), source="tiny params")
    with staged_directory(run_dir / "regs") as stage:
        for name, data in regs.items():
            (stage / name).write_bytes(data)
    write_text_atomic(run_dir / "params.json", params.model_dump_json(indent=1) + "\n")
    return run_dir
