"""The distribution: a wheel carries every stage, and ``cimq`` runs from anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_every_stage_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("cimq-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "cimq/fixed.py",
        "cimq/cli/main.py",
        "cimq/hw/truncation.py",
        "cimq/hw/regs/bank.py",
        "cimq/sim/energy_isaac32nm.toml",
        "cimq/quant/__init__.py",
        "cimq/verification/truncation/test_truncation.py",
    ):
        assert required in names, f"{required} missing from {wheel.name}"
    assert not any(n.startswith("tests/") for n in names)

    # Install the wheel alone into a folder and import it from an unrelated cwd:
    # the package must not depend on the checkout being on sys.path.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = (
        "import cimq, cimq.hw.truncation, cimq.sim.energy as e; "
        "print(cimq.__file__); print(e.load_energy_table().__class__.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, cwd=tmp_path, env=env, capture_output=True, text=True)
    first = out.stdout.splitlines()[0]
    assert first.startswith(str(target)), first
    help_run = subprocess.run(
        [sys.executable, "-m", "cimq.cli.main", "--help"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert help_run.returncode == 0 and "generate" in help_run.stdout


def test_console_script_runs_from_any_directory(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("cimq")
    result = subprocess.run([str(exe), "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0
    assert "verify" in result.stdout
    bad = subprocess.run([str(exe), "no-such-command"], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 2
    assert not (tmp_path / "build").exists()
