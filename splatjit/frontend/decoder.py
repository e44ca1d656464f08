"""Table-driven bytecode decoder: function bytecode -> IR blocks of `Instr`.

Contract: `decode_function` reads exactly the descriptor's byte range and either returns a
`Function` whose instructions follow the opcode table's layouts, or raises `DecodeError`
naming the function and the byte offset (relative to the function start) of the bad op.
It checks structure only (bytes, opcodes, block markers, terminators); register ranges,
branch targets and signatures are the verifier's job. Register fields are typed by their
layout; entries of "any"-typed lists are typed from the callee / own signature where the
signature is known here, otherwise left as raw `x32` slots or refs.
"""
from __future__ import annotations

import struct

from ..errors import DecodeError
from ..ir import Block, Function, Instr, Reg, Successor
from . import opcodes as oc
from .cconv import Signature
from .schema import ModuleDef

_U16 = struct.Struct("<H").unpack_from
_U32 = struct.Struct("<I").unpack_from
_CONST = {"i32": struct.Struct("<i"), "i64": struct.Struct("<q"),
          "f32": struct.Struct("<f"), "f64": struct.Struct("<d")}
_U32_KINDS = frozenset({oc.GLOBAL, oc.FUNC, oc.RODATA, oc.TYPE})
REF_BIT, MOVE_BIT, REF_MASK, I32_MASK = 0x8000, 0x4000, 0x3FFF, 0x7FFF


class _Reader:
    """Cursor over one function's bytecode with checked reads (offsets are function-relative)."""

    __slots__ = ("data", "base", "end", "pc", "op_pc", "where")

    def __init__(self, data: bytes, base: int, length: int, where: str):
        self.data, self.base, self.end = data, base, base + length
        self.pc = base
        self.op_pc = base
        self.where = where

    def fail(self, message: str) -> DecodeError:
        return DecodeError(message, where=f"{self.where}+0x{self.op_pc - self.base:x}")

    def need(self, n: int) -> int:
        pc = self.pc
        if pc + n > self.end:
            raise self.fail(f"op runs {pc + n - self.end} bytes past the end of the function")
        self.pc = pc + n
        return pc

    def u8(self) -> int:
        return self.data[self.need(1)]

    def u16(self) -> int:
        return _U16(self.data, self.need(2))[0]

    def u32(self) -> int:
        return _U32(self.data, self.need(4))[0]

    def align2(self) -> None:
        if (self.pc - self.base) & 1:  # lists are aligned relative to the function start
            self.need(1)

    def u16_list(self) -> list[int]:
        self.align2()
        n = self.u16()
        start = self.need(2 * n)
        return list(struct.unpack_from(f"<{n}H", self.data, start))


_FIXED_FORMAT = {oc.SRC: "H", oc.DST: "H", oc.U16: "H", oc.GLOBAL: "I", oc.FUNC: "I",
                 oc.RODATA: "I", oc.TYPE: "I", oc.TARGET: "I"}
_CONST_FORMAT = {"i32": "i", "i64": "q", "f32": "f", "f64": "d"}


def _fixed_plan(op: oc.Opcode):
    """(struct, fields) when every field of `op` has a fixed size, else None.

    Such ops (most of them) decode with one `unpack_from` instead of one read per field.
    """
    fmt = "<"
    for f in op.fields:
        if f.kind is oc.CONST:
            fmt += _CONST_FORMAT[f.bank]
        elif f.kind in _FIXED_FORMAT:
            fmt += _FIXED_FORMAT[f.kind]
        else:
            return None
    regs = tuple((f.name, f.bank, f.move) for f in op.fields if f.kind in (oc.SRC, oc.DST))
    targets = tuple(f.name for f in op.fields if f.kind is oc.TARGET)
    return struct.Struct(fmt), tuple(f.name for f in op.fields), regs, targets


def _by_byte(opset: str, make) -> list:
    table = [None] * 256
    for op in oc.OPCODES:
        if op.opcode_set == opset:
            table[op.number] = make(op)
    return table


#: opcode set -> 256-entry list of rows (None = unassigned), and of fixed-layout plans.
_TABLES = {s: _by_byte(s, lambda op: op) for s in (oc.CORE, oc.EXT_F32, oc.EXT_F64)}
_PLANS = {s: _by_byte(s, _fixed_plan) for s in (oc.CORE, oc.EXT_F32, oc.EXT_F64)}
_MARKER = _TABLES[oc.CORE][oc.BLOCK_MARKER]


_RAW_CACHE: dict[tuple[int, str], Reg] = {}


def reg_from_raw(raw: int, type_hint: str) -> Reg:
    """A register from its raw u16 encoding. Refs are recognised by the type bit."""
    reg = _RAW_CACHE.get((raw, type_hint))
    if reg is None:
        if raw & REF_BIT:
            reg = Reg("ref", raw & REF_MASK, bool(raw & MOVE_BIT))
        else:
            reg = Reg(type_hint, raw & I32_MASK)
        _RAW_CACHE[(raw, type_hint)] = reg
    return reg


_REG_CACHE: dict[tuple[str, int], Reg] = {}


def _typed_reg(raw: int, bank: str, move: bool, rd: _Reader) -> Reg:
    reg = _REG_CACHE.get((bank, raw))
    if reg is not None and (move or not raw & MOVE_BIT):
        return reg
    if bank == "ref":
        if not raw & REF_BIT:
            raise rd.fail(f"ref register expected, got i32-bank register {raw & I32_MASK}")
        if raw & MOVE_BIT and not move:
            raise rd.fail("ref register carries a move bit on an op that does not take one")
        reg = Reg("ref", raw & REF_MASK, bool(raw & MOVE_BIT))
    elif raw & REF_BIT:
        raise rd.fail(f"{bank} register expected, got ref register {raw & REF_MASK}")
    else:
        reg = Reg(bank, raw)
    _REG_CACHE[(bank, raw)] = reg  # Regs are immutable; at most 5 x 65536 entries
    return reg


def _remap_pairs(rd: _Reader) -> tuple:
    pc = rd.pc + ((rd.pc - rd.base) & 1)  # aligned to 2 relative to the function start
    data = rd.data
    if pc + 2 > rd.end:
        raise rd.fail("remap list runs past the end of the function")
    n = data[pc] | data[pc + 1] << 8
    if pc + 2 + 4 * n > rd.end:
        raise rd.fail("remap list runs past the end of the function")
    rd.pc = pc + 2 + 4 * n
    if not n:
        return ()
    raw = struct.unpack_from(f"<{2 * n}H", data, pc + 2)
    cache = _RAW_CACHE
    regs = [cache.get((r, "x32")) or reg_from_raw(r, "x32") for r in raw]
    return tuple(zip(regs[0::2], regs[1::2]))


def _flatten_types(types: tuple, segments: list[int] | None, rd: _Reader) -> list[str] | None:
    """Expands a signature's argument types into one type per list entry (None if unknown)."""
    out: list[str] = []
    for i, t in enumerate(types):
        if isinstance(t, tuple):
            if segments is None or i >= len(segments):
                return None
            out.extend(list(t) * segments[i])
        else:
            out.append(t)
    return out


def _typed_list(raws: list[int], types: list[str] | None) -> list[Reg]:
    if types is None or len(types) != len(raws):
        return [reg_from_raw(r, "x32") for r in raws]
    return [reg_from_raw(r, t if t != "ref" else "x32") for r, t in zip(raws, types)]


class FunctionDecoder:
    """Decodes the functions of one module; holds the per-module tables it needs."""

    def __init__(self, module: ModuleDef):
        self.module = module
        self._arg_types: dict[tuple, list[str] | None] = {}  # (callee, segments) -> entry types

    def callee_signature(self, ordinal: int) -> Signature | None:
        m = self.module
        if ordinal & 0x80000000:
            i = ordinal & 0x7FFFFFFF
            return m.imports[i].signature if i < len(m.imports) else None
        return m.signatures[ordinal] if ordinal < len(m.functions) else None

    def decode(self, ordinal: int) -> Function:
        m = self.module
        desc = m.functions[ordinal]
        name = m.function_name(ordinal)
        signature = m.signatures[ordinal]
        rd = _Reader(m.bytecode, desc.bytecode_offset, desc.bytecode_length, f"{m.name}.{name}")
        data, base, end = rd.data, rd.base, rd.end
        blocks: list[Block] = []
        block: Block | None = None
        core = _TABLES[oc.CORE]
        pc = base
        while pc < end:
            op_pc = rd.op_pc = pc
            op = core[data[pc]]
            pc += 1
            if op is None:
                byte = data[pc - 1]
                opset = oc.PREFIX_BYTES.get(byte)
                if opset is None or pc >= end:
                    raise rd.fail(f"unknown opcode 0x{byte:02X} in the core set" if opset is None
                                  else "prefix byte at the end of the function")
                op = _TABLES[opset][data[pc]]
                pc += 1
                if op is None:
                    raise rd.fail(f"unknown opcode 0x{data[pc - 1]:02X} in the {opset} set")
            offset = op_pc - base
            if op is _MARKER:
                if block is not None:
                    raise rd.fail("block marker inside a block (previous block has no terminator)")
                block = Block(len(blocks), offset)
                blocks.append(block)
                continue
            if block is None:
                raise rd.fail(f"{op.name} outside a block (expected a block marker)")
            plan = _PLANS[op.opcode_set][op.number]
            if plan is not None:  # fixed-size layout: one unpack, then type the registers
                st, names, regs, targets = plan
                if pc + st.size > end:
                    raise rd.fail(f"op runs {pc + st.size - end} bytes past the end of the function")
                args = dict(zip(names, st.unpack_from(data, pc)))
                pc += st.size
                for rname, bank, move in regs:
                    raw = args[rname]
                    reg = _REG_CACHE.get((bank, raw))
                    args[rname] = reg if reg is not None and (move or not raw & MOVE_BIT) \
                        else _typed_reg(raw, bank, move, rd)
                for tname in targets:
                    args[tname] = Successor(args[tname], None, ())
            else:
                rd.pc = pc
                args = self._operands(op, rd, signature)
                pc = rd.pc
            block.instrs.append(Instr(offset, op, args, pc - op_pc))
            if op.mnemonic in oc.TERMINATORS:
                block = None
        if block is not None:
            rd.op_pc = pc
            raise rd.fail("function ends inside a block (missing terminator)")
        return Function(m.name, name, ordinal, signature, desc.i32_register_count,
                        desc.ref_register_count, desc.requirements, blocks, desc.bytecode_offset)

    def _operands(self, op: oc.Opcode, rd: _Reader, own: Signature) -> dict:
        args = {}
        data = rd.data
        for f in op.fields:
            kind = f.kind
            if kind is oc.SRC or kind is oc.DST:
                args[f.name] = _typed_reg(_U16(data, rd.need(2))[0], f.bank, f.move, rd)
            elif kind in _U32_KINDS:
                args[f.name] = rd.u32()
            elif kind is oc.CONST:
                st = _CONST[f.bank]
                args[f.name] = st.unpack_from(data, rd.need(st.size))[0]
            elif kind is oc.SRCLIST or kind is oc.DSTLIST:
                raws = rd.u16_list()
                args[f.name] = self._list(op, f, raws, args, own, rd)
            elif kind is oc.SEGMENTS:
                args[f.name] = rd.u16_list()
            elif kind is oc.TARGET:
                args[f.name] = Successor(rd.u32(), None, ())
            elif kind is oc.REMAP:
                # A (TARGET, REMAP) field pair becomes one Successor under the target's name.
                target_name = _TARGET_OF_REMAP[f.name]
                args[target_name] = Successor(args[target_name].pc, None, _remap_pairs(rd))
            elif kind is oc.U16:
                args[f.name] = rd.u16()
            elif kind is oc.STRING:
                n = rd.u16()
                raw = data[rd.need(n):rd.pc]
                args[f.name] = raw.decode("utf-8", errors="replace")
            elif kind is oc.CASES:
                cases = []
                for _ in range(args["table_size"]):
                    pc = rd.u32()
                    cases.append(Successor(pc, None, _remap_pairs(rd)))
                args[f.name] = cases
            else:  # pragma: no cover - the table only holds the kinds above
                raise rd.fail(f"internal: unhandled field kind {kind}")
        return args

    def _list(self, op, f, raws: list[int], args: dict, own: Signature, rd: _Reader) -> list[Reg]:
        bank = f.bank
        if bank in ("i32", "i64", "f32", "f64", "ref"):
            return [_typed_reg(r, bank, f.move or bank == "ref", rd) for r in raws]
        # "any": type entries from the signature that governs them.
        if "callee_ordinal" in args:
            sig = self.callee_signature(args["callee_ordinal"])
            if sig is None:
                return _typed_list(raws, None)
            if f.kind is oc.SRCLIST:
                segments = args.get("segment_sizes")
                key = (args["callee_ordinal"], tuple(segments) if segments is not None else None)
                types = self._arg_types.get(key)
                if types is None:
                    types = self._arg_types[key] = _flatten_types(sig.args, segments, rd)
                return _typed_list(raws, types)
            return _typed_list(raws, list(sig.results))
        if op.mnemonic == "return":
            return _typed_list(raws, list(own.results))
        return _typed_list(raws, None)


#: Branch operand fields, by the name of the target field they belong to.
_TARGET_OF_REMAP = {"operands": "dest_pc", "true_operands": "true_dest_pc",
                    "false_operands": "false_dest_pc", "default_operands": "default_dest_pc"}


def decode_module_functions(module: ModuleDef) -> list[Function]:
    """Decodes every function of `module` (unverified IR)."""
    dec = FunctionDecoder(module)
    return [dec.decode(i) for i in range(len(module.functions))]
