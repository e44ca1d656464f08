"""On-stack replacement (splatjit/osr.py, emit_x64/baseline.py's hot path, runtime/tier_up.py):
a long call that starts in baseline code finishes in optimizing code.

The whole corpus also runs with every call of a looping function switched after 1, 2, 3, 5,
... loop header visits: the "auto+osr" tier of tests/test_x64_differential.py and
tests/test_programs.py.
"""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

import corpus
from splatjit import TrapError, load_module
from splatjit.buffer_cache import natural_loops
from splatjit.frontend.cconv import parse_cconv
from splatjit.frontend.opcodes import BY_NAME
from splatjit.lowering import loop_headers
from splatjit.module import JitModule
from splatjit.osr import origin, osr_variant, slot_types
from splatjit.runtime import tier_up
from test_x64_differential import _module_bytes

pytestmark = pytest.mark.usefixtures("memory_cap")


def _wrapped_sum(n: int) -> int:
    return (n * (n - 1) // 2 + 2**31) % 2**32 - 2**31


def test_a_long_first_call_switches_to_optimizing_code_at_its_loop_header():
    m = JitModule(_module_bytes("loop_sum"), tier="auto")
    tu = m.compiled.tier_up
    n = 3 * tier_up.INITIAL_BUDGET
    assert m.loop_sum(n) == _wrapped_sum(n)  # one call
    assert tu.optimized is not None and len(tu.osr_cells) == 1
    assert all(cell.value for cell in tu.osr_cells.values())
    # The budget ran out at a loop header, whose hot path compiled the module (leaving the
    # budget at 0) and switched right away: had the call stayed in baseline code, every
    # later iteration would have spent one more unit.
    assert tu.budget.value == 0


def test_running_frames_switch_after_another_function_tiers_the_module_up(monkeypatch):
    """OSR_EVERY_CALL: the module tiers up at the first prologue, its function cells stay
    0, so every call runs baseline code to the loop header and the variant from there."""
    monkeypatch.setattr(tier_up, "OSR_EVERY_CALL", True)
    m = JitModule(_module_bytes("loop_sum"), tier="auto")
    tu = m.compiled.tier_up
    for n in (0, 1, 7, 1000):
        assert m.loop_sum(n) == _wrapped_sum(n)
    assert tu.optimized is not None and all(c == 0 for c in tu.cells)
    (cell,) = tu.osr_cells.values()
    assert cell.value


def test_a_trap_in_osr_code_names_the_function_and_op_of_the_baseline_one():
    data = _module_bytes("buffer_loops")
    n = 3 * tier_up.INITIAL_BUDGET
    words = np.arange(n, dtype=np.int32)
    reference = JitModule(data, tier="optimizing")
    with pytest.raises(TrapError) as want:
        reference.sum_prefix(words.copy(), n + 1)
    m = JitModule(data, tier="auto")
    assert m.sum_prefix(words.copy(), n) == int(words.sum(dtype=np.int64) % 2**32) - (
        2**32 if words.sum() % 2**32 >= 2**31 else 0)
    m = JitModule(data, tier="auto")
    with pytest.raises(TrapError) as got:
        m.sum_prefix(words.copy(), n + 1)  # out of bounds at element n, in the OSR variant
    assert m.compiled.tier_up.budget.value == 0  # (it was the variant that trapped)
    assert (got.value.function, got.value.offset, got.value.message) == (
        want.value.function, want.value.offset, want.value.message)
    assert "sum_prefix" in got.value.function


def test_the_variant_is_the_loop_entered_at_its_header():
    loaded = load_module(_module_bytes("buffer_loops"))
    fn = loaded.function("accumulate_f64")
    (header,) = loop_headers(fn)
    v = osr_variant(fn, header, 99)
    assert (v.name, v.ordinal, origin(v), origin(fn)) == (fn.name, 99, fn.ordinal, fn.ordinal)
    entry = v.blocks[0].instrs
    assert [i.op for i in entry] == [BY_NAME["vm.br"]] and entry[0].args["dest_pc"].block == 1
    assert v.blocks[1].offset == fn.blocks[header].offset
    # the blocks only the original entry reaches are gone; the others keep their ops
    assert len(v.blocks) == len(fn.blocks)
    kept = [i.offset for b in v.blocks[1:] for i in b.instrs]
    assert kept == [i.offset for b in fn.blocks[1:] for i in b.instrs]
    assert v.signature.results == fn.signature.results
    assert parse_cconv(v.signature.text) == v.signature
    # args: the ref bank, then the i32 bank with its wide values at their even slots
    types = v.signature.args
    assert types[:fn.ref_count] == ("ref",) * fn.ref_count
    assert sum(2 if t in ("i64", "f64") else 1 for t in types[fn.ref_count:]) == fn.i32_count
    assert "i64" in types and "f64" in types  # %k and %last / %next keep their widths


def test_slot_types_fall_back_to_i32_where_a_slot_is_used_with_two_widths():
    loaded = load_module(_module_bytes("loop_sum"))
    fn = loaded.functions[0]
    assert slot_types(fn, fn.blocks) == ["i32"] * fn.i32_count
    mixed = load_module(_module_bytes("buffer_loops")).function("sum_prefix")
    kinds = slot_types(mixed, mixed.blocks)
    assert sum(2 if t in ("i64", "f64") else 1 for t in kinds) == mixed.i32_count


def test_every_header_has_a_variant_entered_there():
    loaded = load_module(_module_bytes("buffer_loops"))
    sites = [(fn.ordinal, h) for fn in loaded.functions for h in sorted(loop_headers(fn))]
    assert len(sites) >= 5
    for f, h in sites:
        v = osr_variant(loaded.functions[f], h, 99)
        assert v.ordinal == 99 and origin(v) == f
        entered = v.blocks[v.blocks[0].instrs[0].args["dest_pc"].block]
        assert entered.offset == loaded.functions[f].blocks[h].offset
        assert [i.offset for i in entered.instrs] == [
            i.offset for i in loaded.functions[f].blocks[h].instrs]


def test_only_the_headers_running_frames_reach_get_a_variant_compiled():
    """Tier-up compiles the module's functions; a variant is compiled when a running
    baseline frame reaches its header afterwards, one header at a time."""
    data = _module_bytes("buffer_loops")
    m = JitModule(data, tier="auto")
    tu = m.compiled.tier_up
    assert len(tu.osr_sites) >= 5 and not any(c.value for c in tu.osr_cells.values())
    n = 3 * tier_up.INITIAL_BUDGET
    words = np.ones(n, dtype=np.int32)
    assert m.sum_prefix(words, n) == n  # one long call: tier-up, then its header switches
    ordinal = m.loaded.function("sum_prefix").ordinal
    compiled = [site for site, cell in tu.osr_cells.items() if cell.value]
    assert len(compiled) == len(tu.osr_code) == 1 and compiled[0][0] == ordinal
    assert m.sum_prefix(words, 10) == 10  # later calls: the optimizing function itself
    assert len(tu.osr_code) == 1


def test_loops_the_entry_jumps_into_get_no_loop_invariant_caches():
    """A variant entered at an inner loop header jumps into the middle of the outer loops
    (a side entry, as crafted bytecode may have): their caches, filled only on edges into
    their headers, would be read unfilled on that path. Only the inner loop keeps its own."""
    program = load_module(corpus.compile_item(corpus.find_item("programs/matmul[ukernel]")))
    kernel = program.executables[0].module.functions[0]
    headers = sorted(loop_headers(kernel))
    assert len(headers) == 3 and {h for h, _ in natural_loops(kernel)} == set(headers)
    inner = osr_variant(kernel, headers[-1], 9)
    entered = inner.blocks[0].instrs[0].args["dest_pc"].block
    assert {h for h, _ in natural_loops(inner)} == {entered}


def test_tier_up_code_copies_carry_their_own_cells_budget_and_key():
    """The tier-up prologue and a loop header's hot path are copied from templates with
    their module's cell, budget and on_hot key patched in (emit_x64/baseline.py): two
    modules' copies of the same function differ exactly there."""
    import struct
    data = _module_bytes("loop_sum")
    a, b = JitModule(data, tier="auto"), JitModule(data, tier="auto")
    fields = []
    for m in (a, b):
        tu = m.compiled.tier_up
        (osr_cell,) = tu.osr_cells.values()
        (site,) = range(len(tu.osr_sites))
        fields.append([struct.pack("<Q", v) for v in (
            tu.cells_address, tu.budget_address, tu.hot_key(), tu.hot_key(site),
            ctypes.addressof(osr_cell))])
        code = m.compiled.code
        assert code[m.compiled.entries[0]:][:10] == b"\x48\xb8" + fields[-1][0]  # the stub
        assert all(code.count(f) >= 1 for f in fields[-1])
    code_a, code_b = a.compiled.code, b.compiled.code
    assert len(code_a) == len(code_b)
    covered = set()  # bytes of code_a inside one of its fields (the keys: as movabs rdi's)
    for k, field in enumerate(fields[0]):
        at = -1
        while (at := code_a.find(field, at + 1)) >= 0:
            if k not in (2, 3) or code_a[at - 2:at] == b"\x48\xbf":
                covered.update(range(at, at + 8))
    differ = {i for i in range(len(code_a)) if code_a[i] != code_b[i]}
    assert differ and differ <= covered
    assert a.loop_sum(3 * tier_up.INITIAL_BUDGET) == b.loop_sum(3 * tier_up.INITIAL_BUDGET)


def test_the_variant_takes_over_its_frames_call_depth():
    """import_loop calls a Python import every iteration; the call depth the import sees
    (Context.depth_left) is the same before and after the loop switches to its variant."""
    from pathlib import Path
    from splatjit.runtime.abi import MAX_DEPTH
    source = Path(__file__).resolve().parent.parent / "bench" / "bench_calls.mlir"
    data = corpus.compile_item(corpus.CorpusItem("bench_calls", source, "vm", "vm",
                                                 corpus.VM_FLAGS))
    seen = []

    def add_1(x):
        seen.append(m._context.depth_left)
        return x + 1
    m = JitModule(data, tier="auto",
                  imports={"native_import_module": {"add_1": add_1}})
    n = 3 * tier_up.INITIAL_BUDGET
    assert m.import_loop(5, n) == 5 + n
    assert m.compiled.tier_up.budget.value == 0  # (switched)
    assert len(seen) == n and set(seen) == {MAX_DEPTH - 1}
    assert m._context.depth_left == MAX_DEPTH


def test_a_failed_variant_compile_leaves_the_call_in_baseline_code():
    m = JitModule(_module_bytes("loop_sum"), tier="auto")
    tu = m.compiled.tier_up

    def broken(site, targets):
        raise RuntimeError("no variant today")
    tu.compile_osr = broken
    n = 3 * tier_up.INITIAL_BUDGET
    assert m.loop_sum(n) == _wrapped_sum(n)
    assert tu.optimized is not None and list(tu.osr_errors) == tu.osr_sites
    assert not any(c.value for c in tu.osr_cells.values())
    assert tu.budget.value > 1 << 40  # (out of reach: no hot path on every iteration)
    assert m.loop_sum(100) == 4950  # later calls: the optimizing function
