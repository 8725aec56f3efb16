"""``cimq simulate``: accuracy of a trained network over sampled CIM chips.

Uses the embedded default (digits + small CNN, ``cimq.sim.default_model``) or,
with ``--dataset svhn|cifar10|cifar100 --data-dir DIR``, the network ``cimq
train`` left in ``BUILD_DIR/RUN/train/model.pt`` (or ``--checkpoint``) on that
dataset's test split (``--limit N``: a seeded subset of N images);
per-layer params from ``--params`` (a params JSON) or from one global format
(``--fl-w``/``--fl-x``), and a variation preset or a measured CSV. Prints an
accuracy table and writes ``BUILD_DIR/RUN/sim/simulate.json``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Optional

import typer

from cimq.cli.common import BuildDirOption, RunOption, SeedOption, console, run_dir
from cimq.errors import CimqInputError


def register(app: typer.Typer) -> None:
    @app.command("simulate")
    def simulate(
        params: Annotated[Optional[Path], typer.Option("--params", help="Params JSON (cimq-params); default: global format.")] = None,
        fl_w: Annotated[int, typer.Option("--fl-w", help="Global weight fraction length (without --params).")] = 6,
        fl_x: Annotated[int, typer.Option("--fl-x", help="Global activation fraction length (without --params).")] = 6,
        variation: Annotated[str, typer.Option("--variation", help="Variation preset (none, uniform, wan2022, milo2021, middle_worst, lognormal).")] = "wan2022",
        sigma: Annotated[Optional[float], typer.Option("--sigma", help="Sigma of the uniform (level steps) / lognormal presets.")] = None,
        scale: Annotated[float, typer.Option("--scale", help="Multiplier of the other presets' spreads.")] = 1.0,
        variation_csv: Annotated[Optional[Path], typer.Option("--variation-csv", help="Measured per-level conductances (level,conductance).")] = None,
        read_noise: Annotated[float, typer.Option("--read-noise", help="Read noise sigma per cell and read (level steps).")] = 0.0,
        dataset: Annotated[str, typer.Option("--dataset", help="Dataset (digits, svhn, cifar10, cifar100).")] = "digits",
        data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Folder with the dataset's official files.")] = None,
        checkpoint: Annotated[Optional[Path], typer.Option("--checkpoint", help="Trained model (default: BUILD_DIR/RUN/train/model.pt).")] = None,
        limit: Annotated[Optional[int], typer.Option("--limit", help="Simulate a seeded subset of N test images.")] = None,
        chips: Annotated[int, typer.Option("--chips", min=1, max=100000, help="Sampled chips.")] = 10,
        threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="Torch intra-op threads.")] = None,
        device: Annotated[str, typer.Option("--device", help="Torch device: cpu or cuda.")] = "cpu",
        seed: SeedOption = 0,
        build_dir: BuildDirOption = Path("build"),
        run: RunOption = "default",
    ) -> None:
        """Accuracy of a trained network over sampled chips (mean, std, min, 95 % CI)."""
        import torch
        from rich.progress import Progress
        from rich.table import Table

        from cimq.arch import ArchConfig
        from cimq.files import load_json_model, write_text_atomic
        from cimq.params import ModelParams
        from cimq.sim.capture import capture
        from cimq.sim.models.trained import load_benchmark
        from cimq.sim.montecarlo import monte_carlo
        from cimq.sim.network import CimNetwork, default_layer_params
        from cimq.sim.variation import DeviceModel, load_empirical_csv, preset

        out_dir = run_dir(build_dir, run)
        if device not in ("cpu", "cuda") or (device == "cuda" and not torch.cuda.is_available()):
            raise CimqInputError(f"{device!r} is not an available device (cpu{', cuda' if torch.cuda.is_available() else ''})", source="--device")
        model_params = load_json_model(ModelParams, params) if params is not None else None
        prog = load_empirical_csv(variation_csv) if variation_csv is not None else preset(variation, sigma=sigma, scale=scale)
        device_model = DeviceModel(prog, read_noise)
        bench = load_benchmark(dataset, data_dir=data_dir, build_dir=build_dir, run=run, checkpoint=checkpoint,
                               limit=limit, seed=seed)
        data, model = bench.data, bench.model.eval()
        graph = capture(model)
        arch = model_params.arch if model_params else ArchConfig()
        layer_params = model_params.layers if model_params else default_layer_params(graph, arch, fl_w=fl_w, fl_x=fl_x)
        net = CimNetwork(graph, arch, layer_params, device=device, threads=threads)

        table = Table(title=f"{bench.model_name} on {data.name} ({data.test_y.shape[0]} test images): "
                            f"{device_model.describe()}, {chips} chips")
        table.add_column("chip", justify="right")
        table.add_column("accuracy %", justify="right")
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("simulating chips", total=chips)

            def step(i: int, acc: float) -> None:
                table.add_row(str(i), f"{acc:.2f}")
                bar.advance(task)

            result = monte_carlo(net, data.test_x, data.test_y, device_model, chips=chips, seed=seed, progress=step)
        a = result.accuracy
        table.add_section()
        table.add_row("mean", f"{a.mean:.2f} ± {a.ci95:.2f}")
        table.add_row("std / min", f"{a.std:.2f} / {a.min:.2f}")
        table.add_row("ideal chip", f"{result.ideal_accuracy:.2f}")
        table.add_row("float", f"{result.float_accuracy:.2f}")
        console.print(table)
        doc = {
            "format": "cimq-simulate", "version": 1, "dataset": data.name, "model": bench.model_name,
            "test_images": int(data.test_y.shape[0]), "arch": arch.model_dump(mode="json"),
            "layers": [p.model_dump(mode="json") for p in layer_params], "result": asdict(result),
        }
        path = write_text_atomic(out_dir / "sim" / "simulate.json", json.dumps(doc, indent=1, sort_keys=True) + "\n")
        console.print(f"wrote {path}")
