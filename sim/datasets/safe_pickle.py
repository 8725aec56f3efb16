"""A pickle reader that can only rebuild numpy arrays and plain containers.

The CIFAR "python version" batches are pickles, and unpickling an untrusted
file can run arbitrary code (any ``module.function`` it names gets called).
:class:`RestrictedUnpickler` resolves only the globals a CIFAR batch needs and
refuses every other name *before* anything is called:

* ``numpy.core.multiarray._reconstruct`` (the name Python 2 era files use) and
  ``numpy._core.multiarray._reconstruct`` (numpy 2), ``numpy.ndarray``,
  ``numpy.dtype``: what ``ndarray.__reduce__`` emits;
* ``_codecs.encode`` with the latin-1 codec only: how Python 3 writes bytes at
  protocol 2 (the real files, written by Python 2, use plain strings).

Everything else is plain data (dict, list, str, bytes, int, float). The names
are mapped to objects here, never imported by name, so a file cannot reach a
module through an allowed-looking path.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from cimq.errors import CimqInputError

__all__ = ["PickleRefused", "RestrictedUnpickler", "load_restricted_pickle"]

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct as _np_reconstruct
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct as _np_reconstruct  # type: ignore[no-redef]


_LATIN1_NAMES = frozenset({"latin1", "latin-1", "latin_1", "iso-8859-1", "iso8859-1", "iso8859_1"})


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode`` limited to what pickle protocol 2 uses for bytes (latin-1)."""
    if not isinstance(text, str) or encoding not in _LATIN1_NAMES:
        raise pickle.UnpicklingError(f"_codecs.encode is allowed only as latin-1 encoding of a str, got {encoding!r}")
    return text.encode("latin-1")


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class PickleRefused(pickle.UnpicklingError):
    """The pickle names a global outside the allow-list (nothing was called)."""


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` admits only numpy array reconstruction."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise PickleRefused(f"{module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise PickleRefused(f"persistent id {pid!r}")


def load_restricted_pickle(path: Path, what: str) -> Any:
    """Unpickle ``path`` (Python 2 strings as bytes) with :class:`RestrictedUnpickler`.

    Raises :class:`CimqInputError` naming the file: missing, unreadable, truncated
    or corrupt, or refused because it names a global a ``what`` never contains.
    """
    path = Path(path)
    if not path.is_file():
        raise CimqInputError(f"missing file (expected {what})", source=path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CimqInputError(f"cannot be read ({exc.strerror}; expected {what})", source=path) from None
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except PickleRefused as exc:
        raise CimqInputError(
            f"refused: the pickle references {exc}, which {what} never contains "
            "(allowed: numpy arrays, dtypes and plain containers); nothing was executed",
            source=path,
        ) from None
    except Exception as exc:  # noqa: BLE001 - truncated/corrupt pickles raise many types
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        raise CimqInputError(f"not a readable python pickle (truncated or corrupt? {detail}); expected {what}",
                             source=path) from None
