"""The CIM tile: periphery plus crossbar, for simulation and for Verilog emission.

* :class:`Tile` (Amaranth simulator): :class:`TilePeriphery` wired to a
  :class:`CrossbarModel` holding one chip's codes.
* :class:`TileTop` (Verilog): module ``cimq_tile`` (or
  ``cimq_tile_conventional``) instantiating the separately emitted periphery
  module and the behavioral ``cimq_crossbar_model``; same ports as
  :class:`Tile` (``clk``, ``rst``, ``i_stream__*``, ``o_stream__*``, ``bus__*``).
"""

from __future__ import annotations

from amaranth.hdl import ClockSignal, Instance, Module, ResetSignal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from cimq.hw.tile.contents import CrossbarContents
from cimq.hw.tile.crossbar_model import CrossbarInstance, CrossbarModel
from cimq.hw.tile.periphery import TilePeriphery
from cimq.hw.tile.config import TileConfig
from cimq.hw.verilog import FixedWindow

__all__ = ["Tile", "TileTop", "tile_ports"]


def tile_ports(periphery: TilePeriphery) -> dict[str, wiring.Member]:
    """The tile's external members: the periphery's without ``xbar``."""
    return {k: v for k, v in periphery.signature.members.items() if k != "xbar"}


class Tile(wiring.Component):
    """Periphery + Amaranth crossbar model (simulation only).

    Parameters
    ----------
    contents : CrossbarContents
        Codes and biases of one chip (its ``config`` shapes the tile).
    conventional : FixedWindow or None
        As for :class:`TilePeriphery`.

    Attributes
    ----------
    i_stream, o_stream, bus : as :class:`TilePeriphery`.
    """

    def __init__(self, contents: CrossbarContents, *, conventional: FixedWindow | None = None) -> None:
        if not isinstance(contents, CrossbarContents):
            raise TypeError(f"Contents must be CrossbarContents, not {contents!r}")
        self._contents = contents
        self.periphery = TilePeriphery(contents.config, conventional=conventional)
        super().__init__(tile_ports(self.periphery))

    @property
    def regmap(self):
        return self.periphery.regmap

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.periphery = p = self.periphery
        m.submodules.crossbar = xb = CrossbarModel(self._contents)
        wiring.connect(m, p.xbar, xb)
        for name in ("i_stream", "bus"):
            wiring.connect(m, wiring.flipped(getattr(self, name)), getattr(p, name))
        wiring.connect(m, p.o_stream, wiring.flipped(self.o_stream))
        return m


def _instance_ports(component: wiring.Component, names: set[str]) -> list[tuple[str, str, object]]:
    ports = []
    for path, member, value in component.signature.flatten(component):
        if path[0] in names:
            ports.append(("i" if member.flow is In else "o", "__".join(map(str, path)), value))
    return ports


class TileTop(wiring.Component):
    """``cimq_tile``: instances of the periphery module and the behavioral crossbar.

    Parameters
    ----------
    config : TileConfig
    periphery_module : str
        Verilog name the periphery was emitted under.
    conventional : FixedWindow or None
    """

    def __init__(self, config: TileConfig, periphery_module: str, *, conventional: FixedWindow | None = None) -> None:
        self._config = config
        self._module = periphery_module
        periphery = TilePeriphery(config, conventional=conventional)  # for its ports only
        periphery._MustUse__silence = True
        super().__init__(tile_ports(periphery))

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.crossbar = xb = CrossbarInstance(self._config)
        xbar_ports = [("o" if dir_ == "i" else "i", f"xbar__{name}", value)
                      for dir_, name, value in _instance_ports(xb, {"array", "plane", "bias_addr", "counts", "bias"})]
        own = _instance_ports(self, set(self.signature.members))
        m.submodules.periphery = Instance(
            self._module, ("i", "clk", ClockSignal()), ("i", "rst", ResetSignal()), *own, *xbar_ports)
        return m
