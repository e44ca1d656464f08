"""`Instruction` (mnemonic + operands, validated on construction) and the generic encoder.

One function, `encode`, turns any form row plus matching operands into bytes; there is no
per-instruction encoder. Label references (branch targets, ``[rip + label]``) come back as
`Fixup` records with a zero placeholder, resolved by the assembler.
"""
from __future__ import annotations

from typing import NamedTuple

from splatjit.emit_x64 import encoding as enc
from splatjit.emit_x64.errors import AsmError
from splatjit.emit_x64.forms import Form
from splatjit.emit_x64.isa import TABLE
from splatjit.emit_x64.operands import GPR, Label, Mem, Operand, RipRel, VecReg, as_operand


class Fixup(NamedTuple):
    """A field of ``size`` bytes at ``pos`` holding ``label + addend - end_of_instruction``."""
    pos: int
    size: int
    label: Label
    addend: int


class Encoded(NamedTuple):
    data: bytes
    fixups: tuple[Fixup, ...]

    def resolve(self, address: int, label_address: dict[Label, int]) -> bytes:
        """The bytes with every fixup patched, for an instruction placed at ``address``."""
        if not self.fixups:
            return self.data
        out = bytearray(self.data)
        end = address + len(out)
        for fx in self.fixups:
            if fx.label not in label_address:
                raise AsmError(f"label {fx.label} is used but never bound")
            value = label_address[fx.label] + fx.addend - end
            lo, hi = -(1 << (8 * fx.size - 1)), 1 << (8 * fx.size - 1)
            if not lo <= value < hi:
                raise AsmError(f"displacement {value} to {fx.label} does not fit in "
                               f"{8 * fx.size} bits")
            out[fx.pos:fx.pos + fx.size] = enc.imm_bytes(value, fx.size)
        return bytes(out)


class Instruction:
    """One instruction: ``Instruction("add", rax, qword[rdi + 8])``.

    Construction validates the operands against the ISA table and raises `AsmError`
    naming the forms when none fits. ``forms`` are all matching forms, best first; the
    assembler picks the first one its CPU features allow (and relaxes rel8/rel32 branches).
    """
    __slots__ = ("mnemonic", "operands", "forms")

    def __init__(self, mnemonic: str, *operands: Operand | int):
        ops = tuple(as_operand(o) for o in operands)
        self.forms: tuple[Form, ...] = TABLE.match(mnemonic, ops)
        self.operands = ops
        self.mnemonic = self.forms[0].mnemonic

    def forms_for(self, features: frozenset[str]) -> tuple[Form, ...]:
        """The forms this CPU can run, best first; AsmError naming what is missing if none."""
        ok = tuple(f for f in self.forms if f.features <= features)
        if not ok:
            need = " or ".join("+".join(sorted(f.features - features)) for f in self.forms)
            raise AsmError(f"{self}: needs CPU feature {need}, which the target lacks "
                           f"(target has {', '.join(sorted(features))})")
        return ok

    def __str__(self) -> str:
        return self.forms[0].format(self.operands)

    def __repr__(self) -> str:
        return f"Instruction({str(self)!r})"


def encode(form: Form, operands: tuple[Operand, ...]) -> Encoded:
    """Encode ``operands`` (already accepted by ``form``) per the form row."""
    reg, rm, vvvv, opreg, imm, rel = (None if i is None else operands[i] for i in form.slots)
    reg_num = form.digit if form.digit is not None else (reg.num if reg is not None else 0)

    addr = None
    if form.modrm:
        if isinstance(rm, (GPR, VecReg)):
            addr = enc.modrm_register(reg_num, rm.num)
        elif isinstance(rm, (Mem, RipRel)):
            scale = form.mem_bits // 8 if form.space == "evex" and form.mem_bits else 1
            addr = enc.modrm_memory(reg_num, rm, scale)
        else:
            raise AsmError(f"{form}: no r/m operand")
    x, b = (addr.x, addr.b) if addr else (0, 0)
    r = (reg_num >> 3) & 1
    opcode = form.opcode
    if opreg is not None:
        opcode = opcode[:-1] + bytes((opcode[-1] + (opreg.num & 7),))
        b = (opreg.num >> 3) & 1

    if form.space == "legacy":
        force = any(isinstance(o, GPR) and o.bits == 8 and o.needs_rex for o in operands)
        head = form.prefixes + enc.rex(form.w, r, x, b, force) + opcode
    else:
        v = vvvv.num if vvvv is not None else 0
        if form.space == "vex":
            head = enc.vex(r, x, b, form.vmap, form.w, v & 15, form.vl, form.pp) + opcode
        else:
            if isinstance(rm, VecReg):
                x = (rm.num >> 4) & 1
            r2 = (reg.num >> 4) & 1 if isinstance(reg, VecReg) else 0
            head = enc.evex(r, x, b, r2, form.vmap, form.w, v & 15, (v >> 4) & 1, form.pp,
                            form.vl) + opcode

    data = bytearray(head)
    fixups = []
    if addr is not None:
        if addr.rip_pos is not None and isinstance(rm, RipRel) and rm.label is not None:
            fixups.append(Fixup(len(data) + addr.rip_pos, 4, rm.label, rm.disp))
            data += addr.data[:addr.rip_pos] + bytes(4)
        else:
            data += addr.data
    if imm is not None:
        data += enc.imm_bytes(imm.value, form.imm_size)
    if rel is not None:
        fixups.append(Fixup(len(data), form.rel_size, rel, 0))
        data += bytes(form.rel_size)
    return Encoded(bytes(data), tuple(fixups))


def encode_instruction(insn: Instruction, features: frozenset[str]) -> Encoded:
    """Encode with the best form the features allow (branches: the first, i.e. shortest)."""
    return encode(insn.forms_for(features)[0], insn.operands)


__all__ = ["Encoded", "Fixup", "Instruction", "encode", "encode_instruction"]
