"""Golden values for the tile: the simulator's crossbar engine, bias, truncation.

``acc = crossbar_linear(crossbar, x, signed_input) + bias`` is the golden
simulator's own engine (:mod:`cimq.sim.crossbar`, the same call
:class:`~cimq.sim.network.CimNetwork` makes for a linear layer; a conv layer's
input vectors are its im2col columns, :func:`cimq.sim.crossbar.unfold_codes`),
then :func:`cimq.fixed.truncate` with the context's window. Vectors whose
accumulator leaves ``acc_bits`` are outside the contract (the hardware would
wrap); :func:`fits_accumulator` finds them so stimulus can leave them out.
``adc_clamps`` classifies each vector's ADC conversions for coverage.
"""

from __future__ import annotations

import numpy as np
import torch

from cimq.cim import adc_count, input_planes
from cimq.fixed import Rounding, truncate

__all__ = ["accumulate", "fits_accumulator", "golden_outputs", "adc_clamps"]


def accumulate(crossbar, x: np.ndarray, bias: np.ndarray, signed_input: bool) -> np.ndarray:
    """``(M, N)`` int64 accumulators (bias included) of ``(M, K)`` input codes."""
    from cimq.sim.crossbar import crossbar_linear

    acc = crossbar_linear(crossbar, torch.as_tensor(np.asarray(x, np.int64)), signed_input).numpy()
    return acc + np.asarray(bias, np.int64)[None, :]


def fits_accumulator(acc: np.ndarray, acc_bits: int) -> np.ndarray:
    """Per vector: every output's accumulator lies in the signed ``acc_bits`` range."""
    lim = 1 << (acc_bits - 1)
    return ((acc >= -lim) & (acc < lim)).all(axis=1)


def golden_outputs(acc: np.ndarray, *, drop_low: int, out_bits: int, relu: bool, rounding: str) -> tuple[np.ndarray, np.ndarray]:
    """``(out, saturated)`` per :func:`cimq.fixed.truncate`."""
    out, sat = truncate(np.asarray(acc, np.int64), drop_low=drop_low, out_bits=out_bits, relu=relu,
                        rounding=Rounding(rounding))
    return np.asarray(out), np.asarray(sat)


def adc_clamps(crossbar, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per vector: ADC conversions clamped at 0 and at full scale (coverage, not checking)."""
    arch = crossbar.arch
    x = np.asarray(x, np.int64)
    codes = crossbar.codes.cpu().numpy()
    half = (1 << (arch.g_frac_bits - 1)) if arch.g_frac_bits else 0
    top = (1 << arch.adc_bits) - 1
    low = np.zeros(x.shape[0], np.int64)
    high = np.zeros(x.shape[0], np.int64)
    for r0 in range(0, crossbar.rows, arch.xbar_rows):
        rows = slice(r0, min(crossbar.rows, r0 + arch.xbar_rows))
        block = codes[rows].reshape(codes[rows].shape[0], -1)  # (k, N*S)
        for plane in input_planes(x[:, rows], arch):
            s = plane @ block
            count = adc_count(s, arch)
            low += ((count == 0) & (s + half < 0)).sum(axis=1)
            high += ((count == top) & (s + half >= (top + 1) << arch.g_frac_bits)).sum(axis=1)
    return low, high
