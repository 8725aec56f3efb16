"""``cimq regs``: outputs, byte-identical reruns, bad input, decoding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cimq.cli.main import main
from cimq.params import LayerParams, ModelParams

EXPECTED = ["html", "regmap.h", "regmap.json", "regmap.md", "regmap.rdl", "regs.bin", "regs.hex", "regs.json", "regs_image.h"]


def _params(tmp_path: Path, **arch) -> Path:
    p = ModelParams(arch=arch or {}, layers=[LayerParams(name="conv1", fl_w=9, fl_x=6, drop_low=10),
                                             LayerParams(name="fc", fl_w=8, fl_x=4, drop_low=7, relu=False)])
    path = tmp_path / "params.json"
    path.write_text(p.model_dump_json(indent=2))
    return path


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_writes_every_output_byte_identically(tmp_path, capsys):
    params = _params(tmp_path)
    assert main(["regs", "--params", str(params), "--build-dir", str(tmp_path / "b"), "--run", "r1"]) == 0
    assert main(["regs", "--params", str(params), "--build-dir", str(tmp_path / "b"), "--run", "r2"]) == 0
    one, two = tmp_path / "b" / "r1" / "regs", tmp_path / "b" / "r2" / "regs"
    assert sorted(p.name for p in one.iterdir()) == EXPECTED
    assert _tree(one) == _tree(two)
    assert main(["regs", "--params", str(params), "--build-dir", str(tmp_path / "b"), "--run", "r1"]) == 0
    assert _tree(one) == _tree(two)  # regenerating in place: same bytes, nothing left over
    assert not [p for p in (tmp_path / "b" / "r1").iterdir() if p.name != "regs"]


def test_decode_prints_the_layers(tmp_path, capsys):
    params = _params(tmp_path)
    assert main(["regs", "--params", str(params), "--build-dir", str(tmp_path / "b")]) == 0
    capsys.readouterr()
    assert main(["regs", "--decode", str(tmp_path / "b" / "default" / "regs" / "regs.hex"), "--params", str(params)]) == 0
    out = capsys.readouterr().out
    assert "2 of 8 contexts used" in out
    assert "CTX[1] fc: fl_w 8 fl_x 4 drop_low 7 relu 0 rounding floor signed_input 0; disabled" in out


@pytest.mark.parametrize("case", ["drop_low", "too_many", "missing", "not_json", "bad_run", "no_params"])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, case):
    params = _params(tmp_path)
    doc = json.loads(params.read_text())
    if case == "drop_low":
        doc["layers"][1]["drop_low"] = 17
    elif case == "too_many":
        doc["arch"]["layer_contexts"] = 1
    if case in ("drop_low", "too_many"):
        params.write_text(json.dumps(doc))
    elif case == "not_json":
        params.write_text("{")
    args = {"missing": ["--params", str(tmp_path / "nope.json")], "no_params": []}.get(case, ["--params", str(params)])
    run = "bad/run" if case == "bad_run" else "default"
    assert main(["regs", *args, "--build-dir", str(tmp_path / "b"), "--run", run]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error:")
    expected = {"drop_low": "layers[1].drop_low: 17 is outside the allowed range 0..16",
                "too_many": "layers: 2 layers do not fit the 1 layer contexts",
                "missing": "nope.json: file not found", "not_json": "not valid JSON",
                "bad_run": "not a valid run name", "no_params": "--params FILE is required"}[case]
    assert expected in err
    assert not (tmp_path / "b").exists()


def test_failed_regeneration_keeps_the_old_outputs(tmp_path, capsys):
    params = _params(tmp_path)
    assert main(["regs", "--params", str(params), "--build-dir", str(tmp_path / "b")]) == 0
    before = _tree(tmp_path / "b")
    doc = json.loads(params.read_text())
    doc["layers"][0]["drop_low"] = 99
    params.write_text(json.dumps(doc))
    assert main(["regs", "--params", str(params), "--build-dir", str(tmp_path / "b")]) == 2
    assert _tree(tmp_path / "b") == before


def test_decode_refuses_other_arch(tmp_path, capsys):
    params = _params(tmp_path)
    assert main(["regs", "--params", str(params), "--build-dir", str(tmp_path / "b")]) == 0
    other = tmp_path / "o"
    other.mkdir()
    capsys.readouterr()
    assert main(["regs", "--decode", str(tmp_path / "b" / "default" / "regs" / "regs.bin"),
                 "--params", str(_params(other, layer_contexts=4))]) == 2
    assert "made for another architecture" in capsys.readouterr().err
