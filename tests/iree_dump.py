"""Parses `iree-dump-module` output into per-function op lines, for comparison with our listing."""
from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

_FUNC = re.compile(r"^vm\.func @([^(]+)\(")


def dump_text(vmfb: bytes, tool: str) -> str:
    with tempfile.NamedTemporaryFile(suffix=".vmfb") as f:
        f.write(vmfb)
        f.flush()
        return subprocess.run([tool, f.name], check=True, capture_output=True, text=True).stdout


def function_bodies(text: str) -> list[tuple[str, list[str]]]:
    """[(function name, [lines of its body: '^bbN:' labels and op lines, stripped])]."""
    out: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        m = _FUNC.match(line)
        if m:
            current = []
            out.append((m.group(1), current))
        elif current is not None:
            if line == "}":
                current = None
            else:
                current.append(line.strip())
    return out


def op_name(line: str) -> str:
    """The `vm.*` op name of a listing line ('' for block labels)."""
    if line.startswith("^"):
        return ""
    m = re.search(r"(?:^|= )(vm\.[a-z0-9_.]+)", line)
    return m.group(1) if m else line
