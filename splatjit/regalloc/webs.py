"""Web renaming: give each independent value of a reused VM slot a slot of its own.

IREE's register allocator reuses i32-bank slots freely: one slot holds an i64 half in one
loop and an f32 in the next. `variables.classify` promotes a slot only when every access in
the whole function agrees on its kind, so reused slots stay in memory. Renaming first
splits each slot into *webs* - a def joined with every use it reaches (reaching
definitions per 32-bit slot, through sequential branch remaps) - and moves every web that is
self-consistent to fresh slots above the function's own.

Contract: `rename_webs(fn)` returns a new `Function` (new `Instr`s, same ops, offsets and
blocks) computing exactly what `fn` computes, or `fn` itself when nothing moves. A web moves
only if it does not reach the function's entry (arguments, never-written slots) and all its
accesses have one width: all 32-bit (i32 / f32 / raw remap halves) or all whole aligned pairs
(i64 / f64 / pair remap moves). Any access that could observe the slot's other users is in
the same web by construction, so the VM's aliasing is kept where it is observable.
"""
from __future__ import annotations

from ..frontend import opcodes as oc
from ..ir import WIDE, Block, Function, Instr, Reg, Successor
from .variables import wide_pair_moves

_REG_FIELDS = (oc.SRC, oc.DST, oc.SRCLIST, oc.DSTLIST)


class _UnionFind:
    def __init__(self):
        self.parent: list[int] = []

    def add(self) -> int:
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def find(self, x: int) -> int:
        p = self.parent
        while p[x] != x:
            p[x] = p[p[x]]
            x = p[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb


def _edge_groups(succ: Successor, wide_slots: set[int]):
    """The primitive copies of a remap as (src slots, dst slots) groups, in order: aligned
    consecutive halves of wide-accessed slots move as one pair (as `classify` groups them)."""
    raw = [(s.ordinal, d.ordinal) for s, d in succ.remap if not s.is_ref]
    wide, single = wide_pair_moves(raw, wide_slots)
    wide_set, out, i = set(wide), [], 0
    while i < len(raw):
        s, d = raw[i]
        if (s, d) in wide_set and i + 1 < len(raw) and raw[i + 1] == (s + 1, d + 1):
            out.append(((s, s + 1), (d, d + 1)))
            i += 2
        else:
            out.append(((s,), (d,)))
            i += 1
    return out


def _successor_fields(ins: Instr):
    """(field name, case index or None, Successor) for every edge of `ins`."""
    for f in ins.op.fields:
        if f.kind is oc.TARGET:
            yield f.name, None, ins.args[f.name]
        elif f.kind is oc.CASES:
            for k, s in enumerate(ins.args[f.name]):
                yield f.name, k, s


def rename_webs(fn: Function) -> Function:
    uf = _UnionFind()
    width: list[int] = []      # node -> 1 or 2 slots
    entry: dict[int, int] = {}  # slot -> its entry pseudo-def node
    wide_slots: set[int] = set()
    for ins in fn.instrs():
        for f in ins.op.fields:
            if f.kind in _REG_FIELDS:
                v = ins.args[f.name]
                for r in (v if isinstance(v, list) else [v]):
                    if r.type in WIDE:
                        wide_slots.update(r.slots)

    def node(w: int) -> int:
        width.append(w)
        return uf.add()

    def entry_node(slot: int) -> int:
        n = entry.get(slot)
        if n is None:
            n = entry[slot] = node(0)
        return n

    # Sites: where each node appears, so the rewrite finds it again.
    reg_site: dict[tuple, int] = {}     # (id(ins), field, index) -> node
    copy_site: dict[tuple, tuple] = {}  # (id(ins), field, case, group) -> (use node, def node)
    block_body: list[list[tuple]] = []  # per block: ("use"|"def", node, slots) in order
    edges: list[list[tuple]] = []       # per block: (target block, [(use, def, src, dst)])
    for b in fn.blocks:
        body, out_edges = [], []
        for ins in b.instrs:
            uses, defs = [], []
            for f in ins.op.fields:
                if f.kind not in _REG_FIELDS:
                    continue
                v = ins.args[f.name]
                regs = v if isinstance(v, list) else [v]
                for k, r in enumerate(regs):
                    if r.is_ref:
                        continue
                    n = node(len(r.slots))
                    reg_site[(id(ins), f.name, k)] = n
                    (uses if f.kind in (oc.SRC, oc.SRCLIST) else defs).append((n, r.slots))
            body += [("use", n, s) for n, s in uses] + [("def", n, s) for n, s in defs]
            for fname, case, succ in _successor_fields(ins):
                copies = []
                for g, (src, dst) in enumerate(_edge_groups(succ, wide_slots)):
                    u, d = node(len(src)), node(len(dst))
                    copy_site[(id(ins), fname, case, g)] = (u, d)
                    copies.append((u, d, src, dst))
                if succ.block is not None:
                    out_edges.append((succ.block, copies))
        block_body.append(body)
        edges.append(out_edges)

    # Reaching definitions per slot (slot -> frozenset of def nodes), to a fixpoint.
    n_blocks = len(fn.blocks)
    state_in: list[dict | None] = [None] * n_blocks
    state_in[0] = {}

    def transfer(block: int, state: dict) -> dict:
        state = dict(state)
        for kind, n, slots in block_body[block]:
            if kind == "def":
                for s in slots:
                    state[s] = frozenset((n,))
        return state

    def through_edge(state: dict, copies) -> dict:
        state = dict(state)
        for _, d, _, dst in copies:
            for s in dst:
                state[s] = frozenset((d,))
        return state

    work = [0]
    while work:
        b = work.pop()
        out = transfer(b, state_in[b])
        for target, copies in edges[b]:
            incoming = through_edge(out, copies)
            cur = state_in[target]
            if cur is None:
                state_in[target] = incoming
                work.append(target)
                continue
            merged, changed = dict(cur), False
            for s in set(cur) | set(incoming):
                # a slot missing on one side may hold its entry value there
                a = cur.get(s, frozenset((-1 - s,)))
                c = incoming.get(s, frozenset((-1 - s,)))
                u = a | c
                if u != a:
                    changed = True
                merged[s] = u
            if changed:
                state_in[target] = merged
                work.append(target)

    def reaching(state: dict, slot: int):
        for d in state.get(slot, (-1 - slot,)):
            yield entry_node(slot) if d < 0 else d

    for b in range(n_blocks):
        state = dict(state_in[b] or {})
        for kind, n, slots in block_body[b]:
            if kind == "use":
                for s in slots:
                    for d in reaching(state, s):
                        uf.union(n, d)
            else:
                for s in slots:
                    state[s] = frozenset((n,))
        for _, copies in edges[b]:
            edge_state = dict(state)
            for u, d, src, dst in copies:  # sequential: each copy sees the ones before
                for s in src:
                    for r in reaching(edge_state, s):
                        uf.union(u, r)
                for s in dst:
                    edge_state[s] = frozenset((d,))
    # Which webs move, and where.
    web_width: dict[int, set] = {}
    pinned: set[int] = {uf.find(n) for n in entry.values()}
    for n, w in enumerate(width):
        web_width.setdefault(uf.find(n), set()).add(w)
    fresh = fn.i32_count
    new_base: dict[int, int] = {}
    for root in sorted(web_width):
        widths = web_width[root]
        if root in pinned or len(widths) != 1:
            continue
        w = next(iter(widths))
        if w == 2:
            fresh += fresh & 1
        new_base[root] = fresh
        fresh += w
    if not new_base:
        return fn

    def moved(n: int, reg: Reg, half: int = 0) -> Reg:
        base = new_base.get(uf.find(n))
        return reg if base is None else Reg(reg.type, base + half, reg.move)

    blocks = []
    for b in fn.blocks:
        instrs = []
        for ins in b.instrs:
            args = dict(ins.args)
            for f in ins.op.fields:
                if f.kind in _REG_FIELDS:
                    v = ins.args[f.name]
                    if isinstance(v, list):
                        args[f.name] = [r if r.is_ref else moved(reg_site[(id(ins), f.name, k)], r)
                                        for k, r in enumerate(v)]
                    elif not v.is_ref:
                        args[f.name] = moved(reg_site[(id(ins), f.name, 0)], v)
            for fname, case, succ in _successor_fields(ins):
                new = _rewrite_remap(succ, wide_slots, lambda g: copy_site[(id(ins), fname, case, g)],
                                     moved)
                if case is None:
                    args[fname] = new
                else:
                    if args[fname] is ins.args[fname]:
                        args[fname] = list(ins.args[fname])
                    args[fname][case] = new
            instrs.append(Instr(ins.offset, ins.op, args, ins.length))
        blocks.append(Block(b.index, b.offset, instrs))
    return Function(fn.module, fn.name, fn.ordinal, fn.signature, fresh, fn.ref_count,
                    fn.requirements, blocks, fn.bytecode_offset, fn.verified)


def _rewrite_remap(succ: Successor, wide_slots, site, moved) -> Successor:
    """The edge's remap with each copy group's source and destination moved (a pair group's
    halves go to the moved pair's even slot and the one after it)."""
    prim = [p for p in succ.remap if not p[0].is_ref]
    new_prim, k = [], 0
    for g, (src, _) in enumerate(_edge_groups(succ, wide_slots)):
        u, d = site(g)
        for half in range(len(src)):
            s, t = prim[k]
            new_prim.append((moved(u, s, half), moved(d, t, half)))
            k += 1
    it = iter(new_prim)
    remap = tuple(p if p[0].is_ref else next(it) for p in succ.remap)
    return Successor(succ.pc, succ.block, remap)
