"""Phase 1, phase 2 and outputs on a tiny network (synthetic data, few chips)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.quant.config import QuantConfig
from cimq.quant.evaluate import Dataset, Evaluator
from cimq.quant.formats import calibrate
from cimq.quant.outputs import model_params, params_bytes
from cimq.quant.phase1 import phase1_params, run_phase1, select_fl
from cimq.quant.phase2 import run_phase2
from cimq.quant.run import write_outputs
from cimq.quant.search import QuantProblem, quantize
from cimq.sim.capture import capture
from cimq.sim.network import CimNetwork, check_params
from cimq.sim.variation import DeviceModel, uniform

torch.set_num_threads(1)


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(16, 12)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(12, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.relu(self.fc1(x)))


def _tiny_problem(arch: ArchConfig | None = None, sigma: float = 0.35) -> QuantProblem:
    g = torch.Generator().manual_seed(1)
    x = torch.rand(400, 16, generator=g) * 255 / 256
    teacher = torch.randn(16, 4, generator=g)
    y = (x - 0.5).matmul(teacher).argmax(1)
    torch.manual_seed(2)
    model = Tiny()
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(150):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[:300]), y[:300]).backward()
        opt.step()
    model.eval()
    return QuantProblem(capture(model), arch or ArchConfig(), Dataset(x[:200], y[:200]), Dataset(x[300:], y[300:]),
                        DeviceModel(uniform(sigma)), "tiny", "synthetic", f"uniform {sigma}")


@pytest.fixture(scope="module")
def tiny() -> QuantProblem:
    return _tiny_problem()


CFG = dict(chips=3, eval_chips=4, fl_min=3, fl_max=9, threshold=10.0, radius=2, top_k=2, seed=5)


@pytest.fixture(scope="module")
def outcome(tiny: QuantProblem):
    return quantize(tiny, QuantConfig(**CFG))


def _chip_mean(problem: QuantProblem, params, chips: int, seed: int) -> float:
    """Independent Monte Carlo: program each chip and count correct predictions directly."""
    net = CimNetwork(problem.graph, problem.arch, params)
    accs = []
    for i in range(chips):
        chip = net.program(problem.device_model, seed, i)
        pred = net.predict(problem.search.images, chip)
        accs.append(100.0 * int((pred == problem.search.labels).sum()) / problem.search.labels.numel())
    return sum(accs) / len(accs)


def test_phase1_picks_best_of_its_sweep(tiny: QuantProblem, outcome) -> None:
    sweep = outcome.phase1.sweep
    assert [r.fl for r in sweep] == list(range(3, 10))
    evaluated = [r for r in sweep if r.proposed is not None]
    assert len(evaluated) >= 3
    preferred = [r for r in evaluated if r.meets_threshold] or evaluated
    best = max(r.proposed.mean for r in preferred)
    assert outcome.phase1.fl == min(r.fl for r in preferred if r.proposed.mean == best)
    assert select_fl(sweep).fl == outcome.phase1.fl
    # the sweep's accuracies are what independent chip-by-chip inference gives
    ev = Evaluator(tiny.graph, tiny.arch, tiny.search, tiny.device_model, chips=3, seed=5)
    for r in evaluated:
        params = phase1_params(ev, outcome.calibration, r.fl)
        assert r.proposed.mean == pytest.approx(_chip_mean(tiny, params, 3, 5), abs=1e-9)
    # variation matters: the curve is not flat
    assert max(r.proposed.mean for r in evaluated) - min(r.proposed.mean for r in evaluated) > 5.0


def test_phase1_formats_follow_calibration(tiny: QuantProblem, outcome) -> None:
    calib = outcome.calibration
    params = outcome.phase1.params
    assert params[0].fl_x == calib.input_fl == 8  # inputs in [0, 1): 255/256 is the largest
    for p in params:
        assert p.fl_w == outcome.phase1.fl
        assert 0 <= p.drop_low <= tiny.arch.max_drop_low
        lo, hi = p.fl_acc - tiny.arch.max_drop_low, p.fl_acc
        assert p.fl_out == min(hi, max(lo, calib.fl_out[p.name]))
    check_params(tiny.graph, tiny.arch, params)


def test_phase2_smart_matches_exhaustive(tiny: QuantProblem, outcome) -> None:
    ev = Evaluator(tiny.graph, tiny.arch, tiny.search, tiny.device_model, chips=3, seed=5)
    p1 = outcome.phase1.params
    smart = run_phase2(ev, p1, outcome.calibration.input_fl, radius=2, top_k=2)
    full = run_phase2(ev, p1, outcome.calibration.input_fl, radius=2, exhaustive=True)
    assert full.evaluations >= 9
    assert smart.evaluations < full.evaluations
    assert full.accuracy.mean >= smart.accuracy.mean  # exhaustive sees every combination
    assert smart.accuracy.mean >= full.accuracy.mean - 2.0
    assert smart.accuracy.mean >= ev.mc(p1).accuracy.mean  # never worse than phase 1 on the search chips
    for res in (smart, full):
        check_params(tiny.graph, tiny.arch, res.params)
        assert {p.name: p.fl_out for p in res.params} == res.fl_out
        assert res.accuracy.mean == pytest.approx(_chip_mean(tiny, res.params, 3, 5), abs=1e-9)


def test_exhaustive_refuses_too_many_combinations(tiny: QuantProblem, outcome) -> None:
    ev = Evaluator(tiny.graph, tiny.arch, tiny.search, tiny.device_model, chips=1, seed=5)
    with pytest.raises(CimqInputError, match="--exhaustive"):
        run_phase2(ev, outcome.phase1.params, 8, radius=16, exhaustive=True)  # 33**2 > 1000


def test_outputs_deterministic(tiny: QuantProblem, outcome, tmp_path) -> None:
    again = quantize(tiny, QuantConfig(**CFG))
    a = write_outputs(tiny, outcome, tmp_path / "a")
    b = write_outputs(tiny, again, tmp_path / "b")
    for name in ("params.json", "report.md", "quant/accuracy_vs_fl.png", "quant/bit_statistics.png", "quant/search.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert params_bytes(model_params(tiny, outcome)) == a.params_path.read_bytes()
    prov = a.params.provenance
    assert prov.seed == 5 and prov.chips == 4
    assert {"float", "ideal_quantized", "conventional", "phase1", "phase2"} <= set(prov.accuracy)
    assert prov.accuracy["phase2"].chips == 4 and prov.accuracy["float"].chips == 1
    assert b"time" not in (tmp_path / "a" / "params.json").read_bytes()


def test_accumulator_overflow_refused() -> None:
    # a 14-bit accumulator cannot hold 16 rows of 8-bit products at any FL in the sweep
    problem = _tiny_problem(ArchConfig(acc_bits=14, out_bits=8))
    with pytest.raises(CimqInputError, match="does not fit the architecture.*fc1"):
        quantize(problem, QuantConfig(chips=1, eval_chips=1, fl_min=4, fl_max=8))
