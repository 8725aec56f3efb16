"""Generated documentation stays in step with the code it is generated from."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _render_module():
    spec = importlib.util.spec_from_file_location("render_docs", ROOT / "scripts" / "render_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_register_page_is_current() -> None:
    page = (ROOT / "docs" / "registers.md").read_text(encoding="utf-8")
    assert page == _render_module().registers_page(), "run scripts/render_docs.py"
    assert "| `0x010` | ACTIVE |" in page
