"""Integer semantics of the digital nodes between crossbar layers (one place each).

Values travel as :class:`QTensor`: int64 codes, the fraction length ``fl``
(real value ``code * 2**-fl``) and whether the codes may be negative.

* Max pooling: the maximum code (exact; same ``fl``).
* Average pooling: ``floor(sum / count)`` of the codes in the window (integer
  floor division; ``count`` is the kernel area, or the number of real pixels
  when ``count_include_pad`` is false); same ``fl``.
* ReLU: ``max(code, 0)``.
* Residual add: both operands are brought to the common ``fl = min(fl_a,
  fl_b)`` by an arithmetic right shift (floor) of the finer one, added, and
  saturated to ``out_bits`` (signed if either operand is signed).
* Between layers there is no requantizer: a layer's ``fl_x`` must equal the
  ``fl`` of the value it consumes (the truncation window sets it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cimq.fixed import FixedFormat
from cimq.sim.graph import PoolNode

__all__ = ["QTensor", "pool_codes", "relu_codes", "add_codes", "add_format", "adaptive_kernel"]


@dataclass(frozen=True, eq=False)
class QTensor:
    """Integer codes with their fraction length and signedness."""

    codes: torch.Tensor
    fl: int
    signed: bool

    def to_real(self) -> torch.Tensor:
        return self.codes.to(torch.float64) * 2.0**-self.fl


def adaptive_kernel(size: tuple[int, int], out: tuple[int, int], where: str) -> tuple[int, int]:
    """Adaptive average pooling as a plain one: the input must divide evenly."""
    if size[0] % out[0] or size[1] % out[1]:
        raise ValueError(f"{where}: adaptive pooling from {size} to {out} needs an exact divisor")
    return size[0] // out[0], size[1] // out[1]


def pool_codes(node: PoolNode, x: QTensor) -> QTensor:
    """Max or average pooling of integer codes (see the module docstring)."""
    c = x.codes
    if node.adaptive_output is not None:
        k = adaptive_kernel((c.shape[2], c.shape[3]), node.adaptive_output, node.name)
        kernel, stride, padding, include_pad = k, k, (0, 0), True
    else:
        kernel, stride, padding, include_pad = node.kernel, node.stride, node.padding, node.count_include_pad
    xf = c.to(torch.float64)  # exact for any code we hold
    if node.mode == "max":
        out = F.max_pool2d(xf, kernel, stride, padding)
        return QTensor(out.round().to(torch.int64), x.fl, x.signed)
    total = F.avg_pool2d(xf, kernel, stride, padding, count_include_pad=True, divisor_override=1).round().to(torch.int64)
    if include_pad or padding == (0, 0):
        count: torch.Tensor | int = kernel[0] * kernel[1]
    else:
        ones = torch.ones((1, 1) + tuple(c.shape[2:]), dtype=torch.float64)
        count = F.avg_pool2d(ones, kernel, stride, padding, divisor_override=1).round().to(torch.int64)
    return QTensor(torch.div(total, count, rounding_mode="floor"), x.fl, x.signed)


def relu_codes(x: QTensor) -> QTensor:
    return QTensor(x.codes.clamp(min=0), x.fl, False)


def add_format(fl_a: int, signed_a: bool, fl_b: int, signed_b: bool, out_bits: int) -> FixedFormat:
    """The format of a residual sum: the coarser ``fl``, signed if either is."""
    return FixedFormat(out_bits, min(fl_a, fl_b), signed_a or signed_b)


def add_codes(a: QTensor, b: QTensor, out_bits: int) -> QTensor:
    """Align both operands to the coarser ``fl`` (floor shift), add, saturate."""
    fmt = add_format(a.fl, a.signed, b.fl, b.signed, out_bits)
    ca = a.codes >> (a.fl - fmt.fl)
    cb = b.codes >> (b.fl - fmt.fl)
    return QTensor(fmt.fit(ca + cb), fmt.fl, fmt.signed)
