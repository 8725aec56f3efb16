"""Register images: the bus writes that program every layer context.

An image is a header followed by a payload (all integers little-endian u32)::

    offset  size  field
    0       8     magic b"CIMQREGS"
    8       4     image format version (IMAGE_VERSION)
    12      4     register-map version (REGMAP_VERSION)
    16      32    ArchConfig fingerprint (SHA-256, raw bytes)
    48      4     record_count: number of (address, value) write records
    52      4     meta_length: bytes of the metadata JSON (before padding)
    56      4     payload_length: bytes after the header
    60      4     crc32: zlib.crc32 of header bytes 0..59 followed by the payload
    64      8*N   records: byte address, 32-bit value -- replay them in order
    ...     ...   metadata: canonical JSON {"arch": ..., "layers": [{name, fl_w,
                  fl_x}]} (what registers do not hold), padded with spaces to 4 bytes

The records write every register of every context (unused contexts get
reset values, so the result does not depend on earlier state); within a
context the register holding ``enable`` comes last, and the image ends with
``ACTIVE = 0``. Records are byte addresses: a Wishbone driver puts
``address >> 2`` on ``adr`` with ``sel = 0b1111``. Decoding replays the records
through :class:`RegisterFileModel`, never by reading values at fixed places.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from pydantic import ValidationError

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.files import describe_validation_error
from cimq.hw.regs.definition import CONTEXT_ARRAY, REGMAP_VERSION, build_register_map
from cimq.hw.regs.layer import LayerGeometry, decode_context, encode_context
from cimq.hw.regs.model import RegisterFileModel
from cimq.params import LayerParams, ModelParams

__all__ = ["IMAGE_MAGIC", "IMAGE_VERSION", "HEADER", "BusWrite", "RegisterImage", "build_image", "decode_image"]

IMAGE_MAGIC = b"CIMQREGS"
IMAGE_VERSION = 1
HEADER = struct.Struct("<8sII32sIIII")
_RECORD = struct.Struct("<II")


class BusWrite(NamedTuple):
    """One bus write: byte ``address`` (bus ``adr`` = address >> 2) and 32-bit ``value``."""

    address: int
    value: int


@dataclass(frozen=True)
class RegisterImage:
    """A decoded (or freshly built) image: the writes and what they mean."""

    arch: ArchConfig
    writes: tuple[BusWrite, ...]
    layers: tuple[LayerParams, ...]
    geometry: tuple[LayerGeometry | None, ...]

    def bus_writes(self) -> Iterator[BusWrite]:
        """The writes to replay, in order (what a bus driver iterates)."""
        return iter(self.writes)

    def to_params(self) -> ModelParams:
        """The params the image encodes (provenance is not stored in images)."""
        return ModelParams(arch=self.arch, layers=list(self.layers))

    def to_bytes(self) -> bytes:
        """The binary image (header + payload)."""
        meta = _meta_bytes(self.arch, self.layers)
        payload = b"".join(_RECORD.pack(*w) for w in self.writes) + meta.ljust(-(-len(meta) // 4) * 4, b" ")
        head = HEADER.pack(IMAGE_MAGIC, IMAGE_VERSION, REGMAP_VERSION, bytes.fromhex(self.arch.fingerprint()),
                           len(self.writes), len(meta), len(payload), 0)
        crc = zlib.crc32(head[:-4] + payload)
        return head[:-4] + struct.pack("<I", crc) + payload


def _meta_bytes(arch: ArchConfig, layers: tuple[LayerParams, ...]) -> bytes:
    meta = {"arch": arch.model_dump(mode="json"),
            "layers": [{"name": l.name, "fl_w": l.fl_w, "fl_x": l.fl_x} for l in layers]}
    return json.dumps(meta, sort_keys=True, separators=(",", ":")).encode("ascii")


def _context_writes(arch: ArchConfig, index: int, values: Mapping[str, Mapping[str, int]]) -> list[BusWrite]:
    arr = build_register_map(arch).array(CONTEXT_ARRAY)
    regs = sorted((reg for _, reg in arr.registers), key=lambda r: any(f.name == "enable" for f in r.fields))
    return [BusWrite(arr.offset(index, r.name), r.pack(values[r.name])) for r in regs]


def build_image(params: ModelParams, geometry: Mapping[str, LayerGeometry] | None = None, *,
                source: str | None = None) -> RegisterImage:
    """The image that programs ``params.layers`` into contexts 0, 1, ...

    ``geometry`` maps layer names to their geometry; a layer without one gets
    the disabled placeholder (see :mod:`cimq.hw.regs.layer`).
    """
    arch = params.arch
    regmap = build_register_map(arch)
    geometry = dict(geometry or {})
    names = [l.name for l in params.layers]
    for name in geometry:
        if name not in names:
            raise CimqInputError(f"geometry: layer {name!r} is not in the params (layers: {', '.join(names)})", source=source)
    if len(params.layers) > arch.layer_contexts:
        raise CimqInputError(f"layers: {len(params.layers)} layers do not fit the {arch.layer_contexts} layer contexts "
                             "(arch.layer_contexts)", source=source)
    writes: list[BusWrite] = []
    geo: list[LayerGeometry | None] = []
    for c in range(arch.layer_contexts):
        layer = params.layers[c] if c < len(params.layers) else None
        g = geometry.get(layer.name) if layer is not None else None
        values = encode_context(arch, layer, g, what=f"layers[{c}] ({layer.name})" if layer else f"context {c}",
                                source=source)
        writes += _context_writes(arch, c, values)
        if layer is not None:
            geo.append(g)
    path, field = regmap.select
    active = regmap.find(path)
    writes.append(BusWrite(active.offset, active.register.pack({field: 0})))
    return RegisterImage(arch, tuple(writes), tuple(params.layers), tuple(geo))


def decode_image(data: bytes, *, source: str, arch: ArchConfig | None = None) -> RegisterImage:
    """Check and decode a binary image; ``arch`` (if given) must be the one it was made for."""
    if len(data) < HEADER.size:
        raise CimqInputError(f"truncated: {len(data)} bytes, a register image has a {HEADER.size}-byte header", source=source)
    magic, version, map_version, fp, count, meta_len, payload_len, crc = HEADER.unpack_from(data)
    if magic != IMAGE_MAGIC:
        raise CimqInputError(f"bad magic {magic!r}, expected {IMAGE_MAGIC!r} (not a cimq register image)", source=source)
    if version != IMAGE_VERSION:
        raise CimqInputError(f"image format version {version} is not supported (expected {IMAGE_VERSION})", source=source)
    if map_version != REGMAP_VERSION:
        raise CimqInputError(f"register-map version {map_version} is not supported (expected {REGMAP_VERSION})", source=source)
    if arch is not None and fp.hex() != arch.fingerprint():
        raise CimqInputError(f"made for another architecture: fingerprint {fp.hex()[:16]}..., expected "
                             f"{arch.fingerprint()[:16]}... (the ArchConfig given)", source=source)
    if len(data) < HEADER.size + payload_len:
        raise CimqInputError(f"truncated: {len(data)} bytes, the header announces {HEADER.size + payload_len}", source=source)
    if len(data) > HEADER.size + payload_len:
        raise CimqInputError(f"{len(data) - HEADER.size - payload_len} unexpected bytes after the "
                             f"{HEADER.size + payload_len}-byte image", source=source)
    if _RECORD.size * count + -(-meta_len // 4) * 4 != payload_len:
        raise CimqInputError(f"inconsistent header: {count} records and {meta_len} metadata bytes do not make "
                             f"{payload_len} payload bytes", source=source)
    computed = zlib.crc32(data[:HEADER.size - 4] + data[HEADER.size:])
    if computed != crc:
        raise CimqInputError(f"bad CRC32 {crc:#010x}, computed {computed:#010x} (the image is corrupted)", source=source)
    writes = tuple(BusWrite(*_RECORD.unpack_from(data, HEADER.size + _RECORD.size * i)) for i in range(count))
    meta_raw = data[HEADER.size + _RECORD.size * count:][:meta_len]
    img_arch, names = _parse_meta(meta_raw, source)
    if img_arch.fingerprint() != fp.hex():
        raise CimqInputError("metadata architecture does not match the header fingerprint", source=source)
    return _replay(img_arch, writes, names, source)


def _parse_meta(raw: bytes, source: str) -> tuple[ArchConfig, list[tuple[str, int, int]]]:
    try:
        meta = json.loads(raw.decode("ascii"))
        img_arch = ArchConfig.model_validate(meta["arch"])
        names = [(str(l["name"]), int(l["fl_w"]), int(l["fl_x"])) for l in meta["layers"]]
    except ValidationError as exc:
        raise CimqInputError(f"metadata arch.{describe_validation_error(exc)}", source=source) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise CimqInputError(f"metadata is not valid: {exc}", source=source) from None
    return img_arch, names


def _replay(arch: ArchConfig, writes: tuple[BusWrite, ...], names: list[tuple[str, int, int]], source: str) -> RegisterImage:
    regmap = build_register_map(arch)
    model = RegisterFileModel(regmap)
    for i, w in enumerate(writes):
        if w.address % 4 or not model.write(w.address, w.value):
            raise CimqInputError(f"write #{i} to {w.address:#x} hits no writable register", source=source)
    if len(names) > arch.layer_contexts:
        raise CimqInputError(f"{len(names)} layers do not fit {arch.layer_contexts} contexts", source=source)
    layers: list[LayerParams] = []
    geo: list[LayerGeometry | None] = []
    for c in range(arch.layer_contexts):
        what = f"context {c}" + (f" ({names[c][0]})" if c < len(names) else "")
        cfg = decode_context(arch, model.context(c), what=what, source=source)
        if c >= len(names):
            if cfg.enable:
                raise CimqInputError(f"{what}: enabled but no layer is assigned to it", source=source)
            continue
        try:
            layers.append(cfg.layer(*names[c]))
        except ValidationError as exc:
            raise CimqInputError(f"{what}: {describe_validation_error(exc)}", source=source) from None
        geo.append(cfg.geometry)
    return RegisterImage(arch, writes, tuple(layers), tuple(geo))
