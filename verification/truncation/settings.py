"""Settings of one testbench run, from plusargs or the environment.

Plusargs (``+vectors=N``, ``+seed=S``, ``+fault=NAME``) win over the
environment (``CIMQ_VECTORS``, ``CIMQ_SEED``, ``CIMQ_FAULT``); ``CIMQ_SUMMARY``
names a JSON file the testbench writes its counts to (read by the runner).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from cimq.verification.truncation.model import FAULTS

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    vectors: int = 1000
    seed: int = 0
    fault: str = "none"
    valid_gap: float = 0.1  # probability of an idle input cycle before a vector
    ready_prob: float = 0.85  # probability the output accepts in a cycle
    summary: str | None = None

    def __post_init__(self) -> None:
        if self.vectors < 0:
            raise ValueError(f"vectors must be non-negative, not {self.vectors}")
        if self.fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)}, not {self.fault!r}")

    @classmethod
    def from_sources(cls, plusargs: Mapping[str, object], env: Mapping[str, str] = os.environ) -> "Settings":
        def pick(name: str, default: str) -> str:
            value = plusargs.get(name)
            if isinstance(value, str):
                return value
            return env.get(f"CIMQ_{name.upper()}", default)

        return cls(
            vectors=int(pick("vectors", str(cls.vectors))),
            seed=int(pick("seed", str(cls.seed))),
            fault=pick("fault", cls.fault),
            summary=env.get("CIMQ_SUMMARY") or None,
        )
