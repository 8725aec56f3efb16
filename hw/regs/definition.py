"""THE cimq register map: one definition, parameterized by ``ArchConfig``.

Layout (32-bit registers, byte offsets; the bus ``adr`` is offset / 4)::

    0x000 ID          RO  magic 0x43494D51 ("CIMQ"): this is a cimq tile
    0x004 VERSION     RO  register-map version (REGMAP_VERSION)
    0x008 ARCH_HASH   RO  low 32 bits of ArchConfig.fingerprint()
    0x00C CONTEXTS    RO  number of layer contexts (arch.layer_contexts)
    0x010 ACTIVE      RW  the layer context the tile runs
    0x014 STATUS      W1C saturated (sticky), RO busy
    0x100 + c*0x20    CTX[c]: CTRL, WINDOW, IN_LEN, OUT_LEN, ARRAY_BASE

Everything else reads as 0 and ignores writes (the bus still acknowledges).
Field widths follow the architecture; ``MAX_ARRAYS`` bounds the geometry.
"""

from __future__ import annotations

from functools import lru_cache

from cimq.arch import ArchConfig
from cimq.hw.regs.fields import Access, Field, Register
from cimq.hw.regs.memory_map import MemoryMapBuilder, RegisterMap

__all__ = [
    "CIMQ_ID",
    "REGMAP_VERSION",
    "MAX_ARRAYS",
    "CONTEXT_ARRAY",
    "CONTEXT_BASE",
    "build_register_map",
    "arch_hash32",
    "geometry_limits",
]

#: Value of the ID register: ASCII "CIMQ".
CIMQ_ID = 0x43494D51
#: Version of this register map; bump on any layout change.
REGMAP_VERSION = 1
#: Crossbar arrays one tile can address (ARRAY_BASE is 0..MAX_ARRAYS-1).
MAX_ARRAYS = 256
#: Name of the per-layer-context register array.
CONTEXT_ARRAY = "CTX"
#: Byte offset of context 0.
CONTEXT_BASE = 0x100


def arch_hash32(arch: ArchConfig) -> int:
    """Low 32 bits of the architecture fingerprint (its last 8 hex digits)."""
    return int(arch.fingerprint(), 16) & 0xFFFF_FFFF


def geometry_limits(arch: ArchConfig) -> tuple[int, int, int]:
    """Largest ``in_len``, ``out_len`` and ``array_base`` the fields allow.

    A layer's rows may span all ``MAX_ARRAYS`` arrays (``in_len`` up to
    ``MAX_ARRAYS * xbar_rows``); each output needs ``slices`` columns
    (``out_len`` up to ``MAX_ARRAYS * xbar_cols // slices``).
    """
    return MAX_ARRAYS * arch.xbar_rows, max(1, MAX_ARRAYS * arch.xbar_cols // arch.slices), MAX_ARRAYS - 1


def _bits(max_value: int) -> int:
    return max(1, max_value.bit_length())


class Id(Register):
    def __init__(self) -> None:
        super().__init__("ID", [Field("id", 32, Access.RO, CIMQ_ID, "Magic constant 0x43494D51 (ASCII CIMQ).", const=True)],
                         doc="Identifies a cimq tile.")


class Version(Register):
    def __init__(self) -> None:
        super().__init__("VERSION", [Field("version", 32, Access.RO, REGMAP_VERSION, "Register-map version.", const=True)],
                         doc="Version of this register map.")


class ArchHash(Register):
    def __init__(self, arch: ArchConfig) -> None:
        super().__init__("ARCH_HASH", [Field("hash", 32, Access.RO, arch_hash32(arch),
                                             "Low 32 bits of the ArchConfig SHA-256 fingerprint.", const=True)],
                         doc="Which architecture the hardware was elaborated for.")


class Contexts(Register):
    def __init__(self, arch: ArchConfig) -> None:
        super().__init__("CONTEXTS", [Field("count", 16, Access.RO, arch.layer_contexts,
                                            "Number of layer contexts (CTX array elements).", const=True)],
                         doc="How many layer contexts the bank holds.")


class Active(Register):
    def __init__(self, arch: ArchConfig) -> None:
        n = arch.layer_contexts
        super().__init__("ACTIVE", [Field("context", _bits(n - 1), Access.RW, 0,
                                          f"Layer context the tile runs (0..{n - 1}); a larger value selects "
                                          "nothing (all context outputs 0, i.e. disabled).", limit=n - 1)],
                         doc="Active layer-context select.")


class Status(Register):
    def __init__(self) -> None:
        super().__init__("STATUS", [
            Field("saturated", 1, Access.W1C, 0, "Sticky: a truncation saturated since last cleared; write 1 to clear."),
            Field("busy", 1, Access.RO, 0, "The tile is computing (live input)."),
        ], doc="Tile status.")


class Ctrl(Register):
    def __init__(self, window: bool = True) -> None:
        enable = Field("enable", 1, Access.RW, 0, "The context holds a programmed layer (geometry valid).")
        signed_input = Field("signed_input", 1, Access.RW, 0, "Inputs are two's complement: the MSB plane is subtracted.",
                             lsb=3)
        mode = [
            Field("relu", 1, Access.RW, 0, "Apply ReLU in truncation: unsigned output; 0: signed output."),
            Field("round", 1, Access.RW, 0, "Rounding of the dropped bits: 0 floor, 1 half_up."),
        ]
        super().__init__("CTRL", [enable, *mode, signed_input] if window else [enable, signed_input],
                         doc="Layer mode bits; written last when programming a context.")


class Window(Register):
    def __init__(self, arch: ArchConfig) -> None:
        m = arch.max_drop_low
        super().__init__("WINDOW", [Field("drop_low", _bits(m), Access.RW, 0,
                                          f"Accumulator bits dropped below the kept {arch.out_bits}-bit window "
                                          f"(0..{m}).", limit=m)],
                         doc="Truncation window select.")


class InLen(Register):
    def __init__(self, arch: ArchConfig) -> None:
        m = geometry_limits(arch)[0]
        super().__init__("IN_LEN", [Field("in_len", _bits(m), Access.RW, 0,
                                          f"Active input rows of the layer (1..{m}; 0: not programmed).", limit=m)],
                         doc="Input vector length.")


class OutLen(Register):
    def __init__(self, arch: ArchConfig) -> None:
        m = geometry_limits(arch)[1]
        super().__init__("OUT_LEN", [Field("out_len", _bits(m), Access.RW, 0,
                                           f"Output columns (weights) of the layer (1..{m}; 0: not programmed).", limit=m)],
                         doc="Output vector length.")


class ArrayBase(Register):
    def __init__(self, arch: ArchConfig) -> None:
        m = geometry_limits(arch)[2]
        super().__init__("ARRAY_BASE", [Field("array_base", _bits(m), Access.RW, 0,
                                              f"First crossbar array holding the layer's weights (0..{m}).", limit=m)],
                         doc="Where the layer's weights start.")


@lru_cache(maxsize=32)
def build_register_map(arch: ArchConfig, *, window: bool = True) -> RegisterMap:
    """The register map of a tile with architecture ``arch``.

    ``window=False`` gives the map of the *conventional* tile (area
    reference): no WINDOW register and no CTRL.relu/round bits, since its
    truncation window is wired; every other field keeps its bit position,
    the context registers after WINDOW move up by one word.
    """
    b = MemoryMapBuilder("cimq_regs" if window else "cimq_regs_conventional",
                         doc="cimq CIM tile: layer-context registers.")
    for reg in (Id(), Version(), ArchHash(arch), Contexts(arch), Active(arch), Status()):
        b.add(reg)
    b.align(CONTEXT_BASE)
    block = [Ctrl(window), *([Window(arch)] if window else []), InLen(arch), OutLen(arch), ArrayBase(arch)]
    b.add_array(CONTEXT_ARRAY, block, count=arch.layer_contexts, stride=0x20,
                doc="One block per layer context.", banked=True)
    b.select("ACTIVE", "context")
    return b.build()
