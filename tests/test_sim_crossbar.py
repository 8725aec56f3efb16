"""The crossbar engine against plain integer math and an independent contract loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cimq.arch import ArchConfig
from cimq.sim.crossbar import (
    conv_reference,
    crossbar_conv,
    crossbar_linear,
    exact_conv,
    exact_linear,
    mvm_reference,
    program_crossbar,
)
from cimq.sim.graph import ConvGeometry
from cimq.sim.variation import GaussianVariation, layer_rng

torch.set_num_threads(1)

CONFIGS = [
    # cell_bits, dac_bits, signed inputs
    (1, 1, False),
    (2, 1, False),
    (4, 1, False),
    (2, 2, False),
    (4, 2, False),
    (2, 1, True),
    (1, 1, True),
]


def _data(n: int, k: int, m: int, signed: bool, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    w = torch.randint(-128, 128, (n, k), generator=g)
    x = torch.randint(-128, 128, (m, k), generator=g) if signed else torch.randint(0, 256, (m, k), generator=g)
    return w, x


def _int_matmul(x: torch.Tensor, w: torch.Tensor) -> np.ndarray:
    """Plain integer dot products (Python ints via NumPy object arrays: no overflow, no floats)."""
    return np.asarray(x.numpy(), dtype=object) @ np.asarray(w.numpy(), dtype=object).T


def _contract_loop(w: np.ndarray, x: np.ndarray, codes: np.ndarray, arch: ArchConfig, signed: bool) -> np.ndarray:
    """The contract text, re-derived independently with Python integers (small sizes only)."""
    n_out, k = w.shape
    gf = arch.g_frac_bits
    slices, planes = arch.weight_bits // arch.cell_bits, arch.act_bits // arch.dac_bits
    dmask = (1 << arch.dac_bits) - 1
    top = (1 << arch.adc_bits) - 1
    out = np.zeros((x.shape[0], n_out), dtype=object)
    for m in range(x.shape[0]):
        bits = [(int(v) & ((1 << arch.act_bits) - 1)) for v in x[m]]  # two's complement pattern
        for n in range(n_out):
            acc_u = 0
            for a0 in range(0, k, arch.xbar_rows):
                rows = range(a0, min(k, a0 + arch.xbar_rows))
                for b in range(planes):
                    sign = -1 if (signed and b == planes - 1) else 1
                    for s in range(slices):
                        col = sum(((bits[r] >> (arch.dac_bits * b)) & dmask) * int(codes[r, n, s]) for r in rows)
                        count = min(max((col + (1 << (gf - 1))) // (1 << gf), 0), top)
                        acc_u += sign * count * (1 << (arch.cell_bits * s + arch.dac_bits * b))
            out[m, n] = acc_u - (1 << (arch.weight_bits - 1)) * sum(int(v) for v in x[m])
    return out


@pytest.mark.parametrize("cell_bits,dac_bits,signed", CONFIGS)
def test_ideal_chain_equals_integer_dot_product(cell_bits: int, dac_bits: int, signed: bool) -> None:
    # rows 150 over 64-row arrays: 3 arrays, the last ragged; 20*slices columns over 16-col tiles
    arch = ArchConfig(xbar_rows=64, xbar_cols=16, cell_bits=cell_bits, dac_bits=dac_bits)
    w, x = _data(20, 150, 17, signed, seed=cell_bits * 10 + dac_bits)
    xb = program_crossbar(w, arch)
    expect = _int_matmul(x, w)
    assert xb.arrays == 3 and xb.tiles == (20 * arch.slices + 15) // 16
    assert np.array_equal(crossbar_linear(xb, x, signed).numpy(), expect.astype(np.int64))
    assert np.array_equal(mvm_reference(xb, x, signed).numpy(), expect.astype(np.int64))
    assert np.array_equal(exact_linear(w, x).numpy(), expect.astype(np.int64))


def test_ideal_codes_are_offset_binary_slices() -> None:
    arch = ArchConfig(xbar_rows=32, xbar_cols=8, cell_bits=2)
    w, _ = _data(5, 40, 1, False, seed=3)
    xb = program_crossbar(w, arch)
    for n in range(5):
        for k in range(40):
            u = int(w[n, k]) + 128
            for s in range(4):
                level = (u >> (2 * s)) & 3
                assert int(xb.codes[k, n, s]) == level * 256
                col = n * 4 + s
                assert xb.array_codes(k // 32, col // 8)[k % 32, col % 8] == level * 256


@pytest.mark.parametrize("cell_bits,dac_bits,signed", CONFIGS)
def test_float32_path_equals_int64_reference_with_variation(cell_bits: int, dac_bits: int, signed: bool) -> None:
    arch = ArchConfig(xbar_rows=48, xbar_cols=32, cell_bits=cell_bits, dac_bits=dac_bits)
    w, x = _data(24, 130, 21, signed, seed=7)
    xb = program_crossbar(w, arch, GaussianVariation(0.3), layer_rng(5, 0, 0))
    assert not xb.ideal
    fast = crossbar_linear(xb, x, signed)
    assert torch.equal(fast, mvm_reference(xb, x, signed))
    assert not torch.equal(fast, exact_linear(w, x))  # the variation does change results


@pytest.mark.parametrize("cell_bits,dac_bits,signed", [(2, 1, False), (4, 2, False), (2, 1, True)])
def test_conv_paths_agree(cell_bits: int, dac_bits: int, signed: bool) -> None:
    arch = ArchConfig(xbar_rows=40, xbar_cols=16, cell_bits=cell_bits, dac_bits=dac_bits)
    g = torch.Generator().manual_seed(11)
    w = torch.randint(-128, 128, (12, 7, 3, 3), generator=g)
    lo, hi = (-128, 128) if signed else (0, 256)
    x = torch.randint(lo, hi, (3, 7, 9, 10), generator=g)
    geom = ConvGeometry((3, 3), stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    ideal = program_crossbar(w.reshape(12, -1), arch)
    expect = torch.nn.functional.conv2d(x.double(), w.double(), stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    expect = expect.round().long()
    assert torch.equal(crossbar_conv(ideal, x, geom, signed), expect)
    assert torch.equal(exact_conv(w, x, geom), expect)
    noisy = program_crossbar(w.reshape(12, -1), arch, GaussianVariation(0.25), layer_rng(1, 2, 3))
    assert torch.equal(crossbar_conv(noisy, x, geom, signed), conv_reference(noisy, x, geom, signed))


@pytest.mark.parametrize("adc_bits,sigma", [(4, 0.0), (5, 0.2), (3, 0.4)])
def test_adc_clipping_against_independent_loop(adc_bits: int, sigma: float) -> None:
    arch = ArchConfig(xbar_rows=16, xbar_cols=8, cell_bits=2, adc_bits=adc_bits)
    w, x = _data(4, 37, 3, False, seed=adc_bits)
    model = GaussianVariation(sigma) if sigma else None
    xb = program_crossbar(w, arch, model, layer_rng(0, 0, 0) if sigma else None)
    expect = _contract_loop(w.numpy(), x.numpy(), xb.codes.numpy(), arch, signed=False).astype(np.int64)
    got = crossbar_linear(xb, x, False).numpy()
    assert np.array_equal(got, expect)
    assert not np.array_equal(got, _int_matmul(x, w).astype(np.int64))  # it does clip


def test_signed_inputs_independent_loop() -> None:
    arch = ArchConfig(xbar_rows=16, xbar_cols=8, cell_bits=4, adc_bits=6)
    w, x = _data(3, 20, 3, True, seed=9)
    xb = program_crossbar(w, arch, GaussianVariation(0.2), layer_rng(1, 0, 0))
    expect = _contract_loop(w.numpy(), x.numpy(), xb.codes.numpy(), arch, signed=True).astype(np.int64)
    assert np.array_equal(crossbar_linear(xb, x, True).numpy(), expect)


def test_exact_paths_chunk_rows_beyond_float32() -> None:
    # 2000 rows of 128*255 products reach 2**26: the row chunking must keep it exact
    k = 2000
    w = torch.full((3, k), -128, dtype=torch.int64)
    w[1] = 127
    w[2, ::2] = 127
    x = torch.full((2, k), 255, dtype=torch.int64)
    x[1, 1::3] = 254
    assert np.array_equal(exact_linear(w, x).numpy(), _int_matmul(x, w).astype(np.int64))
    wc = torch.full((2, 300, 3, 3), 127, dtype=torch.int64)
    wc[1] = -128
    xc = torch.full((1, 300, 4, 4), 255, dtype=torch.int64)
    geom = ConvGeometry((3, 3), padding=(1, 1))
    expect = torch.nn.functional.conv2d(xc.double(), wc.double(), padding=1).round().long()
    assert torch.equal(exact_conv(wc, xc, geom), expect)


def test_float32_exactness_guard() -> None:
    arch = ArchConfig(xbar_rows=128, cell_bits=2)
    w = torch.full((2, 128), 127, dtype=torch.int64)
    with pytest.raises(ValueError, match="2\\*\\*24"):
        program_crossbar(w, arch, GaussianVariation(3000.0), layer_rng(0, 0, 0))


def test_read_noise_is_seeded() -> None:
    arch = ArchConfig(xbar_rows=32, xbar_cols=16)
    w, x = _data(6, 50, 5, False, seed=2)
    xb = program_crossbar(w, arch, read_noise=0.2)
    a = crossbar_linear(xb, x, False, noise_seed=4)
    assert torch.equal(a, crossbar_linear(xb, x, False, noise_seed=4))
    assert not torch.equal(a, crossbar_linear(xb, x, False, noise_seed=5))
    with pytest.raises(ValueError, match="noise_seed"):
        crossbar_linear(xb, x, False)


def test_exact_paths_fall_back_to_integers_for_huge_codes() -> None:
    w = torch.tensor([[1 << 20, -(1 << 20) + 3], [5, 7]])
    x = torch.tensor([[1 << 5, 31], [-(1 << 6), 1]])
    assert np.array_equal(exact_linear(w, x).numpy(), _int_matmul(x, w).astype(np.int64))
    wc = torch.full((1, 2, 3, 3), 1 << 16, dtype=torch.int64)
    xc = torch.full((1, 2, 3, 3), 1 << 8, dtype=torch.int64)
    assert int(exact_conv(wc, xc, ConvGeometry((3, 3)))[0, 0, 0, 0]) == 18 * (1 << 24)
