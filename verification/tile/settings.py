"""Settings of one tile/model testbench run, from the environment the runner sets.

``CIMQ_PLAN`` (the plan JSON), ``CIMQ_SEED`` (valid gaps and backpressure),
``CIMQ_FAULT`` (a deliberate reference fault, see
:data:`cimq.verification.truncation.model.FAULTS`), ``CIMQ_SUMMARY`` (the JSON
the testbench writes its counts to).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from cimq.verification.truncation.model import FAULTS

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    plan: str
    seed: int = 0
    fault: str = "none"
    valid_gap: float = 0.2  # probability of an idle input cycle before a code
    ready_prob: float = 0.7  # probability the output accepts in a cycle
    summary: str | None = None

    def __post_init__(self) -> None:
        if self.fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)}, not {self.fault!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        plan = env.get("CIMQ_PLAN")
        if not plan:
            raise ValueError("CIMQ_PLAN must name the plan JSON")
        return cls(plan=plan, seed=int(env.get("CIMQ_SEED", "0")), fault=env.get("CIMQ_FAULT", "none"),
                   summary=env.get("CIMQ_SUMMARY") or None)
