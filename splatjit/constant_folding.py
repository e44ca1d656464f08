"""Constant folding on renamed webs: integer ops and pure-import calls of constants.

IREE's data-tiling kernels ask `vmvx.query_tile_sizes.2d` for their tile sizes with constant
arguments, then divide loop indices by those sizes (and by their products) on every
iteration. The answer is a pure function of the arguments and of this CPU, so it is known
when the kernel is compiled. This pass replaces

  * a call of a pure import (one whose provider marks it `pure`) whose operands are all
    integer constants by one `const` op per result, holding what the import returns for
    those operands now (an import that raises is left as a call: it traps at run time, as
    before);
  * an i32 / i64 `add sub mul and or xor div rem` whose operands are both constants by a
    `const` op of its result (wrap-around like the interpreter; a division by zero or
    INT_MIN / -1 stays, so it still traps where it trapped),

and repeats while something folds, so sizes made of sizes fold too. The backends then see
constant divisors (emit_x64 divides by a constant power of two with shifts).

A register counts as a constant only as `lowering.constant_slots` defines it: a renamed slot
written exactly once, by a constant op, so every read of it sees that value.

Contract: `fold_constants(fn, first_renamed, pure)` returns a Function computing what `fn`
computes with the same traps at the same offsets (a replaced op keeps its offset), or `fn`
itself when nothing folds. `pure`: import ordinal (without the import bit) -> callable taking
and returning Python ints, deterministic and free of side effects.
"""
from __future__ import annotations

from dataclasses import replace

from .frontend import opcodes as oc
from .ir import Block, Function, Instr, Reg
from .lowering import IMPORT_BIT, constant_slots

_BITS = {"i32": 32, "i64": 64}
_CONST_OP = {"i32": oc.BY_NAME["vm.const.i32"], "i64": oc.BY_NAME["vm.const.i64"]}
_CONST_TYPE = {"const.i32": "i32", "const.i64": "i64", "const.i32.zero": "i32",
               "const.i64.zero": "i64"}


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _div(a: int, b: int, bits: int, signed: bool, rem: bool) -> int | None:
    """The interpreter's division (C semantics: truncation toward zero) or None when it
    traps (zero divisor, INT_MIN / -1)."""
    if not signed:
        a, b = a & ((1 << bits) - 1), b & ((1 << bits) - 1)
    if b == 0 or (signed and b == -1 and a == -(1 << (bits - 1))):
        return None
    q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    return a - q * b if rem else q


#: op stem -> fold(a, b, bits) on signed operands; None means "does not fold".
_BINARY = {
    "add": lambda a, b, bits: a + b,
    "sub": lambda a, b, bits: a - b,
    "mul": lambda a, b, bits: a * b,
    "and": lambda a, b, bits: a & b,
    "or": lambda a, b, bits: a | b,
    "xor": lambda a, b, bits: a ^ b,
    "div.s": lambda a, b, bits: _div(a, b, bits, True, False),
    "div.u": lambda a, b, bits: _div(a, b, bits, False, False),
    "rem.s": lambda a, b, bits: _div(a, b, bits, True, True),
    "rem.u": lambda a, b, bits: _div(a, b, bits, False, True),
}


def _binary_rule(mnemonic: str):
    """(fold, type) for `stem.T[.s|.u]` integer ops in _BINARY, else None."""
    stem, _, rest = mnemonic.partition(".")
    type_, _, sign = rest.partition(".")
    if type_ not in _BITS:
        return None
    rule = _BINARY.get(f"{stem}.{sign}" if sign else stem)
    return (rule, type_) if rule is not None else None


def _known(fn: Function, first_renamed: int) -> dict[tuple[str, int], int]:
    """(type, slot) -> value of every constant register a read may take as that value."""
    slots = constant_slots(fn, first_renamed)
    out = {}
    for ins in fn.instrs():
        type_ = _CONST_TYPE.get(ins.op.mnemonic)
        if type_ is not None and ins.args["result"].ordinal in slots:
            out[(type_, ins.args["result"].ordinal)] = ins.args.get("value", 0)
    return out


def _const(offset: int, dst: Reg, value: int) -> Instr:
    return Instr(offset, _CONST_OP[dst.type], {"value": _signed(value, _BITS[dst.type]),
                                               "result": dst}, 0)


def _fold(ins: Instr, known: dict, pure: dict) -> list[Instr] | None:
    """The const ops replacing `ins`, or None when it does not fold."""
    args = ins.args
    if ins.op.mnemonic == "call":
        callee = args["callee_ordinal"]
        fn = pure.get(callee & ~IMPORT_BIT) if callee & IMPORT_BIT else None
        results = args["results"]
        if fn is None or any(r.type not in _BITS for r in results):
            return None
        values = [known.get((r.type, r.ordinal)) for r in args["operands"]]
        if None in values:
            return None
        try:
            out = fn(*values)
        except Exception:  # noqa: BLE001 - the call stays and reports its failure at run time
            return None
        out = out if isinstance(out, tuple) else (out,)
        if len(out) != len(results) or not all(isinstance(v, int) for v in out):
            return None
        return [_const(ins.offset, r, v) for r, v in zip(results, out)]
    rule = _binary_rule(ins.op.mnemonic)
    if rule is None:
        return None
    fold, type_ = rule
    left, right = known.get((type_, args["left"].ordinal)), known.get((type_, args["right"].ordinal))
    if left is None or right is None:
        return None
    value = fold(left, right, _BITS[type_])
    return None if value is None else [_const(ins.offset, args["result"], value)]


def _calls_pure_import(fn: Function, pure: dict) -> bool:
    return any(ins.op.mnemonic == "call" and ins.args["callee_ordinal"] & IMPORT_BIT
               and ins.args["callee_ordinal"] & ~IMPORT_BIT in pure for ins in fn.instrs())


def fold_constants(fn: Function, first_renamed: int, pure: dict) -> Function:
    """See the module docstring. Integer ops are folded only in functions that call a pure
    import: elsewhere IREE's compiler has already folded constant arithmetic."""
    if not pure or not _calls_pure_import(fn, pure):
        return fn
    blocks = fn.blocks
    while True:
        known = _known(replace(fn, blocks=blocks), first_renamed)
        changed = False
        new_blocks = []
        for block in blocks:
            instrs = []
            for ins in block.instrs:
                folded = _fold(ins, known, pure)
                if folded is None:
                    instrs.append(ins)
                else:
                    instrs += folded
                    changed = True
            new_blocks.append(Block(block.index, block.offset, instrs))
        if not changed:
            break
        blocks = new_blocks
    return fn if blocks is fn.blocks else replace(fn, blocks=blocks)
