"""Loop-invariant buffer facts: per loop, the data pointer and element count of each
buffer the loop loads from or stores to without ever writing its ref register.

A buffer's descriptor never changes (length, data pointer and mutability are fixed when it
is made), so when a loop cannot write the ref register, what an access re-reads from the
descriptor is the same on every iteration. The emitter computes it once per loop entry -
on every edge that enters the loop header from outside the loop - into frame slots, and an
access becomes `index < count ? data[index] : slow path`, where the slow path is the full
null / mutability / bounds check sequence (which traps exactly as before). A null or
read-only (for stores) buffer caches count 0, so every access takes the slow path.

Contract: `plan(fn, first_free_slot)` returns a `CachePlan`; i32-bank slots from
`first_free_slot` up to `slot_end` hold the caches (8 bytes each: an even slot pair). Only loops whose
header is not block 0 and whose outside predecessors all reach it by `br` / `cond_br` are
used, and only when every block of the loop other than the header is entered from inside
the loop, so "initialised on entry" covers every access.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .frontend import opcodes as oc
from .regalloc.loops import loop_bodies, predecessors
from .regalloc.variables import successors

#: Element size of each buffer load / store mnemonic, and whether it writes.
#: (`jit.buffer.check.T`, from element_promotion.py, is the checking half of a load.)
ACCESS_FIELDS = {"load": ("source_buffer", "source_offset"), "store": ("target_buffer", "target_offset"),
                 "check": ("source_buffer", "source_offset")}


def _access_kind(mnemonic: str):
    """(kind, buffer field, element size) of a buffer load / store / check mnemonic, else None."""
    m = mnemonic.removeprefix("jit.")
    if not m.startswith("buffer."):
        return None
    kind = m.split(".")[1]
    if kind not in ACCESS_FIELDS:
        return None
    width = m.split(".")[2]
    size = {"i8": 1, "i16": 2, "i32": 4, "i64": 8, "f32": 4, "f64": 8}.get(width)
    if size is None:
        return None
    return kind, ACCESS_FIELDS[kind][0], size


_ACCESS_KINDS: dict[str, tuple | None] = {}  # mnemonic -> _access_kind's answer


def _access(ins):
    """(kind, ref Reg, element size) of a buffer load / store / check, else None."""
    m = ins.op.mnemonic
    found = _ACCESS_KINDS.get(m, ACCESS_FIELDS)  # (ACCESS_FIELDS: a "not asked yet" marker)
    if found is ACCESS_FIELDS:
        found = _ACCESS_KINDS[m] = _access_kind(m)
    if found is None:
        return None
    kind, name, size = found
    return kind, ins.args[name], size


_LISTS = (oc.SRCLIST, oc.DSTLIST)
_WRITES = (oc.DST, oc.DSTLIST)


def ref_writes(ins) -> set[int]:
    """Ref registers an instruction (or its branch remaps) may write."""
    out = set()
    args, discard = ins.args, ins.op.mnemonic == "discard.refs"
    for name, kind in ins.op.reg_fields:
        value = args[name]
        writes = discard or kind in _WRITES
        for r in (value if kind in _LISTS else (value,)):
            if r.is_ref and (writes or r.move):
                out.add(r.ordinal)
    if ins.op.edge_fields:
        for succ in successors(ins):
            out.update(d.ordinal for s, d in succ.remap if d.is_ref)
            out.update(s.ordinal for s, d in succ.remap if s.is_ref and s.move)
    return out


@dataclass
class Loop:
    header: int
    blocks: set[int]
    #: (ref ordinal, element size, store) -> i32-bank slot of its element count
    counts: dict[tuple, int] = field(default_factory=dict)
    #: ref ordinal -> i32-bank slot of its data pointer
    data: dict[int, int] = field(default_factory=dict)


@dataclass
class CachePlan:
    loops: list[Loop]
    slot_end: int  # the frame's i32 bank must hold this many slots

    def lookup(self, block: int, ref: int, size: int, store: bool):
        """(count slot, data slot) valid in `block` for this access, or None."""
        for loop in self.loops:
            if block in loop.blocks and (ref, size, store) in loop.counts:
                return loop.counts[(ref, size, store)], loop.data[ref]
        return None

    def entering(self, source: int, target: int) -> list[Loop]:
        """Loops the edge source -> target enters from outside (their caches to fill)."""
        return [lp for lp in self.loops if lp.header == target and source not in lp.blocks]


#: terminators whose lowering fills the caches of the loops their edges enter
#: (`jit.copy.nest`, copy_nests.py, enters its loop only when it does not run the copy)
ENTERING = ("br", "cond_br", "jit.copy.nest")


def natural_loops(fn) -> list[tuple[int, set[int]]]:
    """The loops of `loop_bodies` that this module (and element_promotion.py) can work on:
    header not block 0, every other block entered from inside the loop (block 0, which the
    function's entry enters, is never among them), and entered from outside by `ENTERING`
    terminators only."""
    preds = predecessors(fn)
    loops = loop_bodies(fn, preds)
    out = []
    for h, body in loops.items():
        entered_inside = 0 not in body and all(preds[x] <= body for x in body if x != h)
        outside = preds[h] - body
        simple = all(fn.blocks[p].instrs[-1].op.mnemonic in ENTERING for p in outside)
        if h != 0 and entered_inside and simple and outside:
            out.append((h, body))
    return out


def plan(fn, first_free_slot: int) -> CachePlan:
    slot = first_free_slot + (first_free_slot & 1)
    loops = []
    # Outermost loops first: a cache filled once per outer entry serves the inner loops too.
    for header, body in sorted(natural_loops(fn), key=lambda hb: -len(hb[1])):
        written: set[int] = set()
        accesses = []
        for b in sorted(body):
            for ins in fn.blocks[b].instrs:
                written |= ref_writes(ins)
                acc = _access(ins)
                if acc is not None:
                    accesses.append(acc)
        loop = Loop(header, body)
        enclosing = [lp for lp in loops if body <= lp.blocks]
        for kind, ref, size in accesses:
            if ref.ordinal in written:
                continue
            key = (ref.ordinal, size, kind == "store")  # a check caches as a load
            if any(key in lp.counts for lp in enclosing):
                continue  # an enclosing loop's cache (filled once per its entry) serves
            if key not in loop.counts:
                loop.counts[key] = slot
                slot += 2
            if ref.ordinal not in loop.data:
                loop.data[ref.ordinal] = slot
                slot += 2
        if loop.counts:
            loops.append(loop)
    return CachePlan(loops, max(slot, first_free_slot))
