"""Liveness of promoted variables and their live intervals.

Program points: the i-th instruction of the function (blocks in bytecode order) reads its
operands at point 2i and writes its results at 2i+1; arguments are written at point -1.
A branch's remap copies read at the branch's point and write at the next odd point.

Contract: `live_intervals(fn, slots, clobbers)` returns one `Interval` per promoted variable:
the hull [start, end] of every point where it is live, and whether a call-clobbering
instruction (as judged by the backend's `clobbers(ins)`) lies strictly inside it.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..frontend.verifier import arg_registers
from ..ir import WIDE, Function
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


def _edge_uses_defs(succ, slots: SlotMap):
    wide, single = slots.remap_moves(succ.remap)
    var_at = slots.var_at
    u, d = set(), set()
    for s, t in wide + single:
        if s in var_at:
            u.add(var_at[s])
        if t in var_at:
            d.add(var_at[t])
    return u, d


def _accesses(fn: Function, slots: SlotMap) -> list[list[tuple]]:
    """Per block, per instruction: (uses, defs, [(edge uses, edge defs, target block)]),
    the variables read and written (sets), once for both liveness and intervals."""
    out = []
    var_at = slots.var_at
    get = var_at.get
    for b in fn.blocks:
        rows = []
        for ins in b.instrs:
            uses, defs = typed_regs(ins)  # (no refs)
            u, d = set(), set()
            for r in uses:  # SlotMap.var_of, inline (as for defs below)
                v = get(r.ordinal)
                if v is not None:
                    t = r.type
                    if v.kind not in WIDE if t == "x32" else v.kind == t and v.slot == r.ordinal:
                        u.add(v)
            for r in defs:
                v = get(r.ordinal)
                if v is not None:
                    t = r.type
                    if v.kind not in WIDE if t == "x32" else v.kind == t and v.slot == r.ordinal:
                        d.add(v)
            edges = [(*_edge_uses_defs(succ, slots), succ.block)
                     for succ in successors(ins)] if ins.op.edge_fields else ()
            rows.append((u, d, edges))
        out.append(rows)
    return out


def compute_liveness(fn: Function, slots: SlotMap, accesses=None) -> Liveness:
    n = len(fn.blocks)
    accesses = _accesses(fn, slots) if accesses is None else accesses
    gen, kill = [set() for _ in range(n)], [set() for _ in range(n)]
    edges: list[list[tuple[int, set, set]]] = [[] for _ in range(n)]
    for b in fn.blocks:
        g, k = gen[b.index], kill[b.index]
        rows = accesses[b.index]
        for u, d, _ in rows:
            g |= u - k
            k |= d
        if rows:
            edges[b.index] = [(target, eu, ed) for eu, ed, target in rows[-1][2]]
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
    accesses = _accesses(fn, slots)
    live = compute_liveness(fn, slots, accesses)
    seen: dict[Var, list] = {}  # var -> [lowest point, highest point, weighted uses]

    def touch_all(vs, p: int, uses: int):
        for v in vs:
            r = seen.get(v)
            if r is None:
                seen[v] = [p, p, uses]
            else:
                if p < r[0]:
                    r[0] = p
                if p > r[1]:
                    r[1] = p
                r[2] += uses

    touch_all([v for v in map(slots.var_of, arg_registers(fn.signature)) if v is not None], -1, 1)
    calls: list[int] = []
    depths = loop_depths(fn)
    get = seen.get
    i = 0
    for b, rows in zip(fn.blocks, accesses):
        start = 2 * i
        weight = LOOP_WEIGHT ** min(depths[b.index], MAX_DEPTH)
        for ins, (u, d, edges) in zip(b.instrs, rows):
            p = 2 * i
            # touch_all(u, p, weight), touch_all(d, p + 1, weight) inline: no earlier touch
            # is above p (the walk's points only grow; this op's edges come after)
            for v in u:
                r = get(v)
                if r is None:
                    seen[v] = [p, p, weight]
                else:
                    r[1] = p
                    r[2] += weight
            for v in d:
                r = get(v)
                if r is None:
                    seen[v] = [p + 1, p + 1, weight]
                else:
                    r[1] = p + 1
                    r[2] += weight
            for eu, ed, _ in edges:
                touch_all(eu, p, weight)
                touch_all(ed, p + 1, weight)
            if clobbers(ins):
                calls.append(p)
            i += 1
        end = 2 * i - 1
        touch_all(live.live_in[b.index], start, 0)
        touch_all(live.live_out[b.index], end, 0)
    out = []
    for v in slots.variables:
        r = seen.get(v)
        if r is None:
            continue
        iv = Interval(v, r[0], r[1], uses=r[2])
        # calls are in increasing order: is there one strictly between start and end?
        k = bisect.bisect_right(calls, iv.start)
        iv.crosses_call = k < len(calls) and calls[k] < iv.end
        out.append(iv)
    return out
