"""Element promotion: a loop's one stored buffer element lives in a register.

IREE's scalar kernels accumulate in memory: every iteration of a reduction loop loads
`out[i]`, adds to it and stores it back, so the loop runs at the speed of the
load -> add -> store -> load chain. When a loop's only memory writes are stores of one
element `(buffer ref, index register, type)`, and neither the ref nor the index is written
in the loop, that element's value is always the last value stored (or, before the first
store, what memory held when the loop was entered). This pass keeps it in a fresh slot `%t`:

  * every edge entering the loop: `%t = jit.buffer.peek.T buf[idx]` before the
    predecessor's terminator (never traps: 0 for a null buffer or an index out of range);
  * each `%v = buffer.load.T buf[idx]` in the loop becomes `jit.buffer.check.T buf[idx]`
    (the load's null / bounds traps, same offset) then `%v = jit.copy.T %t`;
  * each `buffer.store.T %w, buf[idx]` in the loop stays, followed by `%t = jit.copy.T %w`.

Memory is written exactly as before (every store stays), so other loads - of any buffer,
aliasing or not - read what they read before; only the promoted element's own loads stop
touching memory. A load traps exactly where it trapped: on a null buffer or an index out of
range the check fires before `%t` (then meaningless) is read.

Contract: `promote_elements(fn)` returns a `Function` computing what `fn` computes (same
traps at the same offsets), with `i32_count` grown by the slots it adds, or `fn` itself
when no loop qualifies. Loops are taken outermost first; only full-width accesses (i32,
i64, f32, f64) whose load and store types agree are promoted, and only in loops that
`buffer_cache.natural_loops` accepts (one header, entered by br / cond_br from outside).
"""
from __future__ import annotations

from dataclasses import replace

from .buffer_cache import natural_loops, ref_writes
from .frontend import opcodes as oc
from .ir import WIDE, Function, Instr, Reg
from .regalloc.loops import predecessors
from .regalloc.variables import successors, typed_regs

#: Promotable element types: buffer.load.T / buffer.store.T with the same T.
TYPES = oc.JIT_TYPES
#: Ops that may write buffer memory (anything not listed only reads it, or none at all).
MEMORY_WRITERS = ("buffer.store.", "buffer.fill.", "buffer.copy", "call")


def _key(buf: Reg, index: Reg, type_: str) -> tuple:
    return buf.ordinal, index.type, index.ordinal, type_


def _load_key(ins):
    m = ins.op.mnemonic
    if m.startswith("buffer.load.") and m[12:] in TYPES:
        return _key(ins.args["source_buffer"], ins.args["source_offset"], m[12:])
    return None


def _store_key(ins):
    m = ins.op.mnemonic
    if m.startswith("buffer.store.") and m[13:] in TYPES:
        return _key(ins.args["target_buffer"], ins.args["target_offset"], m[13:])
    return None


def _written_slots(ins) -> set[int]:
    """i32-bank slots `ins` writes, its branch remaps included."""
    out = {s for r in typed_regs(ins)[1] for s in r.slots}
    for succ in successors(ins):
        out.update(d.ordinal for s, d in succ.remap if not d.is_ref)
    return out


def _candidate(fn: Function, body: set[int]):
    """The (key, store instr) of the loop's one promotable element, or None."""
    instrs = [ins for b in sorted(body) for ins in fn.blocks[b].instrs]
    writers = [ins for ins in instrs if ins.op.mnemonic.startswith(MEMORY_WRITERS)]
    keys = {_store_key(ins) for ins in writers}
    if not writers or len(keys) != 1 or None in keys:
        return None
    key = keys.pop()
    if not any(_load_key(ins) == key for ins in instrs):
        return None  # nothing to forward: the store alone gains nothing
    refs, slots = set(), set()
    for ins in instrs:
        refs |= ref_writes(ins)
        slots |= _written_slots(ins)
    index = writers[0].args["target_offset"]
    if key[0] in refs or slots & set(index.slots):
        return None
    return key, writers[0]


def _entering_ok(fn: Function, header: int, body: set[int], key, index: Reg) -> list[int]:
    """Blocks entering the loop from outside, if none of their edges into the header
    rewrites the ref or the index (the peek runs before the edge's remap), else []."""
    preds = sorted(predecessors(fn)[header] - body)
    for p in preds:
        for s in successors(fn.blocks[p].instrs[-1]):
            if s.block != header:
                continue
            for src, dst in s.remap:
                if dst.is_ref and dst.ordinal == key[0] or src.is_ref and src.move and src.ordinal == key[0]:
                    return []
                if not dst.is_ref and dst.ordinal in index.slots:
                    return []
    return preds


def promote_elements(fn: Function) -> Function:
    loops = natural_loops(fn)
    if not loops:  # (most functions: nothing to copy)
        return fn
    changed = False
    blocks = [replace(b, instrs=list(b.instrs)) for b in fn.blocks]
    work = replace(fn, blocks=blocks)  # same blocks and edges as fn, so the same loops
    for header, body in sorted(loops, key=lambda hb: -len(hb[1])):
        found = _candidate(work, body)
        if found is None:
            continue
        key, store = found
        buf, index, type_ = store.args["target_buffer"], store.args["target_offset"], key[3]
        preds = _entering_ok(work, header, body, key, index)
        if not preds:
            continue
        base = work.i32_count + (work.i32_count & 1 if type_ in WIDE else 0)
        t = Reg(type_, base)
        work.i32_count = base + len(t.slots)
        peek, check, copy = (oc.JIT_OPS[f"jit.{k}.{type_}"] for k in ("buffer.peek", "buffer.check", "copy"))
        for p in preds:
            term = blocks[p].instrs[-1]
            blocks[p].instrs.insert(-1, Instr(term.offset, peek, {
                "source_buffer": Reg("ref", buf.ordinal), "source_offset": index, "result": t}, 0))
        for b in body:
            out = []
            for ins in blocks[b].instrs:
                if _load_key(ins) == key:
                    out.append(Instr(ins.offset, check, {"source_buffer": ins.args["source_buffer"],
                                                         "source_offset": ins.args["source_offset"]}, 0))
                    out.append(Instr(ins.offset, copy, {"operand": t, "result": ins.args["result"]},
                                     ins.length))
                elif _store_key(ins) == key:
                    out.append(ins)
                    out.append(Instr(ins.offset, copy, {"operand": ins.args["value"], "result": t}, 0))
                else:
                    out.append(ins)
            blocks[b].instrs = out
        changed = True
    return work if changed else fn
