"""Benchmarks share the test corpus helpers (tests/corpus.py)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    """Prints bench/test_speed.py's table (ns per unit side by side, with ratios)."""
    module = sys.modules.get("speed_support")
    lines = module.TABLE.lines() if module is not None else []
    if lines:
        terminalreporter.write_sep("=", "splatjit vs iree.runtime vs C")
        for line in lines:
            terminalreporter.write_line(line)
