"""Scoreboard: compares outputs in order with the reference model's predictions."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from cimq.verification.truncation.model import ReferenceModel, Result, decode_output
from cimq.verification.truncation.stimulus import Segment, TruncConfig

__all__ = ["Mismatch", "Scoreboard"]


@dataclass(frozen=True)
class Mismatch:
    index: int
    acc: int
    config: TruncConfig
    expected: Result
    got: Result

    def __str__(self) -> str:
        c = self.config
        return (
            f"vector {self.index}: acc={self.acc} drop_low={c.drop_low} relu={int(c.relu)} "
            f"rounding={c.rounding.value}: expected {self.expected}, got {self.got}"
        )


class Scoreboard:
    """Holds the expected queue; counts checked vectors and mismatches."""

    def __init__(self, model: ReferenceModel, keep: int = 10) -> None:
        self._model = model
        self._expected: deque[tuple[int, TruncConfig, Result]] = deque()
        self._keep = keep
        self.checked = 0
        self.mismatches = 0
        self.unexpected = 0
        self.first: list[Mismatch] = []

    def expect(self, segment: Segment) -> None:
        for acc, result in zip(segment.accs, self._model.predict(segment)):
            self._expected.append((acc, segment.config, result))

    def observe(self, raw: int) -> None:
        if not self._expected:
            self.unexpected += 1
            return
        acc, config, expected = self._expected.popleft()
        got = decode_output(raw, out_bits=self._model.out_bits, relu=config.relu)
        if got != expected:
            self.mismatches += 1
            if len(self.first) < self._keep:
                self.first.append(Mismatch(self.checked, acc, config, expected, got))
        self.checked += 1

    @property
    def outstanding(self) -> int:
        return len(self._expected)

    @property
    def passed(self) -> bool:
        return self.mismatches == 0 and self.unexpected == 0 and not self._expected
