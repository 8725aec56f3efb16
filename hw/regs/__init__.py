"""The cimq register map and everything generated from it.

One definition (:func:`build_register_map`) feeds the Amaranth
:class:`RegisterBank`, the SystemRDL/C/JSON/Markdown/HTML documents and the
register images that program the layer contexts.
"""

from cimq.hw.regs.bank import RegisterBank, context_signature
from cimq.hw.regs.definition import (
    CIMQ_ID,
    CONTEXT_ARRAY,
    MAX_ARRAYS,
    REGMAP_VERSION,
    arch_hash32,
    build_register_map,
    geometry_limits,
)
from cimq.hw.regs.fields import Access, Field, Register
from cimq.hw.regs.image import BusWrite, RegisterImage, build_image, decode_image
from cimq.hw.regs.image_formats import read_image
from cimq.hw.regs.layer import ContextConfig, LayerGeometry, decode_context, encode_context
from cimq.hw.regs.memory_map import MappedRegister, MemoryMapBuilder, RegisterArray, RegisterMap
from cimq.hw.regs.model import RegisterFileModel
from cimq.hw.regs.wishbone import wishbone_signature

__all__ = [
    "Access", "Field", "Register", "MappedRegister", "RegisterArray", "RegisterMap", "MemoryMapBuilder",
    "CIMQ_ID", "REGMAP_VERSION", "MAX_ARRAYS", "CONTEXT_ARRAY", "build_register_map", "arch_hash32",
    "geometry_limits", "LayerGeometry", "ContextConfig", "encode_context", "decode_context",
    "RegisterBank", "context_signature", "wishbone_signature", "RegisterFileModel",
    "BusWrite", "RegisterImage", "build_image", "decode_image", "read_image",
]
