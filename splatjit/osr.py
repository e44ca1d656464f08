"""On-stack replacement variants: a function entered at one of its loop headers, as plain IR.

A baseline frame keeps every VM register in its frame (the ref bank, then the i32 bank,
contiguous: `emit_x64/frame.py`). That register file is exactly an args buffer of the
signature `[ref] * f.ref_count + [slot types of the i32 bank]` (`runtime/abi.cconv_layout`:
refs first, 8 bytes each, then 4-byte slots, 8-byte values at even slots), and IREE's
argument placement puts those arguments back at their own ordinals (%r0.., %i0..). So the
*OSR variant* of function f at loop header H is an ordinary function with that signature and
f's results whose entry block is `br H`, followed by the blocks reachable from H (in f's
order: an inner loop's variant also holds the outer loop, from its header on). Called with
a running baseline frame's register file as its args buffer (and that frame's results
pointer), it finishes f's call from the top of H: same results, same traps, since it runs
f's own ops. The optimizing tier compiles it like any function, so its analyses are sound
for it as for any bytecode (a variant entered at an inner header jumps into the middle of
the outer loops, a side entry crafted bytecode may have too: `buffer_cache.natural_loops`).

Slot types: each i32-bank slot is declared as the function's ops use it from H on (an even
pair read and written only as one 64-bit value is one i64 / f64 argument; a slot used only
as f32 is an f32 argument; anything else an i32), so the values live across H promote to
machine registers as in f itself. A value read with another width than declared is still
exact: it takes the memory route of the optimizing tier.

Contract: `osr_variant(fn, header, ordinal)` returns a verified `Function` named as `fn`
(trap messages and listings name f) whose `ordinal` is `ordinal` and whose ops keep their
bytecode offsets; `origin(variant)` is f's ordinal, which its traps report. Variants are
made one at a time, for the headers running frames reach after a tier-up
(`runtime/tier_up.py`), and compiled alone (`emit_x64/lower.compile_osr_variant`).
"""
from __future__ import annotations

from dataclasses import dataclass

from .frontend.cconv import Signature
from .frontend.opcodes import BY_NAME
from .ir import WIDE, Block, Function, Instr, Successor
from .regalloc.variables import successors, typed_regs

_BR = BY_NAME["vm.br"]
_CODES = {"ref": "r", "i32": "i", "f32": "f", "i64": "I", "f64": "F"}


@dataclass
class OsrFunction(Function):
    """An OSR variant (see the module docstring); `origin`: the ordinal of the function it
    finishes, reported by its traps."""
    origin: int = -1


def origin(fn: Function) -> int:
    """The ordinal a trap in `fn` reports: its own, or an OSR variant's function's."""
    return getattr(fn, "origin", fn.ordinal)


def _reachable(fn: Function, start: int) -> list[int]:
    """Indices of the blocks reachable from block `start`, in layout order."""
    seen, work = {start}, [start]
    while work:
        for ins in fn.blocks[work.pop()].instrs[-1:]:
            for succ in successors(ins):
                if succ.block is not None and succ.block not in seen:
                    seen.add(succ.block)
                    work.append(succ.block)
    return sorted(seen)


def slot_types(fn: Function, blocks: list[Block]) -> list[str]:
    """The argument type of each i32-bank slot of `fn` for a variant made of `blocks`:
    i64 / f64 for an even pair only ever accessed as that wide value at its even slot, f32
    for a slot only accessed as f32, else i32 (branch remaps' raw copies do not count).
    Wide types only at even slots, covering both, so the types tile the bank exactly."""
    kinds: list[set] = [set() for _ in range(fn.i32_count + 1)]
    for block in blocks:
        for ins in block.instrs:
            uses, defs = typed_regs(ins)
            for reg in uses + defs:
                if reg.is_ref:
                    continue
                if reg.type in WIDE:
                    kinds[reg.ordinal].add(reg.type)
                    kinds[reg.ordinal + 1].add("hi")
                else:
                    kinds[reg.ordinal].add(reg.type)
    types, slot, n = [], 0, fn.i32_count
    while slot < n:
        here = kinds[slot]
        if (slot % 2 == 0 and slot + 1 < n and len(here) == 1 and here <= WIDE
                and kinds[slot + 1] == {"hi"}):
            types.append(next(iter(here)))
            slot += 2
            continue
        types.append("f32" if here == {"f32"} else "i32")
        slot += 1
    return types


def _retarget(ins: Instr, new_index: dict[int, int]) -> Instr:
    """`ins` with its edges' block indices renumbered (a new Instr when it has edges)."""
    if not ins.op.edge_fields:
        return ins
    args = dict(ins.args)
    for name, cases in ins.op.edge_fields:
        if cases:
            args[name] = [_moved(s, new_index) for s in args[name]]
        else:
            args[name] = _moved(args[name], new_index)
    return Instr(ins.offset, ins.op, args, ins.length)


def _moved(succ: Successor, new_index: dict[int, int]) -> Successor:
    block = succ.block if succ.block is None else new_index[succ.block]
    return Successor(succ.pc, block, succ.remap)


def osr_variant(fn: Function, header: int, ordinal: int) -> OsrFunction:
    """The OSR variant of verified `fn` at loop header block `header` (see the module
    docstring), with function ordinal `ordinal`."""
    kept = _reachable(fn, header)
    new_index = {old: k + 1 for k, old in enumerate(kept)}
    target = fn.blocks[header]
    entry_br = Instr(target.offset, _BR,
                     {"dest_pc": Successor(target.offset, new_index[header], ())}, 0)
    blocks = [Block(0, target.offset, [entry_br])]
    for old in kept:
        b = fn.blocks[old]
        blocks.append(Block(new_index[old], b.offset,
                            [_retarget(ins, new_index) for ins in b.instrs]))
    types = ["ref"] * fn.ref_count + slot_types(fn, blocks[1:])
    results = "".join(_CODES[t] for t in fn.signature.results)
    text = "0" + ("".join(_CODES[t] for t in types) or "v") + "_" + (results or "v")
    signature = Signature(text, tuple(types), fn.signature.results)
    return OsrFunction(fn.module, fn.name, ordinal, signature, fn.i32_count, fn.ref_count,
                       fn.requirements, blocks, fn.bytecode_offset, verified=fn.verified,
                       origin=fn.ordinal)
