"""Value ranges (splatjit/range_rules.py, value_ranges.py) and what range_folding.py does
with them.

tests/corpus/vm/value_ranges.mlir is compared with IREE's interpreter by the corpus
differential tests on both ISAs; here: every transfer rule against a model of the VM's
integer ops on sampled operands, the dataflow on hand-built IR (remaps of pair halves,
`and` conditions, operands rewritten before the branch, unreachable edges), which ops the
corpus functions lose or turn unsigned, their results without fuel escapes (a miscompiled
loop bound would run until fuel runs out, which the differential harness skips), and traps
of divisions turned unsigned."""
from __future__ import annotations

import itertools
import platform
import random

import pytest

import corpus
from differential import Oracle
from splatjit import TrapError
from splatjit.frontend import opcodes as oc
from splatjit.frontend.cconv import Signature
from splatjit.frontend.loader import load_module
from splatjit.ir import Block, Function, Instr, Reg, Successor
from splatjit.module import JitModule
from splatjit.range_folding import fold_ranges
from splatjit.range_rules import FULL, compare, result_range
from splatjit.regalloc.webs import rename_webs
from splatjit.value_ranges import analyze

BITS = {"i32": 32, "i64": 64}


# ------------------------------------------------------------------ a model of the VM's ops
class Trap(Exception):
    pass


def _wrap(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def _u(v, bits):
    return v & ((1 << bits) - 1)


def _cdiv(a, b, bits, rem):
    if b == 0 or (a == -(1 << (bits - 1)) and b == -1):
        raise Trap
    q = abs(a) // abs(b)
    q = q if (a < 0) == (b < 0) else -q
    return a - q * b if rem else q


def _udiv(a, b, bits, rem):
    a, b = _u(a, bits), _u(b, bits)
    if b == 0:
        raise Trap
    return _wrap(a % b if rem else a // b, bits)


def _ext(width, signed_):
    def f(a, bits):
        low = a & ((1 << width) - 1)
        return _wrap(low, width) if signed_ else low
    return f


def _ctlz(a, bits):
    a = _u(a, bits)
    return bits - a.bit_length()


#: stem[.sign] -> (arity, f(*operands, bits of the operands)); the result wraps to the
#: result type afterwards
MODEL = {
    "add": (2, lambda a, b, n: a + b), "sub": (2, lambda a, b, n: a - b),
    "mul": (2, lambda a, b, n: a * b), "and": (2, lambda a, b, n: a & b),
    "or": (2, lambda a, b, n: a | b), "xor": (2, lambda a, b, n: a ^ b),
    "div.s": (2, lambda a, b, n: _cdiv(a, b, n, False)),
    "rem.s": (2, lambda a, b, n: _cdiv(a, b, n, True)),
    "div.u": (2, lambda a, b, n: _udiv(a, b, n, False)),
    "rem.u": (2, lambda a, b, n: _udiv(a, b, n, True)),
    "shl": (2, lambda a, k, n: a << (k & (n - 1))),
    "shr.s": (2, lambda a, k, n: a >> (k & (n - 1))),
    "shr.u": (2, lambda a, k, n: _u(a, n) >> (k & (n - 1))),
    "min.s": (2, lambda a, b, n: min(a, b)), "max.s": (2, lambda a, b, n: max(a, b)),
    "min.u": (2, lambda a, b, n: a if _u(a, n) <= _u(b, n) else b),
    "max.u": (2, lambda a, b, n: a if _u(a, n) >= _u(b, n) else b),
    "fma": (3, lambda a, b, c, n: a * b + c),
    "not": (1, lambda a, n: ~a), "abs": (1, lambda a, n: abs(a)), "ctlz": (1, _ctlz),
    "cmp.eq": (2, lambda a, b, n: int(a == b)), "cmp.ne": (2, lambda a, b, n: int(a != b)),
    "cmp.lt.s": (2, lambda a, b, n: int(a < b)),
    "cmp.lt.u": (2, lambda a, b, n: int(_u(a, n) < _u(b, n))),
    "cmp.nz": (1, lambda a, n: int(a != 0)),
    "select": (3, lambda c, a, b, n: a if c else b),
    "ext.i8.i32.s": (1, lambda a, n: _ext(8, True)(a, n)),
    "ext.i8.i32.u": (1, lambda a, n: _ext(8, False)(a, n)),
    "ext.i16.i32.s": (1, lambda a, n: _ext(16, True)(a, n)),
    "ext.i16.i32.u": (1, lambda a, n: _ext(16, False)(a, n)),
    "ext.i32.i64.s": (1, lambda a, n: a), "ext.i32.i64.u": (1, lambda a, n: _u(a, 32)),
    "trunc.i32.i8": (1, lambda a, n: a & 0xFF), "trunc.i32.i16": (1, lambda a, n: a & 0xFFFF),
    "trunc.i64.i32": (1, lambda a, n: a),
}


def _model_key(mnemonic: str) -> str:
    parts = mnemonic.split(".")
    if parts[0] in ("ext", "trunc"):
        return mnemonic
    if parts[0] == "cmp":
        return ".".join([parts[0], parts[1]] + parts[3:])
    return ".".join([parts[0]] + parts[2:])


def _integer_ops():
    out = []
    for name, op in oc.BY_NAME.items():
        m = op.mnemonic
        if ".f" in m or "ref" in m or "const" in m or _model_key(m) not in MODEL:
            continue
        out.append(op)
    return out


def _intervals(type_: str):
    """Operand ranges: small, signed and unsigned edges, singletons, the full range."""
    lo, hi = FULL[type_]
    return [(0, 0), (1, 1), (-1, -1), (0, 1), (0, 7), (-5, 5), (-8, -1), (3, 300),
            (-300, -3), (0, 255), (2, 9), (-1, 0), (lo, lo), (hi, hi), (lo, lo + 4),
            (hi - 4, hi), (lo, -1), (0, hi), (lo, hi), (-(1 << 20), 1 << 20), (64, 64)]


def _samples(r, rnd):
    lo, hi = r
    picks = {lo, hi, min(max(0, lo), hi), min(max(-1, lo), hi), min(max(1, lo), hi)}
    picks.update(rnd.randint(lo, hi) for _ in range(3))
    return sorted(picks)


@pytest.mark.parametrize("op", _integer_ops(), ids=lambda op: op.mnemonic)
def test_every_rule_covers_what_the_op_computes(op):
    """For operand ranges drawn from `_intervals`, every value the op computes for
    operands sampled in those ranges (ends, signs, random) lies in `result_range`'s answer,
    and a decided compare is decided that way for every sample."""
    rnd = random.Random(op.mnemonic)
    arity, f = MODEL[_model_key(op.mnemonic)]
    srcs = [fld for fld in op.fields if fld.kind == oc.SRC]
    assert len(srcs) == arity, op.mnemonic
    regs = {fld.name: Reg(fld.bank, 2 * k) for k, fld in enumerate(srcs)}
    res_field = next(fld for fld in op.fields if fld.kind == oc.DST)
    res = Reg(res_field.bank, 100)
    ins = Instr(0, op, {**regs, "result": res}, 0)
    pools = [_intervals(regs[fld.name].type) for fld in srcs]
    combos = list(itertools.product(*pools))
    rnd.shuffle(combos)
    checked = 0
    for ranges in combos[:1500]:
        by_name = dict(zip((fld.name for fld in srcs), ranges))
        r = result_range(ins, lambda reg: by_name[next(n for n, x in regs.items() if x == reg)])
        if r is None:
            continue
        assert FULL[res.type][0] <= r[0] <= r[1] <= FULL[res.type][1], (ranges, r)
        for values in itertools.product(*(_samples(x, rnd) for x in ranges)):
            bits = max(BITS[reg.type] for reg in regs.values())  # the operands' width
            try:
                got = _wrap(f(*values, bits), BITS[res.type])
            except Trap:
                continue
            assert r[0] <= got <= r[1], (op.mnemonic, ranges, values, got, r)
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("mnemonic", ["cmp.eq.i32", "cmp.ne.i64", "cmp.lt.i32.s", "cmp.lt.i64.s",
                                      "cmp.lt.i32.u", "cmp.lt.i64.u", "cmp.nz.i32", "cmp.nz.i64"])
def test_decided_compares_hold_for_every_operand(mnemonic):
    rnd = random.Random(mnemonic)
    type_ = mnemonic.split(".")[2]
    bits = BITS[type_]
    f = MODEL[_model_key(mnemonic)][1]
    unary = ".nz." in mnemonic
    decided = 0
    for x in _intervals(type_):
        for y in ([None] if unary else _intervals(type_)):
            outcome = compare(mnemonic, x, y)
            if outcome is None:
                continue
            decided += 1
            for a in _samples(x, rnd):
                for b in ([None] if unary else _samples(y, rnd)):
                    got = f(a, bits) if unary else f(a, b, bits)
                    assert got == outcome, (mnemonic, x, y, a, b)
    assert decided > 0


# ------------------------------------------------------------------ hand-built IR
def _op(name, **args):
    return Instr(0, oc.BY_NAME[f"vm.{name}"], args, 0)


def _br(block, remap=()):
    return _op("br", dest_pc=Successor(0, block, tuple(remap)), operands=[])


def _cond_br(cond, true_block, false_block):
    return _op("cond_br", condition=cond, true_dest_pc=Successor(0, true_block, ()),
               true_operands=[], false_dest_pc=Successor(0, false_block, ()), false_operands=[])


def _function(*blocks, args=("i32",)):
    return Function("m", "f", 0, Signature(tuple(args), (), "0" + "".join(
        {"i32": "i", "i64": "I"}[a] for a in args) + "_v"), 200, 0, 0,
        [Block(i, 10 * i, list(b)) for i, b in enumerate(blocks)], 0, True)


def _facts_at(fn, block_index, position=0):
    ranges = analyze(fn)
    assert ranges is not None
    for block, ins, facts in ranges.walk():
        if block.index == block_index and ins is block.instrs[position]:
            return facts
    return None


I32 = lambda n: Reg("i32", n)  # noqa: E731
I64 = lambda n: Reg("i64", n)  # noqa: E731
X32 = lambda n: Reg("x32", n)  # noqa: E731
_DIV = _op("div.i32.s", left=I32(0), right=I32(0), result=I32(190))  # enables the analysis


def test_an_i64_moves_through_a_remap_only_as_both_halves_in_order():
    """A pair's fact follows a remap copying lo then hi; a lone half (the other half from
    elsewhere) or halves in the other order leave the destination pair unknown."""
    entry = [_DIV, _op("const.i64", value=10, result=I64(2)),
             _op("const.i64", value=-(1 << 40), result=I64(8)),
             _op("const.i32", value=7, result=I32(20))]
    for remap, known in [([(X32(2), X32(4)), (X32(3), X32(5))], True),
                         ([(X32(2), X32(4)), (X32(9), X32(5))], False),
                         ([(X32(3), X32(5)), (X32(2), X32(4))], False),
                         ([(X32(2), X32(4)), (X32(20), X32(5))], False)]:
        fn = _function(entry + [_br(1, remap)], [_op("return", operands=[])])
        facts = _facts_at(fn, 1)
        assert facts.known(I64(4)) == ((10, 10) if known else None), remap
    fn = _function(entry + [_br(1, [(X32(20), X32(30))])], [_op("return", operands=[])])
    assert _facts_at(fn, 1).known(I32(30)) == (7, 7)  # an i32 is a raw 32-bit slot


def test_an_and_condition_narrows_both_sides_on_its_true_edge_only():
    x, y = I32(0), I32(1)
    fn = _function([_DIV, _op("const.i32.zero", result=I32(10)),
                    _op("cmp.lt.i32.s", left=x, right=I32(10), result=I32(11)),
                    _op("cmp.lt.i32.s", left=y, right=I32(10), result=I32(12)),
                    _op("and.i32", left=I32(11), right=I32(12), result=I32(13)),
                    _cond_br(I32(13), 1, 2)],
                   [_op("return", operands=[])], [_op("return", operands=[])],
                   args=("i32", "i32"))
    both = _facts_at(fn, 1)
    assert both.range(x) == (FULL["i32"][0], -1) and both.range(y) == (FULL["i32"][0], -1)
    either = _facts_at(fn, 2)
    assert either.range(x) == FULL["i32"] and either.range(y) == FULL["i32"]


def test_no_narrowing_when_an_operand_changes_before_the_branch():
    x = I32(0)
    body = [_DIV, _op("const.i32.zero", result=I32(10)),
            _op("cmp.lt.i32.s", left=x, right=I32(10), result=I32(11))]
    plain = _function(body + [_cond_br(I32(11), 1, 2)],
                      [_op("return", operands=[])], [_op("return", operands=[])])
    assert _facts_at(plain, 2).range(x) == (0, FULL["i32"][1])
    rewritten = _function(body + [_op("add.i32", left=x, right=x, result=x),
                                  _cond_br(I32(11), 1, 2)],
                          [_op("return", operands=[])], [_op("return", operands=[])])
    assert _facts_at(rewritten, 2).range(x) == FULL["i32"]


def test_no_narrowing_when_the_compare_overwrites_its_own_operand():
    """`%i4 = cmp.lt.i32.u %i0, %i4`: at the branch %i4 holds the outcome, not the bound."""
    x, y = I32(0), I32(4)
    fn = _function([_DIV, _op("const.i32", value=100, result=y),
                    _op("cmp.lt.i32.u", left=x, right=y, result=y), _cond_br(y, 1, 2)],
                   [_op("return", operands=[])], [_op("return", operands=[])])
    assert _facts_at(fn, 1).range(x) == FULL["i32"] and _facts_at(fn, 1).range(y) == (1, 1)
    bound = I32(5)
    fine = _function([_DIV, _op("const.i32", value=100, result=bound),
                      _op("cmp.lt.i32.u", left=x, right=bound, result=y), _cond_br(y, 1, 2)],
                     [_op("return", operands=[])], [_op("return", operands=[])])
    assert _facts_at(fine, 1).range(x) == (0, 99)


def test_an_edge_a_decided_condition_never_takes_is_not_walked():
    fn = _function([_DIV, _op("const.i32", value=3, result=I32(10)),
                    _op("cmp.lt.i32.s", left=I32(10), right=I32(10), result=I32(11)),
                    _cond_br(I32(11), 1, 2)],
                   [_op("const.i32", value=1, result=I32(12)), _op("return", operands=[])],
                   [_op("return", operands=[])])
    assert _facts_at(fn, 1) is None and _facts_at(fn, 2) is not None


def test_a_slot_holding_different_kinds_on_two_paths_is_unknown_after_the_join():
    """Slot 4 holds an i32 5 on one path and the low half of an i64 5 on the other."""
    fn = _function([_DIV, _op("cmp.nz.i32", operand=I32(0), result=I32(10)),
                    _cond_br(I32(10), 1, 2)],
                   [_op("const.i32", value=5, result=I32(4)), _br(3)],
                   [_op("const.i64", value=5, result=I64(4)), _br(3)],
                   [_op("return", operands=[])])
    assert _facts_at(fn, 1, 1).known(I32(4)) == (5, 5)
    assert _facts_at(fn, 3).known(I32(4)) is None and _facts_at(fn, 3).known(I64(4)) is None


def test_a_division_that_may_trap_is_not_folded_even_when_its_value_is_known():
    """0 / d is 0 for every d but zero, for which it traps: it stays a division."""
    fn = _function([_op("const.i32.zero", result=I32(10)),
                    _op("div.i32.s", left=I32(10), right=I32(0), result=I32(11)),
                    _op("rem.i32.s", left=I32(10), right=I32(0), result=I32(12)),
                    _op("const.i32", value=3, result=I32(13)),
                    _op("div.i32.s", left=I32(10), right=I32(13), result=I32(14)),
                    _op("return", operands=[I32(11), I32(12), I32(14)])])
    out = fold_ranges(fn).instrs()
    # 0 / 3 folds (and its divisor's const op goes), 0 / d and 0 % d stay
    assert [(i.op.mnemonic, i.args.get("value")) for i in out] == [
        ("const.i32.zero", None), ("div.i32.s", None), ("rem.i32.s", None), ("const.i32", 0),
        ("return", None)]


def test_a_copy_is_folded_into_the_op_computing_its_source_only_when_nothing_sees_it():
    """`s = x + 1; d = copy s` becomes `d = x + 1`, unless d is read between (it would see
    the new value early) or s has another reader."""
    from splatjit.range_folding import retarget_copies
    x, s, d, t, one = I32(0), I32(10), I32(1), I32(11), I32(12)
    head = [_op("const.i32", value=1, result=one), _op("add.i32", left=x, right=one, result=s)]
    copy = Instr(0, oc.JIT_OPS["jit.copy.i32"], {"operand": s, "result": d}, 0)
    plain = _function(head + [copy, _op("return", operands=[d])], args=("i32", "i32"))
    out = list(retarget_copies(plain).instrs())
    assert [i.op.mnemonic for i in out] == ["const.i32", "add.i32", "return"]
    assert out[1].args["result"] == d
    early_read = _function(head + [_op("add.i32", left=d, right=one, result=t), copy,
                                   _op("return", operands=[d, t])], args=("i32", "i32"))
    assert retarget_copies(early_read) is early_read
    early_write = _function(head + [_op("const.i32", value=9, result=d), copy,
                                    _op("return", operands=[d])], args=("i32", "i32"))
    assert retarget_copies(early_write) is early_write
    shared = _function(head + [copy, _op("return", operands=[d, s])], args=("i32", "i32"))
    assert retarget_copies(shared) is shared
    remapped = _function(head + [copy, _br(1, [(X32(10), X32(30))])],
                         [_op("return", operands=[d, I32(30)])], args=("i32", "i32"))
    assert retarget_copies(remapped) is remapped


def test_nothing_is_analysed_without_a_signed_division():
    fn = _function([_op("add.i32", left=I32(0), right=I32(0), result=I32(1)),
                    _op("return", operands=[])])
    assert analyze(fn) is None and fold_ranges(fn) is fn


# ------------------------------------------------------------------ the corpus module
def _data():
    return corpus.compile_item(corpus.find_item("vm/value_ranges"))


#: function -> (signed div/rem left, unsigned div/rem made, signed compares left)
EXPECT = {
    "floordiv_index_by_8": (0, 2, 1),          # only the loop test k < bound stays
    "delinearize_by_6_i32": (0, 3, 1),
    "floordiv_index_by_unknown": (2, 0, 2),    # k < bound, d < 0; k < 0 and r < 0 fold
    "negative_start": (2, 0, 1),
    "unknown_step": (2, 0, 2),
    "wrapping_step": (2, 0, 2),
    "guarded_divisions": (2, 2, 2),            # x >= -1 keeps its signed pair
    "arithmetic_facts": (1, 2, 0),             # rem of max(x, 7) by -9 stays signed
    "arithmetic_near_misses": (3, 0, 1),
    "nested_unpack": (0, 2, 1),
    "and_condition_false_edge": (2, 0, 2),
    "not_equal_edge": (2, 0, 0),
    "decided_compares": (0, 0, 1),             # a < 0 (unknown a) stays; the rest fold
    "nonneg_by_unknown": (0, 2, 0),
    "edges_of_unknowns": (3, 0, 1),            # y <= 25 may be negative; a <u y, y unknown
    "identities": (0, 1, 1),
}


def _counts(fn):
    ms = [i.op.mnemonic for i in fn.instrs()]
    return (sum(m.startswith(("div.", "rem.")) and m.endswith(".s") for m in ms),
            sum(m.startswith(("div.", "rem.")) and m.endswith(".u") for m in ms),
            sum(m.startswith("cmp.lt.") and m.endswith(".s") for m in ms))


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_which_ops_change(name):
    loaded = load_module(_data())
    fn = next(f for f in loaded.functions if f.name == name)
    before = _counts(fn)
    assert before[1] == 0
    after = fold_ranges(rename_webs(fn))
    assert _counts(after) == EXPECT[name], (before, _counts(after))
    offsets = {i.offset for i in fn.instrs()}
    assert {i.offset for i in after.instrs()} <= offsets  # replaced ops keep their offsets


INPUTS = {
    "floordiv_index_by_8": [(0,), (1,), (9,), (300,), (301,), (-5,), (2**40,)],
    "delinearize_by_6_i32": [(0,), (7,), (250,), (1000,), (-3,)],
    "floordiv_index_by_unknown": [(50, 7), (50, -7), (50, 1), (50, -1), (3, 2**40), (-1, 3)],
    "negative_start": [(0,), (-40,), (37,), (100,)],
    "unknown_step": [(1,), (-1,), (3,), (-7,), (2**31 - 1,), (-2**31,)],
    "wrapping_step": [(1,), (0,), (-2**31,), (2**28,), (5,)],
    "guarded_divisions": [(x,) for x in (0, 1, -1, -2, 5, 99, 100, 2**31 - 1, -2**31, -7)],
    "arithmetic_facts": [(x, y) for x in (0, -1, 300, -2**31) for y in (0, -5, 2**63 - 1)],
    "arithmetic_near_misses": [(x,) for x in (0, -1, -17, 2**31 - 1, -2**31, 40)],
    "nested_unpack": [(3, 5), (12, 12), (2**63, 3), (100, 1), (0, 9)],
    "and_condition_false_edge": [(-7, 1), (-7, -1), (7, -1), (-2**31, 0), (9, 9)],
    "not_equal_edge": [(a,) for a in (-9, -1, 0, 2, 3, 4, 5, 9)],
    "decided_compares": [(a, b) for a in (-3, 0, 4) for b in (-1, 300, 255)],
    "nonneg_by_unknown": [(x, d) for x in (-1, 4095, 5000) for d in (2, 3, 77, -1)],
    "edges_of_unknowns": [(a, y) for a in (0, 1, -8, 3, 2**31 - 1) for y in (-1, -9, 0, 20, 40)],
    "identities": [(a, b) for a in (0, 5, -1, -2**31, 2**31 - 1) for b in (0, 7, -1)],
}


def _types(loaded, name):
    sig = loaded.defn.signatures[next(e.ordinal for e in loaded.defn.exports if e.name == name)]
    return list(sig.args)


@pytest.mark.parametrize("target", ["x86_64", "aarch64"])
def test_corpus_results_equal_the_interpreter_within_fuel(target):
    """Every function's loops are short: running out of fuel is a failure here."""
    if target == "x86_64" and platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("x86-64 code")
    data = _data()
    loaded = load_module(data)
    assert set(INPUTS) == set(EXPECT) == {e.name for e in loaded.defn.exports}
    m = JitModule(data, target=target, fuel=100_000)
    oracle = Oracle([data])
    for name, cases in INPUTS.items():
        types = _types(loaded, name)
        for args in cases:
            args = tuple(_wrap(a, BITS[t]) for a, t in zip(args, types))
            got = m[name](*args)
            got = list(got) if isinstance(got, tuple) else [got]
            assert got == oracle.call(name, list(args), types), (name, args)


@pytest.mark.parametrize("target", ["x86_64", "aarch64"])
def test_a_division_made_unsigned_traps_where_the_signed_one_did(target):
    if target == "x86_64" and platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("x86-64 code")
    data = _data()
    loaded = load_module(data)
    fn = next(f for f in loaded.functions if f.name == "nonneg_by_unknown")
    div = next(i for i in fn.instrs() if i.op.mnemonic == "div.i32.s")
    m = JitModule(data, target=target)
    for d in (0, 1):
        with pytest.raises(TrapError) as e:
            m.nonneg_by_unknown(5, d)
        assert e.value.offset == div.offset
        assert "division" in str(e.value)
