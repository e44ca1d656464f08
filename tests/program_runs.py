"""Running corpus programs both ways: `iree-run-module` (the oracle, a subprocess, so an
interpreter crash cannot take the test process down) and `splatjit run` (in process).

`random_inputs(item, seed)` draws arrays shaped like the item's `// corpus-inputs:` flags:
floats in [-2, 2), integers in [-1000, 1000] without 0 and -1 (integer division by them
kills IREE's interpreter with SIGFPE).
"""
from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np

import corpus
from splatjit.hal.text import parse_input
from splatjit.runner import run

RUN_TIMEOUT_S = 120


def iree_run_module_path() -> str | None:
    return shutil.which("iree-run-module")


def random_inputs(item, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for flag in item.inputs:
        template = parse_input(flag.split("=", 1)[1])
        if template.dtype.kind == "f":
            a = rng.uniform(-2, 2, template.shape).astype(template.dtype)
        else:
            a = rng.integers(1, 1001, template.shape) * rng.choice([-1, 1], template.shape)
            a = np.where(a == -1, 2, a).astype(template.dtype)
        out.append(a)
    return out


def save_inputs(arrays, directory: Path) -> list[str]:
    flags = []
    for i, a in enumerate(arrays):
        path = directory / f"in{i}.npy"
        np.save(path, a, allow_pickle=False)
        flags.append(f"@{path}")
    return flags


def iree_run(module_path: Path, inputs: list[str], outputs: list[str] = ()) -> subprocess.CompletedProcess:
    cmd = [iree_run_module_path(), f"--module={module_path}", "--function=main",
           *[f"--input={i}" for i in inputs], *[f"--output={o}" for o in outputs]]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)


def splatjit_run(data: bytes, inputs: list[str], outputs: list[str] = (), target="native"):
    """(exit code, stdout, stderr) of `splatjit run` on module bytes."""
    out, err = io.StringIO(), io.StringIO()
    code = run(data, "main", list(inputs), list(outputs), target=target, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def result_count(stdout: str) -> int:
    return stdout.count("result[")


def module_path(item) -> Path:
    corpus.compile_item(item)
    return corpus.compiled_path(item)


def record_local_hals(monkeypatch) -> tuple[list, type]:
    """Patches `hal.local.LocalHal` with a subclass that appends every instance it makes to
    the returned list; returns (that list, the subclass)."""
    from splatjit.hal import local
    made: list = []

    class Recorded(local.LocalHal):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            made.append(self)

    monkeypatch.setattr(local, "LocalHal", Recorded)
    return made, Recorded
