"""The IR shared by every stage: functions of blocks of instructions, in IREE's register model.

Register model (the VM's, kept as is so results stay bit-identical):
  * one 32-bit bank: i32 and f32 values take one slot, i64 and f64 values take an even-aligned
    pair of slots (`%i2:3`); writing a pair clobbers both halves, writing a half breaks the pair;
  * a separate ref bank (`%r0`), whose operands may carry a move bit (`%R0`: the op takes
    ownership and the register is left null).
Instructions keep the byte offset of their op inside the function's bytecode, so traps,
listings and profilers can name `function+offset`. No machine registers appear here.
"""
from __future__ import annotations

import struct
import sys
from dataclasses import dataclass, field
from operator import attrgetter

from .frontend.cconv import Signature
from .frontend.opcodes import Opcode

#: Value types; "x32" is a raw 32-bit slot (a branch remap half, or an untyped list entry).
VALUE_TYPES = ("i32", "i64", "f32", "f64", "ref", "x32")
WIDE = frozenset({"i64", "f64"})


class Reg:
    """A register operand: `type` names the view of the bank (see `VALUE_TYPES`).

    `ordinal` indexes the i32 bank (the even slot for wide types) or the ref bank.
    `is_ref` and `slots` (the i32-bank slots it covers, empty for refs) are kept as plain
    attributes: the allocator reads them ~10^5 times per module; `part` is what an op's
    shape says of the register (`Instr.shape`): its type, with "!" after it if it moves,
    as one interned string (a template key is hashed and compared per op); `home` is its
    ref-bank ordinal bit-inverted (a ref) or its first i32-bank slot (two registers with
    one home share storage). Immutable (nothing assigns to a Reg after construction) and
    hashable by (type, ordinal, move).
    """

    __slots__ = ("type", "ordinal", "move", "is_ref", "slots", "part", "home")

    def __init__(self, type: str, ordinal: int, move: bool = False):
        self.type, self.ordinal, self.move = type, ordinal, move
        self.part = _PARTS.get((type, move)) or (type, move)  # (a span: verifier errors)
        self.is_ref = type == "ref"
        self.home = ~ordinal if self.is_ref else ordinal
        self.slots: tuple[int, ...] = (() if type == "ref" else (ordinal, ordinal + 1)
                                       if type in WIDE else (ordinal,))

    def __eq__(self, other):
        return isinstance(other, Reg) and (self.type, self.ordinal, self.move) == (
            other.type, other.ordinal, other.move)

    def __hash__(self):
        return hash((self.type, self.ordinal, self.move))

    def __repr__(self):
        return f"Reg({self.type}, {self.ordinal}{', move' if self.move else ''})"

    def __str__(self):
        if self.type == "ref":
            return f"%{'R' if self.move else 'r'}{self.ordinal}"
        if self.type in WIDE:
            return f"%i{self.ordinal}:{self.ordinal + 1}"
        return f"%i{self.ordinal}"


#: (type, move) -> Reg.part
_PARTS = {(t, move): sys.intern(t + "!" if move else t) for t in VALUE_TYPES
          for move in (False, True)}


def shared_homes(regs) -> tuple | None:
    """None when the registers `regs` (in order) all have different homes (`Reg.home`);
    else, per register, the index of the first register with its home."""
    homes = list(map(_HOME, regs))
    if len(set(homes)) == len(homes):
        return None
    return tuple(map(homes.index, homes))  # (index: the first position of its home)


_HOME = attrgetter("home")


@dataclass(frozen=True, slots=True)
class Successor:
    """A branch edge: target block (index, marker offset) and its register remap list.

    `remap` is applied in order, like the interpreter does: each (src, dst) pair copies one
    32-bit slot (`x32`) or retains/moves one ref. Slotted: the loader makes ~2 per function.
    """
    pc: int
    block: int | None
    remap: tuple[tuple[Reg, Reg], ...]


class Instr:
    """One decoded op. `args` maps each field name of the op's layout to its value:
    Reg, int (attrs and ordinals), float, str, list[Reg], list[int] (segments),
    Successor, or list[Successor] (branch table cases). `offset` and `length` are in bytes,
    relative to the start of the function's bytecode. `args` is never changed once the
    Instr exists (stages that rewrite operands make new Instrs), so facts derived from it
    may be kept on the Instr: `regs` is `regalloc.variables.typed_regs`' answer once asked.

    `shape`, when not None, is (key, registers, blocks): the op with its registers and
    successor blocks abstracted, as the fast decoder (frontend/fastload.py) sets it for
    ops whose successors have no remaps (a br / yield / break with one gets the long
    form, `branch_long_shape`). `key` is the mnemonic, then per field of `args` in order:
    a register's `part`, a register list's tuple of parts, a successor's ("succ", whether
    its block is the next one), an int as is, a str as `STRING_PART` (lowerings read no
    string field), a float as ("f", its f64 bytes), a non-empty int list as ("ints",
    tuple), an empty list as (); then, only when two registers share a home
    (`shared_homes`), that tuple. `registers` are the register operands in the same
    order (list entries in place), `blocks` the successors' block indices in order. Code
    generators key code templates on it (emit_x64/baseline_templates.py); None: not
    known, work it out. Only the successor parts depend on where the op is: a stage that
    renumbers blocks gives such an op a new Successor, hence a new Instr, as for any
    changed field.
    """

    __slots__ = ("offset", "op", "args", "length", "regs", "shape")

    def __init__(self, offset: int, op: Opcode, args: dict, length: int):
        self.offset, self.op, self.args, self.length = offset, op, args, length
        self.regs = self.shape = None

    @property
    def name(self) -> str:
        return self.op.name

    def __repr__(self):
        return f"<{self.offset:#06x} {self.op.name} {self.args}>"


#: what a shape key says of a string field (a `fail`'s message, a `trace`'s event name):
#: the same for every string, as no lowering reads one (a trap names its op's offset)
STRING_PART = "str"


# ----------------------------------------------------------------------------- long shapes
def long_shape(ins: Instr, block: int) -> tuple:
    """(key, registers, blocks) of `ins` in block `block` in the long form (tuples), or
    (None, None, None) when it has a field no key covers: the shape of an op whose
    successors have remaps, where `Instr.shape` has the short form. `key` is the
    mnemonic, then per field what `long_fields` says."""
    parts, regs, blocks = [ins.op.mnemonic], [], []
    if not long_fields(ins, block, parts, regs, blocks, {}):
        return None, None, None
    return tuple(parts), tuple(regs), tuple(blocks)


def long_fields(ins: Instr, block: int, parts: list, regs: list, blocks: list,
                seen: dict) -> bool:
    """Appends the long form of `ins`'s fields to `parts` (its distinct registers, in order
    of first use, to `regs`; its successors' blocks to `blocks`); False when a field has a
    kind no key covers. A register is (type, move, which earlier register it is, which
    earlier register has its home) (`seen` holds what the op's earlier fields used:
    registers of different types on one home share a placeholder when a template is
    made, so the key says they coincide); a successor is (whether its block is the next
    one, (src, dst) register pairs of its remap, its remap's slot pattern: `successor_part`)."""
    for v in ins.args.values():
        t = type(v)
        if t is Reg:
            parts.append(_reg_shape(v, seen, regs))
        elif t is int or t is bool or v is None:
            parts.append(v)
        elif t is str:
            parts.append(STRING_PART)
        elif t is float:
            parts.append(("f", _F64.pack(v)))
        elif t is list and all(type(x) is Reg for x in v):
            parts.append(tuple([_reg_shape(x, seen, regs) for x in v]))
        elif t is list and all(type(x) is int for x in v):
            parts.append(("ints", tuple(v)))
        elif t is Successor and v.block is not None:
            blocks.append(v.block)
            parts.append(successor_part(v, block, seen, regs))
        else:
            return False
    return True


def _reg_shape(v: Reg, seen: dict, regs: list) -> tuple:
    """`long_fields`' part for register `v`. `seen` maps (part, ordinal) (the register:
    `part` stands for its type and move) and its `home` (an int) to the index of the
    first register in `regs` that is, or has, it."""
    ident = (v.part, v.ordinal)
    k = seen.get(ident)
    if k is None:
        k = seen[ident] = len(regs)
        regs.append(v)
    first = seen.get(v.home)
    if first is None:
        first = seen[v.home] = k
    return (v.type, v.move, k, first)


def successor_part(succ: Successor, block: int, seen: dict, regs: list) -> tuple:
    """`long_fields`' part for successor `succ` of an op in block `block`: (whether its
    block is the next one, the (src, dst) `_reg_shape` pairs of its remap, the i32-bank
    slots the remap copies relative to its lowest even slot), in one walk of the remap.
    The slots matter besides which registers repeat: how the copies pair into 64-bit
    moves and overlap (regalloc.variables.remap_copies, lowering.mixes_memory_widths)
    depends on them."""
    out, slots = [], []
    for a, b in succ.remap:
        out.append((_reg_shape(a, seen, regs), _reg_shape(b, seen, regs)))
        if not a.is_ref:
            slots.append(a.ordinal)
        if not b.is_ref:
            slots.append(b.ordinal)
    if slots:
        base = min(slots) & ~1
        slots = tuple([o - base for o in slots])
    return succ.block == block + 1, tuple(out), tuple(slots)


def branch_long_shape(mnemonic: str, succ: Successor, block: int) -> tuple:
    """`long_shape` of an op whose only field is successor `succ` (br, yield, break)."""
    regs: list = []
    return (mnemonic, successor_part(succ, block, {}, regs)), tuple(regs), (succ.block,)


_F64 = struct.Struct("<d")


@dataclass(slots=True)
class Block:
    """A basic block: `offset` is its block marker's byte offset; ends in a terminator."""
    index: int
    offset: int
    instrs: list[Instr] = field(default_factory=list)


@dataclass
class Function:
    """A decoded (and, once `verified` is set, verified) bytecode function."""
    module: str
    name: str
    ordinal: int
    signature: Signature
    i32_count: int
    ref_count: int
    requirements: int
    blocks: list[Block]
    bytecode_offset: int  # where this function starts in the module's bytecode section
    verified: bool = False
    #: What the fast decoder (frontend/fastload.py) noted while making this Function, else
    #: None (a Function made from another by `dataclasses.replace` starts without them):
    #: its ops with a callee ordinal field, in order (`lowering.call_area`), and its loop
    #: headers (`lowering.loop_headers`).
    call_ops: list[Instr] | None = field(default=None, init=False, compare=False, repr=False)
    loop_heads: frozenset[int] | None = field(default=None, init=False, compare=False,
                                              repr=False)

    def where(self, offset: int | None = None) -> str:
        base = f"{self.module}.{self.name}"
        return base if offset is None else f"{base}+0x{offset:x}"

    def instrs(self):
        for b in self.blocks:
            yield from b.instrs

    @property
    def op_count(self) -> int:
        return sum(len(b.instrs) for b in self.blocks)
