"""Markdown tables of a register map, for ``docs/``."""

from __future__ import annotations

from cimq.hw.regs.fields import Register
from cimq.hw.regs.memory_map import RegisterMap

__all__ = ["regmap_markdown"]


def _rows(offset: str, reg: Register) -> list[str]:
    rows = []
    for i, f in enumerate(reversed(reg.fields)):
        bits = f"{f.msb}:{f.lsb}" if f.width > 1 else f"{f.lsb}"
        access = f.access.value.upper() + (" (const)" if f.const else "")
        head = f"| {offset} | {reg.name} " if i == 0 else "| | "
        rows.append(f"{head}| {f.name} | {bits} | {access} | {f.reset:#x} | {f.doc.replace('|', '/')} |")
    return rows


def regmap_markdown(regmap: RegisterMap) -> str:
    """One table of the single registers, one per register array."""
    head = ["| Offset | Register | Field | Bits | Access | Reset | Description |",
            "|---|---|---|---|---|---|---|"]
    out = [f"### Register map `{regmap.name}`", "", regmap.doc, "",
           "32-bit registers, byte offsets (Wishbone `adr` = offset >> 2). Unmapped addresses read 0 and "
           "ignore writes. W1C: write 1 to clear.", ""] + head
    for mr in regmap.singles:
        out += _rows(f"`{mr.offset:#05x}`", mr.register)
    for arr in regmap.arrays:
        out += ["", f"#### `{arr.name}[i]`, i = 0..{arr.count - 1}: offset `{arr.base:#05x} + {arr.stride:#x}*i` + below",
                "", arr.doc, ""] + head
        for rel, reg in arr.registers:
            out += _rows(f"`+{rel:#04x}`", reg)
    return "\n".join(out) + "\n"
