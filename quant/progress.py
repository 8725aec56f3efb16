"""Progress reporting for long loops, without tying the library to a console."""

from __future__ import annotations

from typing import Protocol

__all__ = ["ProgressSink", "NullProgress"]


class ProgressSink(Protocol):
    """Receives ``start`` once per stage (with its total work) and ``advance`` per unit."""

    def start(self, key: str, description: str, total: int) -> None: ...

    def advance(self, key: str, amount: int = 1) -> None: ...


class NullProgress:
    """Reports nothing (library and test use)."""

    def start(self, key: str, description: str, total: int) -> None:
        return None

    def advance(self, key: str, amount: int = 1) -> None:
        return None
