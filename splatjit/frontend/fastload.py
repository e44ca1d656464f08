"""Fused decode + verify: one pass over a module's bytecode that builds the same verified IR
as `decoder.decode_module_functions` followed by `verifier.verify_function`, faster.

Contract: `decode_verified(module)` returns the list of verified `Function`s, equal (same
blocks, instructions, args, successors and `verified` flag) to what the reference pair
builds, or None when anything about the module is not plainly valid. It never raises on bad
input and never reports an error itself: on None the caller runs the reference decoder and
verifier, which raise the one error (class, message and offset) they always have. So this
pass only has to *recognise* valid input; it may reject valid input (then the module loads
at the reference speed), but it must never accept a module the reference rejects (tests:
`test_fastload.py`, differential over the corpus and mutated modules).

How it is fast:
  * one decoding function per opcode, generated on its first use from its operand layout
    (`opcodes.LAYOUTS`): fixed-size field runs are one `struct.unpack_from`, and each register
    field is one subscript of a per-frame "bank" (below); no per-field dispatch at run time.
    It also makes the op's Instr with its `shape` (which fields are registers is known
    when the function is generated; an op with successors gets its shape from a generated
    `finish` once the function's blocks are known) and closes the block after a
    terminator, so the pass's loop is one table lookup and one call per op (block markers
    and extension prefixes are entries of the same table);
  * a bank is a dict raw u16 -> Reg holding only the encodings that are valid in a frame of
    (i32 count, ref count) registers for one register type: a hit is the decoder's type
    check and the verifier's range check at once; a miss checks the encoding once
    (`__missing__`) and rejects the module if it is out of range or of the wrong bank;
  * module-level facts (ordinal limits, callee argument types per (callee, segments)) are
    computed once per module, the flattened argument types once per process per (types,
    segments); branch targets are resolved after each function's last op.
"""
from __future__ import annotations

import operator
import struct

from ..ir import (STRING_PART, WIDE, Block, Function, Instr, Successor,
                  branch_long_shape, shared_homes)
from . import opcodes as oc
from .decoder import MOVE_BIT, REF_BIT, REF_MASK, _typed_reg, reg_from_raw
from .records import maker
from .schema import ModuleDef
from .verifier import _flat, arg_registers

IMPORT_BIT = 0x80000000
_GLOBAL_WIDTH = {"i32": 4, "f32": 4, "i64": 8, "f64": 8}


class _Reject(Exception):
    """Internal: the fast pass does not accept this module (the reference pass decides)."""


_REJECT = _Reject()


# ----------------------------------------------------------------------------- register banks
class _Bank(dict):
    """raw u16 -> Reg, for the encodings `make` accepts (None: reject the module)."""

    __slots__ = ("make",)

    def __missing__(self, raw):
        reg = self.make(raw)
        if reg is None:
            raise _REJECT
        self[raw] = reg
        return reg


def _bank(make) -> _Bank:
    b = _Bank()
    b.make = make
    return b


class _Frame:
    """The banks of one frame shape (i32 count, ref count).

    Typed fields (`typed[bank]`, `moved_ref`): the Regs the decoder's `_typed_reg` makes.
    "any" list entries typed from a signature (`any_typed[type]`) and untyped entries and
    remap halves (`raw`): the Regs `reg_from_raw` makes. Each only where the verifier's
    range rules hold.
    """

    __slots__ = ("typed", "moved_ref", "any_typed", "raw")

    def __init__(self, n_i32: int, n_ref: int):
        def typed(bank, move):
            if bank == "ref":
                def make(raw):
                    if raw & REF_BIT and (move or not raw & MOVE_BIT) and raw & REF_MASK < n_ref:
                        return _typed_reg(raw, "ref", move, None)
                    return None
            elif bank in WIDE:
                def make(raw):
                    if not raw & REF_BIT and not raw & 1 and raw + 1 < n_i32:
                        return _typed_reg(raw, bank, move, None)
                    return None
            else:
                def make(raw):
                    if not raw & REF_BIT and raw < n_i32:
                        return _typed_reg(raw, bank, move, None)
                    return None
            return _bank(make)

        def from_raw(t):
            def make(raw):
                if raw & REF_BIT:
                    if t not in ("ref", "x32") or raw & REF_MASK >= n_ref:
                        return None
                    return reg_from_raw(raw, "x32")
                if t == "ref":
                    return None
                if t in WIDE:
                    ok = not raw & 1 and raw + 1 < n_i32
                else:
                    ok = raw < n_i32
                return reg_from_raw(raw, t) if ok else None
            return _bank(make)

        self.typed = {b: typed(b, False) for b in ("i32", "i64", "f32", "f64", "ref")}
        self.moved_ref = typed("ref", True)
        self.any_typed = {t: from_raw(t) for t in ("i32", "i64", "f32", "f64", "ref")}
        self.raw = from_raw("x32")


_FRAMES: dict[tuple[int, int], _Frame] = {}
MAX_FRAMES = 256  # frame shapes kept across modules (each bank holds at most 65536 Regs)


def _frame(n_i32: int, n_ref: int) -> _Frame:
    f = _FRAMES.get((n_i32, n_ref))
    if f is None:
        if len(_FRAMES) >= MAX_FRAMES:
            _FRAMES.clear()
        f = _FRAMES[(n_i32, n_ref)] = _Frame(n_i32, n_ref)
    return f


# ----------------------------------------------------------------------------- per-function state
class _State:
    """What an op's decoding function reads and writes: the frame's banks, the module's
    limits, the function's blocks and open block, and where it leaves branch edges to
    resolve."""

    __slots__ = ("frame", "i32", "i64", "f32", "f64", "ref", "moved_ref", "raw", "results", "m",
                 "edges", "shaping", "blocks", "instrs", "ext", "calls")

    def __init__(self, frame: _Frame, m: "_ModuleFacts", own_results: tuple):
        self.frame, self.m = frame, m
        typed = frame.typed
        self.i32, self.i64, self.f32, self.f64, self.ref = (
            typed["i32"], typed["i64"], typed["f32"], typed["f64"], typed["ref"])
        self.moved_ref, self.raw = frame.moved_ref, frame.raw
        self.results = own_results
        #: (args, field name, target pc, remap, source block index) and (args, field name,
        #: None, [(pc, remap)...], source block index)
        self.edges: list = []
        self.calls: list = []  # the function's ops with a callee ordinal field
        #: (finish, Instr, block index) of ops whose shape needs their successors' blocks
        self.shaping: list = []
        self.blocks: list = []  # the function's blocks so far
        self.instrs: list | None = None  # the open block's instructions (None: no block open)
        self.ext: dict = {}  # extension prefix byte -> its op table (`_EXT`)


class _ModuleFacts:
    """Per-module limits and the flattened argument types of each (callee, segments)."""

    __slots__ = ("module", "n_rodata", "n_types", "n_funcs", "n_imports", "global_bytes",
                 "global_refs", "arg_types")

    def __init__(self, m: ModuleDef):
        self.module = m
        self.n_rodata, self.n_types = len(m.rodata), len(m.types)
        self.n_funcs, self.n_imports = len(m.functions), len(m.imports)
        self.global_bytes, self.global_refs = m.global_bytes, m.global_refs
        self.arg_types: dict = {}  # ordinal, or (ordinal, segments) -> `call_types` answer

    def callee(self, ordinal: int):
        if ordinal & IMPORT_BIT:
            i = ordinal & 0x7FFFFFFF
            if i >= self.n_imports:
                raise _REJECT
            return self.module.imports[i].signature
        if ordinal >= self.n_funcs:
            raise _REJECT
        return self.module.signatures[ordinal]

    def call_types(self, ordinal: int, segments: tuple | None) -> tuple:
        """(argument types, result types) of a call with these segment sizes, as the
        verifier accepts them (the callee ordinal checked). Kept in `arg_types` by the
        ordinal alone for a call without segments (generated decoders look there first),
        else by (ordinal, segments)."""
        key = ordinal if segments is None else (ordinal, segments)
        got = self.arg_types.get(key)
        if got is None:
            sig = self.callee(ordinal)
            got = self.arg_types[key] = _call_types(sig.args, sig.results, segments)
        return got


_CALL_TYPES: dict = {}  # (argument types, result types, segments) -> `call_types`' answer
MAX_CALL_TYPES = 1 << 12


def _call_types(args: tuple, results: tuple, segments: tuple | None) -> tuple:
    """(argument types, result types) of a call of a callee of these types with these
    segment sizes; raises `_Reject` if the verifier refuses the segments. Answered once per
    process for each (types, segments): modules share a few dozen signatures."""
    key = (args, results, segments)
    got = _CALL_TYPES.get(key)
    if got is None:
        types = _flat(args, list(segments) if segments is not None else None)
        if isinstance(types, str):
            raise _REJECT
        if len(_CALL_TYPES) >= MAX_CALL_TYPES:
            _CALL_TYPES.clear()
        got = _CALL_TYPES[key] = (tuple(types), tuple(results))
    return got


# ----------------------------------------------------------------------------- layout decoders
_FIXED = {oc.SRC: "H", oc.DST: "H", oc.U16: "H", oc.GLOBAL: "I", oc.FUNC: "I",
          oc.RODATA: "I", oc.TYPE: "I", oc.TARGET: "I"}
_CONST = {"i32": "i", "i64": "q", "f32": "f", "f64": "d"}
_U16_LISTS: dict[int, object] = {}


def u16s(data, pc: int, n: int) -> tuple:
    st = _U16_LISTS.get(n)
    if st is None:
        st = _U16_LISTS[n] = struct.Struct(f"<{n}H").unpack_from
    return st(data, pc)


def _count(lines: list, ind: str) -> None:
    """Aligns pc to 2 (function-relative) and reads a list's u16 count into `n`."""
    lines += [f"{ind}if (pc - base) & 1: pc += 1",
              f"{ind}if pc + 2 > end: raise REJECT",
              f"{ind}n = data[pc] | data[pc + 1] << 8",
              f"{ind}pc += 2"]


def _raws(lines: list, ind: str, entries: str = "n") -> None:
    """`raws`: the `entries` (an expression in n) u16s at pc."""
    lines += [f"{ind}if pc + 2 * {entries} > end: raise REJECT",
              f"{ind}st = U16S.get({entries})",
              f"{ind}raws = st(data, pc) if st is not None else u16s(data, pc, {entries})",
              f"{ind}pc += 2 * {entries}"]


def _reg_list(lines: list, ind: str, out: str, one: str, many: str) -> None:
    """A register list of `n` entries into `out` (n read by `_count`): `one` is the Reg of
    the one entry `raw` (most lists hold one), `many` the list of the entries `raws`."""
    lines += [f"{ind}if n == 1:",
              f"{ind}    if pc + 2 > end: raise REJECT",
              f"{ind}    raw = data[pc] | data[pc + 1] << 8",
              f"{ind}    pc += 2",
              f"{ind}    {out} = [{one}]",
              f"{ind}elif n:"]
    _raws(lines, ind + "    ")
    lines += [f"{ind}    {out} = {many}",
              f"{ind}else:",
              f"{ind}    {out} = []"]


def _remap(lines: list, ind: str, out: str) -> None:
    """A remap list into `out`: a tuple of (src, dst) Regs of one bank each."""
    _count(lines, ind)
    lines += [f"{ind}if n:"]
    _raws(lines, ind + "    ", "(2 * n)")
    lines += [f"{ind}    R = S.raw",
              f"{ind}    regs = list(map(R.__getitem__, raws))",
              f"{ind}    {out} = tuple(zip(regs[0::2], regs[1::2]))",
              f"{ind}    for a, b in {out}:",
              f"{ind}        if a.is_ref is not b.is_ref: raise REJECT",
              f"{ind}else:",
              f"{ind}    {out} = ()"]


def _fixed_run(lines, env, fields, i, value, reg_bank, ind, edges) -> int:
    """Code for the run of fixed-size fields starting at `i`; returns where it ends.
    Branch targets are added to `edges` (see `_generate`)."""
    j, fmt = i, "<"
    while j < len(fields) and (fields[j].kind in _FIXED or fields[j].kind is oc.CONST):
        f = fields[j]
        fmt += _CONST[f.bank] if f.kind is oc.CONST else _FIXED[f.kind]
        j += 1
    if j == i:
        return i
    st = struct.Struct(fmt)
    env[f"st{i}"] = st.unpack_from
    names = [f"v{k}" for k in range(i, j)]
    lines += [f"{ind}if pc + {st.size} > end: raise REJECT",
              f"{ind}{', '.join(names)}{',' if len(names) == 1 else ''} = st{i}(data, pc)",
              f"{ind}pc += {st.size}"]
    for k in range(i, j):
        f, v = fields[k], f"v{k}"
        if f.kind in (oc.SRC, oc.DST):
            bank = "S.moved_ref" if f.bank == "ref" and f.move else f"S.{f.bank}"
            lines.append(f"{ind}{v} = {bank}[{v}]")
        elif f.kind is oc.RODATA:
            lines.append(f"{ind}if {v} >= S.m.n_rodata: raise REJECT")
        elif f.kind is oc.TYPE:
            lines.append(f"{ind}if {v} >= S.m.n_types: raise REJECT")
        elif f.kind is oc.FUNC:
            if f.name == "callee_ordinal":  # a call: its types (callee checked there)
                if not any(g.kind is oc.SEGMENTS for g in fields):  # else at the segments
                    lines += [f"{ind}types = S.m.arg_types.get({v})",
                              f"{ind}arg_types, result_types = (types if types is not None "
                              f"else S.m.call_types({v}, None))"]
            else:
                lines.append(f"{ind}S.m.callee({v})")
        elif f.kind is oc.GLOBAL:
            if reg_bank == "ref":
                lines.append(f"{ind}if {v} >= S.m.global_refs: raise REJECT")
            else:
                w = _GLOBAL_WIDTH[reg_bank]
                lines.append(f"{ind}if {v} + {w} > S.m.global_bytes or {v} % {w}: raise REJECT")
        elif f.kind is oc.TARGET:
            edges.append([f.name, v, "()"])
        value[f.name] = v
    return j


def _generate(op: oc.Opcode) -> tuple:
    """(decode, its source) for one op: `decode(data, pc, end, base, S) -> pc` decodes the
    op at `pc` (its opcode byte, or its extension prefix) and appends its Instr to the open
    block (closing the block after a terminator); raises `_Reject` on anything the decoder
    or verifier would refuse. The code is compiled once per (layout, is a terminator); each
    op's function runs it with its own `OP` and `WIDTH` (opcode bytes) globals."""
    key = (op.layout, op.mnemonic in oc.TERMINATORS)
    got = _CODE.get(key)
    if got is None:
        got = _CODE[key] = _compile(*key)
    code, env, src = got
    env = dict(env, OP=op, MN=op.mnemonic, WIDTH=1 if op.opcode_set == oc.CORE else 2)
    exec(code, env)  # noqa: S102 - defines `decode`, from our own table
    return env["decode"], src


_CODE: dict[tuple[str, bool], tuple] = {}  # (layout, terminator) -> (code, globals, source)


def _compile(layout: str, terminator: bool) -> tuple:
    """`_generate`'s code for the ops of one layout (which end their block or not)."""
    fields = oc.LAYOUTS[layout]
    ind = "    "
    lines = ["def decode(data, pc, end, base, S):",
             f"{ind}instrs = S.instrs",
             f"{ind}if instrs is None: raise REJECT",
             f"{ind}op_pc = pc",
             f"{ind}pc += WIDTH"]
    # (list(map(...)) over the register lists: a list comprehension makes a function per run)
    env = {"REJECT": _REJECT, "u16s": u16s, "U16S": _U16_LISTS, "getitem": operator.getitem,
           "NEW": _NEW, "Instr": Instr}
    value: dict[str, str] = {}  # field name -> the local holding its final value
    edges: list = []  # [field name, target pc, remap] (locals) of each branch field
    reg_bank = next((f.bank for f in fields if f.kind in (oc.SRC, oc.DST)), None)
    i = 0
    while i < len(fields):
        j = _fixed_run(lines, env, fields, i, value, reg_bank, ind, edges)
        if j > i:
            i = j
            continue
        f, v = fields[i], f"v{i}"
        kind = f.kind
        if kind in (oc.SRCLIST, oc.DSTLIST):
            _count(lines, ind)
            if f.bank != "any":
                bank = "S.moved_ref" if f.bank == "ref" else f"S.{f.bank}"
                _reg_list(lines, ind, v, f"{bank}[raw]", f"list(map({bank}.__getitem__, raws))")
            else:
                if "callee_ordinal" in value:
                    types = "arg_types" if kind is oc.SRCLIST else "result_types"
                elif layout == "return":
                    types = "S.results"
                else:
                    types = None
                if types is None:
                    _reg_list(lines, ind, v, "S.raw[raw]", "list(map(S.raw.__getitem__, raws))")
                else:
                    lines += [f"{ind}types = {types}",
                              f"{ind}if len(types) != n: raise REJECT"]
                    _reg_list(lines, ind, v, "S.frame.any_typed[types[0]][raw]",
                              "list(map(getitem, map(S.frame.any_typed.__getitem__, types), raws))")
        elif kind is oc.SEGMENTS:
            _count(lines, ind)
            _raws(lines, ind)
            lines += [f"{ind}{v} = list(raws)",
                      f"{ind}arg_types, result_types = S.m.call_types("
                      f"{value['callee_ordinal']}, raws)"]
        elif kind is oc.REMAP:
            target = fields[i - 1]
            if target.kind is not oc.TARGET:  # pragma: no cover - the table pairs them
                raise AssertionError(f"{layout}: remap list without a target")
            _remap(lines, ind, v)
            edges[-1][2] = v  # (the target's remap)
        elif kind is oc.STRING:
            lines += [f"{ind}if pc + 2 > end: raise REJECT",
                      f"{ind}n = data[pc] | data[pc + 1] << 8",
                      f"{ind}pc += 2",
                      f"{ind}if pc + n > end: raise REJECT",
                      f"{ind}{v} = data[pc:pc + n].decode('utf-8', errors='replace')",
                      f"{ind}pc += n"]
        elif kind is oc.CASES:
            lines += [f"{ind}cases = []",
                      f"{ind}for _ in range({value['table_size']}):",
                      f"{ind}    if pc + 4 > end: raise REJECT",
                      f"{ind}    t = data[pc] | data[pc + 1] << 8 | data[pc + 2] << 16 | "
                      f"data[pc + 3] << 24",
                      f"{ind}    pc += 4"]
            _remap(lines, ind + "    ", "rm")
            lines += [f"{ind}    cases.append((t, rm))"]
            edges.append([f.name, "None", "cases"])
            v = "None"
        else:  # pragma: no cover - the table holds only the kinds above
            raise AssertionError(f"{layout}: unhandled field kind {kind}")
        value[f.name] = v
        i += 1
    for f in fields:  # edges are resolved when the function's blocks are known
        if f.kind is oc.TARGET:
            value[f.name] = "None"
    body = ", ".join(f"{f.name!r}: {value[f.name]}" for f in fields if f.kind is not oc.REMAP)
    lines.append(f"{ind}args = {{{body}}}")
    shape = _shape_code(lines, ind, fields, value)
    finish = _finish_code(layout, fields) if shape == "None" else None
    if edges:  # (args, field name, target pc, remap, source block) or (args, field name,
        # None, [(pc, remap)...], source block)
        tuples = [f"(args, {name!r}, {target}, {remap}, src)" for name, target, remap in edges]
        lines.append(f"{ind}src = len(S.blocks) - 1")
        lines.append(f"{ind}S.edges.append({tuples[0]})" if len(tuples) == 1 else
                     f"{ind}S.edges += ({', '.join(tuples)})")
    lines += [f"{ind}ins = NEW(Instr)",
              f"{ind}ins.offset, ins.op, ins.args, ins.length, ins.regs, ins.shape = "
              f"op_pc - base, OP, args, pc - op_pc, None, {shape}",
              f"{ind}instrs.append(ins)"]
    if "callee_ordinal" in value:
        lines.append(f"{ind}S.calls.append(ins)")
    if finish is not None:  # (the shape once the successors' blocks are known)
        lines.append(f"{ind}S.shaping.append((finish, ins, len(S.blocks) - 1))")
    if terminator:
        lines.append(f"{ind}S.instrs = None")
    lines.append(f"{ind}return pc")
    if finish is not None:
        lines += [""] + finish
    src = "\n".join(lines) + "\n"
    env.update(PART=operator.attrgetter("part"), HOME=operator.attrgetter("home"),
               F64=_F64_BYTES.pack, SHARED=shared_homes, LONG=branch_long_shape)
    return compile(src, f"<fastload {layout}>", "exec"), env, src


_F64_BYTES = struct.Struct("<d")
#: field kinds an op's shape (`Instr.shape`) has a part for; ops with others get None
_SHAPED = frozenset((oc.SRC, oc.DST, oc.CONST, oc.GLOBAL, oc.FUNC, oc.RODATA, oc.TYPE, oc.U16,
                     oc.STRING, oc.SRCLIST, oc.DSTLIST, oc.SEGMENTS))


def _shape_code(lines: list, ind: str, fields, value: dict) -> str:
    """Code computing the op's `Instr.shape` (appended to `lines`: its key into `key`,
    its registers into `regs`); returns the expression the Instr's `shape` takes
    ("(key, regs, ())", or "None" for a layout with successors, whose shape needs the
    blocks: `_finish_code`)."""
    if not all(f.kind in _SHAPED for f in fields):
        return "None"
    _key_code(lines, ind, fields, value)
    return "(key, regs, ())"


#: layouts whose ops get their long-form shape (`ir.branch_long_shape`) when their successor
#: has a remap: ops that never read a compare's condition from EFLAGS, so they are never
#: the second op of a pair, whose key is made from two short forms
#: (baseline_templates.FUSING: cond_br and select are not of these layouts)
LONG_FORM_LAYOUTS = frozenset({"branch"})


def _finish_code(layout: str, fields) -> list[str] | None:
    """Lines defining `finish(ins, block) -> Instr.shape` for a layout with successors
    (none for a branch table): run once the function's blocks are known. When a
    successor has a remap, the op's key has the long form: `ir.branch_long_shape` for the
    `LONG_FORM_LAYOUTS`, else None (worked out by the code generator)."""
    if any(f.kind is oc.CASES for f in fields):
        return None
    ind = "    "
    lines = ["def finish(ins, block):", f"{ind}a = ins.args"]
    value, targets = {}, []
    for i, f in enumerate(fields):
        if f.kind is oc.REMAP:
            continue
        value[f.name] = f"v{i}"
        lines.append(f"{ind}v{i} = a[{f.name!r}]")
        if f.kind is oc.TARGET:
            targets.append(f"v{i}")
    if layout in LONG_FORM_LAYOUTS:  # (one field: the successor)
        (target,) = targets
        lines.append(f"{ind}if {target}.remap: return LONG(MN, {target}, block)")
    else:
        lines.append(f"{ind}if {' or '.join(f'{t}.remap' for t in targets)}: return None")
    _key_code(lines, ind, [f for f in fields if f.kind is not oc.REMAP], value)
    lines.append(f"{ind}return key, regs, ({', '.join(f'{t}.block' for t in targets)},)")
    return lines


def _key_code(lines: list, ind: str, fields, value: dict) -> None:
    """Lines putting the op's shape key into `key` and its registers into `regs`, its
    fields' values being the locals `value` names (a successor's: its Successor)."""
    parts, regs, lists, ref_fields, slot_fields = ["MN"], [], False, [], []
    for f in fields:
        v, kind = value[f.name], f.kind
        if kind is oc.TARGET:  # (no remap: `finish` checked)
            parts.append(f"('succ', {v}.block == block + 1)")
        elif kind in (oc.SRC, oc.DST):
            parts.append(f"{v}.part")
            regs.append(v)
            (ref_fields if f.bank == "ref" else slot_fields).append(v)
        elif kind in (oc.SRCLIST, oc.DSTLIST):
            parts.append(f"tuple(map(PART, {v}))")
            regs.append(f"*{v}")
            lists = True
        elif kind is oc.SEGMENTS:
            parts.append(f"(('ints', tuple({v})) if {v} else ())")
        elif kind is oc.CONST and f.bank in ("f32", "f64"):
            parts.append(f"('f', F64({v}))")
        elif kind is oc.STRING:  # (no lowering reads one: `ir.STRING_PART`)
            parts.append(repr(STRING_PART))
        else:  # ints (attributes, ordinals, constants), as they are
            parts.append(v)
    lines.append(f"{ind}key = ({', '.join(parts)},)")
    lines.append(f"{ind}regs = ({', '.join(regs)}{',' if regs else ''})")
    if lists:
        lines.append(f"{ind}if len(regs) > 1 and len(set(map(HOME, regs))) != len(regs): "
                     f"key += (SHARED(regs),)")
    else:
        same = [f"{x}.ordinal == {y}.ordinal" for group in (ref_fields, slot_fields)
                for i, x in enumerate(group) for y in group[i + 1:]]
        if same:  # shared_homes(regs), worked out here: per register the first with its home
            first = []
            for i, r in enumerate(regs):
                group = ref_fields if r in ref_fields else slot_fields
                earlier = [(j, q) for j, q in enumerate(regs[:i]) if q in group]
                expr = str(i)
                for j, q in reversed(earlier):
                    expr = f"{j} if {r}.ordinal == {q}.ordinal else {expr}"
                first.append(f"({expr})" if earlier else expr)
            lines.append(f"{ind}if {' or '.join(same)}: key += (({', '.join(first)},),)")


_NEW = object.__new__


def _reject(data, pc, end, base, S):
    """A byte that starts no op here (no such opcode, or an extension not required)."""
    raise _REJECT


def _block_marker(data, pc, end, base, S):
    """Opens a block (the previous one must have ended in a terminator)."""
    if S.instrs is not None:
        raise _REJECT
    blocks = S.blocks
    # (the fields `Block(index, offset)` sets, without the constructor call)
    block = _NEW(Block)
    block.index, block.offset, block.instrs = len(blocks), pc - base, []
    blocks.append(block)
    S.instrs = block.instrs
    return pc + 1


def _prefix(byte: int):
    """The decoding function of extension prefix `byte`: the op its next byte names in the
    extension's table, if the function requires the extension (`S.ext`)."""
    def decode(data, pc, end, base, S):
        if pc + 1 >= end:
            raise _REJECT
        return S.ext[byte][data[pc + 1]](data, pc, end, base, S)
    return decode


def _first_use(table: list, op: oc.Opcode):
    """Stands for `op`'s decoding function in `table` until first use: generates it, puts it
    in its place and decodes."""
    def decode(data, pc, end, base, S):
        fn = table[op.number] = _generate(op)[0]
        return fn(data, pc, end, base, S)
    return decode


def _ops(opset: str) -> list:
    """256 decoding functions, by the byte after any prefix (`_reject` where no op is)."""
    table = [_reject] * 256
    for op in oc.OPCODES:
        if op.opcode_set == opset and op.layout != "block_marker":
            table[op.number] = _first_use(table, op)
    return table


_F32, _F64 = oc.SET_FEATURE[oc.EXT_F32], oc.SET_FEATURE[oc.EXT_F64]
_EXT_BITS = _F32 | _F64
_PREFIXES = {0xE0: (oc.EXT_F32, _F32), 0xE1: (oc.EXT_F64, _F64)}
_TABLES = {s: _ops(s) for s in (oc.CORE, oc.EXT_F32, oc.EXT_F64)}
_NONE = [_reject] * 256
#: requirement bits & _EXT_BITS -> {prefix byte: the extension's table, or none if not required}
_EXT = {bits: {byte: _TABLES[opset] if bits & bit else _NONE
               for byte, (opset, bit) in _PREFIXES.items()}
        for bits in range(_EXT_BITS + 1) if not bits & ~_EXT_BITS}
#: by first byte: a core op, an extension prefix, or the block marker (which no op shares)
_CORE = _TABLES[oc.CORE]
for _byte in _PREFIXES:
    if _CORE[_byte] is _reject:
        _CORE[_byte] = _prefix(_byte)
_CORE[oc.BLOCK_MARKER] = _block_marker


# ----------------------------------------------------------------------------- the pass
_NEEDS: dict[tuple, tuple[int, int] | None] = {}


def _frame_need(signature) -> tuple[int, int] | None:
    """(i32 slots, ref registers) a function's arguments take; None for a variadic one
    (internal functions cannot be). Answered once per argument type list."""
    got = _NEEDS.get(signature.args, False)
    if got is False:
        if len(_NEEDS) >= 1 << 12:
            _NEEDS.clear()
        got = None
        if not signature.is_variadic:
            need_i32 = need_ref = 0
            for r in arg_registers(signature):
                if r.is_ref:
                    need_ref = r.ordinal + 1
                else:
                    need_i32 = max(need_i32, r.ordinal + len(r.slots))
            got = (need_i32, need_ref)
        _NEEDS[signature.args] = got
    return got


def _function(m: ModuleDef, facts: _ModuleFacts, states: dict, ordinal: int) -> Function:
    desc = m.functions[ordinal]
    signature = m.signatures[ordinal]
    need = _frame_need(signature)
    n_i32, n_ref = desc.i32_register_count, desc.ref_register_count
    if need is None or need[0] > n_i32 or need[1] > n_ref:
        raise _REJECT
    S = states.get((n_i32, n_ref))
    if S is None:  # one per frame shape in this module; its per-function parts set below
        S = states[(n_i32, n_ref)] = _State(_frame(n_i32, n_ref), facts, ())
    S.results, S.edges, S.shaping, S.calls = signature.results, [], [], []
    S.blocks = blocks = []
    S.instrs = None
    S.ext = _EXT[desc.requirements & _EXT_BITS]
    table = _CORE
    data = m.bytecode
    base = pc = desc.bytecode_offset
    end = base + desc.bytecode_length
    while pc < end:
        pc = table[data[pc]](data, pc, end, base, S)
    if S.instrs is not None or len(blocks) != desc.block_count:
        raise _REJECT
    heads = _NO_HEADS
    if S.edges:
        block_at = {b.offset: b.index for b in blocks}
        back = []  # blocks entered from the same or a later block: loop headers
        for args, name, target, remap, src in S.edges:
            if target is None:  # a branch table's cases
                cases = []
                for t, rm in remap:
                    index = block_at.get(t)
                    if index is None:
                        raise _REJECT
                    if index <= src:
                        back.append(index)
                    cases.append(_successor(t, index, rm))
                args[name] = cases
            else:
                index = block_at.get(target)
                if index is None:
                    raise _REJECT
                if index <= src:
                    back.append(index)
                args[name] = _successor(target, index, remap)
        for finish, ins, block in S.shaping:
            ins.shape = finish(ins, block)
        if back:
            heads = frozenset(back)
    fn = _NEW(Function)  # (the fields `Function(...)` sets, then `verified`)
    fn.module, fn.name, fn.ordinal, fn.signature = m.name, m.function_name(ordinal), ordinal, signature
    fn.i32_count, fn.ref_count, fn.requirements, fn.blocks = n_i32, n_ref, desc.requirements, blocks
    fn.bytecode_offset, fn.verified = desc.bytecode_offset, True
    fn.call_ops, fn.loop_heads = S.calls, heads
    return fn


_NO_HEADS: frozenset = frozenset()


_successor = maker(Successor)


def decode_verified(m: ModuleDef) -> list[Function] | None:
    """Every function of `m`, decoded and verified; None if the fast pass does not accept
    the module (see the module docstring: the reference pass then decides)."""
    facts = _ModuleFacts(m)
    states: dict = {}  # (i32 count, ref count) -> its _State (here, not in `facts`: no cycle)
    try:
        return [_function(m, facts, states, i) for i in range(len(m.functions))]
    except (_Reject, struct.error, IndexError, KeyError, UnicodeError, RecursionError):
        # `_REJECT` is one instance: each raise would grow its traceback by the frames it
        # passed (holding their functions and instructions) for the life of the process
        _REJECT.__traceback__ = _REJECT.__context__ = None
        return None
