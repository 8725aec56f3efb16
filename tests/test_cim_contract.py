"""The crossbar arithmetic of the contract (``cimq.cim``) from first principles."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from cimq.arch import ArchConfig
from cimq.cim import (
    adc_count,
    conductance_code,
    encode_offset,
    input_planes,
    offset_correction,
    plane_sign,
    plane_slice_shift,
    weight_slices,
)


@pytest.mark.parametrize("cell_bits", [1, 2, 4])
def test_slices_reassemble_every_weight(cell_bits: int) -> None:
    arch = ArchConfig(cell_bits=cell_bits)
    w = np.arange(-128, 128, dtype=np.int64)
    u = encode_offset(w, arch)
    assert u.min() == 0 and u.max() == 255
    slices = weight_slices(u, arch)
    assert len(slices) == 8 // cell_bits
    assert all(s.min() >= 0 and s.max() < 2**cell_bits for s in slices)
    total = sum(s << (cell_bits * i) for i, s in enumerate(slices))
    assert np.array_equal(total, u)


@pytest.mark.parametrize("dac_bits", [1, 2])
def test_planes_reassemble_inputs(dac_bits: int) -> None:
    arch = ArchConfig(dac_bits=dac_bits)
    x = np.arange(256, dtype=np.int64)
    planes = input_planes(x, arch)
    total = sum(p * 2 ** plane_slice_shift(b, 0, arch) for b, p in enumerate(planes))
    assert np.array_equal(total, x)


def test_signed_inputs_subtract_the_msb_plane() -> None:
    arch = ArchConfig()
    x = np.arange(-128, 128, dtype=np.int64)
    planes = input_planes(x, arch)
    total = sum(plane_sign(b, arch, True) * p * 2**b for b, p in enumerate(planes))
    assert np.array_equal(total, x)
    with pytest.raises(ValueError, match="dac_bits 1"):
        plane_sign(3, ArchConfig(dac_bits=2), True)


def test_dot_product_through_slices_planes_and_offset() -> None:
    """sum_s sum_b 2^shift * (plane_b . slice_s) - offset == w . x, without variation."""
    arch = ArchConfig()
    rng = np.random.default_rng(1)
    w = rng.integers(-128, 128, size=300)
    x = rng.integers(0, 256, size=300)
    slices = weight_slices(encode_offset(w, arch), arch)
    planes = input_planes(x, arch)
    acc_u = sum(
        int(np.dot(p, s)) << plane_slice_shift(b, si, arch)
        for b, p in enumerate(planes)
        for si, s in enumerate(slices)
    )
    assert acc_u - offset_correction(int(x.sum()), arch) == int(np.dot(w, x))


def test_adc_count_against_exact_rounding() -> None:
    arch = ArchConfig(adc_bits=6)
    gf = arch.g_frac_bits
    sums = np.arange(-600, 2**6 * 2**gf + 900, dtype=np.int64)
    got = adc_count(sums, arch)
    want = [min(max(math.floor(Fraction(int(s), 2**gf) + Fraction(1, 2)), 0), 63) for s in sums]
    assert got.tolist() == want
    assert adc_count(torch.from_numpy(sums), arch).tolist() == want


def test_conductance_codes_round_half_even() -> None:
    arch = ArchConfig()
    level = np.array([0, 1, 2, 3, 3])
    delta = np.array([0.0, 0.5 / 256, 1.5 / 256, -0.25, 0.001])
    got = conductance_code(level, delta, arch)
    assert got.tolist() == [0, 256, 514, 704, 768]
    assert conductance_code(torch.tensor(level), torch.tensor(delta), arch).tolist() == got.tolist()
