"""The CIM tile: synthesizable periphery around a behavioral crossbar.

See :class:`~cimq.hw.tile.periphery.TilePeriphery` for the protocol,
:mod:`cimq.hw.tile.crossbar_model` for the crossbar model and
:mod:`cimq.hw.tile.contents` for the hex files of one chip.
"""

from cimq.hw.tile.accumulate import OffsetBias, ShiftAdd
from cimq.hw.tile.config import TileConfig, code_bits
from cimq.hw.tile.contents import CrossbarContents, LayerPlacement, bias_hex, codes_hex, place_layers, read_hex
from cimq.hw.tile.crossbar_model import MODEL_MODULE, CrossbarInstance, CrossbarModel, crossbar_model_verilog, crossbar_signature
from cimq.hw.tile.input_buffer import InputBuffer
from cimq.hw.tile.periphery import TilePeriphery, tile_output_layout
from cimq.hw.tile.tile import Tile, TileTop

__all__ = [
    "TileConfig", "code_bits", "CrossbarContents", "LayerPlacement", "place_layers", "codes_hex", "bias_hex",
    "read_hex", "MODEL_MODULE", "CrossbarModel", "CrossbarInstance", "crossbar_model_verilog", "crossbar_signature",
    "InputBuffer", "ShiftAdd", "OffsetBias", "TilePeriphery", "tile_output_layout", "Tile", "TileTop",
]
