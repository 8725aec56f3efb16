"""Conductance variation models: how far a programmed cell lands from its level.

Every model answers one question: for cells programmed to integer ``levels``
(0 .. ``2**cell_bits - 1``), what is the static deviation ``delta`` in units of
one level step? The simulator turns ``level + delta`` into an integer
conductance code with :func:`cimq.cim.conductance_code`. ``delta`` is drawn once
per simulated chip (device-to-device, programming variation); read noise per
read is a separate knob of :class:`DeviceModel`.

Physical picture behind the siemens-based models: a cell at level ``l`` has the
nominal conductance ``G_min + l * step`` with
``step = (G_max - G_min) / (2**cell_bits - 1)``. A reference column holding
``G_min`` on every row cancels the minimum conductance, so only deviations
(including those of level-0 cells) reach the ADC. The on/off ratio
``G_max / G_min`` therefore matters only through level-dependent spreads.

Models are frozen dataclasses; ``sample`` takes a :class:`numpy.random.Generator`
so the caller controls seeding (see :func:`layer_rng`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from cimq.errors import CimqInputError

__all__ = [
    "VariationModel",
    "NoVariation",
    "GaussianVariation",
    "LognormalVariation",
    "ConductanceGaussian",
    "EmpiricalVariation",
    "DeviceModel",
    "layer_rng",
    "load_empirical_csv",
    "wan2022",
    "milo2021",
    "uniform",
    "middle_worst",
    "PRESETS",
    "preset",
]


@runtime_checkable
class VariationModel(Protocol):
    """Anything that draws per-cell deviations in level steps."""

    def sample(self, levels: np.ndarray, cell_bits: int, rng: np.random.Generator) -> np.ndarray:
        """Deviations (float64, same shape as ``levels``) in level steps."""
        ...

    @property
    def is_ideal(self) -> bool:
        """True when every deviation is exactly zero."""
        ...

    def describe(self) -> str:
        """One line for reports and provenance."""
        ...


def _check_levels(levels: np.ndarray, cell_bits: int) -> np.ndarray:
    lv = np.asarray(levels)
    if lv.size and (lv.min() < 0 or lv.max() >= 1 << cell_bits):
        raise ValueError(f"levels must lie in 0..{(1 << cell_bits) - 1}, got {lv.min()}..{lv.max()}")
    return lv.astype(np.int64, copy=False)


def _per_level(values: Sequence[float], cell_bits: int, what: str) -> np.ndarray:
    """Expand a per-level table: one value for all levels, or one per level."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    n = 1 << cell_bits
    if arr.size == 1:
        return np.full(n, arr[0])
    if arr.size != n:
        raise CimqInputError(f"{what}: {arr.size} values given, cell_bits {cell_bits} needs 1 or {n}")
    return arr


@dataclass(frozen=True)
class NoVariation:
    """Ideal devices: every cell lands exactly on its level."""

    def sample(self, levels: np.ndarray, cell_bits: int, rng: np.random.Generator) -> np.ndarray:
        return np.zeros(np.shape(levels), dtype=np.float64)

    @property
    def is_ideal(self) -> bool:
        return True

    def describe(self) -> str:
        return "none"


@dataclass(frozen=True)
class GaussianVariation:
    """Gaussian deviation with a spread given in level steps, per level or uniform.

    ``sigma`` is one number (every level) or a tuple with one entry per level,
    LSB level first. Use :meth:`from_siemens` to state it in siemens.
    """

    sigma: float | tuple[float, ...]
    name: str = "gaussian"

    def __post_init__(self) -> None:
        vals = (self.sigma,) if isinstance(self.sigma, (int, float)) else tuple(self.sigma)
        if not vals or any(not math.isfinite(v) or v < 0 for v in vals):
            raise CimqInputError(f"sigma: {self.sigma!r} must be finite and >= 0 (level steps)")
        if not isinstance(self.sigma, (int, float)):
            object.__setattr__(self, "sigma", tuple(float(v) for v in vals))

    @classmethod
    def from_siemens(cls, sigma_s: float | Sequence[float], step_s: float, name: str = "gaussian") -> "GaussianVariation":
        """Spread ``sigma_s`` in siemens for a level step of ``step_s`` siemens."""
        if not step_s > 0:
            raise CimqInputError(f"step_s: {step_s!r} must be > 0 siemens")
        if isinstance(sigma_s, (int, float)):
            return cls(float(sigma_s) / step_s, name)
        return cls(tuple(float(s) / step_s for s in sigma_s), name)

    def sample(self, levels: np.ndarray, cell_bits: int, rng: np.random.Generator) -> np.ndarray:
        lv = _check_levels(levels, cell_bits)
        sig = _per_level(self.sigma if isinstance(self.sigma, tuple) else (self.sigma,), cell_bits, "sigma")
        return rng.standard_normal(lv.shape) * sig[lv]

    @property
    def is_ideal(self) -> bool:
        vals = self.sigma if isinstance(self.sigma, tuple) else (self.sigma,)
        return all(v == 0 for v in vals)

    def describe(self) -> str:
        return f"{self.name}(sigma={self.sigma} steps)"


@dataclass(frozen=True)
class LognormalVariation:
    """Multiplicative spread: ``G = G_nominal * exp(sigma * z)``, ``z ~ N(0, 1)``.

    The median conductance stays on the level. ``on_off_ratio`` sets
    ``G_min / step = (2**cell_bits - 1) / (ratio - 1)``, so level-0 cells still
    vary (their deviation survives the reference column); ``inf`` gives ideal
    off cells.
    """

    sigma: float
    on_off_ratio: float = math.inf
    name: str = "lognormal"

    def __post_init__(self) -> None:
        if not math.isfinite(self.sigma) or self.sigma < 0:
            raise CimqInputError(f"sigma: {self.sigma!r} must be finite and >= 0")
        if not self.on_off_ratio > 1:
            raise CimqInputError(f"on_off_ratio: {self.on_off_ratio!r} must be > 1")

    def sample(self, levels: np.ndarray, cell_bits: int, rng: np.random.Generator) -> np.ndarray:
        lv = _check_levels(levels, cell_bits)
        g_min_steps = 0.0 if math.isinf(self.on_off_ratio) else ((1 << cell_bits) - 1) / (self.on_off_ratio - 1)
        nominal = g_min_steps + lv
        return nominal * np.expm1(self.sigma * rng.standard_normal(lv.shape))

    @property
    def is_ideal(self) -> bool:
        return self.sigma == 0

    def describe(self) -> str:
        return f"{self.name}(sigma={self.sigma}, on/off={self.on_off_ratio})"


@dataclass(frozen=True)
class ConductanceGaussian:
    """Gaussian programming error whose spread is a polynomial in conductance.

    ``sigma_G(G) = max(sum_i coeffs[i] * G**i, 0)`` (siemens units of ``unit``),
    evaluated at each level's nominal conductance between ``g_min`` and
    ``g_max``; divided by the level step to give level steps.
    """

    g_max: float
    g_min: float
    coeffs: tuple[float, ...]
    unit: str = "uS"
    name: str = "conductance-gaussian"

    def __post_init__(self) -> None:
        if not 0 <= self.g_min < self.g_max:
            raise CimqInputError(f"g_min/g_max: need 0 <= g_min < g_max, got {self.g_min}, {self.g_max}")

    def level_sigma(self, cell_bits: int) -> np.ndarray:
        """Spread of each level in level steps."""
        n = 1 << cell_bits
        step = (self.g_max - self.g_min) / (n - 1)
        g = self.g_min + step * np.arange(n)
        sig = np.zeros(n)
        for i, c in enumerate(self.coeffs):
            sig = sig + c * g**i
        return np.maximum(sig, 0.0) / step

    def sample(self, levels: np.ndarray, cell_bits: int, rng: np.random.Generator) -> np.ndarray:
        lv = _check_levels(levels, cell_bits)
        return rng.standard_normal(lv.shape) * self.level_sigma(cell_bits)[lv]

    @property
    def is_ideal(self) -> bool:
        return False

    def describe(self) -> str:
        return f"{self.name}({self.g_min:g}..{self.g_max:g} {self.unit})"


@dataclass(frozen=True)
class EmpiricalVariation:
    """Deviations resampled from measured conductances of programmed cells.

    ``table[l]`` holds measured conductances (any unit) of cells programmed to
    level ``l``. The level step is ``(mean(top) - mean(level 0)) / (levels - 1)``
    and the nominal conductance of level ``l`` is ``mean(level 0) + l * step``;
    a draw picks a measurement of the level at random (with replacement), so
    non-uniform level spacing (mean bias) is kept along with the spread.
    """

    table: tuple[tuple[float, ...], ...]
    source: str = "empirical"

    def __post_init__(self) -> None:
        n = len(self.table)
        if n not in (2, 4, 16) or any(len(row) == 0 for row in self.table):
            raise CimqInputError(f"{self.source}: needs measurements for 2, 4 or 16 levels, each non-empty")
        means = [float(np.mean(r)) for r in self.table]
        if not means[-1] > means[0]:
            raise CimqInputError(f"{self.source}: the top level's mean must exceed level 0's mean")

    @property
    def cell_bits(self) -> int:
        return int(math.log2(len(self.table)))

    def _deviations(self) -> list[np.ndarray]:
        means = [float(np.mean(r)) for r in self.table]
        step = (means[-1] - means[0]) / (len(self.table) - 1)
        return [(np.asarray(r) - (means[0] + lv * step)) / step for lv, r in enumerate(self.table)]

    def sample(self, levels: np.ndarray, cell_bits: int, rng: np.random.Generator) -> np.ndarray:
        if cell_bits != self.cell_bits:
            raise CimqInputError(
                f"{self.source}: measured {len(self.table)} levels ({self.cell_bits}-bit cells), "
                f"but the architecture has cell_bits {cell_bits}"
            )
        lv = _check_levels(levels, cell_bits)
        out = np.empty(lv.shape, dtype=np.float64)
        for level, dev in enumerate(self._deviations()):
            mask = lv == level
            count = int(mask.sum())
            if count:
                out[mask] = dev[rng.integers(0, dev.size, size=count)]
        return out

    @property
    def is_ideal(self) -> bool:
        return False

    def describe(self) -> str:
        return f"empirical({self.source}, {sum(len(r) for r in self.table)} cells)"


def load_empirical_csv(path: str | Path) -> EmpiricalVariation:
    """Read measured per-level conductances: header ``level,conductance``.

    One row per measured cell; ``level`` an integer 0..L-1 (every level present,
    L = 2, 4 or 16), ``conductance`` a finite number >= 0 (any unit). Errors name
    the file, line and column.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CimqInputError(f"cannot read: {exc.strerror}", source=p) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or [c.strip() for c in rows[0]] != ["level", "conductance"]:
        got = ",".join(rows[0]) if rows else "(empty file)"
        raise CimqInputError(f"line 1: header must be 'level,conductance', got {got!r}", source=p)
    data: dict[int, list[float]] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 2:
            raise CimqInputError(f"line {lineno}: expected 2 columns, got {len(row)}", source=p)
        try:
            level = int(row[0].strip())
        except ValueError:
            raise CimqInputError(f"line {lineno}, column level: {row[0]!r} is not an integer", source=p) from None
        if not 0 <= level < 16:
            raise CimqInputError(f"line {lineno}, column level: {level} is outside 0..15", source=p)
        try:
            g = float(row[1].strip())
        except ValueError:
            raise CimqInputError(f"line {lineno}, column conductance: {row[1]!r} is not a number", source=p) from None
        if not math.isfinite(g) or g < 0:
            raise CimqInputError(f"line {lineno}, column conductance: {row[1].strip()} must be finite and >= 0", source=p)
        data.setdefault(level, []).append(g)
    n = max(data) + 1 if data else 0
    if n not in (2, 4, 16):
        raise CimqInputError(f"column level: levels 0..{n - 1} found; need 2, 4 or 16 levels", source=p)
    missing = [lv for lv in range(n) if lv not in data]
    if missing:
        raise CimqInputError(f"column level: no measurements for level(s) {missing}", source=p)
    return EmpiricalVariation(tuple(tuple(data[lv]) for lv in range(n)), source=str(p))


@dataclass(frozen=True)
class DeviceModel:
    """What a simulated chip's cells do: static programming variation plus read noise.

    ``read_noise`` is the standard deviation (level steps) of an independent
    Gaussian added to every cell on every read. Its effect on one ADC input is
    drawn as a single Gaussian of the exact same distribution (the sum of the
    cells' noises), then quantized to the code grid.
    """

    programming: VariationModel = field(default_factory=NoVariation)
    read_noise: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.read_noise) or self.read_noise < 0:
            raise CimqInputError(f"read_noise: {self.read_noise!r} must be finite and >= 0 (level steps)")

    @property
    def is_ideal(self) -> bool:
        return self.programming.is_ideal and self.read_noise == 0

    def describe(self) -> str:
        extra = f", read noise {self.read_noise} steps" if self.read_noise else ""
        return self.programming.describe() + extra


def layer_rng(seed: int, chip: int, layer_index: int, stream: int = 0) -> np.random.Generator:
    """The generator of one layer of one chip: independent of every other layer/chip.

    Derived with :class:`numpy.random.SeedSequence` from ``(seed, chip,
    layer_index, stream)``, so chips can be simulated in any order or subset.
    """
    for what, v in (("seed", seed), ("chip", chip), ("layer_index", layer_index), ("stream", stream)):
        if not isinstance(v, (int, np.integer)) or v < 0:
            raise CimqInputError(f"{what}: {v!r} must be a non-negative integer")
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(chip), int(layer_index), int(stream)]))


# --------------------------------------------------------------------------- presets


def wan2022(on_off_ratio: float = 30.0, g_max_us: float = 30.0) -> ConductanceGaussian:
    """RRAM of Wan et al., Nature 608, 504 (2022) (NeuRRAM), as fitted in CrossSim.

    Source: Sandia CrossSim's ``RRAMWan`` device model, a cubic fit of the
    programming-error spread against conductance to Extended Data Fig. 3 of
    the paper (t = 1 s): ``sigma_G = 1.536e-4 G^3 - 1.167e-2 G^2 + 0.2374 G +
    1.053`` (uS), valid for ``G_max <= 39.26 uS``. The fit is CrossSim's; the
    defaults ``G_max = 30 uS`` and on/off 30 are our choice inside its range.
    The spread peaks at mid conductance.
    """
    if g_max_us > 39.26:
        raise CimqInputError(f"g_max_us: {g_max_us} exceeds the fit's range (<= 39.26 uS)")
    return ConductanceGaussian(g_max_us, g_max_us / on_off_ratio, (1.053, 2.374e-1, -1.167e-2, 1.536e-4), "uS", "wan2022")


def milo2021(on_off_ratio: float = 4.5) -> ConductanceGaussian:
    """RRAM of Milo et al., IRPS 2021 (IGVVA-100 programming), as fitted in CrossSim.

    Source: Sandia CrossSim's ``RRAMMilo`` model, a linear fit to Fig. 4 of the
    paper over 50..225 uS: ``sigma_G = 4.782321 - 0.009107 G`` (uS), with
    ``G_max = 225 uS`` and the suggested on/off ratio 4.5 (``G_min = 50 uS``).
    A fit by CrossSim, not by us. Spreads are small (about 0.05-0.08 steps for
    2-bit cells).
    """
    if on_off_ratio < 4.5:
        raise CimqInputError(f"on_off_ratio: {on_off_ratio} puts G_min above 50 uS, outside the fit")
    return ConductanceGaussian(225.0, 225.0 / on_off_ratio, (4.782321, -0.009107), "uS", "milo2021")


def uniform(sigma: float = 0.1) -> GaussianVariation:
    """The same Gaussian spread (level steps) on every level: a generic model, not a fit."""
    return GaussianVariation(float(sigma), "uniform")


def middle_worst(scale: float = 1.0) -> GaussianVariation:
    """2-bit cells whose intermediate levels spread most: an approximation, not a fit.

    Measured multilevel RRAM (e.g. Wan 2022 Extended Data Fig. 3; the review by
    Prakash et al., Physical Sciences Reviews 2016, cited by the seed slides)
    shows the intermediate states broadest and the fully-off / fully-on states
    tightest. The per-level spreads ``(0.06, 0.22, 0.25, 0.10)`` level steps
    (times ``scale``) are illustrative numbers of that shape, for 2-bit cells.
    """
    if not scale >= 0:
        raise CimqInputError(f"scale: {scale!r} must be >= 0")
    return GaussianVariation(tuple(scale * s for s in (0.06, 0.22, 0.25, 0.10)), "middle_worst")


PRESETS: dict[str, str] = {
    "none": "ideal devices",
    "uniform": "Gaussian, the same sigma (level steps) on every level (generic)",
    "wan2022": "Wan et al. Nature 2022 RRAM, CrossSim cubic fit (mid levels worst)",
    "milo2021": "Milo et al. IRPS 2021 RRAM, CrossSim linear fit (small spread)",
    "middle_worst": "2-bit, illustrative per-level sigmas, middle levels worst",
    "lognormal": "multiplicative lognormal spread (generic)",
}


def preset(name: str, *, sigma: float | None = None, scale: float = 1.0) -> VariationModel:
    """A named preset. ``sigma`` sets ``uniform`` (steps) / ``lognormal``; ``scale`` multiplies the others."""
    if name == "none":
        return NoVariation()
    if name == "uniform":
        return uniform(0.1 if sigma is None else sigma)
    if name == "lognormal":
        return LognormalVariation(0.05 if sigma is None else sigma, on_off_ratio=30.0)
    if name == "middle_worst":
        return middle_worst(scale)
    if name in ("wan2022", "milo2021"):
        base = wan2022() if name == "wan2022" else milo2021()
        if scale == 1.0:
            return base
        return ConductanceGaussian(base.g_max, base.g_min, tuple(c * scale for c in base.coeffs), base.unit, base.name)
    allowed = ", ".join(PRESETS)
    raise CimqInputError(f"{name!r} is not a known variation preset (allowed: {allowed})", source="--variation")
