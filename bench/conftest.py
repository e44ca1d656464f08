"""Benchmarks share the test corpus helpers (tests/corpus.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
