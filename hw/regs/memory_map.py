"""Assembling registers into a memory map, and walking it.

A :class:`MemoryMapBuilder` places single registers and repeated blocks
(register arrays, e.g. one block per layer context) at byte offsets; the
resulting :class:`RegisterMap` is immutable and is the only thing the bank,
the exporters and the image coder look at.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cimq.hw.regs.fields import DATA_WIDTH, Register

__all__ = ["MappedRegister", "RegisterArray", "RegisterMap", "MemoryMapBuilder", "WORD_BYTES"]

#: Bytes per register; every offset is a multiple of it.
WORD_BYTES = DATA_WIDTH // 8


@dataclass(frozen=True)
class MappedRegister:
    """One register instance at its byte offset.

    ``path`` is ``"NAME"`` for a single register and ``"ARRAY[i].NAME"`` for an
    element of a register array (the same path SystemRDL gives it).
    """

    path: str
    offset: int
    register: Register
    array: str | None = None
    index: int | None = None

    @property
    def name(self) -> str:
        return self.register.name

    @property
    def word_address(self) -> int:
        """The bus ``adr`` that selects this register (byte offset / 4)."""
        return self.offset // WORD_BYTES


@dataclass(frozen=True)
class RegisterArray:
    """A block of registers repeated ``count`` times at ``base + i*stride``."""

    name: str
    base: int
    stride: int
    count: int
    registers: tuple[tuple[int, Register], ...]
    doc: str = ""

    def offset(self, index: int, name: str) -> int:
        """Byte offset of register ``name`` in element ``index``."""
        if not 0 <= index < self.count:
            raise IndexError(f"{self.name}[{index}] is outside 0..{self.count - 1}")
        for rel, reg in self.registers:
            if reg.name == name:
                return self.base + index * self.stride + rel
        raise KeyError(f"{self.name} has no register {name!r}")

    def register(self, name: str) -> Register:
        for _, reg in self.registers:
            if reg.name == name:
                return reg
        raise KeyError(f"{self.name} has no register {name!r}")

    @property
    def fields(self) -> tuple:
        """Every placed field of the block, in register then bit order."""
        return tuple(f for _, reg in self.registers for f in reg.fields)


class RegisterMap:
    """An immutable memory map: single registers, register arrays, one select.

    ``select`` names the RW field (``register path``, ``field``) that picks the
    active element of the ``banked`` array; the bank exposes that element's
    fields as output ports.
    """

    def __init__(
        self,
        name: str,
        singles: Sequence[MappedRegister],
        arrays: Sequence[RegisterArray],
        *,
        banked: str | None = None,
        select: tuple[str, str] | None = None,
        doc: str = "",
    ) -> None:
        self.name = name
        self.doc = doc
        self.singles = tuple(singles)
        self.arrays = tuple(arrays)
        self.banked = banked
        self.select = select
        regs = list(self.singles)
        for arr in self.arrays:
            for i in range(arr.count):
                for rel, reg in arr.registers:
                    regs.append(MappedRegister(f"{arr.name}[{i}].{reg.name}", arr.base + i * arr.stride + rel, reg, arr.name, i))
        regs.sort(key=lambda r: r.offset)
        for a, b in zip(regs, regs[1:]):
            if a.offset == b.offset:
                raise ValueError(f"{a.path} and {b.path} share offset {a.offset:#x}")
        self._registers = tuple(regs)
        self._by_offset = {r.offset: r for r in regs}
        self._by_path = {r.path: r for r in regs}

    def walk(self) -> Iterator[MappedRegister]:
        """Every register instance (arrays unrolled), in address order."""
        return iter(self._registers)

    def __len__(self) -> int:
        return len(self._registers)

    def at(self, offset: int) -> MappedRegister | None:
        """The register at byte ``offset``, or ``None`` where nothing is mapped."""
        return self._by_offset.get(offset)

    def find(self, path: str) -> MappedRegister:
        try:
            return self._by_path[path]
        except KeyError:
            raise KeyError(f"{self.name} has no register {path!r}") from None

    def array(self, name: str) -> RegisterArray:
        for arr in self.arrays:
            if arr.name == name:
                return arr
        raise KeyError(f"{self.name} has no register array {name!r}")

    @property
    def size(self) -> int:
        """Bytes from 0 to the end of the last register."""
        return self._registers[-1].offset + WORD_BYTES if self._registers else 0

    @property
    def addr_width(self) -> int:
        """Word-address bits that decode the whole map (bus ``adr`` width)."""
        return max(1, (self.size // WORD_BYTES - 1).bit_length())


class MemoryMapBuilder:
    """Places registers at increasing, word-aligned byte offsets."""

    def __init__(self, name: str, *, doc: str = "") -> None:
        self._name = name
        self._doc = doc
        self._next = 0
        self._singles: list[MappedRegister] = []
        self._arrays: list[RegisterArray] = []
        self._banked: str | None = None
        self._select: tuple[str, str] | None = None

    def align(self, boundary: int) -> "MemoryMapBuilder":
        """Move the next offset up to a multiple of ``boundary`` (a power of two)."""
        if boundary < WORD_BYTES or boundary & (boundary - 1):
            raise ValueError(f"Alignment must be a power of two of at least {WORD_BYTES}, not {boundary}")
        self._next = -(-self._next // boundary) * boundary
        return self

    def add(self, register: Register, *, offset: int | None = None) -> MappedRegister:
        """Place a single register (at ``offset`` or the next free word)."""
        at = self._place(offset, WORD_BYTES)
        mapped = MappedRegister(register.name, at, register)
        self._singles.append(mapped)
        return mapped

    def add_array(
        self,
        name: str,
        registers: Sequence[Register],
        *,
        count: int,
        stride: int | None = None,
        offset: int | None = None,
        doc: str = "",
        banked: bool = False,
    ) -> RegisterArray:
        """Place ``count`` copies of a block of registers.

        ``stride`` defaults to the block size rounded up to a power of two, so
        an element's index is a plain bit field of the address.
        """
        if count < 1:
            raise ValueError(f"Array {name}: count must be at least 1, not {count}")
        names = [r.name for r in registers]
        if len(set(names)) != len(names):
            raise ValueError(f"Array {name}: register names repeat")
        fields = [f.name for r in registers for f in r.fields]
        if len(set(fields)) != len(fields):
            raise ValueError(f"Array {name}: field names must be unique across the block")
        block = len(registers) * WORD_BYTES
        if stride is None:
            stride = 1 << (block - 1).bit_length()
        if stride < block or stride % WORD_BYTES:
            raise ValueError(f"Array {name}: stride {stride} is below the block size {block} or unaligned")
        if offset is None:
            self.align(1 << (stride.bit_length() - 1))
        base = self._place(offset, stride)
        arr = RegisterArray(name, base, stride, count, tuple((i * WORD_BYTES, r) for i, r in enumerate(registers)), doc)
        self._next = base + stride * count
        self._arrays.append(arr)
        if banked:
            if self._banked is not None:
                raise ValueError(f"Array {name}: only one array can be banked ({self._banked} is)")
            self._banked = name
        return arr

    def select(self, register: str, field: str) -> None:
        """Name the RW field that selects the banked array's active element."""
        self._select = (register, field)

    def build(self) -> RegisterMap:
        regmap = RegisterMap(self._name, self._singles, self._arrays, banked=self._banked, select=self._select, doc=self._doc)
        if (self._banked is None) != (self._select is None):
            raise ValueError("A banked array needs a select field and vice versa")
        if self._select is not None:
            reg = regmap.find(self._select[0]).register
            if reg.field(self._select[1]).access.value != "rw":
                raise ValueError(f"Select field {self._select[0]}.{self._select[1]} must be RW")
        return regmap

    def _place(self, offset: int | None, alignment: int) -> int:
        if offset is None:
            offset = self._next
        if offset % WORD_BYTES or offset < self._next:
            raise ValueError(f"Offset {offset:#x} is unaligned or overlaps what is placed (next free {self._next:#x})")
        if offset % min(alignment, 1 << (alignment.bit_length() - 1)):
            raise ValueError(f"Offset {offset:#x} is not aligned to {alignment}")
        self._next = offset + WORD_BYTES
        return offset
