"""Settings of a quantization run (``QuantConfig``), validated before anything runs."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["QuantConfig", "EVAL_SEED_OFFSET"]

EVAL_SEED_OFFSET = 1 << 32
"""Evaluation chips use ``seed + 2**32``: a stream the search (``seed`` < 2**32) never draws."""


class QuantConfig(BaseModel):
    """Everything a quantization run depends on.

    Parameters
    ----------
    dataset, variation, variation_scale:
        Dataset name and variation preset (``cimq.sim.variation.preset``).
    chips:
        Monte Carlo chips per candidate during the search.
    eval_chips:
        Fresh chips (seed ``seed + 2**32``) for the final figures on the test split.
    seed:
        Seed of the data split, the model, the search subset and the chips.
    fl_min, fl_max:
        Weight fraction lengths swept by phase 1 (also the conventional curve).
    conventional_fl:
        The conventional global format's FL (WL is the architecture's).
    per_layer:
        Phase 1 adds a coordinate-search pass over per-layer weight FLs.
    exhaustive:
        Phase 2 evaluates every window combination (small networks only).
    threshold:
        Accuracy loss (points) against float that is accepted: phase-1 FLs
        whose error-free accuracy loses more are infeasible; the final design
        is reported as meeting it or not.
    search_images:
        Training images the search scores candidates on (seeded subset).
    radius, top_k:
        Phase 2: window moves of at most ``radius`` bits; ``top_k`` ranked
        candidates per layer confirmed by Monte Carlo.
    percentile:
        Calibration percentile of ``|output|`` that the 8-bit range must cover.
    threads:
        Torch intra-op threads (``None``: torch's default).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: Literal["digits", "svhn", "cifar10", "cifar100"] = "digits"
    data_dir: Path | None = None
    checkpoint: Path | None = None
    limit: int | None = Field(None, ge=1)
    variation: str = "wan2022"
    variation_scale: float = Field(1.0, ge=0.0, le=100.0)
    chips: int = Field(10, ge=1, le=10000)
    eval_chips: int = Field(20, ge=1, le=10000)
    seed: int = Field(0, ge=0, lt=1 << 32)
    fl_min: int = Field(4, ge=0, le=16)
    fl_max: int = Field(12, ge=0, le=16)
    conventional_fl: int = Field(6, ge=0, le=16)
    per_layer: bool = False
    exhaustive: bool = False
    threshold: float = Field(4.0, ge=0.0, le=100.0)
    search_images: int = Field(300, ge=10, le=100000)
    radius: int = Field(3, ge=1, le=8)
    top_k: int = Field(2, ge=1, le=16)
    percentile: float = Field(99.9, ge=50.0, le=100.0)
    threads: int | None = Field(None, ge=1, le=256)
    build_dir: Path = Path("build")
    run: str = "default"

    @model_validator(mode="after")
    def _check(self) -> "QuantConfig":
        if self.fl_min > self.fl_max:
            raise ValueError(f"fl_min: {self.fl_min} exceeds fl_max {self.fl_max} (need fl_min <= fl_max)")
        return self

    @property
    def eval_seed(self) -> int:
        return self.seed + EVAL_SEED_OFFSET
