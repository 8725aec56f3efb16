"""Register images: round trips through every format, and refusals."""

from __future__ import annotations

import json
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.hw.regs import LayerGeometry, RegisterFileModel, build_image, build_register_map, read_image
from cimq.hw.regs.image import HEADER
from cimq.hw.regs.outputs import render_regs_outputs
from cimq.params import LayerParams, ModelParams

ARCH = ArchConfig(layer_contexts=4)
PARAMS = ModelParams(arch=ARCH, layers=[
    LayerParams(name="conv1", fl_w=9, fl_x=6, drop_low=11, signed_input=True, relu=True),
    LayerParams(name="conv2", fl_w=-2, fl_x=7, drop_low=0, rounding="half_up"),
    LayerParams(name="fc", fl_w=8, fl_x=5, drop_low=16, relu=False),
])
GEOMETRY = {"conv1": LayerGeometry(in_len=9, out_len=16, array_base=0),
            "fc": LayerGeometry(in_len=300, out_len=10, array_base=7)}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("img")
    for name, data in render_regs_outputs(PARAMS, GEOMETRY).items():
        (out / name).write_bytes(data)
    return out


@pytest.mark.parametrize("name", ["regs.bin", "regs.hex", "regs.json"])
def test_round_trip_every_format(files, name):
    image = read_image(files / name, arch=ARCH)
    assert image.layers == tuple(PARAMS.layers)
    assert image.geometry == (GEOMETRY["conv1"], None, GEOMETRY["fc"])
    assert image == build_image(PARAMS, GEOMETRY)
    assert read_image(files / name).arch == ARCH  # self-describing without an arch


def test_writes_program_every_context_and_end_with_active(files):
    image = read_image(files / "regs.bin")
    regmap = build_register_map(ARCH)
    paths = [regmap.at(w.address).path for w in image.writes]
    assert paths[-1] == "ACTIVE" and image.writes[-1].value == 0
    for c in range(ARCH.layer_contexts):  # every register of every context, CTRL (enable) last
        ctx = [p.split(".")[1] for p in paths if p.startswith(f"CTX[{c}].")]
        assert ctx == ["WINDOW", "IN_LEN", "OUT_LEN", "ARRAY_BASE", "CTRL"]
    # Replaying from any prior state gives the same result.
    dirty = RegisterFileModel(regmap)
    for mr in regmap.walk():
        dirty.write(mr.offset, 0xFFFF_FFFF)
    clean = RegisterFileModel(regmap)
    for w in image.bus_writes():
        dirty.write(w.address, w.value)
        clean.write(w.address, w.value)
    assert all(dirty.read(mr.offset) == clean.read(mr.offset) for mr in regmap.walk())


def test_binary_layout(files):
    data = (files / "regs.bin").read_bytes()
    magic, version, _, fp, count, meta_len, payload_len, crc = HEADER.unpack_from(data)
    assert magic == b"CIMQREGS" and version == 1 and fp.hex() == ARCH.fingerprint()
    assert len(data) == 64 + payload_len == 64 + 8 * count + -(-meta_len // 4) * 4
    assert crc == zlib.crc32(data[:60] + data[64:])
    image = build_image(PARAMS, GEOMETRY)
    assert [struct.unpack_from("<II", data, 64 + 8 * i) for i in range(count)] == [tuple(w) for w in image.writes]


def test_hex_is_readmemh_and_c_array_matches(files, tmp_path):
    words = struct.unpack(f"<{len((files / 'regs.bin').read_bytes()) // 4}I", (files / "regs.bin").read_bytes())
    n = len(words)
    (tmp_path / "tb.v").write_text(
        f"module tb; reg [31:0] mem [0:{n - 1}]; integer i;\n"
        f'initial begin $readmemh("{files / "regs.hex"}", mem); for (i = 0; i < {n}; i = i + 1) $display("%08x", mem[i]); end\n'
        "endmodule\n")
    subprocess.run(["iverilog", "-o", str(tmp_path / "tb.vvp"), str(tmp_path / "tb.v")], check=True)
    out = subprocess.run(["vvp", "-n", str(tmp_path / "tb.vvp")], check=True, capture_output=True, text=True).stdout
    assert [int(line, 16) for line in out.split() if len(line) == 8] == list(words)
    (tmp_path / "main.c").write_text(
        f'#include <stdio.h>\n#include "{files / "regs_image.h"}"\n'
        "int main(void) { for (unsigned i = 0; i < CIMQ_REGS_IMAGE_WORDS; i++) printf(\"%08x\\n\", cimq_regs_image[i]);\n"
        "  printf(\"%u %u\\n\", CIMQ_REGS_IMAGE_RECORDS_WORD, CIMQ_REGS_IMAGE_RECORD_COUNT); return 0; }\n")
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Werror", "-o", str(tmp_path / "m"), str(tmp_path / "main.c")], check=True)
    lines = subprocess.run([str(tmp_path / "m")], check=True, capture_output=True, text=True).stdout.splitlines()
    assert [int(x, 16) for x in lines[:-1]] == list(words)
    assert lines[-1] == f"16 {len(build_image(PARAMS, GEOMETRY).writes)}"


def _refused(path: Path, match: str, arch: ArchConfig | None = ARCH) -> None:
    with pytest.raises(CimqInputError, match=match) as info:
        read_image(path, arch=arch)
    assert str(path) in str(info.value)


def test_refusals(files, tmp_path):
    data = (files / "regs.bin").read_bytes()
    _refused(files / "regs.bin", r"made for another architecture: fingerprint .*expected", ArchConfig(layer_contexts=5))
    _refused(files / "regs.hex", r"made for another architecture", ArchConfig(layer_contexts=5))
    _refused(files / "regs.json", r"made for another architecture", ArchConfig(layer_contexts=5))
    cases = {
        "crc.bin": data[:70] + bytes([data[70] ^ 1]) + data[71:],
        "magic.bin": b"XIMQREGS" + data[8:],
        "version.bin": data[:8] + struct.pack("<I", 2) + data[12:],
        "short.bin": data[:-4],
        "header.bin": data[:40],
        "long.bin": data + b"\0\0\0\0",
        "empty.bin": b"",
    }
    for name, blob in cases.items():
        (tmp_path / name).write_bytes(blob)
    _refused(tmp_path / "crc.bin", r"bad CRC32 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8} \(the image is corrupted\)")
    _refused(tmp_path / "magic.bin", r"bad magic b'XIMQREGS', expected b'CIMQREGS'")
    _refused(tmp_path / "version.bin", r"image format version 2 is not supported \(expected 1\)")
    _refused(tmp_path / "short.bin", rf"truncated: {len(data) - 4} bytes, the header announces {len(data)}")
    _refused(tmp_path / "header.bin", r"truncated: 40 bytes, a register image has a 64-byte header")
    _refused(tmp_path / "empty.bin", r"truncated: 0 bytes")
    _refused(tmp_path / "long.bin", r"4 unexpected bytes after")
    lines = (files / "regs.hex").read_text().splitlines()
    (tmp_path / "cut.hex").write_text("\n".join(lines[:-3]) + "\n")
    _refused(tmp_path / "cut.hex", r"truncated")
    (tmp_path / "bad.hex").write_text("\n".join(lines[:5] + ["xyz"] + lines[5:]) + "\n")
    _refused(tmp_path / "bad.hex", r"line 6: 'xyz' is not a 32-bit hex word")
    doc = json.loads((files / "regs.json").read_text())
    doc["writes"][0]["value"] = "0x00000003"
    (tmp_path / "edit.json").write_text(json.dumps(doc))
    _refused(tmp_path / "edit.json", r"bad CRC32")
    doc = json.loads((files / "regs.json").read_text())
    del doc["writes"][-1]
    (tmp_path / "cut.json").write_text(json.dumps(doc))
    _refused(tmp_path / "cut.json", r"payload_length: \d+, but the writes and meta make \d+ bytes")
    (tmp_path / "x.txt").write_text("")
    _refused(tmp_path / "x.txt", r"unknown image format '\.txt'")
    _refused(tmp_path / "missing.bin", r"file not found")


def test_forged_images_with_valid_crc_are_refused(tmp_path):
    import dataclasses

    from cimq.hw.regs import BusWrite

    image = build_image(PARAMS, GEOMETRY)
    regmap = build_register_map(ARCH)
    ro = dataclasses.replace(image, writes=(BusWrite(0, 1),) + image.writes)
    (tmp_path / "ro.bin").write_bytes(ro.to_bytes())
    _refused(tmp_path / "ro.bin", r"write #0 to 0x0 hits no writable register")
    ctrl3 = regmap.find("CTX[3].CTRL")
    geo3 = [BusWrite(regmap.find(f"CTX[3].{r}").offset, 1) for r in ("IN_LEN", "OUT_LEN")]
    enabled = dataclasses.replace(image, writes=image.writes + tuple(geo3) + (BusWrite(ctrl3.offset, 1),))
    (tmp_path / "unused.bin").write_bytes(enabled.to_bytes())
    _refused(tmp_path / "unused.bin", r"context 3: enabled but no layer is assigned to it")
    window = regmap.find("CTX[0].WINDOW")
    big = dataclasses.replace(image, writes=image.writes + (BusWrite(window.offset, 17),))
    (tmp_path / "big.bin").write_bytes(big.to_bytes())
    _refused(tmp_path / "big.bin", r"context 0 \(conv1\): WINDOW\.drop_low: 17 is outside the allowed range 0\.\.16")
