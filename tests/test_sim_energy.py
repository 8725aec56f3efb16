"""Energy model: counts against an explicit mapping, table validation, figure of merit."""

from __future__ import annotations

import re
from fractions import Fraction
from importlib import resources
from pathlib import Path

import pytest

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.sim.energy import (
    EVENTS,
    Design,
    LayerWork,
    correct_ops_per_energy,
    event_energies_pj,
    layer_energy,
    layer_event_counts,
    load_energy_table,
    network_energy,
    total_ops,
)


def enumerate_mapping(k: int, n: int, p: int, arch: ArchConfig) -> dict[str, int]:
    """Walk the crossbar mapping cell by cell: row r -> array r // rows, column (n, s) -> array c // cols."""
    tiles: dict[tuple[int, int], dict[str, set]] = {}
    for r in range(k):
        for out in range(n):
            for s in range(arch.slices):
                col = out * arch.slices + s
                tile = tiles.setdefault((r // arch.xbar_rows, col // arch.xbar_cols), {"rows": set(), "cols": set()})
                tile["rows"].add(r)
                tile["cols"].add(col)
    drives = conversions = cells = 0
    for _pos in range(p):
        for _plane in range(arch.planes):
            for tile in tiles.values():
                drives += len(tile["rows"])  # each used row of each array gets a DAC pulse
                conversions += len(tile["cols"])  # each used column of each array is converted
                cells += len(tile["rows"]) * len(tile["cols"])
    row_arrays = len({rt for rt, _ in tiles})
    return {"drives": drives, "conversions": conversions, "cells": cells, "row_arrays": row_arrays}


@pytest.mark.parametrize(
    "k,n,p",
    [
        (200, 10, 1),  # 200 rows: two arrays
        (128, 8, 1),  # exactly one array
        (129, 3, 2),  # one row spills into a second array
        (27, 8, 16),  # conv 3x3x3 -> 8 channels on a 4x4 output
        (20, 40, 3),  # 160 slice columns: two column arrays
    ],
)
def test_counts_match_an_explicit_mapping(k: int, n: int, p: int) -> None:
    arch = ArchConfig()
    ref = enumerate_mapping(k, n, p, arch)
    for design in Design:
        c = layer_event_counts(LayerWork("l", k, n, p), arch, design)
        assert c.dac_row_drive == ref["drives"]
        assert c.input_register_read_bit == ref["drives"]  # 1-bit DACs
        assert c.adc_conversion == c.sample_hold == c.shift_add == c.output_register_rmw == ref["conversions"]
        assert c.cell_read == ref["cells"]
        assert c.input_register_write_bit == p * k * 8
        assert c.accumulator_add == p * n * ref["row_arrays"]
        assert c.offset_correction == c.truncation == p * n
        assert c.input_sum_add == p * k
    assert ref["row_arrays"] == {200: 2, 128: 1, 129: 2, 27: 1, 20: 1}[k]


def test_proposed_adds_only_config_reads_and_window_mux() -> None:
    arch = ArchConfig()  # acc 24, out 8: drop_low 0..16 -> 17 window positions
    layer = LayerWork("fc", 300, 20, 5)
    conv = layer_event_counts(layer, arch, Design.CONVENTIONAL)
    prop = layer_event_counts(layer, arch, Design.PROPOSED)
    for name, count in conv.items():
        if name in ("config_register_read_bit", "window_mux_bit"):
            assert count == 0
        else:
            assert getattr(prop, name) == count
    # drop_low needs 5 bits (17 values) plus relu/rounding/signed mode bits;
    # a 17-way window select is ceil(log2 17) = 5 levels of 2:1 muxes per output bit.
    assert prop.config_register_read_bit == 5 * 20 * (5 + 3)
    assert prop.window_mux_bit == 5 * 20 * 8 * 5
    ne = network_energy([layer], arch)
    assert 0 < ne.overhead_percent < 5
    table = load_energy_table()
    extra = sum(getattr(prop, ev) * table.entries[ev].pj for ev in ("config_register_read_bit", "window_mux_bit")) * 1e-12
    assert ne.proposed_j - ne.conventional_j == pytest.approx(extra, rel=1e-9)


def test_default_table_numbers_follow_the_isaac_table() -> None:
    table = load_energy_table()
    pj = {ev: Fraction(table.entries[ev].pj) for ev in EVENTS}
    # ISAAC Table 2: 8 ADCs 16 mW at 1.2 GS/s; 8x128 DACs 4 mW and S+H 10 uW at one read per 100 ns.
    assert float(pj["adc_conversion"]) == pytest.approx(float(Fraction(16, 1000) / 8 / Fraction(12, 10) / 10**9 * 10**12), rel=1e-6)
    assert pj["dac_row_drive"] == Fraction(4, 1000) / 1024 / 10**7 * 10**12
    assert pj["sample_hold"] == Fraction(10, 10**6) / 1024 / 10**7 * 10**12
    assert float(pj["cell_read"]) == pytest.approx(float(Fraction(24, 10000) / 8 / 10**7 / (128 * 128) * 10**12), rel=1e-6)
    for ev in EVENTS:
        entry = table.entries[ev]
        assert entry.pj >= 0 and entry.source and isinstance(entry.estimate, bool)
    # ADC energy doubles per bit around the 8-bit reference; the lossless default is 9 bits.
    e8 = event_energies_pj(table, ArchConfig(adc_bits=8))["adc_conversion"]
    assert event_energies_pj(table, ArchConfig())["adc_conversion"] == pytest.approx(2 * e8)
    assert event_energies_pj(table, ArchConfig(adc_bits=6))["adc_conversion"] == pytest.approx(e8 / 4)
    assert event_energies_pj(table, ArchConfig(dac_bits=2))["dac_row_drive"] == pytest.approx(3 * table.entries["dac_row_drive"].pj)


def test_layer_energy_is_counts_times_table(tmp_path: Path) -> None:
    arch = ArchConfig(adc_bits=8)
    layer = LayerWork("conv", 144, 32, 16)
    table = load_energy_table()
    le = layer_energy(layer, arch, table, Design.PROPOSED)
    expected = sum(Fraction(count) * Fraction(table.entries[ev].pj) for ev, count in le.counts.items()) * Fraction(1, 10**12)
    assert le.total_j == pytest.approx(float(expected), rel=1e-12)
    # A user table with a doubled ADC figure raises exactly the ADC share.
    text = _default_text().replace("pj = 1.6666667", "pj = 3.3333334")
    user = tmp_path / "mine.toml"
    user.write_text(text)
    le2 = layer_energy(layer, arch, load_energy_table(user), Design.PROPOSED)
    assert le2.total_j - le.total_j == pytest.approx(le.energy_j["adc_conversion"], rel=1e-6)


def test_total_ops_is_two_per_mac() -> None:
    layers = [LayerWork("c1", 9, 16, 64), LayerWork("fc", 512, 64, 1)]
    assert total_ops(layers) == 2 * (9 * 16 * 64 + 512 * 64)
    assert network_energy(layers, ArchConfig()).ops == total_ops(layers)


def test_correct_ops_per_energy_against_the_slides() -> None:
    # Slides: conventional 15.94 % at 3738 pJ -> 43.7 GOP/J; proposed 89.97 % at 3782 pJ -> 243.6 GOP/J.
    def implied_ops(acc: str, pj: str, gopj: str) -> Fraction:
        return Fraction(gopj) * 10**9 * 100 * Fraction(pj) / 10**12 / Fraction(acc)

    ops_conv = implied_ops("15.94", "3738", "43.7")
    ops_prop = implied_ops("89.97", "3782", "243.6")
    # Both rows imply the same workload (within the rounding of 43.7 to three digits).
    assert abs(ops_conv - ops_prop) / ops_prop < Fraction(11, 10000)
    assert round(correct_ops_per_energy(89.97, float(ops_prop), 3782e-12), 1) == 243.6
    assert round(correct_ops_per_energy(15.94, float(ops_prop), 3738e-12), 1) == 43.7
    assert round(correct_ops_per_energy(89.97, 1, 3782e-12) / correct_ops_per_energy(15.94, 1, 3738e-12), 1) == 5.6
    assert correct_ops_per_energy(100.0, 2e9, 1.0) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        correct_ops_per_energy(101.0, 1, 1.0)
    with pytest.raises(ValueError):
        correct_ops_per_energy(50.0, 1, 0.0)


def test_bad_layer_work_is_refused() -> None:
    with pytest.raises(ValueError, match="in_rows must be an integer >= 1, got 0"):
        LayerWork("x", 0, 4)
    with pytest.raises(ValueError, match="positions must be an integer >= 1"):
        LayerWork("x", 4, 4, positions=-1)


# ----------------------------------------------------------------------------- table validation


def _default_text() -> str:
    return resources.files("cimq.sim").joinpath("energy_isaac32nm.toml").read_text(encoding="utf-8")


def _section(text: str, name: str) -> tuple[int, int]:
    start = text.index(f"[{name}]")
    nxt = text.find("\n[", start + 1)
    return start, len(text) if nxt < 0 else nxt


def _edit(text: str, section: str, old: str, new: str) -> str:
    start, end = _section(text, section)
    body = text[start:end]
    body2 = re.sub(old, new, body, count=1, flags=re.M)
    assert body2 != body, (section, old)
    return text[:start] + body2 + text[end:]


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda t: _edit(t, "shift_add", r"^pj = .*$", ""), "shift_add.pj: missing (allowed: a number in 0..1e+06)"),
        (lambda t: _edit(t, "cell_read", r"^pj = .*$", "pj = -0.5"), "cell_read.pj: -0.5 is outside the allowed range 0..1e+06"),
        (lambda t: _edit(t, "truncation", r"^pj = .*$", 'pj = "cheap"'), "truncation.pj: 'cheap' is not a number (allowed: a number in 0..1e+06)"),
        (lambda t: _edit(t, "truncation", r"^pj = .*$", "pj = true"), "truncation.pj: True is not a number (allowed: a number in 0..1e+06)"),
        (lambda t: _edit(t, "dac_row_drive", r"^pj = .*$", "pj = nan"), "dac_row_drive.pj: nan is outside the allowed range 0..1e+06"),
        (lambda t: _edit(t, "adc_conversion", r"^ref_bits = .*$", "ref_bits = 0"), "adc_conversion.ref_bits: 0 is outside the allowed range 1..16"),
        (lambda t: _edit(t, "adc_conversion", r"^per_bit_factor = .*$", "per_bit_factor = 9.0"), "adc_conversion.per_bit_factor: 9.0 is outside the allowed range 1..4"),
        (lambda t: _edit(t, "sample_hold", r"^source = .*$", 'source = ""'), "sample_hold.source: missing or empty (allowed: a non-empty string naming the source)"),
        (lambda t: _edit(t, "sample_hold", r"^estimate = .*$", "estimate = 1"), "sample_hold.estimate: 1 is not a boolean (allowed: true, false)"),
        (lambda t: _edit(t, "sample_hold", r"^estimate = .*$", "estimate = false\nenergy = 3"), "sample_hold.energy: unknown key (allowed: pj, source, estimate)"),
        (lambda t: t.replace("[window_mux_bit]", "[window_mux_bits]"), "window_mux_bits: unknown section (allowed: table, " + ", ".join(EVENTS) + ")"),
        (lambda t: t[: _section(t, "window_mux_bit")[0]], "window_mux_bit: missing (a table with pj, source, estimate)"),
        (lambda t: _edit(t, "adc_conversion", r"^ref_bits = .*$", "ref_bits = 8.0"), "adc_conversion.ref_bits: 8.0 is not an integer (allowed: an integer in 1..16)"),
    ],
)
def test_bad_tables_name_file_key_and_range(tmp_path: Path, edit, message: str) -> None:
    path = tmp_path / "table.toml"
    path.write_text(edit(_default_text()))
    with pytest.raises(CimqInputError) as info:
        load_energy_table(path)
    assert str(info.value) == f"{path}: {message}"


def test_table_syntax_error_and_integer_energies(tmp_path: Path) -> None:
    path = tmp_path / "table.toml"
    path.write_text(_default_text() + "\n[[oops\n")
    with pytest.raises(CimqInputError) as info:
        load_energy_table(path)
    assert str(info.value).startswith(f"{path}: not valid TOML:")
    # An integer where a float is expected is a valid number.
    path.write_text(_edit(_default_text(), "adc_conversion", r"^per_bit_factor = .*$", "per_bit_factor = 2"))
    assert load_energy_table(path).adc_per_bit_factor == 2.0


def test_missing_table_file(tmp_path: Path) -> None:
    with pytest.raises(CimqInputError) as info:
        load_energy_table(tmp_path / "nope.toml")
    assert str(info.value) == f"{tmp_path / 'nope.toml'}: file not found"
