"""Variation models: seeding, per-level spreads, presets and the measured-CSV loader."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.sim.crossbar import program_crossbar
from cimq.sim.variation import (
    DeviceModel,
    GaussianVariation,
    LognormalVariation,
    NoVariation,
    layer_rng,
    load_empirical_csv,
    middle_worst,
    milo2021,
    preset,
    wan2022,
)

ARCH = ArchConfig()


def _w(seed: int = 0) -> torch.Tensor:
    return torch.randint(-128, 128, (16, 200), generator=torch.Generator().manual_seed(seed))


def test_same_seed_same_chip_different_seed_different_chip() -> None:
    model = wan2022()
    a = program_crossbar(_w(), ARCH, model, layer_rng(7, 3, 1)).codes
    b = program_crossbar(_w(), ARCH, model, layer_rng(7, 3, 1)).codes
    assert torch.equal(a, b)
    for other in (layer_rng(8, 3, 1), layer_rng(7, 4, 1), layer_rng(7, 3, 2)):
        assert not torch.equal(a, program_crossbar(_w(), ARCH, model, other).codes)


def test_per_level_gaussian_spread() -> None:
    sig = (0.05, 0.2, 0.3, 0.1)
    levels = np.repeat(np.arange(4), 20000)
    d = GaussianVariation(sig).sample(levels, 2, np.random.default_rng(0))
    for lv in range(4):
        part = d[levels == lv]
        assert abs(part.mean()) < 0.01
        assert abs(part.std() / sig[lv] - 1) < 0.03


def test_from_siemens_divides_by_the_step() -> None:
    m = GaussianVariation.from_siemens(2e-6, 10e-6)
    assert m.sigma == pytest.approx(0.2)


def test_conductance_presets_follow_their_fits() -> None:
    w = wan2022()  # 1..30 uS
    step = (30.0 - 1.0) / 3
    g = 1.0 + step * np.arange(4)
    expect = (1.536e-4 * g**3 - 1.167e-2 * g**2 + 2.374e-1 * g + 1.053) / step
    assert np.allclose(w.level_sigma(2), expect)
    assert expect[1] > expect[0] and expect[1] > expect[3]  # middle worse than the ends
    m = milo2021()
    step = (225.0 - 50.0) / 3
    g = 50.0 + step * np.arange(4)
    assert np.allclose(m.level_sigma(2), (4.782321 - 0.009107 * g) / step)
    mw = middle_worst().sigma
    assert isinstance(mw, tuple) and min(mw[1], mw[2]) > max(mw[0], mw[3])
    with pytest.raises(CimqInputError, match="39.26"):
        wan2022(g_max_us=50.0)


def test_lognormal_off_state_varies_only_with_finite_ratio() -> None:
    levels = np.zeros(1000, dtype=np.int64)
    rng = np.random.default_rng(1)
    assert np.all(LognormalVariation(0.1).sample(levels, 2, rng) == 0)
    d = LognormalVariation(0.1, on_off_ratio=10).sample(levels, 2, rng)
    # G_min = 3 / 9 steps; spread about G_min * sigma
    assert d.std() == pytest.approx((3 / 9) * 0.1, rel=0.15)


def test_ideal_models_and_device_model() -> None:
    assert NoVariation().is_ideal and GaussianVariation(0.0).is_ideal
    assert not DeviceModel(NoVariation(), read_noise=0.1).is_ideal
    with pytest.raises(CimqInputError, match="read_noise"):
        DeviceModel(NoVariation(), read_noise=-1)
    with pytest.raises(CimqInputError, match="sigma"):
        GaussianVariation(-0.1)
    with pytest.raises(CimqInputError, match="cell_bits 2 needs 1 or 4"):
        GaussianVariation((0.1, 0.2)).sample(np.zeros(3, dtype=np.int64), 2, np.random.default_rng(0))
    with pytest.raises(CimqInputError, match="known variation preset"):
        preset("bogus")
    with pytest.raises(CimqInputError, match="chip"):
        layer_rng(0, -1, 0)


def _csv(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "meas.csv"
    p.write_text(text)
    return p


def test_empirical_csv_roundtrip(tmp_path: Path) -> None:
    rows = ["level,conductance"]
    vals = {0: [1.0, 1.2], 1: [10.0, 11.0, 12.0], 2: [20.0, 22.0], 3: [31.0, 30.0]}
    for lv, gs in vals.items():
        rows += [f"{lv},{g}" for g in gs]
    model = load_empirical_csv(_csv(tmp_path, "\n".join(rows) + "\n"))
    means = [np.mean(vals[lv]) for lv in range(4)]
    step = (means[3] - means[0]) / 3
    allowed = {lv: {(g - (means[0] + lv * step)) / step for g in vals[lv]} for lv in range(4)}
    levels = np.repeat(np.arange(4), 50)
    d = model.sample(levels, 2, np.random.default_rng(0))
    for lv, dv in zip(levels, d):
        assert min(abs(dv - a) for a in allowed[int(lv)]) < 1e-12
    with pytest.raises(CimqInputError, match="cell_bits 1"):
        model.sample(levels, 1, np.random.default_rng(0))


@pytest.mark.parametrize(
    "text,match",
    [
        ("lvl,g\n0,1\n", "line 1: header"),
        ("level,conductance\n0,1\n1,x\n", "line 3, column conductance: 'x' is not a number"),
        ("level,conductance\n0,1\nA,2\n", "line 3, column level: 'A' is not an integer"),
        ("level,conductance\n0,1\n1,-2\n", "line 3, column conductance"),
        ("level,conductance\n0,1\n1,2,3\n", "line 3: expected 2 columns"),
        ("level,conductance\n0,1\n2,2\n", "need 2, 4 or 16 levels"),
        ("level,conductance\n0,1\n3,2\n1,1\n", r"no measurements for level\(s\) \[2\]"),
        ("level,conductance\n0,1\n1,nan\n", "finite"),
    ],
)
def test_empirical_csv_errors_name_line_and_column(tmp_path: Path, text: str, match: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(CimqInputError, match=match) as info:
        load_empirical_csv(path)
    assert str(path) in str(info.value)


def test_missing_csv(tmp_path: Path) -> None:
    with pytest.raises(CimqInputError, match="cannot read"):
        load_empirical_csv(tmp_path / "none.csv")


def test_uniform_sigma_matches_codes() -> None:
    # the code deviation of a programmed chip has the model's spread (in 1/256 steps)
    arch = ArchConfig()
    w = torch.zeros((64, 128), dtype=torch.int64)  # u = 128: slices 0,0,0,2
    xb = program_crossbar(w, arch, preset("uniform", sigma=0.1), layer_rng(0, 0, 0))
    dev = (xb.codes[:, :, 3].double() - 2 * 256) / 256
    assert dev.std().item() == pytest.approx(0.1, rel=0.05)
    assert math.isclose(dev.mean().item(), 0.0, abs_tol=0.005)
