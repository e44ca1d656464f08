"""Remap coalescing: a value computed only to be copied by its block's `br` is computed
straight into the copy's destination.

IREE passes loop-carried values through branch remaps: `%x = add %acc, %v ...
br ^header(%x->%acc)`. As emitted, `%x` gets a register of its own and the edge copies it
into `%acc`'s on every iteration. When `%x`'s slots are read nowhere but in that block
after its last def (by later ops or by the one remap pair), and `%acc`'s slots are neither
read nor written between that def and the branch (nor by any other pair of the remap), the
def may write `%acc` directly: later reads of `%x` in the block read `%acc`, and the pair
goes away. Reads of `%acc` by the def itself are fine (an op reads its operands before
writing its results).

Contract: `coalesce_remaps(fn)` returns a `Function` computing exactly what `fn` computes
(same ops, offsets, blocks and slot count), or `fn` when nothing changes. Only `br` edges
and whole values (one 32-bit slot, or an aligned pair moved as two consecutive halves) of
non-ref registers are coalesced.
"""
from __future__ import annotations

from dataclasses import replace

from ..frontend import opcodes as oc
from ..ir import Function, Instr, Reg, Successor
from .variables import successors, typed_regs

_READS, _WRITES = (oc.SRC, oc.SRCLIST), (oc.DST, oc.DSTLIST)


def _slots(regs) -> set[int]:
    return {s for r in regs for s in r.slots}


def _read_slots(fn: Function) -> dict[int, list]:
    """slot -> [(block index, instruction position or None for a remap)] of every read."""
    reads: dict[int, list] = {}
    for b in fn.blocks:
        for k, ins in enumerate(b.instrs):
            for s in _slots(typed_regs(ins)[0]):
                reads.setdefault(s, []).append((b.index, k))
            for succ in successors(ins) if ins.op.edge_fields else ():
                for src, _ in succ.remap:
                    if not src.is_ref:
                        reads.setdefault(src.ordinal, []).append((b.index, None))
    return reads


def _groups(remap) -> list[tuple[int, ...]]:
    """Indices of the remap's pairs grouped as whole moves: an aligned pair of consecutive
    halves (lo->lo', hi->hi') or one 32-bit copy; refs are left out."""
    out, i = [], 0
    while i < len(remap):
        s, d = remap[i]
        if s.is_ref:
            i += 1
            continue
        if (not s.ordinal & 1 and not d.ordinal & 1 and i + 1 < len(remap)
                and (remap[i + 1][0].ordinal, remap[i + 1][1].ordinal) == (s.ordinal + 1, d.ordinal + 1)
                and not remap[i + 1][0].is_ref):
            out.append((i, i + 1))
            i += 2
        else:
            out.append((i,))
            i += 1
    return out


def _coalesce_block(block, reads_of) -> list[Instr] | None:
    """`block`'s instructions with its `br`'s remap coalesced, or None when nothing
    changes; `reads_of()` gives `_read_slots` of the function as of now (made on demand:
    most blocks are ruled out before it is needed)."""
    term = block.instrs[-1] if block.instrs else None
    if term is None or term.op.mnemonic != "br":
        return None
    instrs, remap = list(block.instrs), list(term.args["dest_pc"].remap)
    changed, touched = False, None
    for group in _groups(remap):
        src = tuple(remap[i][0].ordinal for i in group)
        dst = tuple(remap[i][1].ordinal for i in group)
        if set(src) & set(dst):
            continue
        others = [p for j, p in enumerate(remap) if j not in group and p is not None]
        if any(not s.is_ref and (s.ordinal in dst or d.ordinal in dst or d.ordinal in src)
               for s, d in others):
            continue
        # the last def of src; nothing after it in the block touches dst
        if touched is None:  # (slots read, slots written) per op but the br, as of now
            touched = [(_slots(u), _slots(d)) for u, d in map(typed_regs, instrs[:-1])]
        k = len(instrs) - 2
        while k >= 0 and not set(src) & touched[k][1] and not set(dst) & (touched[k][0] | touched[k][1]):
            k -= 1
        if k < 0:
            continue
        d_ins = instrs[k]
        defs = [r for r in typed_regs(d_ins)[1] if set(r.slots) & set(src)]
        if len(defs) != 1 or defs[0].slots != src or set(dst) & touched[k][1]:
            continue
        # src is read only here: after the def in this block (as the whole value), and by
        # this one pair
        reads = reads_of()
        sites = [site for s in src for site in reads.get(s, [])]
        pair_reads = sum(1 for site in sites if site == (block.index, None))
        if pair_reads != len(src) or any(b != block.index or (p is not None and p <= k) for b, p in sites):
            continue
        if any(set(r.slots) & set(src) and r.slots != src
               for i in instrs[k + 1:-1] for r in typed_regs(i)[0]):
            continue
        reg = defs[0]
        new = Reg(reg.type, dst[0])
        instrs[k] = _with(d_ins, {src: new}, writes=True)
        for j in range(k + 1, len(instrs) - 1):
            instrs[j] = _with(instrs[j], {src: new}, writes=False)
        for i in group:
            remap[i] = None
        changed, touched = True, None
    if not changed:
        return None
    succ = term.args["dest_pc"]
    new_remap = tuple(p for p in remap if p is not None)
    instrs[-1] = Instr(term.offset, term.op, {**term.args, "dest_pc": Successor(succ.pc, succ.block, new_remap)},
                       term.length)
    return instrs


def _with(ins: Instr, moved: dict, *, writes: bool) -> Instr:
    """`ins` with registers covering exactly the slots in `moved` replaced, in its result
    fields (`writes`) or its operand fields."""
    kinds = _WRITES if writes else _READS
    args = dict(ins.args)
    for f in ins.op.fields:
        if f.kind not in kinds:
            continue
        v = args.get(f.name)

        def swap(r):
            if isinstance(r, Reg) and not r.is_ref and r.slots in moved:
                return Reg(r.type, moved[r.slots].ordinal, r.move)
            return r
        args[f.name] = [swap(r) for r in v] if isinstance(v, list) else swap(v)
    return Instr(ins.offset, ins.op, args, ins.length)


def coalesce_remaps(fn: Function) -> Function:
    out, reads = fn, None

    def reads_of() -> dict[int, list]:
        nonlocal reads
        if reads is None:  # where every slot is read, as of the function so far
            reads = _read_slots(out)
        return reads

    for b in fn.blocks:
        instrs = _coalesce_block(b, reads_of)
        if instrs is not None:
            blocks = list(out.blocks)
            blocks[b.index] = replace(b, instrs=instrs)
            out, reads = replace(out, blocks=blocks), None
    return out
