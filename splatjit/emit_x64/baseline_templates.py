"""Byte templates of op lowerings for the baseline tier (emit_x64/baseline.py).

A template is what an op lowering (`ops.HANDLERS`) emits for one *shape* of instruction,
with every operand in its frame slot, made once per process and then copied:

- The shape (`shape_key`) is the mnemonic plus, per field in order, a register's type,
  `move` flag and which earlier register of the instruction it equals (so lowerings that
  compare operands decide the same way), or any other field's value (floats by their bits);
  register and integer lists field by field, successors as `shape_key` says. Other fields
  make the instruction template-free.
- It is made by running the lowering twice on a scratch `Assembler` through a
  `_ScratchLowering` whose frame puts operand k's slot at displacement `_BASE_A + k*_STRIDE`
  in one run and `_BASE_B + k*_STRIDE` in the other (both disp32, so lengths match). The
  4-byte fields that differ by exactly `_BASE_B - _BASE_A` are the patch sites (operand,
  addend); applying them to run A must give run B byte for byte, else there is no template.
- The scratch lowering answers only per-instruction questions. Everything that depends on
  the function or module (`m`, `fn`, `entries`, `block_labels`, `slots`, imports, deferred
  out-of-line code, the frame's other fields) raises `_NotLocal`, and such ops keep going
  through their lowering each time (a "miss" remembered per shape).
- Labels in the template are re-made per copy: labels bound inside it become fresh labels,
  trap labels become `trap_label(code)` of the copying lowering (so the stub reports that
  op's bytecode offset), constants are re-interned in the target assembler's pool.

Contract: `emit(L, ins, handler)` emits exactly the code `handler(L, ins)` would emit for
`ins` in a function whose values all live in frame slots (L a `BaselineLowering`), except
that every slot displacement is a disp32 and range checks are not elided against earlier ops
(more checks, never fewer). A compare whose condition the next op (`cond_br`, `select`)
reads from EFLAGS is copied together with it from one pair template.
A lowering's own fast path may do what `emit` does for an op with the decoder's shape
(`Instr.shape`) when that shape's Template exists in `quick_table(features)`: `copy` it.
The key looked up is the decoder's, with `(CONTEXT_KEYS[mnemonic](L, ins),)` appended
for a contextual op; for an op followed by one it fuses with (`FUSING`, unless the first
is contextual) it is `pair_shape(ins, nxt)`'s, and the next op is then already copied.
Templates are per CPU feature set; the table is bounded (cleared when full).
"""
from __future__ import annotations

import struct

from ..lowering import CheckedAccesses
from ..buffer_cache import CachePlan
from .assembler import Assembler, _Align, _Ref
from dataclasses import replace

from ..ir import (STRING_PART, Instr, Reg, Successor, long_fields, long_shape,
                  shared_homes)
from .operands import Label
from .ops import HANDLERS
from .ops_list import ref_type_tag

_BASE_A = 0x40000000
_BASE_B = 0x40008081  # every byte of a displacement differs between the runs (0x81: the low one)
_STRIDE = 0x100000
_MAX_ADDEND = 0x4000
_LIMIT = 1 << 13
#: ops that may read a compare's condition from EFLAGS: the compare and such an op are one
#: pair template
_FUSING = frozenset(("cond_br", "select.i32", "select.i64"))
_F64 = struct.Struct("<d")
_DISP = struct.Struct("<i")
_ADDRESS = struct.Struct("<Q")
#: Stand-ins for a linked import's (entry, Context) addresses in the two runs; every byte
#: differs between the runs, and they are too large for anything but a 64-bit immediate.
_LINKED_A = (0x5E11_7A3C_0D1E_0101, 0x5E11_7A3C_0D1E_0202)
_LINKED_B = (0x6F22_8B4D_1E2F_8282, 0x6F22_8B4D_1E2F_8383)


class _NotLocal(Exception):
    """The lowering asked about something beyond the instruction: no template."""


class _Poison:
    """Stands for function- or module-level state the scratch lowering does not have."""

    def __getattr__(self, name):
        raise _NotLocal(name)

    def __getitem__(self, key):
        raise _NotLocal(key)

    def __bool__(self):
        raise _NotLocal("bool")

    def __iter__(self):
        raise _NotLocal("iter")

    def append(self, item):
        raise _NotLocal("deferred")


_POISON = _Poison()


class _PlaceholderFrame:
    """slot / ref displacements of the instruction's operands (by bank and ordinal)."""

    def __init__(self, slots: dict, refs: dict):
        self._slots, self._refs = slots, refs

    def slot(self, ordinal: int) -> int:
        d = self._slots.get(ordinal)
        if d is None:
            raise _NotLocal(f"slot {ordinal}")
        return d

    def ref(self, ordinal: int) -> int:
        d = self._refs.get(ordinal)
        if d is None:
            raise _NotLocal(f"ref {ordinal}")
        return d

    def __getattr__(self, name):
        raise _NotLocal(f"frame.{name}")


class _NoFacts(CheckedAccesses):
    """Range-check elimination that never knows anything (a template checks every access)."""

    def proven(self, *a) -> bool:
        return False

    def in_bounds(self, *a) -> bool:
        return False

    def add(self, *a) -> None:
        pass


#: the CheckedAccesses of template runs and of baseline functions
NO_FACTS = _NoFacts()


class _Block:
    index = -1  # a block no loop contains (the scratch lowering has no loops)


def _scratch_lowering(baseline_cls, a: Assembler, frame) -> object:
    """A BaselineLowering-shaped object with only per-instruction state."""
    L = baseline_cls.__new__(baseline_cls)
    L.fuel = False
    L.checked = NO_FACTS
    L.import_targets = _POISON
    L.constants = {}
    L.caches = CachePlan([], 0)
    L.leaf = _POISON
    L.deferred = _POISON
    L.a = a
    L.mod = L.m = L.fn = _POISON
    L.entries = L.handlers = _POISON
    L.slots = _POISON
    L.imm_only = frozenset()
    L.alloc = _POISON
    L.interval_end = L.point = _POISON
    L.next_ins = None
    L.flags = None
    L.frame = frame
    L.red_zone = False
    L.frameless = False
    L.block = _Block()
    L.block_labels = _POISON
    L.epilogue = Label("epilogue")  # a template may end in a jump to it
    L.exit_no_depth = _POISON
    L.traps = []
    L._homes = {}
    L._mems = {}
    L.unsupported = []
    L.fused = None
    return L


def shape_key(ins, block: int = -1, nxt=None):
    """(shape, operand registers in order, successor blocks in order) of `ins` in block
    `block` (with `nxt`, of the pair `ins`, `nxt`: a compare and the op that reads its
    condition from EFLAGS), or (None, None, None) when it has a field no template covers.
    (An op's fields are the same names in the same order every time, so the values alone
    describe it.) A successor's shape is whether it is the next block (a lowering may fall
    through into it) and its remap's registers and slot pattern; its target block is an
    operand like a register. Ops (and pairs) whose successors have no remaps have the
    short form (`_short_fields`): each register's (type, move), each successor whether it
    is the next block, and when registers share a slot, a final tuple saying per register
    which is the first one on its slot."""
    parts, regs, blocks = [ins.op.mnemonic], [], []
    if _short_fields(ins, block, parts, regs, blocks) and (
            nxt is None or _short_fields(nxt, block, parts, regs, blocks, nxt.op.mnemonic)):
        # registers sharing a slot: per register, the first one on its slot (with the
        # types and move flags, this also says which are the same register; regs keeps
        # the repeats, whose placeholder is the first one's)
        homes = shared_homes(regs) if len(regs) > 1 else None
        if homes is not None:
            parts.append(homes)
        return tuple(parts), regs, blocks
    if nxt is None:
        return long_shape(ins, block)
    parts, regs, blocks, seen = [ins.op.mnemonic], [], [], {}
    if not long_fields(ins, block, parts, regs, blocks, seen):
        return None, None, None
    parts.append(nxt.op.mnemonic)
    if not long_fields(nxt, block, parts, regs, blocks, seen):
        return None, None, None
    return tuple(parts), regs, blocks


def pair_shape(ins, nxt) -> tuple | None:
    """`shape_key(ins, block, nxt)` from the two ops' decoder shapes (`Instr.shape`), or
    None when either has none: their keys without their own shared-homes tuples, one
    after the other, then the pair's."""
    first, second = ins.shape, nxt.shape
    if first is None or second is None:
        return None
    (k1, r1, _), (k2, r2, blocks) = first, second
    if len(k1) > len(ins.args) + 1:  # (mnemonic, one part per field, its homes tuple)
        k1 = k1[:-1]
    if len(k2) > len(nxt.args) + 1:
        k2 = k2[:-1]
    regs = r1 + r2
    homes = shared_homes(regs) if len(regs) > 1 else None
    return (k1 + k2 if homes is None else k1 + k2 + (homes,)), regs, blocks


def _short_fields(ins, block: int, parts: list, regs: list, blocks: list,
                  mnemonic=None) -> bool:
    """`shape_key`'s short form of `ins`'s fields (after `mnemonic`, if given) appended to
    `parts` (registers to `regs`, successor blocks to `blocks`); False when a field needs
    the long form (a successor with a remap, a mixed list, another kind of value)."""
    if mnemonic is not None:
        parts.append(mnemonic)
    for v in ins.args.values():
        t = type(v)
        if t is Reg:
            regs.append(v)
            parts.append(v.part)
        elif t is int or t is bool or v is None:
            parts.append(v)
        elif t is str:
            parts.append(STRING_PART)
        elif t is Successor:
            if v.remap or v.block is None:
                return False
            blocks.append(v.block)
            parts.append(("succ", v.block == block + 1))
        elif t is float:
            parts.append(("f", _F64.pack(v)))
        elif t is list and v and type(v[0]) is int:
            if not all(type(x) is int for x in v):
                return False
            parts.append(("ints", tuple(v)))
        elif t is list:
            shapes = []
            for x in v:
                if type(x) is not Reg:
                    return False
                shapes.append(x.part)
            regs.extend(v)
            parts.append(tuple(shapes))
        else:
            return False
    return True


_IMPORT_BIT = 0x80000000
_CALLS = ("call", "call.variadic", "call.yieldable", "call.variadic.yieldable")


class _View:
    """Some attributes of a function or module; any other one raises _NotLocal."""

    def __init__(self, **facts):
        self.__dict__.update(facts)

    def __getattr__(self, name):
        raise _NotLocal(name)


def _list_get_ref_key(L, ins):
    return (ref_type_tag(L.m.types[ins.args["type_def"]]),)


def _return_key(L, ins):
    fn = L.fn
    return tuple(fn.signature.results), fn.blocks[-1].instrs[-1] is ins


def _fail_key(L, ins):
    return L.fn.blocks[-1].instrs[-1] is ins


def _call_key(L, ins):
    callee = ins.args["callee_ordinal"]
    if callee & _IMPORT_BIT:  # linked: its entry and Context are address operands
        ordinal = callee & ~_IMPORT_BIT
        sig = L.m.imports[ordinal].signature
        targets = L.import_targets
        return sig.args, sig.results, bool(targets and targets[ordinal][0])
    sig = L.m.signatures[callee]
    return sig.args, sig.results


#: mnemonic -> `key(L, ins)`: the facts of the function or module the op's lowering reads,
#: as more of its shape (hashable): `return` its function's result types and whether it is
#: the last op; `fail` whether it is the last op; an internal call its callee's signature
#: (its entry is a fixup), an import call its signature and whether it is linked (the
#: linked table's entry and Context are address operands); `list.get.ref` the runtime type
#: tag of its element type. A lowering's fast path appends `(key(L, ins),)` to the
#: decoder's shape key (`CONTEXT_KEYS`).
_CONTEXT_KEYS = {"return": _return_key, "list.get.ref": _list_get_ref_key, "fail": _fail_key,
                 **{m: _call_key for m in _CALLS}}


def _context(L, ins):
    """For ops whose lowering reads a fact of the function or module: (the facts, as
    more of the shape (`_CONTEXT_KEYS`); the scratch lowering's attributes that answer
    them), else None."""
    mnemonic = ins.op.mnemonic
    key_of = _CONTEXT_KEYS.get(mnemonic)
    if key_of is None:
        return None
    key = key_of(L, ins)
    if mnemonic == "list.get.ref":  # the element type it keeps (else the result is null)
        type_def = ins.args["type_def"]
        t = L.m.types[type_def]
        return key, lambda scratch_ins, run: {"m": _View(types={type_def: t})}
    if mnemonic == "return":
        results, last = key
        return key, lambda scratch_ins, run: {"fn": _View(
            signature=_View(results=results),
            blocks=[_View(instrs=[scratch_ins if last else None])])}
    if mnemonic == "fail":
        return key, lambda scratch_ins, run: {"fn": _View(
            blocks=[_View(instrs=[scratch_ins if key else None])])}
    callee = ins.args["callee_ordinal"]
    if callee & _IMPORT_BIT:
        ordinal, (_, _, linked) = callee & ~_IMPORT_BIT, key
        sig = L.m.imports[ordinal].signature
        return key, lambda scratch_ins, run: {
            "m": _View(imports={ordinal: _View(signature=sig)}),
            "import_targets": {ordinal: run} if linked else None}
    sig = L.m.signatures[callee]
    return key, lambda scratch_ins, run: {
        "m": _View(signatures={callee: sig}), "entries": {callee: Label("callee")}}


def _addresses(L, ins) -> tuple:
    """A linked import call's (entry, Context) addresses, as `lower.compile_module`'s
    `imports` gives them (the values `_LINKED_A` stands for)."""
    return tuple(L.import_targets[ins.args["callee_ordinal"] & ~_IMPORT_BIT])


def _scratch_instr(ins, block: int):
    """`ins` (in block `block`) with successor k aimed at scratch block 1 when it is the
    next block, else 2 + k (the scratch lowering's own block is 0); also the scratch block
    labels (scratch block -> Label) and which successor each label stands for."""
    args, labels, succ_of, k = {}, {}, {}, 0
    for name, v in ins.args.items():
        if type(v) is Successor:
            fake = 1 if v.block == block + 1 else 2 + k
            if fake not in labels:
                labels[fake] = Label(f"succ{k}")
                succ_of[labels[fake]] = k
            v = replace(v, block=fake)
            k += 1
        args[name] = v
    return Instr(ins.offset, ins.op, args, ins.length), labels, succ_of


class Template:
    """One shape's code. `items` in order, each ("bytes", data, slot sites (position,
    operand, addend), address sites (position, 0 = a linked import's entry, 1 = its
    Context)), ("label", local index) or ("ref", _Ref, (target kind, which)); `traps` the
    trap codes in the order the lowering asked for them (`statuses`: the registers those
    report as their status); `locals` how many labels it binds.
    The same code laid out once (`flatten`) is what gets copied: `data` with slot `sites`
    and `addresses` as above, and `fixups` (position, size, (target kind, which), addend)
    for every label outside it (rel32 fields, patched at Assembler.finish); its own
    labels' jumps are resolved in `data`."""
    __slots__ = ("items", "traps", "statuses", "locals", "data", "sites", "addresses",
                 "fixups", "inst", "quick", "trap_plan", "block_plan")

    def __init__(self, items, traps, n_locals, flat, statuses=None):
        self.items, self.traps, self.locals = items, traps, n_locals
        #: None, or per trap the register whose value it reports as the status (None:
        #: none); a copy's traps with statuses are stubs of their own (`trap_label`)
        self.statuses = statuses
        self.data, self.sites, self.addresses, self.fixups = flat
        #: (regs, i32 base, ref base, addresses) -> the patched code, made at the first
        #: copy of a template with slot or address sites (`_instantiator`)
        self.inst = None
        #: `inst` once made, for a template without fixups or address sites (a copy is
        #: then just `inst(regs, i32 base, ref base)`), else None
        self.quick = None
        #: when every fixup is a trap's: (position, size, which trap, addend) per fixup,
        #: for `trap_fixups` of the copying lowering; else None
        self.trap_plan = _plan(self.fixups, "trap") if statuses is None else None
        #: when every fixup is a jump to a successor block: (position, size, which
        #: successor, addend) per fixup; else None
        self.block_plan = _plan(self.fixups, "block") if not traps else None


def _plan(fixups: tuple, kind: str) -> tuple | None:
    """(position, size, which, addend) per fixup of `fixups` when there are some and each
    goes to a target of `kind` ("trap", "block"), else None."""
    if not fixups or any(where != kind for _, _, (where, _), _ in fixups):
        return None
    return tuple((pos, size, what, addend) for pos, size, (_, what), addend in fixups)


def flat_code(a: Assembler, outside: dict) -> tuple | None:
    """Code recorded on `a` (no slot placeholders) as `flatten` lays it out: its own labels
    resolved, each jump to a label of `outside` (label -> its (target kind, which)) a
    fixup; None when it names any other label or aligns."""
    stream, _ = a.stream
    local = {it: k for k, it in enumerate(it for it in stream if type(it) is Label)}
    items = []
    for it in stream:
        kind = type(it)
        if kind is bytearray:
            items.append(("bytes", bytes(it), (), ()))
        elif kind is Label:
            items.append(("label", local[it]))
        elif kind is _Ref and it.label in local:
            items.append(("ref", it, ("local", local[it.label])))
        elif kind is _Ref and it.label in outside:
            items.append(("ref", it, outside[it.label]))
        else:
            return None
    return flatten(items)


def flatten(items) -> tuple | None:
    """`items` laid out as one run of code: (data, sites, addresses, fixups) as `Template`
    says, or None when a jump out of it has no rel32 form. Jumps to its own labels take
    their shortest form (rel8 grows to rel32 until every displacement fits); jumps and
    RIP-relative operands naming labels outside it take their rel32 form."""
    long_ref = {}
    for i, item in enumerate(items):
        if item[0] == "ref":
            t = item[1].t
            local = item[2][0] == "local"
            long_ref[i] = not local and t.long is not None
    while True:
        offsets, labels, off = {}, {}, 0
        for i, item in enumerate(items):
            kind = item[0]
            offsets[i] = off
            if kind == "bytes":
                off += len(item[1])
            elif kind == "label":
                labels[item[1]] = off
            else:
                t = item[1].t
                off += len((t.long if long_ref[i] else t.short)[1])
        grown = False
        for i, item in enumerate(items):
            if item[0] == "ref" and item[2][0] == "local" and not long_ref[i]:
                _, data, fixups = item[1].t.short
                if any(size == 1 for _, size, _, _ in fixups):
                    value = labels[item[2][1]] - (offsets[i] + len(data))
                    if not -128 <= value < 128:
                        if item[1].t.long is None:
                            return None
                        long_ref[i] = grown = True
        if not grown:
            break
    data, sites, addresses, outside = bytearray(), [], [], []
    for i, item in enumerate(items):
        kind = item[0]
        at = offsets[i]
        if kind == "bytes":
            data += item[1]
            sites.extend((at + pos, k, addend) for pos, k, addend in item[2])
            addresses.extend((at + pos, j) for pos, j in item[3])
        elif kind == "ref":
            t = item[1].t
            _, code, fixups = t.long if long_ref[i] else t.short
            code = bytearray(code)
            end = at + len(code)
            for pos, size, _, addend in fixups:
                if item[2][0] == "local":
                    value = labels[item[2][1]] + addend - end
                    code[pos:pos + size] = (value & ((1 << 8 * size) - 1)).to_bytes(size, "little")
                elif size != 4:
                    return None
                else:  # (addend relative to the end of the copy, filled in below)
                    outside.append((at + pos, size, item[2], addend - end))
            data += code
    total = len(data)
    fixups = tuple((pos, size, target, addend + total) for pos, size, target, addend in outside)
    return bytes(data), tuple(sites), tuple(addresses), fixups


def _record(baseline_cls, ins, regs, base: int, features, handler, block: int, facts=None,
            pair=None):
    """Run the lowering of `ins` (in block `block`; then, with `pair` = (next op, its
    lowering), the next op's) with operand k's slot at base + k * _STRIDE; returns the
    scratch assembler, the scratch lowering and which successor each scratch block label
    stands for."""
    slots, refs = {}, {}
    for k, r in enumerate(regs):
        (refs if r.is_ref else slots).setdefault(r.ordinal, base + k * _STRIDE)
    a = Assembler(features)
    L = _scratch_lowering(baseline_cls, a, _PlaceholderFrame(slots, refs))
    succ_of = {}
    nxt = pair[0] if pair is not None else None
    branching = nxt if nxt is not None else ins
    if any(type(v) is Successor for v in branching.args.values()):
        from .baseline import SLOTS
        branching, L.block_labels, succ_of = _scratch_instr(branching, block)
        if nxt is None:
            ins = branching
        else:
            nxt = branching
        L.block = _Block()
        L.block.index = 0
        L.slots = SLOTS
    if facts is not None:
        L.__dict__.update(facts(ins, _LINKED_A if base == _BASE_A else _LINKED_B))
    L.ins = ins
    if nxt is not None:
        from .baseline import SLOTS
        L.slots = SLOTS  # (dead_after_next: no promoted variables)
        L.next_ins = nxt
        handler(L, ins)
        L.ins, L.next_ins = nxt, None
        pair[1](L, nxt)
    else:
        handler(L, ins)
    if L.flags is not None:
        raise _NotLocal("flags")
    a._flush()
    return a, L, succ_of


def _sites(chunk_a: bytes, chunk_b: bytes, n_regs: int):
    """Patch sites of one code run: (slot sites (position, operand, addend), address sites
    (position, which address)), or None when the runs differ otherwise."""
    if len(chunk_a) != len(chunk_b):
        return None
    sites, addresses = [], []
    i, n = 0, len(chunk_a) - 3
    while i < n:
        if chunk_a[i] == chunk_b[i]:
            i += 1
            continue
        if i + 8 <= len(chunk_a):
            wa = _ADDRESS.unpack_from(chunk_a, i)[0]
            if wa in _LINKED_A:
                j = _LINKED_A.index(wa)
                if _ADDRESS.unpack_from(chunk_b, i)[0] != _LINKED_B[j]:
                    return None
                addresses.append((i, j))
                i += 8
                continue
        va = _DISP.unpack_from(chunk_a, i)[0]
        vb = _DISP.unpack_from(chunk_b, i)[0]
        k, addend = divmod(va - _BASE_A + _MAX_ADDEND, _STRIDE)
        addend -= _MAX_ADDEND
        if vb - va != _BASE_B - _BASE_A or not 0 <= k < n_regs:
            return None
        sites.append((i, k, addend))
        i += 4
    rebuilt = bytearray(chunk_a)
    for pos, k, addend in sites:
        _DISP.pack_into(rebuilt, pos, _BASE_B + k * _STRIDE + addend)
    for pos, j in addresses:
        _ADDRESS.pack_into(rebuilt, pos, _LINKED_B[j])
    return (tuple(sites), tuple(addresses)) if bytes(rebuilt) == bytes(chunk_b) else None


def build(baseline_cls, ins, regs, features, handler, block: int = -1,
          facts=None, pair=None) -> Template | None:
    """The template of `ins`'s shape (in block `block`; `facts` as `_context` makes them),
    or None when its lowering is not instruction-local or its two placeholder runs do not
    line up."""
    try:
        a, La, succ_of = _record(baseline_cls, ins, regs, _BASE_A, features, handler, block,
                                 facts, pair)
        b, Lb, _ = _record(baseline_cls, ins, regs, _BASE_B, features, handler, block, facts,
                           pair)
    except _NotLocal:
        return None
    except Exception:  # noqa: BLE001 - e.g. a poisoned value used as an operand: the
        return None    # op runs its lowering for real (which reports a real error)
    epilogue = La.epilogue if type(La.epilogue) is Label else None
    entries = La.entries if type(La.entries) is dict else {}
    entry_labels = set(entries.values())
    items_a, pool_a = a.stream
    items_b, _ = b.stream
    if len(items_a) != len(items_b) or len(La.traps) != len(Lb.traps):
        return None
    trap_index = {t[0]: i for i, t in enumerate(La.traps)}
    statuses = tuple(t[3] for t in La.traps)
    if statuses != tuple(t[3] for t in Lb.traps):
        return None  # (a trap's status register moved with the operands' slots)
    if pair is not None and La.traps:
        return None  # (a copy's traps report the first op's offset)
    local_index: dict[Label, int] = {}
    for it in items_a:
        if type(it) is Label:
            if it in trap_index:
                return None
            local_index[it] = len(local_index)
    items = []
    for ia, ib in zip(items_a, items_b):
        kind = type(ia)
        if kind is bytearray:
            if type(ib) is not bytearray:
                return None
            sites = _sites(bytes(ia), bytes(ib), len(regs))
            if sites is None:
                return None
            items.append(("bytes", bytes(ia)) + sites)
        elif kind is Label:
            items.append(("label", local_index[ia]))
        elif kind is _Ref:
            if type(ib) is not _Ref or ia.t is not ib.t or ia.label is None:
                return None
            lab = ia.label
            if lab in local_index:
                target = ("local", local_index[lab])
            elif lab in trap_index:
                target = ("trap", trap_index[lab])
            elif lab in pool_a:
                target = ("pool", pool_a[lab])
            elif lab in succ_of:
                target = ("block", succ_of[lab])
            elif lab is epilogue:
                target = ("epilogue", None)
            elif lab in entry_labels:
                target = ("entry", None)
            else:
                return None
            items.append(("ref", ia, target))
        elif kind is _Align:
            return None
        else:
            return None
    flat = flatten(items)
    if flat is None:
        return None
    return Template(tuple(items), tuple(t[1] for t in La.traps), len(local_index), flat,
                    statuses if any(st is not None for st in statuses) else None)


#: Tests set this: each copy is checked against a template made from that very op (so a
#: shape that misses something its lowering depends on shows up as a mismatch).
VERIFY = False
#: Tests clear this: every op then runs its lowering (no template is made or copied).
ENABLED = True


def _normal(t: Template, regs: list) -> tuple:
    """`t` as copied for `regs` at placeholder displacements, registers that share a slot
    sharing one (as a template made from that op has them): comparable across templates."""
    merged, first = [], {}
    for k, r in enumerate(regs):
        merged.append(first.setdefault((r.is_ref, r.ordinal), k))
    out = []
    for item in t.items:
        if item[0] == "bytes":
            buf = bytearray(item[1])
            for pos, k, addend in item[2]:
                _DISP.pack_into(buf, pos, _BASE_A + merged[k] * _STRIDE + addend)
            out.append(("bytes", bytes(buf), item[3]))
        elif item[0] == "label":
            out.append(item)
        else:
            out.append(("ref", item[1].t, item[2]))
    return tuple(out), t.traps, t.statuses, t.locals


_CONTEXTUAL = frozenset(_CONTEXT_KEYS)
#: (what a lowering's fast path must treat as `emit` does: see the module docstring;
#: read-only)
CONTEXT_KEYS, FUSING = _CONTEXT_KEYS, _FUSING
_MISS = object()
#: features -> {shape: Template | _MISS}
_TABLES: dict[frozenset, dict] = {}


def emit(L, ins, handler) -> bool:
    """Lower `ins` in baseline lowering `L`: from its shape's template when it has one
    (returns True), else through `handler` (False). After a pair template `L.fused` is
    the next op, already copied: the caller skips it (and clears `L.fused`)."""
    nxt = L.next_ins
    # (flags: the compare before left this op's condition in EFLAGS)
    if L.flags is not None or not ENABLED:
        handler(L, ins)
        return False
    a = L.a
    table = _table(a.features)
    pair = None
    if nxt is not None and nxt.op.mnemonic in _FUSING:  # a compare and the op reading it
        if ins.op.mnemonic in _CONTEXTUAL:
            handler(L, ins)
            return False
        pair = (nxt, HANDLERS[nxt.op.mnemonic])
        key, regs, blocks = pair_shape(ins, nxt) or shape_key(ins, L.block.index, nxt)
    elif ins.shape is not None:  # the decoder's
        key, regs, blocks = ins.shape
    else:
        key, regs, blocks = shape_key(ins, L.block.index)
    if key is None:
        handler(L, ins)
        return False
    facts = None
    if pair is None and ins.op.mnemonic in _CONTEXTUAL:
        context = _context(L, ins)
        if context is None:
            handler(L, ins)
            return False
        key, facts = key + (context[0],), context[1]
    t = table.get(key)
    if t is None:
        if len(table) >= _LIMIT:
            table.clear()
        t = table[key] = build(type(L), ins, regs, a.features, handler, L.block.index,
                               facts, pair) or _MISS
    if t is _MISS:
        handler(L, ins)
        return False
    if VERIFY:
        fresh = build(type(L), ins, regs, a.features, handler, L.block.index, facts, pair)
        if fresh is None or _normal(fresh, regs) != _normal(t, regs):
            raise AssertionError(f"template of {key} does not fit {ins}")
    if pair is not None:
        L.fused = nxt
    copy(L, ins, t, regs, blocks)
    return True


def copy(L, ins, t: Template, regs, blocks) -> None:
    """Appends template `t` instantiated for `ins` in lowering `L`: `regs` (the shape's
    register operands, in order) give its slot displacements, `blocks` (the shape's
    successor blocks) its branch targets."""
    a = L.a
    inst = t.inst
    if inst is None and (t.sites or t.addresses):
        inst = t.inst = _instantiator(t, regs)
        if not t.fixups and not t.addresses:
            t.quick = inst
    if inst is not None:
        frame = L.frame
        data = inst(regs, frame.i32_base, frame.ref_base,
                    _addresses(L, ins) if t.addresses else None)
    else:
        data = t.data
    if not t.fixups:
        a.copy_code(data)
        return
    if t.trap_plan is not None:
        a.copy_code(data, L.trap_fixups(t.traps, t.trap_plan))
        return
    if t.block_plan is not None:
        labels = L.block_labels
        a.copy_code(data, tuple([(pos, size, labels[blocks[k]], addend)
                                 for pos, size, k, addend in t.block_plan]))
        return
    if t.statuses is not None:  # (stubs of their own, as the lowering makes them)
        traps = [(L.trap_label(code, status), 0) for code, status in zip(t.traps, t.statuses)]
    else:
        traps = L.trap_block_stubs(t.traps) if t.traps else ()
    fixups = []
    for pos, size, (where, what), addend in t.fixups:
        if where == "trap":
            label, at = traps[what]
            addend += at
        elif where == "block":
            label = L.block_labels[blocks[what]]
        elif where == "epilogue":
            label = L.epilogue
        elif where == "entry":
            label = L.entries[ins.args["callee_ordinal"]]
        else:
            label = a.const_bytes(*what).label if isinstance(what[0], bytes) else None
            if label is None:
                raise AssertionError("jump tables are never templated")
        fixups.append((pos, size, label, addend))
    a.copy_code(data, tuple(fixups))


#: (per site in code order: ("slot", operand, whether a ref) or ("address", which)) -> a
#: factory of `_instantiator` functions
_INSTANTIATORS: dict[tuple, object] = {}


def _instantiator(t: Template, regs) -> object:
    """`inst(regs, i32 base, ref base, addresses)`: `t.data` with each slot site's
    displacement (the operand's frame slot + addend) and each address site's value
    (`addresses[which]`: a linked import's entry and Context, `_addresses`) written in,
    as one `struct` pack of the constant runs and the values. The code of a site pattern
    (a shape's registers always have the same banks) is generated once per process."""
    sites = sorted([(pos, "slot", k, addend) for pos, k, addend in t.sites]
                   + [(pos, "address", j, 0) for pos, j in t.addresses])
    pattern = tuple((kind, k, kind == "slot" and regs[k].is_ref) for _, kind, k, _ in sites)
    make = _INSTANTIATORS.get(pattern)
    if make is None:
        n = len(pattern)
        fields = []
        for i, (kind, k, is_ref) in enumerate(pattern):
            base, scale = ("rb", 8) if is_ref else ("ib", 4)
            fields += [f"C{i}", f"{base} + {scale} * regs[{k}].ordinal + A{i}"
                       if kind == "slot" else f"ad[{k}]"]
        params = [f"C{i}" for i in range(n + 1)] + [f"A{i}" for i in range(n)]
        src = (f"def make(PACK, {', '.join(params)}):\n"
               f"    def inst(regs, ib, rb, ad=None):\n"
               f"        return PACK({', '.join(fields)}, C{n})\n"
               f"    return inst\n")
        env: dict = {}
        exec(compile(src, "<baseline template copy>", "exec"), env)  # noqa: S102 - our own
        if len(_INSTANTIATORS) >= _LIMIT:
            _INSTANTIATORS.clear()
        make = _INSTANTIATORS[pattern] = env["make"]
    data, chunks, addends, fmt, prev = t.data, [], [], "<", 0
    for pos, kind, _, addend in sites:  # (in order, never overlapping)
        chunks.append(data[prev:pos])
        addends.append(addend)
        code, width = ("i", 4) if kind == "slot" else ("Q", 8)
        fmt += f"{pos - prev}s{code}"
        prev = pos + width
    chunks.append(data[prev:])
    fmt += f"{len(data) - prev}s"
    return make(struct.Struct(fmt).pack, *chunks, *addends)


def quick_table(features) -> dict | None:
    """The shape -> Template table of `features` for a lowering's fast path (the keys it
    looks up: the module docstring; a miss goes through `emit`). None when templates are
    off or each copy is to be verified (everything goes through `emit`)."""
    return None if VERIFY or not ENABLED else _table(features)


def _table(features) -> dict:
    table = _TABLES.get(features)
    if table is None:
        table = _TABLES[features] = {}
    return table


def template(ins, features) -> Template | None:
    """The template of `ins`'s shape for `features` (made now if it is new), or None when
    its ops go through their lowering: for tests and tools."""
    from .baseline import BaselineLowering
    key, regs, _ = shape_key(ins)
    handler = HANDLERS.get(ins.op.mnemonic)
    if key is None or handler is None:
        return None
    table = _TABLES.setdefault(frozenset(features), {})
    t = table.get(key)
    if t is None:
        t = table[key] = build(BaselineLowering, ins, regs, frozenset(features), handler) or _MISS
    return None if t is _MISS else t
