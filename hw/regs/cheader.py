"""C header of a register map: offsets, field shifts/masks/widths, resets."""

from __future__ import annotations

from cimq.hw.regs.fields import Register
from cimq.hw.regs.memory_map import RegisterMap

__all__ = ["regmap_c_header", "PREFIX"]

PREFIX = "CIMQ"


def _define(name: str, value: str, note: str = "") -> str:
    return f"#define {name} {value}" + (f" /* {note} */" if note else "")


def _fields(prefix: str, reg: Register) -> list[str]:
    out = [_define(f"{prefix}_RESET", f"0x{reg.reset:08x}u")]
    for f in reg.fields:
        p = f"{prefix}_{f.name.upper()}"
        kind = f.access.value + (" const" if f.const else "")
        out += [
            _define(f"{p}_SHIFT", f"{f.lsb}u", f"{kind}: {f.doc}"),
            _define(f"{p}_WIDTH", f"{f.width}u"),
            _define(f"{p}_MASK", f"0x{f.mask:08x}u"),
            _define(f"{p}_RESET", f"0x{f.reset:x}u"),
            _define(f"{p}_MAX", f"0x{f.max_value:x}u"),
        ]
    return out


def regmap_c_header(regmap: RegisterMap, *, version: int, arch_fingerprint: str) -> str:
    """``#define``s for every register and field (byte offsets)."""
    guard = f"{PREFIX}_REGMAP_H"
    out = [
        "/* cimq register map: generated from cimq.hw.regs.definition, do not edit.",
        f" * Architecture fingerprint {arch_fingerprint}.",
        " * Offsets are byte addresses; the Wishbone adr is offset >> 2. */",
        f"#ifndef {guard}", f"#define {guard}", "",
        _define(f"{PREFIX}_REGMAP_VERSION", f"{version}u"),
        _define(f"{PREFIX}_REGMAP_SIZE", f"0x{regmap.size:x}u", "bytes"),
        "",
    ]
    for mr in regmap.singles:
        p = f"{PREFIX}_{mr.name}"
        out += [f"/* {mr.name}: {mr.register.doc} */", _define(f"{p}_OFFSET", f"0x{mr.offset:03x}u")]
        out += _fields(p, mr.register) + [""]
    for arr in regmap.arrays:
        p = f"{PREFIX}_{arr.name}"
        out += [f"/* {arr.name}[0..{arr.count - 1}]: {arr.doc} */",
                _define(f"{p}_BASE", f"0x{arr.base:03x}u"), _define(f"{p}_STRIDE", f"0x{arr.stride:x}u"),
                _define(f"{p}_COUNT", f"{arr.count}u"), ""]
        for rel, reg in arr.registers:
            rp = f"{p}_{reg.name}"
            out += [f"/* {arr.name}[i].{reg.name}: {reg.doc} */",
                    _define(f"{rp}_REL", f"0x{rel:x}u", "offset inside the block"),
                    _define(f"{rp}_OFFSET(i)", f"({p}_BASE + (uint32_t)(i) * {p}_STRIDE + {rp}_REL)")]
            out += _fields(rp, reg) + [""]
    out += [f"#endif /* {guard} */", ""]
    return "\n".join(out)
