"""Liveness of promoted variables and their live intervals.

Program points: the i-th instruction of the function (blocks in bytecode order) reads its
operands at point 2i and writes its results at 2i+1; arguments are written at point -1.
A branch's remap copies read at the branch's point and write at the next odd point.

Contract: `live_intervals(fn, slots, clobbers)` returns one `Interval` per promoted variable:
the hull [start, end] of every point where it is live, and whether a call-clobbering
instruction (as judged by the backend's `clobbers(ins)`) lies strictly inside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..frontend.verifier import arg_registers
from ..ir import Function
from .loops import loop_depths
from .variables import SlotMap, Var, successors, typed_regs

#: A use inside k nested loops counts LOOP_WEIGHT ** k (k capped at MAX_DEPTH) toward the
#: spill cost: values the innermost loops touch keep their registers.
LOOP_WEIGHT = 8
MAX_DEPTH = 5


@dataclass
class Interval:
    var: Var
    start: int
    end: int
    crosses_call: bool = False
    uses: int = 0  # reads and writes, each weighted LOOP_WEIGHT ** loop depth (spill cost)


@dataclass
class Liveness:
    live_in: list[set]
    live_out: list[set]
    points: dict = field(default_factory=dict)  # id(instr) -> point


def _instr_uses_defs(ins, slots: SlotMap):
    uses, defs = typed_regs(ins)
    u = {v for v in map(slots.var_of, uses) if v is not None}
    d = {v for v in map(slots.var_of, defs) if v is not None}
    return u, d


def _edge_uses_defs(succ, slots: SlotMap):
    wide, single = slots.remap_moves(succ.remap)
    u, d = set(), set()
    for s, t in wide + single:
        if s in slots.var_at:
            u.add(slots.var_at[s])
        if t in slots.var_at:
            d.add(slots.var_at[t])
    return u, d


def compute_liveness(fn: Function, slots: SlotMap) -> Liveness:
    n = len(fn.blocks)
    gen, kill = [set() for _ in range(n)], [set() for _ in range(n)]
    edges: list[list[tuple[int, set, set]]] = [[] for _ in range(n)]
    for b in fn.blocks:
        g, k = gen[b.index], kill[b.index]
        for ins in b.instrs:
            u, d = _instr_uses_defs(ins, slots)
            g |= u - k
            k |= d
        if b.instrs:
            for succ in successors(b.instrs[-1]):
                eu, ed = _edge_uses_defs(succ, slots)
                edges[b.index].append((succ.block, eu, ed))
    live_in = [set() for _ in range(n)]
    live_out = [set() for _ in range(n)]
    changed = True
    while changed:
        changed = False
        for b in reversed(range(n)):
            out = set()
            for target, eu, ed in edges[b]:
                out |= (live_in[target] - ed) | eu
            # The terminator's own operands are read before its edges' copies: gen covers them.
            inn = gen[b] | (out - kill[b])
            if out != live_out[b] or inn != live_in[b]:
                live_out[b], live_in[b] = out, inn
                changed = True
    return Liveness(live_in, live_out)


def live_intervals(fn: Function, slots: SlotMap, clobbers) -> list[Interval]:
    live = compute_liveness(fn, slots)
    lo: dict[Var, int] = {}
    hi: dict[Var, int] = {}
    count: dict[Var, int] = {}

    weight = 1

    def touch(v: Var, p: int, uses: int = 1):
        lo[v] = min(lo.get(v, p), p)
        hi[v] = max(hi.get(v, p), p)
        count[v] = count.get(v, 0) + uses * weight

    for r in arg_registers(fn.signature):
        v = slots.var_of(r)
        if v is not None:
            touch(v, -1)
    calls: list[int] = []
    depths = loop_depths(fn)
    i = 0
    for b in fn.blocks:
        start = 2 * i
        weight = LOOP_WEIGHT ** min(depths[b.index], MAX_DEPTH)
        for ins in b.instrs:
            p = 2 * i
            u, d = _instr_uses_defs(ins, slots)
            for v in u:
                touch(v, p)
            for v in d:
                touch(v, p + 1)
            for succ in successors(ins):
                eu, ed = _edge_uses_defs(succ, slots)
                for v in eu:
                    touch(v, p)
                for v in ed:
                    touch(v, p + 1)
            if clobbers(ins):
                calls.append(p)
            i += 1
        end = 2 * i - 1
        for v in live.live_in[b.index]:
            touch(v, start, 0)
        for v in live.live_out[b.index]:
            touch(v, end, 0)
    out = []
    for v in slots.variables:
        if v not in lo:
            continue
        iv = Interval(v, lo[v], hi[v], uses=count[v])
        iv.crosses_call = any(iv.start < c < iv.end for c in calls)
        out.append(iv)
    return out
