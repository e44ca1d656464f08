"""Assembler aliases: the ARM ARM's preferred spellings, each expanded to table forms.

`ALIASES[name](asm, *operands)` emits one or more table instructions through
`asm.emit(...)`, passing the alias text for the listing. An alias that shares its name with
a table mnemonic (`mul` for vectors, `mov` of vector lanes) forwards to it by operand type.
"""
from __future__ import annotations

from typing import NamedTuple

from .encoding import materialize
from .operands import (CONDS, GPR, AsmError, FPReg, VArr, VElem, cond_code, fmt_imm,
                       invert_cond, wzr, xzr)

ALIASES: dict[str, callable] = {}


def _alias(name: str):
    def register(fn):
        ALIASES[name] = fn
        return fn
    return register


class AliasText(NamedTuple):
    """An alias's listing text, `name op, op, ...`, formatted only when the listing is read
    (`str(text)`); hashable, so it can key the assembler's encoding cache."""
    name: str
    ops: tuple

    def __str__(self) -> str:
        parts = [fmt_imm(op) if isinstance(op, int) else str(op) for op in self.ops]
        return f"{self.name} {', '.join(parts)}".rstrip()


def _text(name: str, *ops) -> AliasText:
    return AliasText(name, ops)


def _gpr(op, what: str) -> GPR:
    if not isinstance(op, GPR):
        raise AsmError(f"{what}: expected a W/X register, got {op!r}")
    return op


def _zr(reg: GPR) -> GPR:
    return xzr if reg.width == 64 else wzr


def _same_width(name: str, *regs: GPR) -> int:
    widths = {r.width for r in regs}
    if len(widths) != 1:
        raise AsmError(f"{name}: registers of mixed width {regs}")
    return widths.pop()


# --------------------------------------------------------------------------- compare / test

@_alias("cmp")
def cmp(a, rn, op2):
    rn = _gpr(rn, "cmp")
    if isinstance(op2, int) and op2 < 0:
        return a.emit("adds", _zr(rn), rn, -op2, text=_text("cmp", rn, op2))
    a.emit("subs", _zr(rn), rn, op2, text=_text("cmp", rn, op2))


@_alias("cmn")
def cmn(a, rn, op2):
    rn = _gpr(rn, "cmn")
    if isinstance(op2, int) and op2 < 0:
        return a.emit("subs", _zr(rn), rn, -op2, text=_text("cmn", rn, op2))
    a.emit("adds", _zr(rn), rn, op2, text=_text("cmn", rn, op2))


@_alias("tst")
def tst(a, rn, op2):
    rn = _gpr(rn, "tst")
    a.emit("ands", _zr(rn), rn, op2, text=_text("tst", rn, op2))


@_alias("neg")
def neg(a, rd, op2):
    if isinstance(rd, VArr):
        raise AsmError("neg: vector form not supported")
    a.emit("sub", rd, _zr(_gpr(rd, "neg")), op2, text=_text("neg", rd, op2))


@_alias("negs")
def negs(a, rd, op2):
    a.emit("subs", rd, _zr(_gpr(rd, "negs")), op2, text=_text("negs", rd, op2))


@_alias("mvn")
def mvn(a, rd, op2):
    if isinstance(rd, VArr):
        return a.emit("not", rd, op2, text=_text("mvn", rd, op2))
    a.emit("orn", rd, _zr(_gpr(rd, "mvn")), op2, text=_text("mvn", rd, op2))


# --------------------------------------------------------------------------- moves

@_alias("mov")
def mov(a, dst, src):
    """mov: register (via ORR, or ADD #0 when sp is involved), any 32/64-bit constant
    (shortest MOVZ/MOVN/MOVK/ORR sequence), vector register (ORR), lane moves (INS/UMOV),
    FP register (FMOV)."""
    text = _text("mov", dst, src)
    if isinstance(dst, GPR) and isinstance(src, GPR):
        _same_width("mov", dst, src)
        if dst.is_sp or src.is_sp:
            return a.emit("add", dst, src, 0, text=text)
        return a.emit("orr", dst, _zr(dst), src, text=text)
    if isinstance(dst, GPR) and isinstance(src, int) and not isinstance(src, bool):
        return mov_imm(a, dst, src)
    if isinstance(dst, VArr) and isinstance(src, VArr):
        if dst.esize * dst.lanes != src.esize * src.lanes:
            raise AsmError(f"mov: vector sizes differ: {dst}, {src}")
        lanes = dst.esize * dst.lanes
        dst, src = VArr(dst.code, 1, lanes), VArr(src.code, 1, lanes)
        return a.emit("orr", dst, src, src, text=text)
    if isinstance(dst, VElem) and isinstance(src, (GPR, VElem)):
        return a.emit("ins", dst, src, text=text)
    if isinstance(dst, GPR) and isinstance(src, VElem):
        return a.emit("umov", dst, src, text=text)
    if isinstance(dst, FPReg) and isinstance(src, FPReg):
        return a.emit("fmov", dst, src, text=text)
    raise AsmError(f"mov: no form for ({dst!r}, {src!r})")


def mov_imm(a, rd: GPR, value: int) -> int:
    """Materialise `value` in `rd`; returns the number of instructions emitted."""
    steps = materialize(value, rd.width)
    for step in steps:
        if step[0] == "orr":
            a.emit("orr", rd, _zr(rd), step[1])
        else:
            a.emit(step[0], rd, step[1], step[2])
    return len(steps)


# --------------------------------------------------------------------------- multiply

@_alias("mul")
def mul(a, rd, rn, rm):
    if isinstance(rd, VArr):
        return a.emit("mul", rd, rn, rm)
    a.emit("madd", rd, rn, rm, _zr(_gpr(rd, "mul")), text=_text("mul", rd, rn, rm))


@_alias("mneg")
def mneg(a, rd, rn, rm):
    a.emit("msub", rd, rn, rm, _zr(_gpr(rd, "mneg")), text=_text("mneg", rd, rn, rm))


@_alias("smull")
def smull(a, xd, wn, wm):
    a.emit("smaddl", xd, wn, wm, xzr, text=_text("smull", xd, wn, wm))


@_alias("umull")
def umull(a, xd, wn, wm):
    a.emit("umaddl", xd, wn, wm, xzr, text=_text("umull", xd, wn, wm))


# --------------------------------------------------------------------------- shifts, bitfields

def _shift_alias(name: str, reg_mnemonic: str):
    def alias(a, rd, rn, amount):
        if isinstance(amount, GPR):
            return a.emit(reg_mnemonic, rd, rn, amount, text=_text(name, rd, rn, amount))
        width = _same_width(name, _gpr(rd, name), _gpr(rn, name))
        if not isinstance(amount, int) or not 0 <= amount < width:
            raise AsmError(f"{name}: shift amount {amount!r} outside 0-{width - 1}")
        text = _text(name, rd, rn, amount)
        if name == "lsl":
            a.emit("ubfm", rd, rn, (-amount) % width, width - 1 - amount, text=text)
        elif name == "lsr":
            a.emit("ubfm", rd, rn, amount, width - 1, text=text)
        elif name == "asr":
            a.emit("sbfm", rd, rn, amount, width - 1, text=text)
        else:
            a.emit("extr", rd, rn, rn, amount, text=text)
    ALIASES[name] = alias


for _name, _reg in (("lsl", "lslv"), ("lsr", "lsrv"), ("asr", "asrv"), ("ror", "rorv")):
    _shift_alias(_name, _reg)


def _extend_alias(name: str, mnemonic: str, imms: int):
    def alias(a, rd, rn):
        rd, rn = _gpr(rd, name), _gpr(rn, name)
        if rn.width != 32 or (mnemonic == "ubfm" and rd.width != 32):
            raise AsmError(f"{name}: expected {'W' if mnemonic == 'ubfm' else 'W/X'} "
                           f"destination and W source, got {rd}, {rn}")
        a.emit(mnemonic, rd, rn.x if rd.width == 64 else rn, 0, imms, text=_text(name, rd, rn))
    ALIASES[name] = alias


for _name, _mn, _imms in (("uxtb", "ubfm", 7), ("uxth", "ubfm", 15), ("sxtb", "sbfm", 7),
                          ("sxth", "sbfm", 15), ("sxtw", "sbfm", 31)):
    _extend_alias(_name, _mn, _imms)


def _bitfield_alias(name: str, mnemonic: str, insert: bool):
    def alias(a, rd, rn, lsb, width):
        size = _same_width(name, _gpr(rd, name), _gpr(rn, name))
        if not (isinstance(lsb, int) and isinstance(width, int)
                and 0 <= lsb < size and 1 <= width <= size - lsb):
            raise AsmError(f"{name}: bad field lsb={lsb!r} width={width!r} for {size} bits")
        text = _text(name, rd, rn, lsb, width)
        if insert:
            a.emit(mnemonic, rd, rn, (-lsb) % size, width - 1, text=text)
        else:
            a.emit(mnemonic, rd, rn, lsb, lsb + width - 1, text=text)
    ALIASES[name] = alias


for _name, _mn, _ins in (("ubfx", "ubfm", False), ("sbfx", "sbfm", False),
                         ("ubfiz", "ubfm", True), ("sbfiz", "sbfm", True),
                         ("bfxil", "bfm", False), ("bfi", "bfm", True)):
    _bitfield_alias(_name, _mn, _ins)


# --------------------------------------------------------------------------- conditional select

def _cset_alias(name: str, mnemonic: str):
    def alias(a, rd, cond):
        zr = _zr(_gpr(rd, name))
        a.emit(mnemonic, rd, zr, zr, invert_cond(cond), text=_text(name, rd, cond))
    ALIASES[name] = alias


def _cinc_alias(name: str, mnemonic: str):
    def alias(a, rd, rn, cond):
        a.emit(mnemonic, rd, rn, rn, invert_cond(cond), text=_text(name, rd, rn, cond))
    ALIASES[name] = alias


_cset_alias("cset", "csinc")
_cset_alias("csetm", "csinv")
_cinc_alias("cinc", "csinc")
_cinc_alias("cinv", "csinv")
_cinc_alias("cneg", "csneg")


@_alias("b_cond")
def b_cond(a, cond, target):
    """`b.<cond> target` with the condition as an operand: a.b_cond('lt', label)."""
    if not isinstance(cond, str):
        raise AsmError(f"b_cond: expected a condition name, got {cond!r}")
    a.emit(f"b.{CONDS[cond_code(cond)]}", target)
