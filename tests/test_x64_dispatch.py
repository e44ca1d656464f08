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
from differential import WORKGROUPS, Oracle, dispatch_kernels, random_bindings
from splatjit import LinkError, TrapError, load_module
from splatjit.module import JitModule

@pytest.mark.parametrize("item, ordinal", dispatch_kernels())
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
            mine, theirs = random_bindings(n), random_bindings(n)
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
            wrote |= any(a.tobytes() != b.tobytes() for a, b in zip(mine, random_bindings(n)))
            compared += 1
    assert compared
    assert wrote, "no dispatch wrote any binding: the comparison would be vacuous"


def test_native_grid_loop_equals_one_call_per_workgroup():
    """JitModule.run_grid (the native loop of runtime/grid.py) makes exactly the calls a
    Python loop over the grid makes, in the same order, and stops at the first trap."""
    from splatjit.runtime.lists import TypedList
    item = corpus.find_item("programs/elementwise_f32[scalar]")
    program = load_module(corpus.compile_item(item))
    jit = JitModule(program.defn.rodata[program.executables[0].rodata_ordinal].data)
    name = next(iter(jit.exports))
    grid = (3, 2, 2)
    constants = np.full(64, 4, np.int32).view(np.uint8)
    native, python = random_bindings(5), random_bindings(5)
    args = [np.zeros(16, np.uint8), constants, TypedList("!vm.buffer", native), 0, 0, 0, 1, 1, 1, *grid]
    jit[name].run_grid(args, 3, grid)
    for z in range(grid[2]):
        for y in range(grid[1]):
            for x in range(grid[0]):
                jit[name](np.zeros(16, np.uint8), constants, python, x, y, z, 1, 1, 1, *grid)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(native, python))
    assert any(a.tobytes() != b.tobytes() for a, b in zip(native, random_bindings(5)))
    tiny = [np.zeros(4, np.uint8) for _ in native]  # every workgroup reads out of bounds
    args[2] = TypedList("!vm.buffer", tiny)
    with pytest.raises(TrapError, match="out-of-bounds"):
        jit[name].run_grid(args, 3, grid)
