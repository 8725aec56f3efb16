"""Reading validated files and writing outputs atomically.

Bad files must fail with one line naming file, field, value and the allowed
range; outputs must never be left half-written, so everything is written to a
temporary name beside the target and renamed into place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from cimq.errors import CimqInputError

__all__ = [
    "describe_validation_error",
    "load_json_model",
    "parse_json_model",
    "write_bytes_atomic",
    "write_text_atomic",
    "staged_directory",
]

M = TypeVar("M", bound=BaseModel)


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def describe_validation_error(exc: ValidationError) -> str:
    """The first error of a pydantic ``ValidationError`` as one readable line."""
    err = exc.errors(include_url=False)[0]
    msg = str(err.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    where = _loc_to_path(tuple(err.get("loc", ())))
    if err.get("type") in ("value_error", "assertion_error"):
        # Our own validators start with the field name ("drop_low: 20 is ...").
        if not where:
            return msg
        head = msg.split(":", 1)[0]
        joined = head.replace("[", "").replace("]", "").replace(".", "").replace("_", "")
        return f"{where}.{msg}" if ":" in msg and joined.isalnum() else f"{where}: {msg}"
    value = err.get("input")
    shown = json.dumps(value) if isinstance(value, (int, float, str, bool, type(None))) else type(value).__name__
    if err.get("type") == "missing":
        return f"{where}: missing (required field)"
    return f"{where}: {shown} is invalid: {msg[0].lower() + msg[1:]}" if where else msg


def parse_json_model(model: type[M], text: str, *, source: str | Path) -> M:
    """Parse JSON text into ``model``; raise :class:`CimqInputError` on any problem."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CimqInputError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", source=source) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CimqInputError(describe_validation_error(exc), source=source) from None


def load_json_model(model: type[M], path: str | Path) -> M:
    """Read and validate a JSON file into ``model``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CimqInputError("file not found", source=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CimqInputError(f"cannot be read: {exc}", source=path) from None
    return parse_json_model(model, text, source=path)


def _umask() -> int:
    """The process umask (mkstemp/mkdtemp ignore it and create private files)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


@contextmanager
def staged_directory(target: str | Path) -> Iterator[Path]:
    """Build a whole output folder in a temporary sibling, then swap it in.

    If the body raises, ``target`` is left exactly as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    os.chmod(stage, 0o777 & ~_umask())
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(stage, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
