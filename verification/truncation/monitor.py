"""Output side: random backpressure (sink) and the monitor of accepted outputs."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

__all__ = ["OutputSink", "OutputMonitor"]


class OutputSink:
    """Drives ``o_stream.ready`` high with a given probability each cycle."""

    def __init__(self, dut: Any, rng: random.Random, ready_prob: float) -> None:
        self._ready = dut.o_stream__ready
        self._rng = rng
        self._prob = ready_prob
        self.ready = False

    def drive(self, always: bool = False) -> None:
        ready = always or self._rng.random() < self._prob
        if ready != self.ready:
            self._ready.value = int(ready)
            self.ready = ready


class OutputMonitor:
    """Reports each raw ``o_stream`` payload taken (``valid & ready``) to a callback."""

    def __init__(self, dut: Any, sink: OutputSink, callback: Callable[[int], None]) -> None:
        self._valid = dut.o_stream__valid
        self._payload = dut.o_stream__payload
        self._sink = sink
        self._callback = callback
        self.count = 0

    def sample(self) -> None:
        if self._sink.ready and self._valid.value:
            self.count += 1
            self._callback(self._payload.value.to_unsigned())

    def idle(self) -> bool:
        return not self._valid.value
