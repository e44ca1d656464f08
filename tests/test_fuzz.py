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
