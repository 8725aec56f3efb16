"""Errors every stage raises for bad input.

A user who passes a bad file or option must get one line that names what is
wrong (file, field, value, allowed range) and exit code 2. Stages raise
:class:`CimqInputError`; the CLI turns it into that line.
"""

from __future__ import annotations

from pathlib import Path


class CimqInputError(ValueError):
    """Bad user input: a file, a field or an option out of its allowed range.

    Parameters
    ----------
    message:
        What is wrong and what is allowed, e.g. ``"drop_low: 20 is outside 0..16"``.
    source:
        The file or option the bad value came from, prefixed to the message.
    """

    def __init__(self, message: str, *, source: str | Path | None = None) -> None:
        self.source = None if source is None else str(source)
        self.detail = message
        super().__init__(message if source is None else f"{source}: {message}")


class CheckFailed(RuntimeError):
    """A verification or a check did not pass (CLI exit code 1)."""
