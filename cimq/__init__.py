"""cimq: hardware-aware quantization and RTL for memristor compute-in-memory.

The shared contract lives here: :mod:`cimq.fixed` (fixed-point formats and
truncation), :mod:`cimq.cim` (the crossbar arithmetic), :mod:`cimq.arch`
(``ArchConfig``) and :mod:`cimq.params` (``LayerParams``/``ModelParams``).
Stages live in :mod:`cimq.sim`, :mod:`cimq.quant`, :mod:`cimq.hw` and
:mod:`cimq.verification`.
"""

from cimq.arch import ArchConfig
from cimq.errors import CheckFailed, CimqInputError
from cimq.fixed import FixedFormat, Overflow, Rounding, truncate
from cimq.params import LayerParams, ModelParams

__version__ = "0.1.0"

__all__ = [
    "ArchConfig",
    "CheckFailed",
    "CimqInputError",
    "FixedFormat",
    "LayerParams",
    "ModelParams",
    "Overflow",
    "Rounding",
    "truncate",
]
