"""``cimq quantize``: conventional baseline, phase 1 and phase 2 on the embedded default.

Writes ``BUILD_DIR/RUN/params.json`` (the phase-2 design with provenance),
``BUILD_DIR/RUN/report.md`` and ``BUILD_DIR/RUN/quant/`` (plots, search log).
Every option is validated before any work; bad ones exit 2 and write nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cimq.cli.common import BuildDirOption, RunOption, SeedOption, console, run_dir
from cimq.errors import CimqInputError

_OPTION_OF = {
    "dataset": "--dataset", "data_dir": "--data-dir", "checkpoint": "--checkpoint", "limit": "--limit",
    "variation_scale": "--scale", "chips": "--chips", "eval_chips": "--eval-chips",
    "seed": "--seed", "fl_min": "--fl-min", "fl_max": "--fl-max", "threshold": "--threshold",
    "search_images": "--search-images", "radius": "--radius", "top_k": "--top-k", "threads": "--threads",
}


def make_config(**values: object):  # noqa: ANN201 - returns QuantConfig (imported lazily)
    """A validated :class:`~cimq.quant.config.QuantConfig`; errors name the CLI option."""
    from pydantic import ValidationError

    from cimq.files import describe_validation_error
    from cimq.quant.config import QuantConfig

    try:
        return QuantConfig(**values)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = str(err["loc"][0]) if err.get("loc") else ""
        option = _OPTION_OF.get(field, "--fl-min/--fl-max" if not field else f"--{field.replace('_', '-')}")
        raise CimqInputError(describe_validation_error(exc), source=option) from None


class _RichProgress:
    """One rich task per stage."""

    def __init__(self, bar) -> None:  # noqa: ANN001
        self.bar = bar
        self.tasks: dict[str, int] = {}

    def start(self, key: str, description: str, total: int) -> None:
        self.tasks[key] = self.bar.add_task(description, total=max(1, total))

    def advance(self, key: str, amount: int = 1) -> None:
        if key in self.tasks:
            self.bar.advance(self.tasks[key], amount)


def register(app: typer.Typer) -> None:
    @app.command("quantize")
    def quantize(
        dataset: Annotated[str, typer.Option("--dataset", help="Dataset: digits, svhn, cifar10, cifar100.")] = "digits",
        data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Folder with the dataset's files (not digits).")] = None,
        checkpoint: Annotated[Optional[Path], typer.Option("--checkpoint", help="Trained network (default: BUILD_DIR/RUN/train/model.pt).")] = None,
        limit: Annotated[Optional[int], typer.Option("--limit", help="Use a seeded subset of this many images per split.")] = None,
        variation: Annotated[str, typer.Option("--variation", help="Variation preset (none, uniform, wan2022, milo2021, middle_worst, lognormal).")] = "wan2022",
        scale: Annotated[float, typer.Option("--scale", help="Multiplier of the preset's spreads.")] = 1.0,
        chips: Annotated[int, typer.Option("--chips", help="Monte Carlo chips per candidate during the search.")] = 10,
        eval_chips: Annotated[int, typer.Option("--eval-chips", help="Fresh chips for the final figures (test split).")] = 20,
        fl_min: Annotated[int, typer.Option("--fl-min", help="Smallest weight FL of the phase-1 sweep.")] = 4,
        fl_max: Annotated[int, typer.Option("--fl-max", help="Largest weight FL of the phase-1 sweep.")] = 12,
        per_layer: Annotated[bool, typer.Option("--per-layer", help="Phase 1: also tune each layer's weight FL.")] = False,
        exhaustive: Annotated[bool, typer.Option("--exhaustive", help="Phase 2: try every window combination (small nets).")] = False,
        threshold: Annotated[float, typer.Option("--threshold", help="Accepted accuracy loss against float, points.")] = 4.0,
        search_images: Annotated[int, typer.Option("--search-images", help="Training images the search scores on.")] = 300,
        radius: Annotated[int, typer.Option("--radius", help="Phase 2: largest window move, bits.")] = 3,
        top_k: Annotated[int, typer.Option("--top-k", help="Phase 2: ranked windows per layer confirmed by Monte Carlo.")] = 2,
        threads: Annotated[Optional[int], typer.Option("--threads", help="Torch intra-op threads.")] = None,
        seed: SeedOption = 0,
        build_dir: BuildDirOption = Path("build"),
        run: RunOption = "default",
    ) -> None:
        """Find per-layer formats and truncation windows that survive conductance variation."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from cimq.quant.problem import device_model_for
        from cimq.quant.run import run_quantization
        from cimq.sim.data import check_dataset_name

        run_dir(build_dir, run)
        check_dataset_name(dataset)
        config = make_config(
            dataset=dataset, data_dir=data_dir, checkpoint=checkpoint, limit=limit, variation=variation, variation_scale=scale, chips=chips, eval_chips=eval_chips, seed=seed,
            fl_min=fl_min, fl_max=fl_max, per_layer=per_layer, exhaustive=exhaustive, threshold=threshold,
            search_images=search_images, radius=radius, top_k=top_k, threads=threads, build_dir=build_dir, run=run,
        )
        device_model_for(config)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as bar:
            result = run_quantization(config, _RichProgress(bar))
        acc = result.params.provenance.accuracy
        for key in ("float", "ideal_quantized", "conventional", "phase1", "phase2"):
            a = acc[key]
            ci = f" ± {a.ci95:.2f} ({a.chips} chips)" if a.chips > 1 else ""
            console.print(f"{key:>16}: {a.mean:6.2f} %{ci}")
        o = result.outcome
        console.print(f"phase 1 weight FL {o.phase1.fl}; windows (drop_low): "
                      + ", ".join(f"{p.name}={p.drop_low}" for p in result.params.layers))
        console.print(f"COPE ratio proposed/conventional: {result.comparison.cope_ratio:.2f}x; "
                      f"threshold {'met' if o.threshold_met else 'NOT met'}")
        console.print("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in o.timings.items()))
        console.print(f"wrote {result.params_path} and {result.report_path}")
