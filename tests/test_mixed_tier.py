"""The mixed tier (emit_x64/mixed.py): which function gets which compiler, and
modules whose functions come from both running, calling each other and tiering up.

(Results against iree.runtime: test_x64_differential.py runs every corpus module with every
tier, the mixed one included; several corpus modules have functions of both kinds.)
"""
from __future__ import annotations

import pytest

from splatjit.emit_x64 import baseline, mixed
from splatjit.lowering import FunctionInfo, loop_headers
from splatjit.module import JitModule
from test_x64_differential import _module_bytes

pytestmark = pytest.mark.usefixtures("memory_cap")


def _kinds(m: JitModule) -> dict[str, str]:
    return {fn.name: type(m.compiled.functions[fn.ordinal]).__name__ for fn in m.loaded.functions}


@pytest.mark.parametrize("name", ["control_flow", "lists", "value_ranges", "rodata"])
def test_loops_and_short_functions_are_optimized_the_rest_baseline(name):
    m = JitModule(_module_bytes(name), tier="mixed")
    kinds = _kinds(m)
    for fn in m.loaded.functions:
        expect = "BaselineInfo" if (fn.op_count > mixed.SHORT_OPS and not loop_headers(fn)) \
            else "FunctionInfo"
        assert kinds[fn.name] == expect, (fn.name, fn.op_count)
    assert m.compiled.tier_up is not None  # (baseline functions: their stubs and budget)
    assert issubclass(baseline.BaselineInfo, FunctionInfo)


def test_a_module_without_long_straight_line_functions_is_plain_optimizing_code():
    m = JitModule(_module_bytes("loop_sum"), tier="mixed")
    assert set(_kinds(m).values()) == {"FunctionInfo"}
    assert getattr(m.compiled, "tier_up", None) is None
    assert m.loop_sum(100) == 4950


def test_recursive_baseline_function_tiers_up_while_its_frames_run():
    """fib is baseline (11 ops, no loop) and calls itself ~10^4 times in one call: the budget
    runs out mid-call, the module is recompiled, and the calls made after that (through the
    entry stubs) run the optimizing code while the older frames finish in the baseline code."""
    m = JitModule(_module_bytes("recursion"), tier="mixed")
    assert _kinds(m)["fib"] == "BaselineInfo"
    tu = m.compiled.tier_up
    assert tu.optimized is None
    assert m.fib(20) == 6765
    assert tu.optimized is not None and tu.error is None
    fib = next(fn for fn in m.loaded.functions if fn.name == "fib")
    opt_code, memory = tu.optimized
    assert tu.cells[fib.ordinal] == memory.address + opt_code.entries[fib.ordinal]
    assert [m.fib(n) for n in range(12)] == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]


def test_optimizing_and_baseline_functions_call_each_other():
    """calls.fn5 (baseline) is called from optimized code and calls optimized code; the
    results are those of the all-optimizing build."""
    data = _module_bytes("calls")
    mixed_m, opt_m = JitModule(data, tier="mixed"), JitModule(data, tier="optimizing")
    kinds = _kinds(mixed_m)
    assert "BaselineInfo" in kinds.values() and "FunctionInfo" in kinds.values()
    checked = 0
    for name in opt_m.exports:
        sig = opt_m[name].signature
        if sig.args and all(t == "i32" for t in sig.args):
            args = [3 + k for k in range(len(sig.args))]
            assert mixed_m[name](*args) == opt_m[name](*args), name
            checked += 1
    assert checked >= 3
