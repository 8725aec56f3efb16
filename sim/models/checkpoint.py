"""Checkpoint files of the benchmark networks: written atomically, read with ``weights_only=True``.

Two kinds, both plain dicts of tensors and primitive values (so
``torch.load(weights_only=True)`` reads them and a file cannot run code):

* a **train state** (``cimq-train-state``), rewritten after every epoch: the
  training config, completed epochs, model, optimizer and LR-schedule state,
  every RNG state and the per-epoch history; ``--resume`` continues from it;
* a **model** (``cimq-model``), written when training ends: what the network
  is (name, width, classes, dataset) and its weights; later stages load it.

Either kind rebuilds its network through :func:`cimq.sim.models.registry.build_model`
and checks every tensor's name, shape, dtype and finiteness before use.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cimq.errors import CimqInputError
from cimq.files import write_bytes_atomic

__all__ = [
    "MODEL_FORMAT",
    "STATE_FORMAT",
    "VERSION",
    "ModelMeta",
    "check_state_dict",
    "read_payload",
    "to_cpu",
    "write_payload",
    "model_from_payload",
    "write_model",
]

MODEL_FORMAT = "cimq-model"
STATE_FORMAT = "cimq-train-state"
VERSION = 1


@dataclass(frozen=True)
class ModelMeta:
    """What a trained network is: enough to rebuild it and to check it fits a dataset."""

    dataset: str
    model: str
    width: float
    num_classes: int
    seed: int
    epochs: int
    test_accuracy: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def to_cpu(obj: Any) -> Any:
    """A copy of ``obj`` with every tensor detached, contiguous and on the CPU (containers kept)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu").clone().contiguous()
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_cpu(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(to_cpu(v) for v in obj)
    return obj


def write_payload(path: Path, payload: dict[str, Any]) -> Path:
    """``torch.save`` of ``payload`` (tensors moved to CPU), written atomically."""
    buf = io.BytesIO()
    torch.save(to_cpu(payload), buf)
    return write_bytes_atomic(path, buf.getvalue())


def read_payload(path: Path, formats: tuple[str, ...]) -> dict[str, Any]:
    """The dict in ``path`` (``weights_only=True``) if its ``format`` is one of ``formats`` and its version ours."""
    path = Path(path)
    expected = " or ".join(formats)
    if not path.is_file():
        raise CimqInputError(f"missing checkpoint (expected a {expected} file)", source=path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - truncated/corrupt/unsafe files raise many types
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        raise CimqInputError(f"not a readable checkpoint (truncated, corrupt or unsafe? {detail})", source=path) from None
    if not isinstance(payload, dict) or payload.get("format") not in formats:
        got = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CimqInputError(f"format is {got!r}, expected {expected}", source=path)
    if payload.get("version") != VERSION:
        raise CimqInputError(f"version is {payload.get('version')!r}, expected {VERSION}", source=path)
    return payload


def check_state_dict(state: Any, model: nn.Module, path: Path) -> dict[str, torch.Tensor]:
    """``state`` if it has exactly ``model``'s tensors (names, shapes, dtypes), all finite."""
    expected = model.state_dict()
    if not isinstance(state, dict):
        raise CimqInputError("state_dict is missing", source=path)
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        what = f"lacks {missing[0]!r}" if missing else f"has unexpected {extra[0]!r}"
        raise CimqInputError(f"state_dict {what} ({len(missing)} missing, {len(extra)} unexpected tensors)", source=path)
    for key, ref in expected.items():
        v = state[key]
        if not isinstance(v, torch.Tensor) or v.shape != ref.shape or v.dtype != ref.dtype:
            got = f"{tuple(v.shape)} {v.dtype}" if isinstance(v, torch.Tensor) else type(v).__name__
            raise CimqInputError(f"state_dict[{key!r}] is {got}, expected {tuple(ref.shape)} {ref.dtype}", source=path)
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise CimqInputError(f"state_dict[{key!r}] holds NaN or infinite values", source=path)
    return state


def _meta_field(payload: dict[str, Any], key: str, kind: type | tuple[type, ...], path: Path) -> Any:
    v = payload.get(key)
    if not isinstance(v, kind) or isinstance(v, bool) and kind is not bool:
        raise CimqInputError(f"field {key!r} is {v!r}, expected a {getattr(kind, '__name__', kind)}", source=path)
    return v


def model_from_payload(payload: dict[str, Any], path: Path) -> tuple[nn.Module, ModelMeta]:
    """Rebuild the network a payload names and load its checked weights (eval mode, CPU)."""
    from cimq.sim.models.registry import build_model

    meta = ModelMeta(
        dataset=_meta_field(payload, "dataset", str, path),
        model=_meta_field(payload, "model", str, path),
        width=float(_meta_field(payload, "width", (int, float), path)),
        num_classes=_meta_field(payload, "num_classes", int, path),
        seed=_meta_field(payload, "seed", int, path),
        epochs=_meta_field(payload, "epochs", int, path),
        test_accuracy=float(_meta_field(payload, "test_accuracy", (int, float), path)),
    )
    try:
        with torch.random.fork_rng(devices=[]):  # building initialises weights: keep the caller's RNG untouched
            model = build_model(meta.model, num_classes=meta.num_classes, width=meta.width)
    except CimqInputError as exc:
        raise CimqInputError(f"names an unusable network: {exc}", source=path) from None
    model.load_state_dict(check_state_dict(payload.get("state_dict"), model, path))
    return model.eval(), meta


def write_model(path: Path, model: nn.Module, meta: ModelMeta) -> Path:
    """The final ``cimq-model`` file: ``meta`` and the weights (atomically)."""
    return write_payload(path, {"format": MODEL_FORMAT, "version": VERSION, **meta.to_dict(),
                                "state_dict": model.state_dict()})
