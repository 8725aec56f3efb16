"""``cimq quantize``: bad options exit 2 and write nothing."""

from __future__ import annotations

import pytest

from cimq.cli.main import main


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--variation", "bogus"], "--variation"),
        (["--fl-min", "9", "--fl-max", "5"], "--fl-min"),
        (["--fl-max", "40"], "--fl-max"),
        (["--chips", "0"], "--chips"),
        (["--threshold", "150"], "--threshold"),
        (["--dataset", "mnist"], "--dataset"),
        (["--threads", "0"], "--threads"),
        (["--run", "../x"], "--run"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(tmp_path, capsys, args, needle) -> None:
    build = tmp_path / "build"
    assert main(["quantize", *args, "--build-dir", str(build)]) == 2
    assert needle in capsys.readouterr().err
    assert not build.exists()
