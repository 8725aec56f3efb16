"""One matmul layer programmed onto the crossbars of one chip, and its exact product.

The contract's chain (``ARCHITECTURE.md``): weights in offset binary, sliced
into ``cell_bits`` cells; each cell holds an integer conductance code
``g = rint((level + delta) * 2**GF)``; inputs applied bit-serially in planes;
per array, slice column and plane an ADC turns the column sum into a count;
shift-and-add over planes, slices and arrays; offset correction.

Three implementations of the same function, proven equal by the tests:

* :func:`mvm_reference`: plain int64 loops calling :func:`cimq.cim.adc_count`,
  one ADC conversion at a time in spirit. Slow; the definition.
* :func:`crossbar_linear` / :func:`crossbar_conv` (the simulator): all planes and slices of one
  input chunk in one float32 matmul per array. Float32 is exact because every
  partial column sum is a multiple of ``2**-GF`` level steps below ``2**24``
  code units (checked when programming). Adding ``1/2`` to the matmul's
  result gives ``(S + 2**(GF-1)) / 2**GF`` exactly; the ADC
  is then ``trunc(clamp(., 0, 2**adc_bits - 1))``, which equals
  ``clamp(floor(.), 0, .)`` (= ``adc_count``) because the clamp makes every
  value non-negative before truncation toward zero.
* :func:`exact_linear` / :func:`exact_conv` (ideal devices, lossless ADC): the
  whole chain collapses to ``sum w_int * x_int`` (the contract's no-variation
  identity), computed as float32 matmuls over row chunks small enough that no
  partial sum reaches ``2**24``, summed in float64.

Tensor layout of the planes: ``(Bx, P, K, L)``: ``Bx`` images, ``P`` planes,
``K`` crossbar rows, ``L`` output positions (conv) or batch rows (linear,
``Bx = 1``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from cimq.arch import ArchConfig, lossless_adc_bits
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
from cimq.errors import CimqInputError
from cimq.sim.graph import ConvGeometry
from cimq.sim.variation import VariationModel

__all__ = [
    "FLOAT32_EXACT",
    "ProgrammedCrossbar",
    "program_crossbar",
    "exact_float32",
    "plane_weights",
    "crossbar_linear",
    "crossbar_conv",
    "exact_linear",
    "exact_conv",
    "mvm_reference",
    "conv_reference",
    "unfold_codes",
    "is_lossless",
]

FLOAT32_EXACT = 1 << 24
"""Integers below this magnitude (and their partial sums) are exact in float32."""

_CHUNK_BYTES = 8 << 20  # one chunk's ADC buffer: stays in the last-level cache


@contextmanager
def exact_float32() -> Iterator[None]:
    """Forbid reduced-precision float32 math (bf16/TF32 matmuls, NNPACK's Winograd)."""
    old = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        with torch.backends.nnpack.flags(enabled=False):
            yield
    finally:
        torch.set_float32_matmul_precision(old)


@dataclass(frozen=True, eq=False)
class ProgrammedCrossbar:
    """The conductance codes of one layer on one sampled chip.

    ``codes[k, n, s]`` is the integer code of weight ``n``, slice ``s`` at
    crossbar row ``k`` (global row; array ``k // xbar_rows``). ``ideal`` means
    every code is exactly ``level * 2**GF`` (no variation).
    """

    arch: ArchConfig
    w_int: torch.Tensor  # (N, K) int64
    codes: torch.Tensor  # (K, N, S) int64
    ideal: bool
    read_noise: float = 0.0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def rows(self) -> int:
        return int(self.codes.shape[0])

    @property
    def outputs(self) -> int:
        return int(self.codes.shape[1])

    @property
    def arrays(self) -> int:
        """Arrays along the rows (their digital results are summed)."""
        return math.ceil(self.rows / self.arch.xbar_rows)

    @property
    def tiles(self) -> int:
        """Arrays along the columns (``outputs * slices`` columns)."""
        return math.ceil(self.outputs * self.arch.slices / self.arch.xbar_cols)

    def column(self, n: int, s: int) -> int:
        """Global column of output ``n``, slice ``s``."""
        return n * self.arch.slices + s

    def array_codes(self, array: int, tile: int) -> np.ndarray:
        """Codes of one physical array: ``(rows, cols)`` int64, ragged at the edges."""
        if not (0 <= array < self.arrays and 0 <= tile < self.tiles):
            raise IndexError(f"array {array} / tile {tile} outside {self.arrays} x {self.tiles}")
        r, c = self.arch.xbar_rows, self.arch.xbar_cols
        flat = self.codes.reshape(self.rows, -1)
        return flat[array * r : (array + 1) * r, tile * c : (tile + 1) * c].cpu().numpy().copy()

    def scaled_codes_t(self, device: torch.device) -> torch.Tensor:
        """``codes / 2**GF`` as float32 ``(N*S, K)``: exact (dyadic, few bits)."""
        key = ("gT", str(device))
        if key not in self._cache:
            g = self.codes.reshape(self.rows, -1).t().to(torch.float64) / float(1 << self.arch.g_frac_bits)
            self._cache[key] = g.to(device=device, dtype=torch.float32).contiguous()
        return self._cache[key]


def _check_float32_exact(codes: torch.Tensor, arch: ArchConfig) -> None:
    """Every partial column sum of one array must stay below 2**24 code units."""
    k = codes.shape[0]
    flat = codes.reshape(k, -1).abs()
    pad = (-k) % arch.xbar_rows
    if pad:
        flat = torch.cat([flat, flat.new_zeros(pad, flat.shape[1])])
    per_array = flat.view(-1, arch.xbar_rows, flat.shape[1]).sum(1)
    worst = int(per_array.max()) * ((1 << arch.dac_bits) - 1) + (1 << max(arch.g_frac_bits - 1, 0))
    if worst >= FLOAT32_EXACT:
        raise CimqInputError(
            f"column sums can reach {worst} code units (>= 2**24): the variation is too large "
            "for an exact float32 simulation of this array size"
        )


def program_crossbar(
    w_int: torch.Tensor,
    arch: ArchConfig,
    programming: VariationModel | None = None,
    rng: np.random.Generator | None = None,
    read_noise: float = 0.0,
) -> ProgrammedCrossbar:
    """Encode, slice and program ``w_int`` ``(N, K)``; sample deviations with ``rng``."""
    w = torch.as_tensor(w_int, dtype=torch.int64).cpu()
    if w.ndim != 2:
        raise ValueError(f"w_int must be (N, K), got shape {tuple(w.shape)}")
    lo, hi = -(1 << (arch.weight_bits - 1)), (1 << (arch.weight_bits - 1)) - 1
    if w.numel() and (int(w.min()) < lo or int(w.max()) > hi):
        raise ValueError(f"w_int must lie in {lo}..{hi}")
    levels = torch.stack(weight_slices(encode_offset(w, arch), arch), dim=-1)  # (N, K, S)
    levels = levels.permute(1, 0, 2).contiguous()  # (K, N, S)
    ideal = programming is None or programming.is_ideal
    if ideal:
        delta = np.zeros(tuple(levels.shape))
    else:
        if rng is None:
            raise ValueError("a variation model needs an rng (see cimq.sim.variation.layer_rng)")
        delta = programming.sample(levels.numpy(), arch.cell_bits, rng)
    codes = conductance_code(levels.numpy(), np.asarray(delta, dtype=np.float64), arch)
    codes_t = torch.from_numpy(np.ascontiguousarray(codes))
    _check_float32_exact(codes_t, arch)
    return ProgrammedCrossbar(arch, w, codes_t, ideal, float(read_noise))


def plane_weights(arch: ArchConfig, signed_input: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift-and-add weights as float64: per plane (sign included) and per slice.

    The shift of ``(plane, slice)`` is the sum of a plane part and a slice
    part, so the weighted reduction separates into two small ones.
    """
    wp = [plane_sign(b, arch, signed_input) * 2.0 ** plane_slice_shift(b, 0, arch) for b in range(arch.planes)]
    ws = [2.0 ** plane_slice_shift(0, s, arch) for s in range(arch.slices)]
    for b in range(arch.planes):
        for s in range(arch.slices):
            assert plane_slice_shift(b, s, arch) == plane_slice_shift(b, 0, arch) + plane_slice_shift(0, s, arch)
    return torch.tensor(wp, dtype=torch.float64), torch.tensor(ws, dtype=torch.float64)


# --------------------------------------------------------------------------- plane providers


def _planes_u8(x_int: torch.Tensor, arch: ArchConfig) -> torch.Tensor:
    """Planes stacked on a new dim 1 (after the batch), as uint8."""
    return torch.stack([p.to(torch.uint8) for p in input_planes(x_int, arch)], dim=1)


def _linear_planes(x_int: torch.Tensor, arch: ArchConfig) -> torch.Tensor:
    """``(M, K)`` codes to a ``(1, P, K, M)`` uint8 view."""
    return _planes_u8(x_int, arch).permute(1, 2, 0).unsqueeze(0)


def _conv_planes(x_int: torch.Tensor, arch: ArchConfig, geom: ConvGeometry) -> torch.Tensor:
    """``(B, C, H, W)`` codes to a ``(B, P, C, kh, kw, Ho, Wo)`` strided uint8 view (no copy)."""
    planes = _planes_u8(x_int, arch)  # (B, P, C, H, W)
    ph, pw = geom.padding
    planes = F.pad(planes, (pw, pw, ph, ph)) if (ph or pw) else planes.contiguous()
    b, p, c, h, w = planes.shape
    oh, ow = geom.output_size(h - 2 * ph, w - 2 * pw)
    sb, sp, sc, sh, sw = planes.stride()
    (kh, kw), (st_h, st_w), (dh, dw) = geom.kernel, geom.stride, geom.dilation
    return planes.as_strided(
        (b, p, c, kh, kw, oh, ow), (sb, sp, sc, sh * dh, sw * dw, sh * st_h, sw * st_w)
    )


def _materialize(
    view: torch.Tensor, b0: int, b1: int, l0: int, l1: int, lw: int, device: torch.device
) -> torch.Tensor:
    """One chunk of planes as contiguous float32 ``(nb, P, K, l1 - l0)``.

    ``view`` is ``(Bx, P, K, L)`` (linear) or ``(Bx, P, C, kh, kw, Ho, Wo)``
    (conv, ``lw = Wo`` and the chunk bounds are whole output rows).
    """
    if view.ndim == 4:
        part = view[b0:b1, :, :, l0:l1]
        return part.to(device=device, dtype=torch.float32).contiguous()
    part = view[b0:b1, :, :, :, :, l0 // lw : l1 // lw, :]
    out = torch.empty(part.shape, dtype=torch.float32, device=device)
    out.copy_(part)
    return out.view(part.shape[0], part.shape[1], -1, l1 - l0)


# --------------------------------------------------------------------------- the fast crossbar path


def _chunks(bxs: int, length: int, lw: int, per_l: int) -> Iterator[tuple[int, int, int, int]]:
    """``(b0, b1, l0, l1)`` chunks whose ADC buffer is about ``_CHUNK_BYTES``."""
    per_image = per_l * length
    if per_image <= _CHUNK_BYTES:
        nb = max(1, _CHUNK_BYTES // per_image)
        for b0 in range(0, bxs, nb):
            yield b0, min(bxs, b0 + nb), 0, length
        return
    lc = min(length, max(lw, (max(1, _CHUNK_BYTES // per_l) // lw) * lw))
    for b0 in range(bxs):
        for l0 in range(0, length, lc):
            yield b0, b0 + 1, l0, min(length, l0 + lc)


def _accumulate(
    xb: ProgrammedCrossbar,
    view: torch.Tensor,
    x_sum: torch.Tensor,
    bxs: int,
    length: int,
    lw: int,
    signed_input: bool,
    device: torch.device,
    noise: torch.Generator | None,
) -> torch.Tensor:
    """Shift-and-add results with offset correction: float64 ``(Bx, N, L)``."""
    arch = xb.arch
    gt = xb.scaled_codes_t(device)  # (N*S, K)
    ns, k = gt.shape
    n_out, s = xb.outputs, arch.slices
    rows = arch.xbar_rows
    wp, ws = (t.to(device) for t in plane_weights(arch, signed_input))
    p = arch.planes
    cmax = float((1 << arch.adc_bits) - 1)
    scale = float(1 << arch.g_frac_bits)
    out = torch.empty((bxs, n_out, length), dtype=torch.float64, device=device)
    arrays = math.ceil(k / rows)
    plane_bound = arrays * int(cmax) * int(wp.abs().sum())  # largest |sum over planes| of ADC counts
    for b0, b1, l0, l1 in _chunks(bxs, length, lw, p * ns * 4):
        nb, w_ = b1 - b0, l1 - l0
        x = _materialize(view, b0, b1, l0, l1, lw, device).view(nb * p, k, w_)
        tot = torch.empty((nb * p, ns, w_), dtype=torch.float32, device=device)
        buf = torch.empty_like(tot) if k > rows else tot
        for r0 in range(0, k, rows):
            r1 = min(k, r0 + rows)
            dst = tot if r0 == 0 else buf
            g_a = gt[:, r0:r1].expand(nb * p, ns, r1 - r0)
            torch.bmm(g_a, x[:, r0:r1, :], out=dst)
            dst.add_(0.5)  # (S + 2**(GF-1)) / 2**GF, exact; cheaper than baddbmm's broadcast input
            if noise is not None:
                q = x[:, r0:r1, :].square().sum(1, keepdim=True)  # active rows' sum of plane**2
                z = torch.randn(dst.shape, generator=noise, device=device)
                dst.add_(torch.round(z * q.sqrt() * (xb.read_noise * scale)) / scale)
            dst.clamp_(0.0, cmax).trunc_()  # == adc_count (see module docstring)
            if r0:
                tot.add_(buf)
        # shift-and-add: planes, then slices; float32 only while provably exact
        # over planes in float32 while provably exact, then (8x fewer values)
        # over slices in float64
        c = tot.view(nb, p, ns * w_)
        if plane_bound >= FLOAT32_EXACT:
            c = c.to(torch.float64)
        y = torch.matmul(wp.to(c.dtype), c).view(nb, n_out, s, w_).to(torch.float64)
        acc_u = torch.einsum("bnsl,s->bnl", y, ws)
        out[b0:b1, :, l0:l1] = acc_u - offset_correction(x_sum[b0:b1, l0:l1], arch).unsqueeze(1)
    return out


def _window_sums(x_int: torch.Tensor, geom: ConvGeometry, device: torch.device) -> torch.Tensor:
    """``sum_k x_int[k]`` over each receptive field (the offset correction's input), float64, exact."""
    ones = torch.ones((1, x_int.shape[1], *geom.kernel), dtype=torch.float64, device=device)
    return F.conv2d(x_int.to(device=device, dtype=torch.float64), ones, stride=geom.stride,
                    padding=geom.padding, dilation=geom.dilation)


def _noise_generator(xb: ProgrammedCrossbar, noise_seed: int | None, device: torch.device) -> torch.Generator | None:
    if xb.read_noise == 0:
        return None
    if noise_seed is None:
        raise ValueError("read noise needs a noise_seed")
    gen = torch.Generator(device=device)
    gen.manual_seed(int(noise_seed))
    return gen


def crossbar_linear(
    xb: ProgrammedCrossbar,
    x_int: torch.Tensor,
    signed_input: bool,
    *,
    noise_seed: int | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """The accumulator ``(M, N)`` int64 of a linear layer (bias not added)."""
    dev = torch.device(device)
    x = torch.as_tensor(x_int, dtype=torch.int64)
    with exact_float32():
        view = _linear_planes(x, xb.arch)
        x_sum = x.sum(1).to(device=dev, dtype=torch.float64).unsqueeze(0)  # (1, M): sum_k x_int[k]
        acc = _accumulate(xb, view, x_sum, 1, x.shape[0], 1, signed_input, dev, _noise_generator(xb, noise_seed, dev))
    return acc[0].t().round().to(torch.int64).cpu()


def crossbar_conv(
    xb: ProgrammedCrossbar,
    x_int: torch.Tensor,
    geom: ConvGeometry,
    signed_input: bool,
    *,
    noise_seed: int | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """The accumulator ``(B, N, Ho, Wo)`` int64 of a conv layer (bias not added)."""
    dev = torch.device(device)
    x = torch.as_tensor(x_int, dtype=torch.int64)
    with exact_float32():
        view = _conv_planes(x, xb.arch, geom)
        oh, ow = view.shape[-2:]
        x_sum = _window_sums(x, geom, dev).view(x.shape[0], oh * ow)  # sum_k x_int[k] per output position
        acc = _accumulate(xb, view, x_sum, x.shape[0], oh * ow, ow, signed_input, dev, _noise_generator(xb, noise_seed, dev))
    return acc.view(x.shape[0], -1, oh, ow).round().to(torch.int64).cpu()


# --------------------------------------------------------------------------- exact (ideal) path


def _groups(l1: torch.Tensor, max_x: int) -> list[tuple[int, int]]:
    """Split columns of ``l1`` (``(N, G)`` sums of ``|w|`` per output and group) greedily.

    Any partial sum of a group's products is bounded by ``max_n sum |w| * max|x|``;
    groups keep that below ``2**24`` so float32 accumulates them exactly, in any
    order. ``[]`` when one group alone is too large.
    """
    n_groups = l1.shape[1]
    if n_groups == 0:
        return []
    if max_x == 0:
        return [(0, n_groups)]
    cum = torch.cat([l1.new_zeros(l1.shape[0], 1), l1.cumsum(1)], dim=1)  # int64, exact
    out: list[tuple[int, int]] = []
    g0 = 0
    while g0 < n_groups:
        span = (cum[:, g0 + 1 :] - cum[:, g0 : g0 + 1]).amax(0) * max_x  # bound of [g0, g0+j+1)
        fits = int((span < FLOAT32_EXACT).to(torch.int64).cumprod(0).sum())
        if fits == 0:
            return []
        out.append((g0, g0 + fits))
        g0 += fits
    return out


def exact_linear(w_int: torch.Tensor, x_int: torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
    """``x_int @ w_int.T`` exactly, as int64 ``(M, N)``.

    Float32 matmuls over row groups whose partial sums provably stay below
    ``2**24`` (one group for typical trained weights), summed in float64.
    """
    dev = torch.device(device)
    w = torch.as_tensor(w_int, dtype=torch.int64)
    x = torch.as_tensor(x_int, dtype=torch.int64)
    max_x = int(x.abs().max()) if x.numel() else 0
    groups = _groups(w.abs(), max_x)
    if not groups:  # a single product reaches 2**24: integers on the CPU
        return x @ w.t()
    wf = w.to(device=dev, dtype=torch.float32)
    xf = x.to(device=dev, dtype=torch.float32)
    out = torch.zeros((x.shape[0], w.shape[0]), dtype=torch.float64, device=dev)
    with exact_float32():
        for r0, r1 in groups:
            out += (xf[:, r0:r1] @ wf[:, r0:r1].t()).to(torch.float64)
    return out.round().to(torch.int64).cpu()


def exact_conv(
    w_int: torch.Tensor, x_int: torch.Tensor, geom: ConvGeometry, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """The exact integer convolution ``(B, N, Ho, Wo)`` int64.

    Float32 ``conv2d`` (full precision, NNPACK's Winograd off) over input-channel
    groups whose partial sums provably stay below ``2**24`` (one group for
    typical trained weights), summed in float64.
    """
    dev = torch.device(device)
    w = torch.as_tensor(w_int, dtype=torch.int64)
    x = torch.as_tensor(x_int, dtype=torch.int64)
    max_x = int(x.abs().max()) if x.numel() else 0
    groups = _groups(w.abs().sum((2, 3)), max_x)
    if not groups:
        return _exact_conv_unfold(w, x, geom, dev)
    wf = w.to(device=dev, dtype=torch.float32)
    xf = x.to(device=dev, dtype=torch.float32)
    out: torch.Tensor | None = None
    with exact_float32():
        for c0, c1 in groups:
            xs = xf if (c0, c1) == (0, xf.shape[1]) else xf[:, c0:c1].contiguous()
            ws = wf if (c0, c1) == (0, wf.shape[1]) else wf[:, c0:c1].contiguous()
            part = F.conv2d(xs, ws, stride=geom.stride, padding=geom.padding, dilation=geom.dilation).to(torch.float64)
            out = part if out is None else out.add_(part)
    assert out is not None
    return out.round().to(torch.int64).cpu()


def _exact_conv_unfold(w: torch.Tensor, x: torch.Tensor, geom: ConvGeometry, dev: torch.device) -> torch.Tensor:
    """Fallback when one kernel window alone could reach 2**24: unfold + row chunks."""
    cols = unfold_codes(x, geom)  # (B, K, L) int64
    oh, ow = geom.output_size(x.shape[2], x.shape[3])
    wm = w.reshape(w.shape[0], -1)
    b, k, length = cols.shape
    flat = cols.permute(0, 2, 1).reshape(b * length, k)
    acc = exact_linear(wm, flat, dev)  # (B*L, N)
    return acc.view(b, length, -1).permute(0, 2, 1).reshape(b, -1, oh, ow)


def unfold_codes(x_int: torch.Tensor, geom: ConvGeometry) -> torch.Tensor:
    """Integer im2col ``(B, C*kh*kw, L)`` in crossbar row order (exact: via float64)."""
    cols = F.unfold(
        torch.as_tensor(x_int).to(torch.float64), geom.kernel, dilation=geom.dilation, padding=geom.padding, stride=geom.stride
    )
    return cols.round().to(torch.int64)


# --------------------------------------------------------------------------- the reference (definition)


def mvm_reference(xb: ProgrammedCrossbar, x_int: torch.Tensor, signed_input: bool) -> torch.Tensor:
    """The contract step by step in int64: ``(M, K)`` codes to the ``(M, N)`` accumulator.

    Read noise is not modelled here (it is random per read).
    """
    arch = xb.arch
    x = torch.as_tensor(x_int, dtype=torch.int64)
    planes = input_planes(x, arch)
    acc_u = torch.zeros((x.shape[0], xb.outputs), dtype=torch.int64)
    for r0 in range(0, xb.rows, arch.xbar_rows):
        rows = slice(r0, min(xb.rows, r0 + arch.xbar_rows))
        for b, plane in enumerate(planes):
            for s in range(arch.slices):
                column_sum = plane[:, rows] @ xb.codes[rows, :, s]
                count = adc_count(column_sum, arch)
                acc_u += plane_sign(b, arch, signed_input) * (count << plane_slice_shift(b, s, arch))
    return acc_u - offset_correction(x.sum(1, keepdim=True), arch)


def conv_reference(xb: ProgrammedCrossbar, x_int: torch.Tensor, geom: ConvGeometry, signed_input: bool) -> torch.Tensor:
    """:func:`mvm_reference` applied to every output position of a conv layer."""
    cols = unfold_codes(x_int, geom)
    b, k, length = cols.shape
    oh, ow = geom.output_size(x_int.shape[2], x_int.shape[3])
    acc = mvm_reference(xb, cols.permute(0, 2, 1).reshape(b * length, k), signed_input)
    return acc.view(b, length, -1).permute(0, 2, 1).reshape(b, -1, oh, ow)


def is_lossless(arch: ArchConfig) -> bool:
    """True when no ideal column sum of one array can clip in the ADC."""
    return arch.adc_bits >= lossless_adc_bits(arch.xbar_rows, arch.cell_bits, arch.dac_bits)
