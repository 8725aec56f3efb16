"""The params file and ArchConfig: valid files load, bad ones fail with one clear line."""

from __future__ import annotations

import json

import pytest

from cimq.arch import ArchConfig, lossless_adc_bits
from cimq.errors import CimqInputError
from cimq.files import load_json_model, parse_json_model
from cimq.params import LayerParams, ModelParams


def layer(**kw) -> dict:
    base = {"name": "fc1", "fl_w": 9, "fl_x": 6, "drop_low": 7}
    base.update(kw)
    return base


def test_round_trip_is_stable(tmp_path) -> None:
    params = ModelParams(layers=[LayerParams(**layer()), LayerParams(**layer(name="fc2", relu=False))])
    text = params.model_dump_json(indent=2)
    again = parse_json_model(ModelParams, text, source="x.json")
    assert again == params
    assert again.model_dump_json(indent=2) == text
    assert again.layers[0].fl_acc == 15 and again.layers[0].fl_out == 8


def test_arch_defaults_follow_the_contract() -> None:
    arch = ArchConfig()
    assert (arch.xbar_rows, arch.weight_bits, arch.cell_bits, arch.dac_bits, arch.out_bits) == (128, 8, 2, 1, 8)
    assert arch.slices == 4 and arch.planes == 8
    # 128 rows x level 3 x plane 1 = 384 -> 9 bits is lossless
    assert arch.adc_bits == lossless_adc_bits(128, 2, 1) == 9
    assert ArchConfig().fingerprint() == ArchConfig().fingerprint()
    assert ArchConfig(acc_bits=25).fingerprint() != arch.fingerprint()


@pytest.mark.parametrize(
    "doc,message",
    [
        ({"layers": [layer(drop_low=20)]}, "x.json: layers[0].drop_low: 20 is outside the allowed range 0..16 (acc_bits 24 - out_bits 8)"),
        ({"layers": [layer(fl_w=99)]}, "x.json: layers[0].fl_w: 99 is invalid: input should be less than or equal to 32"),
        ({"layers": [layer(rounding="up")]}, "x.json: layers[0].rounding: \"up\" is invalid: input should be 'floor' or 'half_up'"),
        ({"layers": [layer(), layer()]}, "x.json: layers[1].name: 'fc1' appears twice"),
        ({"layers": []}, "x.json: layers: list is invalid: list should have at least 1 item after validation, not 0"),
        ({"arch": {"cell_bits": 3}, "layers": [layer()]}, "x.json: arch.cell_bits: 3 is not one of 1, 2, 4"),
        ({"arch": {"adc_bits": 12}, "layers": [layer()]}, "x.json: arch.adc_bits: 12 exceeds the lossless width 9 for 128 rows"),
        ({"arch": {"xbar_rows": 4096, "g_frac_bits": 12}, "layers": [layer()]}, "x.json: arch.xbar_rows: 4096 with cell_bits 2 and g_frac_bits 12 lets column sums reach 2**24 (float32 would no longer be exact)"),
        ({"layers": [layer(signed_input=True)], "arch": {"dac_bits": 2}}, "x.json: layers[0].signed_input: true needs dac_bits 1 (the MSB plane is subtracted), but dac_bits is 2"),
        ({"version": 2, "layers": [layer()]}, "x.json: version: 2 is invalid: input should be 1"),
        ({"layers": [{"name": "a"}]}, "x.json: layers[0].fl_w: missing (required field)"),
        ({"layers": [layer(extra=1)]}, "x.json: layers[0].extra: 1 is invalid: extra inputs are not permitted"),
    ],
)
def test_bad_params_name_field_value_and_range(doc: dict, message: str) -> None:
    with pytest.raises(CimqInputError) as info:
        parse_json_model(ModelParams, json.dumps(doc), source="x.json")
    assert str(info.value) == message


def test_unreadable_files(tmp_path) -> None:
    with pytest.raises(CimqInputError, match="missing.json: file not found"):
        load_json_model(ModelParams, tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope")
    with pytest.raises(CimqInputError, match=r"bad.json: not valid JSON: .* at line 1 column 3"):
        load_json_model(ModelParams, bad)
