"""Input driver: configuration writes and accumulators with random valid gaps.

Called once per clock by the testbench: :meth:`drive` right after the rising
edge, :meth:`sample` at the falling edge (when ``valid & ready`` tells
whether the offered vector is taken at the next rising edge). Writes only changed
values, so a cycle costs few simulator calls.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from cimq.verification.truncation.stimulus import Segment, TruncConfig

__all__ = ["InputDriver"]


class InputDriver:
    """Feeds segments to the DUT: one ``cfg_we`` cycle, then the segment's vectors."""

    def __init__(self, dut: Any, rng: random.Random, gap_prob: float) -> None:
        self._valid = dut.i_stream__valid
        self._payload = dut.i_stream__payload
        self._ready = dut.i_stream__ready
        self._cfg_we = dut.cfg_we
        self._cfg = (dut.cfg_drop_low, dut.cfg_relu, dut.cfg_round)
        self._mask = (1 << len(self._payload)) - 1
        self._rng = rng
        self._gap = gap_prob
        self._items: deque[TruncConfig | int] = deque()
        self._offering = False
        self._taken = False
        self._we = False
        self._shadow: dict[Any, int] = {}
        self.sent = 0

    def queue(self, segment: Segment) -> None:
        self._items.append(segment.config)
        self._items.extend(segment.accs)

    @property
    def done(self) -> bool:
        return not self._items and not self._offering

    def _write(self, handle: Any, value: int) -> None:
        if self._shadow.get(handle) != value:
            handle.value = value
            self._shadow[handle] = value

    def reset_values(self) -> None:
        for handle in (self._valid, self._cfg_we, *self._cfg):
            self._write(handle, 0)
        self._write(self._payload, 0)

    def drive(self) -> None:
        if self._taken:
            self._offering = self._taken = False
            self.sent += 1
        if self._we:
            self._write(self._cfg_we, 0)
            self._we = False
        if self._offering or not self._items:
            if not self._offering:
                self._write(self._valid, 0)
            return
        item = self._items[0]
        if isinstance(item, TruncConfig):
            # Reconfigure only while no vector is offered (the unit's protocol).
            self._items.popleft()
            self._write(self._valid, 0)
            for handle, value in zip(self._cfg, (item.drop_low, int(item.relu), int(item.half_up))):
                self._write(handle, value)
            self._write(self._cfg_we, 1)
            self._we = True
        elif self._rng.random() < self._gap:
            self._write(self._valid, 0)
        else:
            self._items.popleft()
            self._write(self._payload, item & self._mask)
            self._write(self._valid, 1)
            self._offering = True

    def sample(self) -> None:
        self._taken = self._offering and bool(self._ready.value)
