"""Everything ``cimq regs`` writes, rendered in memory first.

Rendering validates all input before a single byte is written; the CLI then
writes the files into a staged folder and swaps it in.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cimq.hw.regs.cheader import regmap_c_header
from cimq.hw.regs.definition import REGMAP_VERSION, build_register_map
from cimq.hw.regs.html import html_available, write_html
from cimq.hw.regs.image import build_image
from cimq.hw.regs.image_formats import image_c_array, image_hex, image_json
from cimq.hw.regs.layer import LayerGeometry
from cimq.hw.regs.mapjson import regmap_json
from cimq.hw.regs.markdown import regmap_markdown
from cimq.hw.regs.rdl import regmap_rdl
from cimq.params import ModelParams

__all__ = ["render_regs_outputs", "write_regs_outputs"]


def render_regs_outputs(params: ModelParams, geometry: Mapping[str, LayerGeometry] | None = None, *,
                        source: str | None = None) -> dict[str, bytes]:
    """File name -> content of every image and map file (not the HTML)."""
    arch = params.arch
    image = build_image(params, geometry, source=source)
    data = image.to_bytes()
    regmap = build_register_map(arch)
    fp = arch.fingerprint()
    texts = {
        "regs.hex": image_hex(data),
        "regs.json": image_json(image, data),
        "regs_image.h": image_c_array(image, data),
        "regmap.rdl": regmap_rdl(regmap),
        "regmap.h": regmap_c_header(regmap, version=REGMAP_VERSION, arch_fingerprint=fp),
        "regmap.json": regmap_json(regmap, version=REGMAP_VERSION, arch_fingerprint=fp),
        "regmap.md": regmap_markdown(regmap),
    }
    return {"regs.bin": data, **{name: text.encode("utf-8") for name, text in texts.items()}}


def write_regs_outputs(out_dir: Path, files: Mapping[str, bytes], *, html: bool | None = None) -> list[str]:
    """Write ``files`` (and ``html/`` when peakrdl-html is there) into ``out_dir``.

    Returns the names written, ``html/`` included.
    """
    for name, data in sorted(files.items()):
        (out_dir / name).write_bytes(data)
    names = sorted(files)
    if html is None:
        html = html_available()
    if html:
        write_html(files["regmap.rdl"].decode("utf-8"), out_dir / "html")
        names.append("html/")
    return names
