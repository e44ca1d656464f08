"""Code quality for both ISAs on the RFC's three benchmarks: code size, instructions per op.

AArch64: instructions *executed* per bytecode op, counted under Unicorn (a code hook).
x86-64: instructions *emitted* per bytecode op (native runs are not instruction-counted here).
Unicorn's speed is not measured; the numbers are deterministic and asserted loosely only
against obviously broken code generation.
"""
from __future__ import annotations

import pytest

import corpus
from splatjit.emit_x64.lower import compile_module as compile_x64
from splatjit.frontend.loader import load_module
from splatjit.module import JitModule
from splatjit.runtime.a64_backend import code_sizes, profile_ops

CASES = [("vm/loop_sum", "loop_sum", [1000], {}),
         ("vm/buffer_reduce", "buffer_reduce", [1000], {}),
         ("vm/call_imported_func", "call_imported_func", [1], {"native_import_module": "vm/native_import_module"})]
ROWS: list[tuple] = []


def _static_per_op(compiled, fn) -> float:
    by_op = {}
    for offset, tag in compiled.tag_map.items():
        if tag and tag[0] == fn.ordinal and tag[1] >= 0:
            by_op[tag[1]] = by_op.get(tag[1], 0) + 1
    return sum(by_op.values()) / max(1, fn.op_count)


@pytest.mark.parametrize("item_id, export, args, imports", CASES, ids=[c[1] for c in CASES])
def test_code_size_and_instructions_per_op(item_id, export, args, imports):
    data = corpus.compile_item(corpus.find_item(item_id))
    loaded = load_module(data)
    providers = {n: JitModule(corpus.compile_item(corpus.find_item(i)), target="aarch64")
                 for n, i in imports.items()}
    a64 = JitModule(data, target="aarch64", imports=providers)
    x64 = compile_x64(loaded)
    fn = next(f for f in loaded.functions if f.name == export)
    per_op, total, status = profile_ops(a64._backend, fn.ordinal, args, fn.signature)
    assert status == 0
    body = sum(n for (name, off, _), n in per_op.items() if off >= 0)
    executed_ops = sum(1 for (name, off, _), n in per_op.items() if off >= 0 and n)
    a64_size = code_sizes(a64.compiled)[export]
    x64_size = code_sizes(x64)[export]
    static_x64 = _static_per_op(x64, fn)
    static_a64 = _static_per_op(a64.compiled, fn)
    ROWS.append((export, x64_size, a64_size, static_x64, static_a64, total))
    print(f"\n{export}: code x86-64 {x64_size} B, AArch64 {a64_size} B; emitted instructions/op "
          f"x86-64 {static_x64:.1f}, AArch64 {static_a64:.1f}; AArch64 executed {total} "
          f"instructions for {export}{tuple(args)} ({body} in op bodies over {executed_ops} ops)")
    assert 0 < a64_size < 64 * 1024 and 0 < x64_size < 64 * 1024
    assert static_x64 < 40 and static_a64 < 40
