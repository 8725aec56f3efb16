"""JSON description of a register map (every register instance unrolled)."""

from __future__ import annotations

import json

from cimq.hw.regs.fields import Register
from cimq.hw.regs.memory_map import RegisterMap

__all__ = ["regmap_dict", "regmap_json"]


def _register(reg: Register) -> dict:
    return {
        "name": reg.name,
        "doc": reg.doc,
        "reset": reg.reset,
        "fields": [{"name": f.name, "lsb": f.lsb, "width": f.width, "access": f.access.value, "const": f.const,
                    "reset": f.reset, "max": f.max_value, "doc": f.doc} for f in reg.fields],
    }


def regmap_dict(regmap: RegisterMap, *, version: int, arch_fingerprint: str) -> dict:
    """Plain data: header, arrays and every register with its fields."""
    return {
        "format": "cimq-regmap",
        "version": version,
        "name": regmap.name,
        "arch_fingerprint": arch_fingerprint,
        "data_width": 32,
        "size": regmap.size,
        "addr_width": regmap.addr_width,
        "select": {"register": regmap.select[0], "field": regmap.select[1], "array": regmap.banked} if regmap.select else None,
        "arrays": [{"name": a.name, "base": a.base, "stride": a.stride, "count": a.count, "doc": a.doc} for a in regmap.arrays],
        "registers": [{"path": mr.path, "offset": mr.offset, "array": mr.array, "index": mr.index, **_register(mr.register)}
                      for mr in regmap.walk()],
    }


def regmap_json(regmap: RegisterMap, *, version: int, arch_fingerprint: str) -> str:
    return json.dumps(regmap_dict(regmap, version=version, arch_fingerprint=arch_fingerprint), indent=2) + "\n"
