"""``run_quantization``: the default problem end to end, with its files under ``BUILD_DIR/RUN/``.

Writes ``params.json`` (the phase-2 design with provenance), ``report.md`` and
``quant/`` (``accuracy_vs_fl.png``, ``bit_statistics.png``, ``search.json``).
Everything is validated before any work; ``quant/`` is staged and swapped in
whole, the two files are written atomically after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cimq.arch import ArchConfig
from cimq.files import staged_directory, write_bytes_atomic, write_text_atomic
from cimq.params import ModelParams
from cimq.quant.config import QuantConfig
from cimq.quant.metrics import Comparison, compare
from cimq.quant.outputs import model_params, params_bytes, search_log_bytes
from cimq.quant.plots import accuracy_vs_fl_png, bit_statistics_png
from cimq.quant.problem import default_problem, device_model_for
from cimq.quant.progress import ProgressSink
from cimq.quant.report import report_markdown
from cimq.quant.search import QuantOutcome, QuantProblem, quantize

__all__ = ["QuantResult", "run_quantization", "write_outputs"]

SWEEP_PNG = "quant/accuracy_vs_fl.png"
BITS_PNG = "quant/bit_statistics.png"


@dataclass(frozen=True)
class QuantResult:
    """What a run produced: the params (and where they are), the outcome and the comparison."""

    params_path: Path
    report_path: Path
    params: ModelParams
    outcome: QuantOutcome
    comparison: Comparison


def write_outputs(problem: QuantProblem, outcome: QuantOutcome, out_dir: Path) -> QuantResult:
    """Write params, report and figures for ``outcome`` into ``out_dir``."""
    params = model_params(problem, outcome)
    f = outcome.final
    cmp = compare(problem.graph, problem.arch, tuple(problem.test.images.shape[1:]),
                  f.mc["conventional"].accuracy.mean, f.mc["phase2"].accuracy.mean, out_dir)
    files = {"sweep": SWEEP_PNG, "bits": BITS_PNG}
    with staged_directory(out_dir / "quant") as stage:
        variation = problem.variation_name.split(":")[0]
        (stage / Path(SWEEP_PNG).name).write_bytes(
            accuracy_vs_fl_png(outcome.phase1.sweep, outcome.search_float_accuracy, outcome.phase1.fl, variation))
        (stage / Path(BITS_PNG).name).write_bytes(
            bit_statistics_png(f.mc["phase2"].layers, outcome.phase2.params, problem.arch))
        (stage / "search.json").write_bytes(search_log_bytes(outcome))
    params_path = write_bytes_atomic(out_dir / "params.json", params_bytes(params))
    report_path = write_text_atomic(out_dir / "report.md", report_markdown(problem, outcome, cmp, files))
    return QuantResult(params_path, report_path, params, outcome, cmp)


def run_quantization(config: QuantConfig, progress: ProgressSink | None = None, arch: ArchConfig | None = None) -> QuantResult:
    """Quantize the embedded default (digits CNN) for ``config``; the lead's ``cimq flow`` calls this."""
    from cimq.cli.common import run_dir

    out_dir = run_dir(Path(config.build_dir), config.run)  # validates the run name first
    device_model_for(config)  # validates the preset before any work
    problem = default_problem(config, arch)
    outcome = quantize(problem, config, progress)
    return write_outputs(problem, outcome, out_dir)
