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


def reg_from_raw(raw: int, type_hint: str) -> Reg:
    """A register from its raw u16 encoding. Refs are recognised by the type bit."""
    if raw & REF_BIT:
        return Reg("ref", raw & REF_MASK, bool(raw & MOVE_BIT))
    return Reg(type_hint, raw & I32_MASK)


def _typed_reg(raw: int, bank: str, move: bool, rd: _Reader) -> Reg:
    if bank == "ref":
        if not raw & REF_BIT:
            raise rd.fail(f"ref register expected, got i32-bank register {raw & I32_MASK}")
        if raw & MOVE_BIT and not move:
            raise rd.fail("ref register carries a move bit on an op that does not take one")
        return Reg("ref", raw & REF_MASK, bool(raw & MOVE_BIT))
    if raw & REF_BIT:
        raise rd.fail(f"{bank} register expected, got ref register {raw & REF_MASK}")
    return Reg(bank, raw)


def _remap_pairs(rd: _Reader) -> tuple:
    rd.align2()
    n = rd.u16()
    start = rd.need(4 * n)
    raw = struct.unpack_from(f"<{2 * n}H", rd.data, start)
    return tuple((reg_from_raw(raw[2 * i], "x32"), reg_from_raw(raw[2 * i + 1], "x32")) for i in range(n))


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
        where = f"{m.name}.{name}"
        signature = m.signatures[ordinal]
        rd = _Reader(m.bytecode, desc.bytecode_offset, desc.bytecode_length, where)
        blocks: list[Block] = []
        block: Block | None = None
        by_number = oc.BY_NUMBER
        while rd.pc < rd.end:
            rd.op_pc = rd.pc
            byte = rd.u8()
            opset = oc.CORE
            if byte in oc.PREFIX_BYTES:
                opset = oc.PREFIX_BYTES[byte]
                byte = rd.u8()
            op = by_number.get((opset, byte))
            if op is None:
                raise rd.fail(f"unknown opcode 0x{byte:02X} in the {opset} set")
            offset = rd.op_pc - rd.base
            if op.number == oc.BLOCK_MARKER and opset == oc.CORE:
                if block is not None:
                    raise rd.fail("block marker inside a block (previous block has no terminator)")
                block = Block(len(blocks), offset)
                blocks.append(block)
                continue
            if block is None:
                raise rd.fail(f"{op.name} outside a block (expected a block marker)")
            args = self._operands(op, rd, signature)
            block.instrs.append(Instr(offset, op, args, rd.pc - rd.op_pc))
            if op.mnemonic in oc.TERMINATORS:
                block = None
        if block is not None:
            rd.op_pc = rd.pc
            raise rd.fail("function ends inside a block (missing terminator)")
        return Function(m.name, name, ordinal, signature, desc.i32_register_count,
                        desc.ref_register_count, desc.requirements, blocks, desc.bytecode_offset)

    def _operands(self, op: oc.Opcode, rd: _Reader, own: Signature) -> dict:
        args: dict = {}
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
                return _typed_list(raws, _flatten_types(sig.args, args.get("segment_sizes"), rd))
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
