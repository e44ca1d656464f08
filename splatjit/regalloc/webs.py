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

from dataclasses import replace
from heapq import heappop, heappush

from ..frontend import opcodes as oc
from ..ir import WIDE, Block, Function, Instr, Reg, Successor
from .variables import successors, wide_pair_moves


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
    for name, cases in ins.op.edge_fields:
        if not cases:
            yield name, None, ins.args[name]
        else:
            for k, s in enumerate(ins.args[name]):
                yield name, k, s


_LISTS = (oc.SRCLIST, oc.DSTLIST)
_USES = (oc.SRC, oc.SRCLIST)


def rename_webs(fn: Function) -> Function:
    parent: list[int] = []     # union-find forest over nodes
    width: list[int] = []      # node -> 1 or 2 slots
    entry: dict[int, int] = {}  # slot -> its entry pseudo-def node
    wide_slots: set[int] = set()
    for b in fn.blocks:
        for ins in b.instrs:
            args = ins.args
            for name, kind in ins.op.reg_fields:
                v = args[name]
                if kind in _LISTS:
                    for r in v:
                        if r.type in WIDE:
                            wide_slots.update(r.slots)
                elif v.type in WIDE:
                    wide_slots.update(v.slots)

    def find(x: int) -> int:
        p = parent
        while p[x] != x:
            p[x] = p[p[x]]
            x = p[x]
        return x

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    def entry_node(slot: int) -> int:
        n = entry.get(slot)
        if n is None:
            n = entry[slot] = len(width)
            width.append(0)
            parent.append(n)
        return n

    # Nodes are numbered in one walk (instructions in order; per instruction its register
    # operands in field order, then each edge's copy groups, use node then def node); the
    # rewrite walks the same way and meets them in the same order.
    group_seq: list[list] = []          # per edge in walk order: its copy groups
    block_body: list[list[tuple]] = []  # per block: (is use, node, slots) in order
    edges: list[list[tuple]] = []       # per block: (target block, [(use, def, src, dst)])
    for b in fn.blocks:
        body, out_edges = [], []
        for ins in b.instrs:
            defs = []
            args = ins.args
            for name, kind in ins.op.reg_fields:
                v = args[name]
                is_use = kind in _USES
                out = body if is_use else defs
                if kind in _LISTS:
                    for r in v:
                        if not r.is_ref:
                            slots = r.slots
                            out.append((is_use, len(width), slots))
                            width.append(len(slots))
                elif not v.is_ref:
                    slots = v.slots
                    out.append((is_use, len(width), slots))
                    width.append(len(slots))
            body += defs
            if ins.op.edge_fields:
                for succ in successors(ins):
                    copies = []
                    groups = _edge_groups(succ, wide_slots)
                    group_seq.append(groups)
                    for src, dst in groups:
                        u = len(width)
                        width += (len(src), len(dst))
                        copies.append((u, u + 1, src, dst))
                    if succ.block is not None:
                        out_edges.append((succ.block, copies))
        block_body.append(body)
        edges.append(out_edges)
    parent += range(len(width))  # every node of the walk starts as its own web

    # Reaching definitions per slot (slot -> frozenset of def nodes), to a fixpoint. A
    # block's defs and an edge's copies override slots with singletons: made once here.
    n_blocks = len(fn.blocks)
    block_defs = []
    for body in block_body:
        d = {}
        for is_use, n, slots in body:
            if not is_use:
                one = frozenset((n,))
                for s in slots:
                    d[s] = one
        block_defs.append(d)
    edge_defs = []
    for out_edges in edges:
        per = []
        for target, copies in out_edges:
            d = {}
            for _, n, _, dst in copies:
                one = frozenset((n,))
                for s in dst:
                    d[s] = one
            per.append((target, d))
        edge_defs.append(per)
    state_in: list[dict | None] = [None] * n_blocks
    state_in[0] = {}
    work = [0]  # a heap: the lowest block index first (forward edges settle in one sweep)
    queued = [False] * n_blocks
    queued[0] = True
    while work:
        b = heappop(work)
        queued[b] = False
        out = state_in[b]
        if block_defs[b]:
            out = {**out, **block_defs[b]}
        for target, defs in edge_defs[b]:
            incoming = {**out, **defs} if defs else out  # (state dicts are never changed in place)
            cur = state_in[target]
            if cur is None:
                state_in[target] = incoming
                if not queued[target]:
                    queued[target] = True
                    heappush(work, target)
                continue
            if incoming == cur:  # (the common case: nothing grows)
                continue
            # A slot missing on one side may hold its entry value (-1 - slot) there. Only
            # the slots that grow get a new set (a | c); the others keep theirs.
            merged = None
            cur_get = cur.get
            for s, c in incoming.items():
                a = cur_get(s)
                if a is None:
                    if len(c) == 1 and -1 - s in c:
                        continue
                    grown = frozenset((-1 - s,)) | c
                elif c is a or c <= a:
                    continue
                else:
                    grown = a | c
                if merged is None:
                    merged = dict(cur)
                merged[s] = grown
            for s, a in cur.items():
                if -1 - s not in a and s not in incoming:
                    if merged is None:
                        merged = dict(cur)
                    merged[s] = a | frozenset((-1 - s,))
            if merged is None:
                continue
            state_in[target] = merged
            if not queued[target]:
                queued[target] = True
                heappush(work, target)

    # Join each use with the defs reaching it, in the order the sets iterate (which decides
    # the webs' roots, hence their new slots). find / union are inline: the union of a use
    # node `n` with def `d` links root(n) under root(d).
    p = parent
    for b in range(n_blocks):
        state = dict(state_in[b] or {})
        for is_use, n, slots in block_body[b]:
            if is_use:
                for s in slots:
                    for d in state.get(s) or (-1 - s,):
                        if d < 0:
                            d = entry_node(s)
                        while p[n] != n:
                            p[n] = n = p[p[n]]
                        while p[d] != d:
                            p[d] = d = p[p[d]]
                        if n != d:
                            p[n] = d
                            n = d
            else:
                one = frozenset((n,))
                for s in slots:
                    state[s] = one
        for _, copies in edges[b]:
            edge_state = dict(state)
            for u, d, src, dst in copies:  # sequential: each copy sees the ones before
                for s in src:
                    for r in edge_state.get(s) or (-1 - s,):
                        if r < 0:
                            r = entry_node(s)
                        while p[u] != u:
                            p[u] = u = p[p[u]]
                        while p[r] != r:
                            p[r] = r = p[p[r]]
                        if u != r:
                            p[u] = r
                            u = r
                one = frozenset((d,))
                for s in dst:
                    edge_state[s] = one
    # Which webs move, and where.
    p = parent
    roots = []  # node -> its web (find(node), inline: one call per node was most of this)
    for n in range(len(width)):
        while p[n] != n:
            p[n] = p[p[n]]
            n = p[n]
        roots.append(n)
    # web -> its one width (1 or 2), or 0 when its accesses mix widths
    web_width: dict[int, int] = {}
    pinned: set[int] = {roots[n] for n in entry.values()}
    seen_width = web_width.get
    for r, w in zip(roots, width):
        had = seen_width(r)
        if had is None:
            web_width[r] = w
        elif had != w:
            web_width[r] = 0
    fresh = fn.i32_count
    new_base: dict[int, int] = {}
    for root in sorted(web_width):
        w = web_width[root]
        if root in pinned or not w:
            continue
        if w == 2:
            fresh += fresh & 1
        new_base[root] = fresh
        fresh += w
    if not new_base:
        return fn
    base_of = [new_base.get(r) for r in roots]
    made: dict[tuple, Reg] = {}  # (type, slot, move) -> the moved Reg (Regs are immutable)

    def moved(n: int, reg: Reg, half: int = 0) -> Reg:
        base = base_of[n]
        if base is None:
            return reg
        key = (reg.type, base + half, reg.move)
        new = made.get(key)
        if new is None:
            new = made[key] = Reg(*key)
        return new

    blocks = []
    n = 0  # the next node of the walk
    groups = iter(group_seq)
    made_get = made.get
    for b in fn.blocks:
        instrs = []
        for ins in b.instrs:
            args = dict(ins.args)
            for name, kind in ins.op.reg_fields:
                v = args[name]
                if kind in _LISTS:
                    new_list = []
                    for r in v:
                        if not r.is_ref:
                            if base_of[n] is not None:
                                r = moved(n, r)
                            n += 1
                        new_list.append(r)
                    args[name] = new_list
                elif not v.is_ref:
                    base = base_of[n]
                    if base is not None:  # moved(n, v), inline
                        key = (v.type, base, v.move)
                        new = made_get(key)
                        if new is None:
                            new = made[key] = Reg(*key)
                        args[name] = new
                    n += 1
            if ins.op.edge_fields:
                for fname, case, succ in _successor_fields(ins):
                    edge_groups = next(groups)
                    new = _rewrite_remap(succ, edge_groups, n, moved)
                    n += 2 * len(edge_groups)
                    if case is None:
                        args[fname] = new
                    else:
                        if args[fname] is ins.args[fname]:
                            args[fname] = list(ins.args[fname])
                        args[fname][case] = new
            instrs.append(Instr(ins.offset, ins.op, args, ins.length))
        blocks.append(Block(b.index, b.offset, instrs))
    return replace(fn, i32_count=fresh, blocks=blocks)  # (a subclass's fields kept)


def _rewrite_remap(succ: Successor, groups: list, first: int, moved) -> Successor:
    """The edge's remap with each copy group's source and destination moved (a pair group's
    halves go to the moved pair's even slot and the one after it); group g's nodes are
    first + 2g (use) and first + 2g + 1 (def)."""
    prim = [p for p in succ.remap if not p[0].is_ref]
    new_prim, k = [], 0
    for g, (src, _) in enumerate(groups):
        u, d = first + 2 * g, first + 2 * g + 1
        for half in range(len(src)):
            s, t = prim[k]
            new_prim.append((moved(u, s, half), moved(d, t, half)))
            k += 1
    it = iter(new_prim)
    remap = tuple(p if p[0].is_ref else next(it) for p in succ.remap)
    return Successor(succ.pc, succ.block, remap)
