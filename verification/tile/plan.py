"""The testbench plan: what to replay, what to send and what must come out.

Written as JSON by the calling process (which owns the golden simulator) and
read by the cocotb test inside the simulator. A plan is a list of segments;
before its vectors a segment may replay a register image file (``image``:
bus writes from :func:`cimq.hw.regs.read_image`) and/or select a layer context
(``context``: a write to ACTIVE), both while the tile is idle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cimq.arch import ArchConfig
from cimq.files import load_json_model, write_text_atomic

__all__ = ["PLAN_FORMAT", "PlanVector", "PlanSegment", "TilePlan", "read_plan", "write_plan"]

PLAN_FORMAT = "cimq-tile-plan"


class PlanVector(BaseModel):
    """One input vector (raw ``act_bits`` codes, row 0 first) and its expected outputs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    codes: list[int] = Field(min_length=1)
    out: list[int] = Field(min_length=1)
    saturated: list[bool] = Field(min_length=1)
    tag: str = ""
    adc_low: int = 0  # ADC conversions clamped at 0 (coverage)
    adc_high: int = 0  # ADC conversions clamped at full scale (coverage)

    @model_validator(mode="after")
    def _lengths(self) -> "PlanVector":
        if len(self.out) != len(self.saturated):
            raise ValueError(f"{len(self.out)} outputs but {len(self.saturated)} saturated flags")
        return self


class PlanSegment(BaseModel):
    """Vectors run under one context configuration."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    image: str | None = None
    context: int | None = Field(None, ge=0)
    layer: str
    relu: bool
    drop_low: int = Field(ge=0)
    rounding: Literal["floor", "half_up"]
    signed_input: bool
    vectors: list[PlanVector]


class TilePlan(BaseModel):
    """Everything one testbench run does (``level``: tile or model)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["cimq-tile-plan"] = PLAN_FORMAT
    version: Literal[1] = 1
    level: Literal["tile", "model"]
    arch: ArchConfig
    seed: int
    source: str = ""
    segments: list[PlanSegment]

    @property
    def vectors(self) -> int:
        return sum(len(s.vectors) for s in self.segments)

    @property
    def outputs(self) -> int:
        return sum(len(v.out) for s in self.segments for v in s.vectors)


def write_plan(path: Path, plan: TilePlan) -> Path:
    return write_text_atomic(Path(path), plan.model_dump_json() + "\n")


def read_plan(path: Path) -> TilePlan:
    return load_json_model(TilePlan, Path(path))
