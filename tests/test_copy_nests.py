"""Copy nests (splatjit/copy_nests.py, emit_x64/ops_copy_nest.py): which loops become a
`jit.copy.nest`, that the nest runs exactly when its checks pass, and that either way the
results, buffers and traps are those of the unchanged loop and of IREE's interpreter."""
from __future__ import annotations

import numpy as np
import pytest

import corpus
from differential import Oracle, run_or_trap
from splatjit import load_module
from splatjit.constant_folding import fold_constants
from splatjit.copy_nests import plan_copy_nests
from splatjit.div_rem_pairs import pair_divisions
from splatjit.element_promotion import promote_elements
from splatjit.emit_x64 import lower as x64_lower
from splatjit.emit_x64 import ops_copy_nest
from splatjit.intrinsics import vmvx
from splatjit.lowering import constant_slots
from splatjit.module import JitModule
from splatjit.range_folding import fold_ranges
from splatjit.regalloc.coalesce import coalesce_remaps
from splatjit.regalloc.webs import rename_webs
from splatjit.runtime.imports import pure_imports

#: these tests look at what the optimizing tier's transforms make
pytestmark = pytest.mark.usefixtures("optimizing_tier")

RECOGNISED = ("unpack", "narrow", "in_place", "to_rodata", "suffix", "wrapped")
NEAR_MISSES = ("step_two", "two_stores", "scaled", "plus_half")


@pytest.fixture(scope="module")
def module() -> bytes:
    return corpus.compile_item(corpus.find_item("vm/copy_nests"))


def _planned(fn, pure=None):
    """`fn` through the x86-64 pipeline up to and including plan_copy_nests."""
    first = fn.i32_count
    f = rename_webs(fn)
    f = fold_constants(f, first, pure or {})
    f = fold_ranges(f)
    f = pair_divisions(f, first)
    f = promote_elements(f)
    f = coalesce_remaps(f)
    return plan_copy_nests(f, constant_slots(f, first))


def _nests(fn, pure=None) -> list:
    return [i.args["plan"] for i in _planned(fn, pure).instrs() if i.op.mnemonic == "jit.copy.nest"]


def test_copy_loops_are_recognised_and_near_misses_are_not(module):
    functions = {fn.name: fn for fn in load_module(module).functions}
    for name in RECOGNISED:
        assert len(_nests(functions[name])) == 1, name
    for name in NEAR_MISSES:
        assert _nests(functions[name]) == [], name
    (plan,) = _nests(functions["unpack"])
    # digits of i: i / 64 (top), i % 64 / 8, i % 8; src read linearly, dst rows of 16
    assert (plan.top_weight, plan.radices, plan.size) == (64, (8, 8), 4)
    assert plan.load.terms == {("d", 0): 64, ("d", 1): 8, ("d", 2): 1}
    assert plan.store.terms == {("d", 0): 8, ("d", 1): 16, ("d", 2): 1, ("v", 1): 128}
    assert len(plan.guards) == 1 and not plan.guards[0].signed


def test_datatiled_matmul_unpack_loop_is_recognised():
    """The unpack loop IREE fuses into the data-tiled matmul dispatch (corpus program
    `matmul`, variant datatiled): tile sizes folded, runs of 8 f32 both sides."""
    data = corpus.compile_item(corpus.find_item("programs/matmul[datatiled]"))
    loaded = load_module(data)
    pure = {}
    nests = []
    for ex in loaded.executables:
        nested = load_module(bytes(loaded.defn.rodata[ex.rodata_ordinal].data))
        pure = pure_imports(nested.defn, {"vmvx": vmvx.provider()})
        for fn in nested.functions:
            nests += [(fn.name, p) for p in _nests(fn, pure)]
    assert [name for name, _ in nests] and all("matmul" in name for name, _ in nests), nests
    for _, plan in nests:
        assert plan.size == 4 and plan.load.terms.get(("d", plan.digits - 1)) == 1
        assert plan.store.terms.get(("d", plan.digits - 1)) == 1


def test_no_nest_with_fuel(module, monkeypatch):
    seen = []
    real = x64_lower.plan_copy_nests
    monkeypatch.setattr(x64_lower, "plan_copy_nests", lambda fn, c: seen.append(fn.name) or real(fn, c))
    JitModule(module, fuel=10**6)
    assert seen == []
    JitModule(module)
    assert set(RECOGNISED) <= set(seen)


def _f32(n, seed):
    return np.random.default_rng(seed).uniform(-2, 2, n).astype(np.float32)


def _u16(n, seed):
    return np.random.default_rng(seed).integers(0, 1 << 16, n).astype(np.uint16).view(np.int16)


def _i32(n, seed):
    return np.random.default_rng(seed).integers(-1000, 1000, n).astype(np.int32)


#: (function, argument factory, takes the nest). The others fall back: the guard false
#: somewhere, n not a multiple of the top weight, zero trips, out-of-bounds destination
#: or source (trap at the same element, after the same stores), overlapping ranges, a
#: read-only destination. unpack with n = 192 and 16 columns stores tile 2 over tile 0 of
#: the next row: the nest keeps the loop's order. (No negative store index: IREE's
#: interpreter reads or writes outside the buffer for those, see ARCHITECTURE.md.)
CASES = [
    ("unpack", lambda: [_f32(128, 1), _f32(256, 2), 128, 0, 16], True),
    ("unpack", lambda: [_f32(128, 3), _f32(256, 4), 128, 1, 16], True),
    ("unpack", lambda: [_f32(192, 5), _f32(256, 6), 192, 0, 8], True),  # overlapping stores
    ("unpack", lambda: [_f32(192, 44), _f32(256, 45), 192, 1, 16], False),
    ("unpack", lambda: [_f32(128, 7), _f32(256, 8), 128, 1, 12], False),
    ("unpack", lambda: [_f32(128, 51), _f32(256, 52), 128, 1, 15], False),  # row 15 < 15
    ("unpack", lambda: [_f32(128, 53), _f32(256, 54), 128, 0, 8], True),  # row 7 < 8
    ("unpack", lambda: [_f32(128, 9), _f32(256, 10), 128, 2, 16], False),
    ("unpack", lambda: [_f32(128, 11), _f32(256, 12), 128, -1, 16], False),
    ("unpack", lambda: [_f32(128, 13), _f32(256, 14), 100, 0, 16], False),
    ("unpack", lambda: [_f32(128, 15), _f32(256, 16), 0, 0, 16], False),
    ("unpack", lambda: [_f32(128, 17), _f32(200, 18), 128, 1, 16], False),
    ("unpack", lambda: [_f32(100, 19), _f32(256, 20), 128, 0, 16], False),
    ("narrow", lambda: [_u16(64, 21), _u16(160, 22), 64, 0], True),
    ("narrow", lambda: [_u16(64, 23), _u16(160, 24), 48, 3], True),
    ("narrow", lambda: [_u16(64, 25), _u16(160, 26), 64, 50], False),
    ("narrow", lambda: [_u16(64, 27), _u16(160, 28), -5, 0], False),
    ("narrow", lambda: [_u16(64, 55), _u16(160, 56), 64, -3], False),  # store index -3
    ("in_place", lambda: [_i32(64, 29), 32, 32], True),
    ("in_place", lambda: [_i32(64, 30), 32, 40], False),
    ("in_place", lambda: [_i32(64, 31), 16, 40], True),
    ("in_place", lambda: [_i32(64, 32), 32, 1], False),
    ("in_place", lambda: [_i32(64, 33), 32, 16], False),
    ("in_place", lambda: [_i32(64, 46), 30, 33], True),
    ("to_rodata", lambda: [_f32(64, 34), 8], False),
    ("to_rodata", lambda: [_f32(64, 35), 0], False),
    ("suffix", lambda: [_f32(64, 47), _f32(64, 48), 0, 64], True),
    ("suffix", lambda: [_f32(64, 49), _f32(64, 50), 5, 64], False),
    ("wrapped", lambda: [_f32(64, 57), _f32(64, 58), 64, 5], True),
    ("wrapped", lambda: [_f32(64, 59), _f32(64, 60), 64, 2**31 - 4], False),  # wraps at i = 4
    ("step_two", lambda: [_f32(64, 36), _f32(64, 37), 64], False),
    ("two_stores", lambda: [_f32(64, 38), _f32(64, 39), 32], False),
    ("two_stores", lambda: [_f32(64, 40), _f32(64, 41), 40], False),
    ("scaled", lambda: [_f32(64, 42), _f32(64, 43), 16, 3], False),
    ("plus_half", lambda: [_f32(64, 61), _f32(64, 62), 64], False),
]
IDS = [f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
#: cases with a negative store index: IREE's interpreter may write outside its buffer for
#: those (its bounds check wraps), so only the unchanged loop is the reference there
NO_ORACLE = {i for i, (n, make, _) in enumerate(CASES)
             if (n, make()[-1]) in (("narrow", -3), ("wrapped", 2**31 - 4))}


_run = run_or_trap


def _same(a, b) -> None:
    (got, trap, got_args), (want, want_trap, want_args) = a, b
    assert (trap is None) == (want_trap is None), (trap, want_trap)
    if trap is not None:  # same trap: reason, function and bytecode offset
        assert (str(trap), trap.offset) == (str(want_trap), want_trap.offset)
    else:
        assert got == want
    for x, y in zip(got_args, want_args):
        if isinstance(x, np.ndarray):
            assert x.tobytes() == y.tobytes()


def _plain(module: bytes, monkeypatch, **kw) -> JitModule:
    with monkeypatch.context() as m:
        m.setattr(x64_lower, "plan_copy_nests", lambda fn, constants: fn)
        return JitModule(module, **kw)


@pytest.mark.parametrize("features", [None, ("sse2",)], ids=["host", "sse2"])
@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_nest_matches_loop_and_interpreter(module, monkeypatch, case, features):
    name, make, _ = CASES[case]
    args = make()
    got = _run(JitModule(module, features=features), name, args)
    _same(got, _run(_plain(module, monkeypatch), name, args))
    if features is not None or case in NO_ORACLE:
        return
    sig = list(next(f for f in load_module(module).functions if f.name == name).signature.args)
    oracle_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    try:
        oracle = Oracle([module]).call(name, oracle_args, sig)
        oracle_trap = None
    except Exception as e:  # noqa: BLE001 - the interpreter reports a trap as any error
        oracle, oracle_trap = None, e
    assert (oracle_trap is None) == (got[1] is None), (oracle_trap, got[1])
    if oracle_trap is None:  # (after a trap the oracle's buffers are not copied back)
        assert oracle[0] == got[0]
        for x, y in zip(got[2], oracle_args):
            if isinstance(x, np.ndarray):
                assert x.tobytes() == y.tobytes()


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_nest_runs_exactly_when_its_checks_pass(module, monkeypatch, case):
    """A probe: with the nest's copy emitted empty, a case that takes the nest leaves its
    destination untouched; one that falls back still computes what the loop computes."""
    name, make, fast = CASES[case]
    args = make()
    with monkeypatch.context() as m:
        m.setattr(ops_copy_nest._Emitter, "_copy", lambda self, src, dst, n: False)
        probed = _run(JitModule(module), name, args)
    plain = _run(_plain(module, monkeypatch), name, args)
    if not fast:
        _same(probed, plain)
        return
    assert probed[1] is None and plain[1] is None
    before = [a for a in args if isinstance(a, np.ndarray)]
    after_probe = [a for a in probed[2] if isinstance(a, np.ndarray)]
    after_plain = [a for a in plain[2] if isinstance(a, np.ndarray)]
    assert [a.tobytes() for a in after_probe] == [a.tobytes() for a in before]
    assert [a.tobytes() for a in after_plain] != [a.tobytes() for a in before]


def test_nest_code_uses_vector_moves_for_runs(module):
    """unpack's runs are 8 f32 and narrow's 16 i16 (32 bytes each): one ymm move pair with
    AVX, two xmm pairs with SSE2 only."""
    def moves(features):
        return [t.split()[0] for _, t in JitModule(module, features=features).compiled.listing]
    text = moves(("sse2",))  # unpack and narrow (16 i16): two 16-byte load + store pairs each
    assert (text.count("movups"), text.count("vmovups")) == (8, 0)
    text = moves(("avx2",))  # one 32-byte pair each
    assert (text.count("movups"), text.count("vmovups"), text.count("vzeroupper")) == (0, 4, 2)


A64_CASES = [0, 3, next(i for i, c in enumerate(CASES) if c[0] == "to_rodata")]


@pytest.mark.parametrize("case", A64_CASES, ids=[IDS[i] for i in A64_CASES])
def test_a64_lowers_the_op_as_its_loop(module, monkeypatch, case):
    """AArch64 does not plan copy nests; its lowering of the op (should a plan reach it)
    takes the loop edge: forced through its pipeline, results, buffers and traps are the
    loop's (under Unicorn)."""
    from splatjit.emit_a64 import lower as a64_lower
    name, make, _ = CASES[case]
    args = make()
    seen = []

    def coalesce_then_plan(fn):
        out = plan_copy_nests(coalesce_remaps(fn), constant_slots(fn, 0))
        seen.extend(i for i in out.instrs() if i.op.mnemonic == "jit.copy.nest")
        return out
    want = _run(JitModule(module, target="aarch64"), name, args)
    with monkeypatch.context() as m:
        m.setattr(a64_lower, "coalesce_remaps", coalesce_then_plan)
        got = _run(JitModule(module, target="aarch64"), name, args)
    assert seen
    _same(got, want)
    _same(got, _run(JitModule(module), name, args))


def test_ops_outside_the_model_are_unknown():
    """A float / ref constant or any op without a rule makes its path unknown (the loop is
    then left alone) instead of failing the compile."""
    from splatjit.copy_nests import Unknown, _evaluate, _State
    from splatjit.frontend.opcodes import BY_NAME
    from splatjit.ir import Instr, Reg
    state = _State(written={3, 4}, constants={})
    for ins in (Instr(0, BY_NAME["vm.const.f32"], {"value": 0.5, "result": Reg("f32", 3)}, 0),
                Instr(0, BY_NAME["vm.const.f64"], {"value": 0.5, "result": Reg("f64", 4)}, 0),
                Instr(0, BY_NAME["vm.abs.i32"], {"operand": Reg("i32", 1), "result": Reg("i32", 3)}, 0)):
        with pytest.raises(Unknown):
            _evaluate(ins, state, [])
    ins = Instr(0, BY_NAME["vm.const.i64"], {"value": -2, "result": Reg("i64", 4)}, 0)
    assert _evaluate(ins, state, []).constant() == -2
