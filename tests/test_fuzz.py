"""Mutation fuzzing of the frontend: only SplatJitError, never another exception or a hang."""
from __future__ import annotations

from pathlib import Path

import pytest

from fuzz_vmfb import make_seed, run
from splatjit import load_module

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _seeds():
    loop_sum = (EXAMPLES / "loop_sum.vmfb").read_bytes()
    matmul = (EXAMPLES / "matmul.vmfb").read_bytes()
    host = load_module(matmul)
    kernel_bytes = host.defn.rodata[host.executables[0].rodata_ordinal].data
    return [make_seed(b) for b in (loop_sum, kernel_bytes, matmul)]


def _check(cases: int, seed: int):
    report = run(_seeds(), cases, seed=seed)
    assert report.cases == cases
    detail = [(kind, s, err) for kind, s, err, _ in report.failures[:10]]
    assert not report.failures, f"{len(report.failures)} non-SplatJitError outcomes: {detail}"
    # The fuzzer must reach every stage: container, decoder and verifier errors all occur.
    assert {"FormatError", "DecodeError", "VerifyError"} <= set(report.rejected), report.rejected


def test_fuzz_20k_mutations():
    _check(20_000, seed=20_000)


@pytest.mark.slow
def test_fuzz_200k_mutations():
    _check(200_000, seed=200_000)


def _jit_fuzz(cases: int, seed: int):
    """Mutants the frontend accepts are compiled and run (tests/fuzz_jit.py), in a child
    process: a crash there fails this test instead of killing the run."""
    import subprocess
    import sys
    script = Path(__file__).resolve().parent / "fuzz_jit.py"
    r = subprocess.run([sys.executable, str(script), str(cases), str(seed)],
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0 and r.stdout.rstrip().endswith("done"), \
        f"the JIT fuzz child died (exit {r.returncode}): {r.stderr[-2000:]}"
    failures = [line for line in r.stdout.splitlines() if line.startswith("FAILURE")]
    assert not failures, failures[:10]
    assert "returned" in r.stdout and "TrapError" in r.stdout  # mutants really ran


def test_fuzz_jit_2k_mutants_compile_and_run_without_crashing():
    _jit_fuzz(2_000, seed=2_000)


@pytest.mark.slow
def test_fuzz_jit_20k_mutants_compile_and_run_without_crashing():
    _jit_fuzz(20_000, seed=20_000)
