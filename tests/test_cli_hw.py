"""``cimq generate`` / ``verify`` / ``synth`` as a user calls them.

Deterministic output (byte-identical across runs, build folders and run
names), bad input → exit 2 with one line and nothing in build/ changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cimq.cli.main import main
from cimq.params import LayerParams, ModelParams

FILES = ["files.f", "truncation_unit.v", "truncation_unit_fixed.v"]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _generate(build: Path, *extra: str, run: str = "default") -> int:
    return main(["generate", "--build-dir", str(build), "--run", run, *extra])


def test_generate_is_byte_identical(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "build", tmp_path / "b" / "elsewhere"
    assert _generate(a) == 0
    first = _snapshot(a / "default" / "rtl")
    assert sorted(first) == FILES
    assert _generate(a) == 0
    assert _snapshot(a / "default" / "rtl") == first
    assert _generate(b, run="other") == 0
    assert _snapshot(b / "other" / "rtl") == first
    assert first["files.f"] == b"truncation_unit.v\ntruncation_unit_fixed.v\n"
    for name in FILES[1:]:
        text = first[name].decode()
        assert "src =" not in text and str(tmp_path) not in text and "/work" not in text
        assert f"module {name[:-2]}(" in text


def test_generate_follows_params_and_fixed_window(tmp_path: Path) -> None:
    params = ModelParams(
        arch={"acc_bits": 16, "out_bits": 6}, layers=[LayerParams(name="fc", fl_w=6, fl_x=6, drop_low=4)]
    )
    path = tmp_path / "params.json"
    path.write_text(params.model_dump_json())
    build = tmp_path / "build"
    assert _generate(build, "--params", str(path), "--fixed-drop-low", "10", "--fixed-no-relu") == 0
    rtl = build / "default" / "rtl"
    conf = (rtl / "truncation_unit.v").read_text()
    fixed = (rtl / "truncation_unit_fixed.v").read_text()
    assert "input [15:0] i_stream__payload;" in conf and "output [6:0] o_stream__payload;" in conf
    assert "input [3:0] cfg_drop_low;" in conf  # 0..10
    assert "drop_low=10 relu=0 rounding=floor" in fixed.splitlines()[0]
    assert "cfg_we" not in fixed


@pytest.mark.parametrize(
    "content,needle",
    [
        ('{"arch": {"acc_bits": 99}, "layers": []}', "arch.acc_bits: 99 is invalid"),
        ("{not json", "not valid JSON"),
        (
            '{"arch": {}, "layers": [{"name": "a", "fl_w": 6, "fl_x": 6, "drop_low": 17}]}',
            "layers[0].drop_low: 17 is outside the allowed range 0..16",
        ),
    ],
)
def test_bad_params_file_exits_2_and_changes_nothing(
    tmp_path: Path, content: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    build = tmp_path / "build"
    assert _generate(build) == 0
    before = _snapshot(build)
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    capsys.readouterr()
    assert _generate(build, "--params", str(bad), "--fixed-drop-low", "3") == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and str(bad) in err
    assert len(err.splitlines()) == 1
    assert _snapshot(build) == before


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--fixed-drop-low", "17"], "--fixed-drop-low: 17 is outside the allowed range 0..16"),
        (["--fixed-rounding", "half_even"], "--fixed-rounding: 'half_even' is not one of 'floor', 'half_up'"),
        (["--params", "does-not-exist.json"], "does-not-exist.json: file not found"),
    ],
)
def test_bad_generate_options_exit_2(tmp_path: Path, args: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    build = tmp_path / "build"
    assert _generate(build, *args) == 2
    assert needle in capsys.readouterr().err
    assert not build.exists()


@pytest.mark.parametrize("command", [["verify", "--sim", "icarus"], ["synth"]])
def test_commands_need_generated_rtl(tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--build-dir", str(tmp_path / "build")]) == 2
    err = capsys.readouterr().err
    assert "files.f: file list not found (run `cimq generate` first)" in err


def test_generate_then_synth_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build = tmp_path / "build"
    assert _generate(build) == 0
    assert main(["synth", "--build-dir", str(build)]) == 0
    synth = build / "default" / "synth"
    summary = json.loads((synth / "summary.json").read_text())
    assert summary["configurable"]["latches"] == summary["fixed"]["latches"] == 0
    assert summary["overhead_percent"]["transistors"] > 0
    assert (synth / "truncation_unit_cmos.txt").is_file() and (synth / "truncation_unit_fixed.log").is_file()
    assert "truncation_unit_fixed" in capsys.readouterr().out
