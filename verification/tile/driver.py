"""Input stream driver: raw codes on ``i_stream`` with random valid gaps.

Called once per clock by the testbench: :meth:`drive` right after the rising
edge, :meth:`sample` at the falling edge (``valid & ready`` then says the
offered code is taken at the next rising edge). Vector boundaries are implicit
(the tile counts ``in_len`` codes), so the next vector's first code is offered
as soon as the previous vector is taken, while the tile is still computing.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable
from typing import Any

__all__ = ["StreamDriver"]


class StreamDriver:
    def __init__(self, dut: Any, rng: random.Random, gap_prob: float) -> None:
        self._valid = dut.i_stream__valid
        self._payload = dut.i_stream__payload
        self._ready = dut.i_stream__ready
        self._mask = (1 << len(self._payload)) - 1
        self._rng = rng
        self._gap = gap_prob
        self._codes: deque[int] = deque()
        self._valid_now = -1
        self.offering = False
        self._taken = False
        self.sent = 0

    def queue(self, codes: Iterable[int]) -> None:
        self._codes.extend(int(c) & self._mask for c in codes)

    @property
    def done(self) -> bool:
        return not self._codes and not self.offering

    def _set_valid(self, value: int) -> None:
        if value != self._valid_now:
            self._valid.value = value
            self._valid_now = value

    def reset_values(self) -> None:
        self._set_valid(0)
        self._payload.value = 0

    def drive(self) -> None:
        if self._taken:
            self.offering = self._taken = False
            self.sent += 1
        if self.offering:
            return
        if not self._codes or self._rng.random() < self._gap:
            self._set_valid(0)
            return
        self._payload.value = self._codes.popleft()
        self._set_valid(1)
        self.offering = True

    def sample(self) -> None:
        self._taken = self.offering and bool(self._ready.value)

    @property
    def stalled(self) -> bool:
        """Offering a code the tile does not take (it is computing)."""
        return self.offering and not self._taken
