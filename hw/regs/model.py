"""A Python model of the register bank's software-visible behaviour.

It follows the same map walk as the RTL and applies the access modes, so it
is the reference the bank is tested against and what the image decoder
replays writes into (an image is checked by *executing* it, not parsing it).
"""

from __future__ import annotations

from cimq.hw.regs.fields import Access
from cimq.hw.regs.memory_map import RegisterMap

__all__ = ["RegisterFileModel", "byte_mask"]


def byte_mask(sel: int) -> int:
    """32-bit mask of the byte lanes enabled by the 4-bit ``sel``."""
    return sum(0xFF << (8 * i) for i in range(4) if sel >> i & 1)


class RegisterFileModel:
    """Register state after reset, updated by bus writes and hardware inputs."""

    def __init__(self, regmap: RegisterMap) -> None:
        self.regmap = regmap
        self._stored: dict[tuple[int, str], int] = {}
        self._inputs: dict[tuple[str, str], int] = {}
        for mr in regmap.walk():
            for f in mr.register.fields:
                if f.stored:
                    self._stored[(mr.offset, f.name)] = f.reset
                elif not f.const:
                    self._inputs[(mr.path, f.name)] = 0

    def set_input(self, path: str, field: str, value: int) -> None:
        """Drive a live RO field (its value is read until changed)."""
        if (path, field) not in self._inputs:
            raise KeyError(f"{path}.{field} is not a live RO field")
        self._inputs[(path, field)] = value

    def hw_set(self, path: str, field: str, bits: int = 1) -> None:
        """A pulse on a W1C field's set input: OR ``bits`` into the flag."""
        mr = self.regmap.find(path)
        if mr.register.field(field).access is not Access.W1C:
            raise KeyError(f"{path}.{field} is not a W1C field")
        self._stored[(mr.offset, field)] |= bits

    def read(self, offset: int) -> int:
        """The word a bus read of byte ``offset`` returns (0 where unmapped)."""
        mr = self.regmap.at(offset)
        if mr is None:
            return 0
        word = 0
        for f in mr.register.fields:
            if f.stored:
                v = self._stored[(offset, f.name)]
            elif f.const:
                v = f.reset
            else:
                v = self._inputs[(mr.path, f.name)]
            word |= v << f.lsb
        return word

    def write(self, offset: int, data: int, sel: int = 0b1111) -> bool:
        """Apply a bus write; returns whether any field could react to it."""
        mr = self.regmap.at(offset)
        if mr is None:
            return False
        mask = byte_mask(sel)
        for f in mr.register.fields:
            lane = (mask & f.mask) >> f.lsb
            new = (data & f.mask) >> f.lsb
            key = (offset, f.name)
            if f.access is Access.RW:
                self._stored[key] = (self._stored[key] & ~lane) | (new & lane)
            elif f.access is Access.W1C:
                self._stored[key] &= ~(new & lane)
        return mr.register.writable

    def fields(self, path: str) -> dict[str, int]:
        """Field values of one register as software reads them."""
        mr = self.regmap.find(path)
        return mr.register.unpack(self.read(mr.offset))

    def context(self, index: int) -> dict[str, dict[str, int]]:
        """Register -> field -> value of element ``index`` of the banked array."""
        arr = self.regmap.array(self.regmap.banked)
        return {reg.name: self.fields(f"{arr.name}[{index}].{reg.name}") for _, reg in arr.registers}

    def active_outputs(self) -> dict[str, int]:
        """What the bank's ``ctx`` ports show: the selected element's fields, 0 if out of range."""
        arr = self.regmap.array(self.regmap.banked)
        path, field = self.regmap.select
        sel = self.fields(path)[field]
        if sel >= arr.count:
            return {f.name: 0 for f in arr.fields}
        return {name: v for regvals in self.context(sel).values() for name, v in regvals.items()}
