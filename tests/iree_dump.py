"""Parses `iree-dump-module` output into per-function op lines, for comparison with our listing."""
from __future__ import annotations

import re
import subprocess
import tempfile

_FUNC = re.compile(r"^vm\.func @([^(]+)\(")


def dump_text(vmfb: bytes, tool: str) -> tuple[str, bool]:
    """(stdout, complete). 3.13's disassembler stops at ops it cannot print (exit 1)."""
    with tempfile.NamedTemporaryFile(suffix=".vmfb") as f:
        f.write(vmfb)
        f.flush()
        run = subprocess.run([tool, f.name], capture_output=True, text=True)
        return run.stdout, run.returncode == 0


def complete_function_bodies(vmfb: bytes, tool: str) -> list[tuple[str, list[str]]]:
    """Function bodies `tool` printed in full (a failed dump loses its last function)."""
    text, complete = dump_text(vmfb, tool)
    bodies = function_bodies(text)
    return bodies if complete else bodies[:-1]


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
