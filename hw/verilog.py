"""Verilog emission: deterministic RTL files and their file list.

Generated files must be byte-identical across runs and machines, so Amaranth's
``src`` attributes (absolute paths of the Python sources) are left out and no
timestamps are written. ``files.f`` names the files relative to its own folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from amaranth.back import verilog
from amaranth.lib import wiring

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.fixed import Rounding
from cimq.hw.truncation import FixedTruncationUnit, TruncationUnit

__all__ = [
    "CONFIGURABLE_TOP",
    "FIXED_TOP",
    "FILE_LIST",
    "FixedWindow",
    "to_verilog",
    "truncation_rtl",
    "file_list",
    "read_file_list",
    "load_arch",
]

CONFIGURABLE_TOP = "truncation_unit"
FIXED_TOP = "truncation_unit_fixed"
FILE_LIST = "files.f"


@dataclass(frozen=True)
class FixedWindow:
    """The window wired into the conventional (fixed) unit.

    The default is the conventional format of the seed slides: weights and
    activations with FL = 6 give FL_acc = 12; keeping FL_out = 6 drops
    ``drop_low = 6`` bits. ReLU on, floor rounding.
    """

    drop_low: int = 6
    relu: bool = True
    rounding: Rounding = Rounding.FLOOR

    def check_against(self, arch: ArchConfig) -> None:
        """Raise :class:`CimqInputError` if the window does not fit ``arch``."""
        if not 0 <= self.drop_low <= arch.max_drop_low:
            raise CimqInputError(
                f"{self.drop_low} is outside the allowed range 0..{arch.max_drop_low} "
                f"(acc_bits {arch.acc_bits} - out_bits {arch.out_bits})",
                source="--fixed-drop-low",
            )
        if Rounding(self.rounding) not in (Rounding.FLOOR, Rounding.HALF_UP):
            raise CimqInputError(f"{self.rounding!r} is not floor or half_up", source="--fixed-rounding")


def to_verilog(component: wiring.Component, name: str, header: str) -> str:
    """Verilog for ``component`` as module ``name``, without source paths."""
    text = verilog.convert(component, name=name, emit_src=False)
    return f"// {header}\n{text}"


def truncation_rtl(arch: ArchConfig, fixed: FixedWindow, *, pipeline: bool = True) -> dict[str, str]:
    """File name -> Verilog text for both truncation units, in file-list order."""
    fixed.check_against(arch)
    configurable = TruncationUnit(arch.acc_bits, arch.out_bits, pipeline=pipeline)
    conventional = FixedTruncationUnit(
        arch.acc_bits,
        arch.out_bits,
        drop_low=fixed.drop_low,
        relu=fixed.relu,
        rounding=fixed.rounding,
        pipeline=pipeline,
    )
    widths = f"acc_bits={arch.acc_bits} out_bits={arch.out_bits} pipeline={int(pipeline)}"
    return {
        f"{CONFIGURABLE_TOP}.v": to_verilog(
            configurable, CONFIGURABLE_TOP, f"cimq configurable truncation unit: {widths}"
        ),
        f"{FIXED_TOP}.v": to_verilog(
            conventional,
            FIXED_TOP,
            f"cimq fixed truncation unit: {widths} drop_low={fixed.drop_low} "
            f"relu={int(fixed.relu)} rounding={Rounding(fixed.rounding).value}",
        ),
    }


def file_list(names: Mapping[str, str] | list[str]) -> str:
    """``files.f``: one file name per line, relative to the list's folder."""
    return "".join(f"{name}\n" for name in names)


def read_file_list(path: Path) -> list[Path]:
    """The files a ``files.f`` names, resolved against its folder; all must exist."""
    if not path.is_file():
        raise CimqInputError("file list not found (run `cimq generate` first)", source=path)
    files = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("//") or line.startswith("#"):
            continue
        file = (path.parent / line).resolve()
        if not file.is_file():
            raise CimqInputError(f"names {line!r}, which does not exist", source=path)
        files.append(file)
    return files


def load_arch(params: Path | None) -> ArchConfig:
    """The architecture of a params file's ``arch``, or the default one."""
    if params is None:
        return ArchConfig()
    from cimq.files import load_json_model
    from cimq.params import ModelParams

    return load_json_model(ModelParams, params).arch
