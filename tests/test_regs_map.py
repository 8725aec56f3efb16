"""The register map definition, its builder, and layer <-> field encoding."""

from __future__ import annotations

import random

import pytest

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.hw.regs import (
    CONTEXT_ARRAY,
    MAX_ARRAYS,
    Access,
    Field,
    LayerGeometry,
    MemoryMapBuilder,
    Register,
    build_image,
    build_register_map,
    decode_context,
    encode_context,
    geometry_limits,
)
from cimq.params import LayerParams, ModelParams

ARCHS = [ArchConfig(), ArchConfig(layer_contexts=1), ArchConfig(layer_contexts=3, acc_bits=20),
         ArchConfig(layer_contexts=256, xbar_rows=64, xbar_cols=256, cell_bits=1, acc_bits=32, out_bits=4)]


@pytest.mark.parametrize("arch", ARCHS)
def test_layout_and_widths_follow_the_arch(arch):
    regmap = build_register_map(arch)
    regs = list(regmap.walk())
    offsets = [r.offset for r in regs]
    assert offsets == sorted(set(offsets)) and all(o % 4 == 0 for o in offsets)
    assert [r.path for r in regs[:6]] == ["ID", "VERSION", "ARCH_HASH", "CONTEXTS", "ACTIVE", "STATUS"]
    arr = regmap.array(CONTEXT_ARRAY)
    assert arr.count == arch.layer_contexts and arr.stride & (arr.stride - 1) == 0
    assert len(regs) == 6 + 5 * arch.layer_contexts
    for c in range(arch.layer_contexts):
        for rel, name in enumerate(["CTRL", "WINDOW", "IN_LEN", "OUT_LEN", "ARRAY_BASE"]):
            assert regmap.find(f"CTX[{c}].{name}").offset == arr.base + c * arr.stride + 4 * rel
    assert regmap.size == regs[-1].offset + 4 and (regmap.size - 1) >> 2 < 1 << regmap.addr_width
    # Every programmable limit fits its field, and not one more than needed.
    ctx = regmap.find("ACTIVE").register.field("context")
    assert ctx.max_value == arch.layer_contexts - 1 and ctx.width == max(1, (arch.layer_contexts - 1).bit_length())
    dl = arr.register("WINDOW").field("drop_low")
    assert dl.max_value == arch.acc_bits - arch.out_bits and (1 << dl.width) > dl.max_value >= (1 << dl.width) >> 1
    in_max, out_max, base_max = geometry_limits(arch)
    assert in_max == MAX_ARRAYS * arch.xbar_rows and base_max == MAX_ARRAYS - 1
    assert out_max == MAX_ARRAYS * arch.xbar_cols * arch.cell_bits // arch.weight_bits
    for reg, name, m in (("IN_LEN", "in_len", in_max), ("OUT_LEN", "out_len", out_max), ("ARRAY_BASE", "array_base", base_max)):
        f = arr.register(reg).field(name)
        assert f.max_value == m and f.width == m.bit_length()


def test_register_packing_and_builder_refusals():
    reg = Register("DEMO", [Field("a", 3, Access.RW), Field("b", 1, Access.W1C), Field("c", 4, Access.RW, lsb=8)], doc="")
    assert [(f.lsb, f.mask) for f in reg.fields] == [(0, 0x7), (3, 0x8), (8, 0xF00)]
    assert reg.pack({"a": 5, "b": 1, "c": 9}) == 5 | 8 | 9 << 8
    assert reg.unpack(0xFFFF_FFFF) == {"a": 7, "b": 1, "c": 15}
    with pytest.raises(ValueError, match="does not fit 3 bits"):
        reg.pack({"a": 8})
    with pytest.raises(ValueError, match="overlaps"):
        Register("BAD", [Field("a", 4, Access.RW), Field("b", 1, Access.RW, lsb=2)], doc="")
    with pytest.raises(ValueError, match="exceed 32 bits"):
        Register("BAD", [Field("a", 30, Access.RW), Field("b", 3, Access.RW)], doc="")
    with pytest.raises(ValueError, match="only an RO field can be constant"):
        Field("a", 1, Access.RW, const=True)
    b = MemoryMapBuilder("m")
    b.add(reg)
    with pytest.raises(ValueError, match="overlaps what is placed"):
        b.add(Register("OTHER", [Field("x", 1, Access.RW)], doc=""), offset=0)
    with pytest.raises(ValueError, match="field names must be unique"):
        b.add_array("A", [reg, Register("R2", [Field("a", 1, Access.RW)], doc="")], count=2)


def test_encode_decode_round_trip():
    arch = ArchConfig(layer_contexts=4)
    rng = random.Random(5)
    in_max, out_max, base_max = geometry_limits(arch)
    for _ in range(200):
        layer = LayerParams(name="x", fl_w=rng.randint(-8, 16), fl_x=rng.randint(-4, 10), drop_low=rng.randint(0, arch.max_drop_low),
                            relu=rng.random() < 0.5, rounding=rng.choice(["floor", "half_up"]), signed_input=rng.random() < 0.5)
        geo = rng.choice([None, LayerGeometry(in_len=rng.randint(1, in_max), out_len=rng.randint(1, out_max),
                                              array_base=rng.randint(0, base_max))])
        values = encode_context(arch, layer, geo)
        assert values["CTRL"]["enable"] == (geo is not None)
        cfg = decode_context(arch, values)
        assert cfg.layer(layer.name, layer.fl_w, layer.fl_x) == layer
        assert cfg.geometry == geo
        if geo is None:  # the documented placeholder
            assert (values["IN_LEN"]["in_len"], values["OUT_LEN"]["out_len"], values["ARRAY_BASE"]["array_base"]) == (0, 0, 0)
    unused = encode_context(arch, None)
    assert all(v == 0 for reg in unused.values() for v in reg.values())


def test_refusals_name_layer_field_value_and_range():
    arch = ArchConfig()
    wide = LayerParams(name="conv2", fl_w=8, fl_x=6, drop_low=17)
    with pytest.raises(CimqInputError, match=r"^p\.json: layers\[3\] \(conv2\): drop_low: 17 is outside the allowed range 0\.\.16"):
        encode_context(arch, wide, what="layers[3] (conv2)", source="p.json")
    ok = LayerParams(name="fc", fl_w=8, fl_x=6, drop_low=4)
    in_max = geometry_limits(arch)[0]
    with pytest.raises(CimqInputError, match=rf"^layers\[0\] \(fc\): IN_LEN\.in_len: {in_max + 1} is outside the allowed range 0\.\.{in_max}$"):
        encode_context(arch, ok, LayerGeometry(in_len=in_max + 1, out_len=1), what="layers[0] (fc)")
    with pytest.raises(CimqInputError, match=r"ARRAY_BASE\.array_base: 256 is outside the allowed range 0\.\.255"):
        encode_context(arch, ok, LayerGeometry(in_len=1, out_len=1, array_base=256))
    with pytest.raises(CimqInputError, match="signed_input: true needs dac_bits 1"):
        encode_context(ArchConfig(dac_bits=2), LayerParams(name="s", fl_w=0, fl_x=0, drop_low=0, signed_input=True))
    small = ArchConfig(layer_contexts=2)
    three = ModelParams(arch=small, layers=[LayerParams(name=f"l{i}", fl_w=0, fl_x=0, drop_low=0) for i in range(3)])
    with pytest.raises(CimqInputError, match=r"^p\.json: layers: 3 layers do not fit the 2 layer contexts"):
        build_image(three, source="p.json")
    two = ModelParams(arch=small, layers=three.layers[:2])
    with pytest.raises(CimqInputError, match=r"geometry: layer 'nope' is not in the params"):
        build_image(two, {"nope": LayerGeometry(in_len=1, out_len=1)})
    bad = encode_context(arch, ok)
    bad["CTRL"]["enable"] = 1  # enabled without geometry
    with pytest.raises(CimqInputError, match=r"enabled with in_len 0, out_len 0"):
        decode_context(arch, bad)
