"""Width multipliers: the same topology at full size (1.0) or tiny for tests."""

from __future__ import annotations

__all__ = ["MAX_WIDTH", "check_width", "scaled"]

MAX_WIDTH = 4.0


def check_width(width: float) -> float:
    """``width`` if it lies in (0, MAX_WIDTH]; else ``ValueError`` naming the range."""
    if not (0.0 < float(width) <= MAX_WIDTH):
        raise ValueError(f"width: {width} is outside the allowed range (0, {MAX_WIDTH:g}]")
    return float(width)


def scaled(channels: int, width: float) -> int:
    """``round(channels * width)``, at least 1."""
    return max(1, int(round(channels * width)))
