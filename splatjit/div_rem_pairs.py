"""Division / remainder pairs: `vm.div` and `vm.rem` of the same operands as one op.

IREE lowers floor division and index delinearisation to `q = div a, b` ... `r = rem a, b`
in one block (the data-tiling kernels do it for every element). The machine divide yields
both at once, so this pass replaces the first of the two with `jit.divrem.T.S a, b -> q, r`
and drops the second, when that is invisible:

  * same op type and signedness, same `left` and `right` registers;
  * no op between them writes a slot of `left` or `right`, and the first op's own result
    does not overlap them (both ops divide the same values);
  * the second op's result is neither read nor written between them and does not overlap
    the first one's (defining it earlier changes nothing anyone sees);
  * the divisor is not a constant (`lowering.constant_slots`): those cost no divide.

The pair traps exactly where the first op trapped, for the same reasons (zero divisor,
INT_MIN / -1), and the second op traps under the same conditions, so no trap moves.

Contract: `pair_divisions(fn, first_renamed)` returns a Function computing what `fn`
computes, or `fn` itself when no pair qualifies. Run it on renamed webs (regalloc/webs.py;
`first_renamed` as there), where a slot holds one value, so more pairs qualify.
"""
from __future__ import annotations

from dataclasses import replace

from .frontend import opcodes as oc
from .ir import Block, Function, Instr
from .lowering import constant_slots
from .regalloc.variables import typed_regs

_KIND = {f"{op}.{t}.{s}": (op, f"{t}.{s}") for op in ("div", "rem") for t in ("i32", "i64")
         for s in ("s", "u")}


def _slots(reg) -> set[int]:
    return set(reg.slots)


def _partner(instrs: list[Instr], i: int, constants: dict) -> int | None:
    """Index of the op pairing with instrs[i] (see the module docstring), or None."""
    first = instrs[i]
    op, form = _KIND[first.op.mnemonic]
    args = first.args
    left, right = args["left"], args["right"]
    if right.ordinal in constants:
        return None
    operands = _slots(left) | _slots(right)
    if _slots(args["result"]) & operands:
        return None
    want = ("rem" if op == "div" else "div") + "." + form
    for j in range(i + 1, len(instrs)):
        ins = instrs[j]
        if ins.op.mnemonic == want and ins.args["left"] == left and ins.args["right"] == right:
            second = _slots(ins.args["result"])
            if second & _slots(args["result"]):
                return None
            for between in instrs[i + 1:j]:
                uses, defs = typed_regs(between)
                if second & {s for r in uses + defs for s in r.slots}:
                    return None
            return j
        _, defs = typed_regs(ins)
        if operands & {s for r in defs for s in r.slots}:
            return None  # the operands change before any partner
    return None


def _pair_block(block: Block, constants: dict) -> Block | None:
    instrs = list(block.instrs)
    changed = False
    i = 0
    while i < len(instrs):
        ins = instrs[i]
        if ins.op.mnemonic in _KIND:
            j = _partner(instrs, i, constants)
            if j is not None:
                second = instrs.pop(j)
                div, rem = (ins, second) if ins.op.mnemonic.startswith("div") else (second, ins)
                op = oc.JIT_OPS["jit.divrem." + _KIND[ins.op.mnemonic][1]]
                instrs[i] = Instr(ins.offset, op, {"left": ins.args["left"],
                                                   "right": ins.args["right"],
                                                   "result": div.args["result"],
                                                   "remainder": rem.args["result"]}, ins.length)
                changed = True
        i += 1
    return Block(block.index, block.offset, instrs) if changed else None


def pair_divisions(fn: Function, first_renamed: int) -> Function:
    """See the module docstring."""
    if not any(ins.op.mnemonic in _KIND for ins in fn.instrs()):
        return fn
    constants = constant_slots(fn, first_renamed)
    blocks, changed = [], False
    for block in fn.blocks:
        paired = _pair_block(block, constants)
        changed |= paired is not None
        blocks.append(paired or block)
    return replace(fn, blocks=blocks) if changed else fn
