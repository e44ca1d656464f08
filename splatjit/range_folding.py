"""Rewrites that value ranges (`value_ranges.py`) prove invisible, then dead-op removal.

IREE lowers floor division and index delinearisation to signed `div` / `rem` followed by
sign fixups (`x < 0`, `r < 0`, selects of `q - 1` / `r + d`) that are dead whenever the
values are non-negative - as loop indices counting up from zero are. Given the ranges
before each op, this pass:

  * replaces an integer op that cannot trap and whose result is one known value by a
    `const` op (a decided `cmp`, an `and` with a known-false side, ...); a division or
    remainder folds only when its divisor range excludes zero (and INT_MIN / -1);
  * replaces a `select` whose condition is decided by a `jit.copy` of the chosen operand
    (nothing, when that operand is the result register itself);
  * replaces `cmp.ne 0, b` / `cmp.ne b, 0` / `cmp.nz b` of a boolean `b` (range [0, 1])
    and `min` / `max` whose outcome is decided by a copy of the operand they yield;
  * turns `div.s` / `rem.s` of a non-negative dividend by a non-negative divisor into
    `div.u` / `rem.u` (the same quotient and remainder, and the same zero-divisor trap;
    INT_MIN / -1 cannot occur), which the backends emit as a shift / mask for constant
    powers of two, without the signed correction;

then removes integer ops that cannot trap and whose results no op or remap reads, and lets
the op computing a copy's only source write the copy's destination instead.

Contract: `fold_ranges(fn)` returns a Function computing what `fn` computes, with the same
traps at the same offsets (ops that may trap are never removed; a replaced op keeps its
offset), or `fn` itself when nothing changes. Run on renamed webs, after constant folding.
"""
from __future__ import annotations

from dataclasses import replace

from .frontend import opcodes as oc
from .ir import Block, Function, Instr, Reg
from .regalloc.variables import successors, typed_regs
from .range_rules import BITS, full, result_range, signed
from .value_ranges import analyze

_CONST = {"i32": oc.BY_NAME["vm.const.i32"], "i64": oc.BY_NAME["vm.const.i64"]}
_COPY = {"i32": oc.JIT_OPS["jit.copy.i32"], "i64": oc.JIT_OPS["jit.copy.i64"]}
_COPY_OPS = frozenset(_COPY.values())
#: stems of integer ops that never trap and only write their result
_PURE = frozenset({"add", "sub", "mul", "fma", "and", "or", "xor", "not", "shl", "shr", "min",
                   "max", "abs", "ctlz", "cmp", "select", "ext", "trunc", "const", "copy"})
_UNSIGNED = {f"{op}.{t}.s": oc.BY_NAME[f"vm.{op}.{t}.u"] for op in ("div", "rem")
             for t in ("i32", "i64")}


def _const(ins: Instr, value: int) -> Instr:
    dst = ins.args["result"]
    return Instr(ins.offset, _CONST[dst.type], {"value": signed(value, BITS[dst.type]),
                                                "result": dst}, 0)


def _copy(ins: Instr, src: Reg) -> list[Instr]:
    dst = ins.args["result"]
    if src == dst:
        return []
    return [Instr(ins.offset, _COPY[dst.type], {"operand": src, "result": dst}, 0)]


def _stem(mnemonic: str) -> str:
    return "copy" if mnemonic.startswith("jit.copy.") else mnemonic.split(".", 1)[0]


def _is_integer_op(ins: Instr) -> bool:
    m = ins.op.mnemonic
    res = ins.args.get("result")
    return (isinstance(res, Reg) and res.type in BITS and ".f" not in m and "ref" not in m
            and all(r.type in BITS for r in typed_regs(ins)[0]))


def _cannot_trap(ins: Instr, rng) -> bool:
    stem = _stem(ins.op.mnemonic)
    if stem in _PURE:
        return True
    if stem not in ("div", "rem"):
        return False
    x, y = rng(ins.args["left"]), rng(ins.args["right"])
    if y[0] <= 0 <= y[1]:
        return False
    minimum = full(ins.args["left"].type)[0]
    return not (ins.op.mnemonic.endswith(".s") and y[0] <= -1 <= y[1] and x[0] == minimum)


def _identity(ins: Instr, rng) -> Reg | None:
    """The operand `ins` always yields unchanged, if any."""
    m, a = ins.op.mnemonic, ins.args
    stem = m.split(".", 1)[0]
    if m in ("cmp.ne.i32", "cmp.nz.i32"):  # a boolean compared with zero is itself
        if m == "cmp.nz.i32":
            b = a["operand"]
        else:
            b = (a["right"] if rng(a["left"]) == (0, 0) else
                 a["left"] if rng(a["right"]) == (0, 0) else None)
        if b is None:
            return None
        lo, hi = rng(b)
        return b if lo >= 0 and hi <= 1 else None
    if stem in _NEUTRAL:  # x op e == x for the op's neutral element(s)
        left, right = (a["left"], a["right"]) if "right" in a else (a["operand"], a["amount"])
        for x, e in ((left, right), (right, left)):
            if e is right or stem in _COMMUTATIVE:
                lo, hi = rng(e)
                if lo == hi and _NEUTRAL[stem](lo, rng(x), BITS[a["result"].type]):
                    return x
    if stem in ("min", "max") and (m.endswith(".s") or (rng(a["left"])[0] >= 0
                                                         and rng(a["right"])[0] >= 0)):
        x, y = rng(a["left"]), rng(a["right"])
        low, high = (a["left"], a["right"]) if x[1] <= y[0] else (
            (a["right"], a["left"]) if y[1] <= x[0] else (None, None))
        if low is None:
            return None
        return low if stem == "min" else high
    if stem == "select":
        c = rng(a["condition"])
        if c[0] > 0 or c[1] < 0:
            return a["true_value"]
        if c == (0, 0):
            return a["false_value"]
    return None


def _low_mask_covers(e: int, x, bits: int) -> bool:
    """e (signed) is 2**k - 1 (or all ones) and every x in [x0, x1] fits in its bits."""
    e &= (1 << bits) - 1
    return not e & (e + 1) and (e == (1 << bits) - 1 or 0 <= x[0] and x[1] <= e)


#: op stem -> test(e, range of x, bits): `x op e` is x for every x in that range
_NEUTRAL = {
    "add": lambda e, x, bits: e == 0,
    "sub": lambda e, x, bits: e == 0,
    "or": lambda e, x, bits: e == 0,
    "xor": lambda e, x, bits: e == 0,
    "mul": lambda e, x, bits: e == 1,
    "div": lambda e, x, bits: e == 1,
    "and": _low_mask_covers,
    "shl": lambda e, x, bits: e & (bits - 1) == 0,
    "shr": lambda e, x, bits: e & (bits - 1) == 0,
}
_COMMUTATIVE = frozenset({"add", "or", "xor", "mul", "and"})


def _rewrite(ins: Instr, rng) -> list[Instr] | None:
    """What replaces `ins` given `rng(reg)` (ranges before it), or None (it stays)."""
    m = ins.op.mnemonic
    if m.startswith("const.") or not _is_integer_op(ins):
        return None
    if len(typed_regs(ins)[1]) == 1 and _cannot_trap(ins, rng):
        r = result_range(ins, rng)
        if r is not None and r[0] == r[1]:
            return [_const(ins, r[0])]
        same = _identity(ins, rng)
        if same is not None:
            return _copy(ins, same)
    unsigned = _UNSIGNED.get(m)
    if unsigned is not None and rng(ins.args["left"])[0] >= 0 and rng(ins.args["right"])[0] >= 0:
        return [Instr(ins.offset, unsigned, ins.args, ins.length)]
    return None


def _removable(ins: Instr) -> bool:
    return _stem(ins.op.mnemonic) in _PURE and _is_integer_op(ins)


def remove_dead(fn: Function) -> Function:
    """`fn` without integer ops that cannot trap and whose results nothing reads (read
    counts per slot, over ops and remaps; removing an op may leave its operands unread)."""
    reads = _slot_counts(fn)[0]
    writers: dict[int, list[Instr]] = {}
    for ins in fn.instrs():
        if _removable(ins):
            for s in ins.args["result"].slots:
                writers.setdefault(s, []).append(ins)
    dead: set[int] = set()
    work = [ins for ins in fn.instrs() if _removable(ins)]
    while work:
        ins = work.pop()
        if id(ins) in dead or any(reads.get(s) for s in ins.args["result"].slots):
            continue
        dead.add(id(ins))
        for r in typed_regs(ins)[0]:
            for s in r.slots:
                reads[s] -= 1
                if not reads[s]:
                    work += writers.get(s, ())
    if not dead:
        return fn
    return replace(fn, blocks=[Block(b.index, b.offset, [i for i in b.instrs if id(i) not in dead])
                               for b in fn.blocks])


def _slot_counts(fn: Function) -> tuple[dict, dict]:
    """(reads, writes): slot -> how many ops / remap copies read / write it."""
    reads: dict[int, int] = {}
    writes: dict[int, int] = {}
    for ins in fn.instrs():
        uses, defs = typed_regs(ins)
        for r in uses:
            for s in r.slots:
                reads[s] = reads.get(s, 0) + 1
        for r in defs:
            for s in r.slots:
                writes[s] = writes.get(s, 0) + 1
        for succ in successors(ins) if ins.op.edge_fields else ():
            for src, dst in succ.remap:
                if not src.is_ref:
                    reads[src.ordinal] = reads.get(src.ordinal, 0) + 1
                    writes[dst.ordinal] = writes.get(dst.ordinal, 0) + 1
    return reads, writes


def retarget_copies(fn: Function) -> Function:
    """`d = jit.copy s` goes, the op `D` that computed `s` writing `d` itself, when `s` is
    written only by `D` and read only by the copy, `D` is in the copy's block before it and
    no op between them reads or writes `d`: `d` then takes its value earlier, where nothing
    can see the difference, and `s` is never needed (a compare feeding a branch through a
    copy leaves its condition in the flags again)."""
    reads, writes = _slot_counts(fn)
    blocks, changed = [], False
    for b in fn.blocks:
        instrs = list(b.instrs)
        for j, copy in enumerate(b.instrs):
            if copy.op not in _COPY_OPS:
                continue
            src, dst = copy.args["operand"], copy.args["result"]
            if any(reads.get(x) != 1 or writes.get(x) != 1 for x in src.slots):
                continue
            d_slots = set(dst.slots)
            for i in range(j - 1, -1, -1):
                if instrs[i] is None:  # a copy already folded away
                    continue
                uses, defs = typed_regs(instrs[i])
                if defs == [src] and instrs[i].args.get("result") == src:
                    if instrs[i].op.edge_fields:
                        break
                    producer = instrs[i]
                    instrs[i] = Instr(producer.offset, producer.op,
                                      {**producer.args, "result": dst}, producer.length)
                    instrs[j] = None
                    changed = True
                    break
                if d_slots & {x for r in uses + defs for x in r.slots}:
                    break
        blocks.append(Block(b.index, b.offset, [x for x in instrs if x is not None]))
    return replace(fn, blocks=blocks) if changed else fn


def fold_ranges(fn: Function) -> Function:
    """See the module docstring."""
    ranges = analyze(fn)
    if ranges is None:
        return fn
    new: dict[int, list[Instr]] = {}
    for _, ins, facts in ranges.walk():
        out = _rewrite(ins, facts.range)
        if out is not None:
            new[id(ins)] = out
    if not new:
        return fn
    blocks = [Block(b.index, b.offset, [x for ins in b.instrs for x in new.get(id(ins), [ins])])
              for b in fn.blocks]
    return retarget_copies(remove_dead(replace(fn, blocks=blocks)))
