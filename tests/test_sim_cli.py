"""``cimq simulate`` end to end on the embedded default (2 chips)."""

from __future__ import annotations

import json
from pathlib import Path

from cimq.cli.main import main


def test_simulate_writes_accuracy_table(tmp_path: Path) -> None:
    rc = main(["simulate", "--chips", "2", "--fl-w", "9", "--threads", "1", "--build-dir", str(tmp_path)])
    assert rc == 0
    doc = json.loads((tmp_path / "default" / "sim" / "simulate.json").read_text())
    acc = doc["result"]["accuracy"]
    assert len(acc["values"]) == 2 and acc["min"] <= acc["mean"] <= acc["max"]
    assert doc["result"]["float_accuracy"] > 90
    assert [layer["name"] for layer in doc["layers"]] == ["conv1", "conv2", "fc1", "fc2"]


def test_simulate_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    assert main(["simulate", "--variation", "bogus", "--build-dir", str(tmp_path)]) == 2
    bad = tmp_path / "p.json"
    bad.write_text('{"layers": []}')
    assert main(["simulate", "--params", str(bad), "--build-dir", str(tmp_path)]) == 2
    assert not (tmp_path / "default").exists()
