"""The dispatch functions of every corpus program's VMVX executables, called directly.

A dispatch function takes (local memory, constants, bindings list, workgroup id xyz, size
xyz, count xyz). Both IREE's interpreter and splatjit run it on the same random bindings
(generously sized, so the static-shape kernels stay in bounds) for a few workgroups; the
bindings must come out bit-identical. Executables that import `vmvx.*` microkernels are
covered by the whole-programs work and skipped here (no provider: `LinkError`).
"""
from __future__ import annotations

import numpy as np
import pytest

import corpus
from differential import Oracle
from splatjit import LinkError, TrapError, load_module
from splatjit.module import JitModule

BINDINGS, BINDING_BYTES = 6, 1 << 14
WORKGROUPS = [((0, 0, 0), (1, 1, 1)), ((1, 0, 0), (2, 1, 1)), ((0, 1, 1), (1, 2, 2))]


def _kernels():
    out = []
    for item in corpus.program_items():
        try:
            data = corpus.compile_item(item)
        except corpus.CompileFailure:
            continue
        for exe in load_module(data).executables:
            out.append(pytest.param(item, exe.rodata_ordinal, id=f"{item.id}@rodata{exe.rodata_ordinal}"))
    return out


def _bindings(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2, 2, BINDING_BYTES // 4).astype(np.float32).view(np.uint8)
            for _ in range(BINDINGS)]


@pytest.mark.parametrize("item, ordinal", _kernels())
def test_dispatch_functions_match_interpreter(item, ordinal):
    kernel = load_module(corpus.compile_item(item)).defn.rodata[ordinal].data
    try:
        jit = JitModule(kernel, fuel=5_000_000)
    except LinkError as e:
        pytest.skip(f"kernel imports microkernels: {e.message[:80]}")
    oracle = Oracle([kernel])
    compared, wrote = 0, False
    for name in jit.exports:
        for n, (wid, count) in enumerate(WORKGROUPS):
            # Push constants carry dynamic dims / offsets: small, aligned, non-zero values.
            local = np.zeros(1 << 12, np.uint8)
            constants = np.full(64, 4, np.int32).view(np.uint8)
            mine, theirs = _bindings(n), _bindings(n)
            args = [local, constants, mine, *wid, 1, 1, 1, *count]
            oracle_args = [local.copy(), constants.copy(), theirs, *wid, 1, 1, 1, *count]
            types = ["ref", "ref", "ref"] + ["i32"] * 9
            try:
                jit[name](*args)
            except TrapError as e:
                if "fuel" in e.message:
                    continue
                # Push constants can send a kernel out of bounds: the interpreter must fail too.
                with pytest.raises(Exception):
                    oracle.call(name, oracle_args, types)
                continue
            oracle.call(name, oracle_args, types)
            for i, (a, b) in enumerate(zip(mine, theirs)):
                assert a.tobytes() == b.tobytes(), f"{name} workgroup {wid}: binding {i} differs"
            wrote |= any(a.tobytes() != b.tobytes() for a, b in zip(mine, _bindings(n)))
            compared += 1
    assert compared
    assert wrote, "no dispatch wrote any binding: the comparison would be vacuous"
