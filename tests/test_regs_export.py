"""Documents generated from the map: SystemRDL (compiled), C header (compiled), JSON, Markdown, HTML."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from systemrdl.node import RegNode
from systemrdl.rdltypes import AccessType, OnWriteType

from cimq.arch import ArchConfig
from cimq.hw.regs import REGMAP_VERSION, Access, build_register_map
from cimq.hw.regs.cheader import regmap_c_header
from cimq.hw.regs.html import write_html
from cimq.hw.regs.mapjson import regmap_json
from cimq.hw.regs.markdown import regmap_markdown
from cimq.hw.regs.rdl import compile_rdl, regmap_rdl

ARCHS = [ArchConfig(), ArchConfig(layer_contexts=3, acc_bits=20, xbar_rows=64)]


def _sw(f) -> AccessType:
    return AccessType.r if f.access is Access.RO else AccessType.rw


@pytest.mark.parametrize("arch", ARCHS, ids=["default", "small"])
def test_systemrdl_compiles_and_matches_field_by_field(arch):
    regmap = build_register_map(arch)
    root = compile_rdl(regmap_rdl(regmap))
    compiled = {}
    for node in root.top.descendants(unroll=True):
        if isinstance(node, RegNode):
            path = node.get_path().split(".", 1)[1]
            compiled[path] = (node.absolute_address, node.get_property("regwidth"), {
                f.inst_name: (f.lsb, f.msb, f.get_property("sw"), f.get_property("hw").name, f.get_property("onwrite"),
                              f.get_property("reset")) for f in node.fields()})
    expected = {}
    for mr in regmap.walk():
        expected[mr.path] = (mr.offset, 32, {
            f.name: (f.lsb, f.msb, _sw(f), "na" if f.const else ("w" if f.access is Access.RO else "r"),
                     OnWriteType.woclr if f.access is Access.W1C else None,
                     None if (f.access is Access.RO and not f.const) else f.reset) for f in mr.register.fields})
    assert compiled == expected
    assert root.top.inst_name == regmap.name


def test_c_header_compiles_and_matches(tmp_path):
    arch = ArchConfig(layer_contexts=5)
    regmap = build_register_map(arch)
    (tmp_path / "regmap.h").write_text(regmap_c_header(regmap, version=REGMAP_VERSION, arch_fingerprint=arch.fingerprint()))
    checks: list[tuple[str, int]] = [("CIMQ_REGMAP_VERSION", REGMAP_VERSION), ("CIMQ_REGMAP_SIZE", regmap.size)]
    for mr in regmap.walk():
        if mr.array is None:
            prefix, offset_expr = f"CIMQ_{mr.name}", f"CIMQ_{mr.name}_OFFSET"
        else:
            prefix, offset_expr = f"CIMQ_{mr.array}_{mr.name}", f"CIMQ_{mr.array}_{mr.name}_OFFSET({mr.index})"
        checks += [(offset_expr, mr.offset), (f"{prefix}_RESET", mr.register.reset)]
        for f in mr.register.fields:
            p = f"{prefix}_{f.name.upper()}"
            checks += [(f"{p}_SHIFT", f.lsb), (f"{p}_MASK", f.mask), (f"{p}_WIDTH", f.width), (f"{p}_RESET", f.reset),
                       (f"{p}_MAX", f.max_value)]
    body = "\n".join(f'    printf("%s %lu\\n", "{expr}", (unsigned long)({expr}));' for expr, _ in checks)
    (tmp_path / "main.c").write_text(f'#include <stdio.h>\n#include <stdint.h>\n#include "regmap.h"\n#include "regmap.h"\n'
                                     f"int main(void) {{\n{body}\n    return 0;\n}}\n")
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Werror", "-o", str(tmp_path / "m"), str(tmp_path / "main.c")], check=True)
    out = subprocess.run([str(tmp_path / "m")], check=True, capture_output=True, text=True).stdout
    assert out.splitlines() == [f"{expr} {value}" for expr, value in checks]


def test_json_map_matches_the_walk():
    arch = ArchConfig(layer_contexts=2)
    regmap = build_register_map(arch)
    doc = json.loads(regmap_json(regmap, version=REGMAP_VERSION, arch_fingerprint=arch.fingerprint()))
    assert doc["arch_fingerprint"] == arch.fingerprint() and doc["size"] == regmap.size
    assert doc["select"] == {"register": "ACTIVE", "field": "context", "array": "CTX"}
    assert [(r["path"], r["offset"]) for r in doc["registers"]] == [(mr.path, mr.offset) for mr in regmap.walk()]
    for r, mr in zip(doc["registers"], regmap.walk()):
        assert [(f["name"], f["lsb"], f["width"], f["access"], f["reset"]) for f in r["fields"]] == [
            (f.name, f.lsb, f.width, f.access.value, f.reset) for f in mr.register.fields]


def test_markdown_lists_every_register_and_field():
    regmap = build_register_map(ArchConfig())
    md = regmap_markdown(regmap)
    rows = [line for line in md.splitlines() if line.startswith("| ") and not line.startswith("| Offset")]
    field_names = [line.split("|")[3].strip() for line in rows]
    expected = [f.name for mr in regmap.singles for f in reversed(mr.register.fields)]
    expected += [f.name for arr in regmap.arrays for _, reg in arr.registers for f in reversed(reg.fields)]
    assert field_names == expected
    for mr in regmap.singles:
        assert re.search(rf"\| `{mr.offset:#05x}` \| {mr.name} \|", md)


def test_peakrdl_html_runs(tmp_path):
    text = regmap_rdl(build_register_map(ArchConfig(layer_contexts=2)))
    write_html(text, tmp_path / "a")
    write_html(text, tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert (tmp_path / "a" / "index.html").is_file() and any(str(p).startswith("content/") for p in files)
    data = "".join((tmp_path / "a" / p).read_text(errors="replace") for p in files if p.suffix in (".js", ".html"))
    assert "ARRAY_BASE" in data and "drop_low" in data
    assert all((tmp_path / "a" / p).read_bytes() == (tmp_path / "b" / p).read_bytes() for p in files)
