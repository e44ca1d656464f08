"""Integer value ranges: which signed interval each i32 / i64 register holds at each op.

A forward dataflow over the CFG of one function (run it on renamed webs, after constant
folding). The state before an op maps 32-bit bank slots to facts:

  * `(I32, lo, hi)`: the slot holds an i32 in [lo, hi] (signed);
  * `(I64, lo, hi)` at an even slot with `HI` at the next one: the pair holds an i64 in
    [lo, hi]. The marker is set together with its pair only (an i64 def, or a remap that
    copies both halves in order), so the two halves are known to belong to one value;
  * anything else (absent): nothing is known.

Facts come from constants, from each op's transfer rule (`range_rules.py`: exact interval
arithmetic; a result that could wrap is unknown), and from branches: on each edge of a
`cond_br` whose condition a `cmp` (or an `and` of compares) in the same block computed from
operands not written since, the compared registers are narrowed to what that outcome implies
(a loop `i < n` bounds `i` inside the body). Backward branches (which cut every cycle) widen
a growing bound straight to the type's limit, so the fixpoint is reached in a few passes;
only what grows along a backward edge is widened, so an outer loop's index keeps its bounds
inside an inner loop. Every fact holds for every execution reaching that point, whatever the
function's arguments are (arguments and never-written slots start unknown), because every
rule covers all the values its operands may hold, and an op that traps has no result.

Contract: `analyze(fn)` returns `Ranges` or None (nothing to gain: no signed division or
remainder in `fn`, or the fixpoint was not reached within `MAX_PASSES`). `Ranges.walk()`
yields `(block, instr, facts)` for every op of every reachable block, in order; `facts` is
valid until the walk advances, and `facts.range(reg)` gives reg's (lo, hi) before that op
(the type's full range when nothing is known). Blocks never reached are not walked.
"""
from __future__ import annotations

from .ir import Function, Instr, Reg
from .range_rules import BITS, FULL, I32, I64, result_range
from .regalloc.variables import successors, typed_regs

HI = "hi"
MAX_PASSES = 50


# --------------------------------------------------------------------- states
class Facts:
    """The state before one op: slot -> fact (see the module docstring)."""

    __slots__ = ("slots",)

    def __init__(self, slots: dict):
        self.slots = slots

    def known(self, reg: Reg) -> tuple[int, int] | None:
        f = self.slots.get(reg.ordinal)
        if reg.type == I32:
            return (f[1], f[2]) if f is not None and f[0] == I32 else None
        if (reg.type == I64 and f is not None and f[0] == I64
                and self.slots.get(reg.ordinal + 1) == HI):
            return (f[1], f[2])
        return None

    def range(self, reg: Reg) -> tuple[int, int]:
        return self.known(reg) or FULL[reg.type]

    def set(self, reg: Reg, r: tuple[int, int] | None) -> None:
        slots = self.slots
        if r is None or reg.type not in BITS:
            for s in reg.slots:
                slots.pop(s, None)
        elif reg.type == I32:
            slots[reg.ordinal] = (I32, r[0], r[1])
        else:
            slots[reg.ordinal] = (I64, r[0], r[1])
            slots[reg.ordinal + 1] = HI

    def step(self, ins: Instr) -> None:
        """Apply `ins` (its results; not its edges)."""
        _, defs = typed_regs(ins)
        if not defs:
            return
        r = result_range(ins, self.range) if len(defs) == 1 else None
        for d in defs:
            self.set(d, r)

    def remap(self, pairs) -> None:
        """Apply a branch's sequential remap list (raw 32-bit copies; refs ignored)."""
        slots = self.slots
        raw = [(s.ordinal, d.ordinal) for s, d in pairs if not s.is_ref]
        i = 0
        while i < len(raw):
            s, d = raw[i]
            f = slots.get(s)
            if (f is not None and f[0] == I64 and not d & 1 and i + 1 < len(raw)
                    and raw[i + 1] == (s + 1, d + 1) and slots.get(s + 1) == HI):
                slots[d], slots[d + 1] = f, HI
                i += 2
                continue
            if f is not None and f[0] == I32:
                slots[d] = f
            else:
                slots.pop(d, None)
            i += 1


def _join(a: dict, b: dict, widen: bool) -> dict:
    """Facts true on both sides (`a` the old state when widening)."""
    if a == b:
        return a
    out = {}
    for s, fa in a.items():
        fb = b.get(s)
        if fb is None:
            continue
        if fa == HI or fb == HI:
            if fa == fb:
                out[s] = HI
            continue
        if fa[0] != fb[0]:
            continue
        lo, hi = min(fa[1], fb[1]), max(fa[2], fb[2])
        if widen:
            tlo, thi = FULL[fa[0]]
            lo = fa[1] if fb[1] >= fa[1] else tlo
            hi = fa[2] if fb[2] <= fa[2] else thi
        out[s] = (fa[0], lo, hi)
    return {s: f for s, f in out.items() if f != HI or out.get(s - 1, (None,))[0] == I64}


# --------------------------------------------------------------------- branch facts
def _narrow(facts: Facts, reg: Reg, lo: int, hi: int) -> bool:
    """Intersect reg's range with [lo, hi]; False when that is empty (edge never taken)."""
    cur = facts.range(reg)
    lo, hi = max(lo, cur[0]), min(hi, cur[1])
    if lo > hi:
        return False
    facts.set(reg, (lo, hi))
    return True


def _implied(facts: Facts, ins: Instr, outcome: bool) -> bool:
    """Narrow the operands of compare `ins` to what `outcome` implies; False when the
    outcome is impossible."""
    m, a = ins.op.mnemonic, ins.args
    kind = m.split(".")[1]
    if kind == "nz":
        x = a["operand"]
        if not outcome:
            return _narrow(facts, x, 0, 0)
        lo, hi = facts.range(x)
        return _narrow(facts, x, 1 if lo == 0 else lo, -1 if hi == 0 else hi)
    x, y = a["left"], a["right"]
    rx, ry = facts.range(x), facts.range(y)
    if kind in ("eq", "ne"):
        if (kind == "eq") == outcome:  # equal
            return _narrow(facts, x, *ry) and _narrow(facts, y, *facts.range(x))
        for p, q in ((x, ry), (y, rx)):  # not equal: a singleton trims the other's ends
            if q[0] == q[1]:
                lo, hi = facts.range(p)
                if not _narrow(facts, p, lo + (lo == q[0]), hi - (hi == q[0])):
                    return False
        return True
    if m.endswith(".u"):
        if not (rx[0] >= 0 and ry[0] >= 0):
            if outcome and ry[0] >= 0:  # x <u y <= max signed: x is non-negative too
                return _narrow(facts, x, 0, ry[1] - 1)
            return True
    if outcome:  # x < y
        return _narrow(facts, x, rx[0], ry[1] - 1) and _narrow(facts, y, rx[0] + 1, ry[1])
    return _narrow(facts, x, ry[0], rx[1]) and _narrow(facts, y, ry[0], rx[1])  # x >= y


def _definition(block_instrs, end: int, limit: int, reg: Reg):
    """The op in block_instrs[:end] that last wrote `reg`'s slots, when it wrote exactly
    `reg`, not over one of its own operands, and no op after it, up to block_instrs[limit],
    writes the slots of its operands (so they still hold what it read); else None."""
    slots = set(reg.slots)
    for i in range(end - 1, -1, -1):
        ins = block_instrs[i]
        _, defs = typed_regs(ins)
        hit = [d for d in defs if slots & set(d.slots)]
        if not hit:
            continue
        if len(defs) != 1 or defs[0] != reg:
            return None
        uses, _ = typed_regs(ins)
        used = {s for u in uses for s in u.slots}
        if used & slots:
            return None  # it overwrote an operand: that slot no longer holds what it read
        for later in block_instrs[i + 1:limit]:
            if used & {s for d in typed_regs(later)[1] for s in d.slots}:
                return None
        return ins, i
    return None


def _condition(facts: Facts, instrs, end: int, limit: int, cond: Reg, outcome: bool,
               depth: int = 0) -> bool:
    """Narrow (in `facts`, the state at instrs[limit]) what `cond` being non-zero (`outcome`)
    or zero implies; False when impossible. `cond` holds at instrs[limit] what it held at
    instrs[end] (the caller knows no op between writes it)."""
    lo, hi = facts.range(cond)
    if not (_narrow(facts, cond, 1 if lo == 0 else lo, -1 if hi == 0 else hi) if outcome
            else _narrow(facts, cond, 0, 0)):
        return False
    found = _definition(instrs, end, limit, cond) if depth < 4 else None
    if found is None:
        return True
    ins, i = found
    m = ins.op.mnemonic
    if m.startswith("cmp.") and ".f" not in m and "ref" not in m:
        return _implied(facts, ins, outcome)
    if m == "and.i32" and outcome:  # both sides non-zero
        return all(_condition(facts, instrs, i, limit, ins.args[k], True, depth + 1)
                   for k in ("left", "right"))
    return True


# --------------------------------------------------------------------- the fixpoint
class Ranges:
    """Facts at every block entry of one function (see the module docstring)."""

    def __init__(self, fn: Function, entry: dict[int, dict]):
        self.fn, self.entry = fn, entry

    def walk(self):
        for block in self.fn.blocks:
            start = self.entry.get(block.index)
            if start is None:
                continue
            facts = Facts(dict(start))
            for ins in block.instrs:
                yield block, ins, facts
                facts.step(ins)


def _edges(block, facts: Facts):
    """(target block, facts on that edge) for each edge out of `block`; `facts` is the state
    after its last op."""
    last = block.instrs[-1]
    succs = successors(last)
    cond = last.args.get("condition") if last.op.mnemonic == "cond_br" else None
    for k, succ in enumerate(succs):
        if cond is None and not succ.remap:
            yield succ.block, facts  # nothing to narrow or copy: the state as it is
            continue
        edge = Facts(dict(facts.slots))
        end = len(block.instrs) - 1
        if cond is not None and not _condition(edge, block.instrs, end, end, cond, k == 0):
            continue  # never taken
        edge.remap(succ.remap)
        yield succ.block, edge


_SIGNED_DIVISIONS = frozenset(f"{op}.{t}.s" for op in ("div", "rem") for t in BITS)


def analyze(fn: Function) -> Ranges | None:
    if not any(ins.op.mnemonic in _SIGNED_DIVISIONS for ins in fn.instrs()):
        return None
    for b in fn.blocks:
        if any(ins.op.edge_fields for ins in b.instrs[:-1]):
            return None  # edges only leave from a block's last op
    index = {b.index: b for b in fn.blocks}
    entry: dict[int, dict] = {fn.blocks[0].index: {}}
    work = [fn.blocks[0].index]
    passes = 0
    while work:
        passes += 1
        if passes > MAX_PASSES * len(fn.blocks):
            return None
        work.sort()
        b = work.pop(0)
        block = index[b]
        facts = Facts(dict(entry[b]))
        for ins in block.instrs:
            facts.step(ins)
        for target, edge in _edges(block, facts):
            if target is None or target not in index:
                return None
            old = entry.get(target)
            # widen what grows along a backward edge only: a value an outer loop grows
            # reaches an inner header by a forward edge, and the outer header widens it
            new = edge.slots if old is None else _join(old, edge.slots, target <= b)
            if new != old:
                entry[target] = new
                if target not in work:
                    work.append(target)
    return Ranges(fn, entry)
