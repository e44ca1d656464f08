"""Every AArch64 form in the table, encoded with random operands and decoded by capstone.

For each form we draw operands from the form's own tokens (registers 0-30 plus sp/zr where
the field allows it, immediate boundaries, every addressing mode), encode, disassemble with
capstone and require the text to equal what we meant: our listing text, or one of the
ARM ARM preferred-alias spellings of the same instruction (capstone prints `mov` for
`orr xd, xzr, xm`, `cmp` for `subs xzr, ...`, `lsl` for some `ubfm`...). The alias rules
below are written from the architecture's alias conditions, from the operands we chose,
never from capstone's output.
"""
from __future__ import annotations

import random
import re
import struct
import zlib

import pytest
from capstone import CS_ARCH_ARM64, CS_MODE_ARM, Cs

from splatjit.emit_a64 import isa
from splatjit.emit_a64 import encoding as enc
from splatjit.emit_a64.operands import (CONDS, GPR, AsmError, Extended, FPReg, MemOffset,
                                        MemPost, MemPre, Shifted, VArr, VElem, invert_cond,
                                        mem)
from splatjit.emit_a64.specs import LABEL_BITS

PC = 0x1000_0000
SAMPLES_PER_FORM = 6
_MD = Cs(CS_ARCH_ARM64, CS_MODE_ARM)
_SIZES = {"B": 1, "H": 2, "S": 4, "D": 8, "Q": 16}
_F = r"(d|n|m|a|t2|t)"


def disassemble(word: int, pc: int = PC) -> str:
    insns = list(_MD.disasm(struct.pack("<I", word), pc))
    return f"{insns[0].mnemonic} {insns[0].op_str}".strip() if insns else "<invalid>"


# --------------------------------------------------------------------------- operand generation

def _regnum(rng, hi=31):
    return rng.choice([0, hi] + [rng.randrange(hi + 1) for _ in range(4)])


def _gpr(rng, width, sp_ok):
    code = rng.choice([0, 30, 31, 31] + [rng.randrange(31) for _ in range(4)])
    if code == 31:
        return GPR(31, width, "sp" if sp_ok else "zr")
    return GPR(code, width)


_BITMASKS: dict[int, list[int]] = {}


def bitmask_values(width: int) -> list[int]:
    """Every value a `width`-bit logical immediate can encode, by brute force."""
    if width not in _BITMASKS:
        values = {enc.decode_bitmask(n, r, s, width)
                  for n in (0, 1) for r in range(64) for s in range(64)}
        values.discard(None)
        _BITMASKS[width] = sorted(values)
    return _BITMASKS[width]


def gen_operand(token: str, form, rng: random.Random):
    tok = token.split("=")[0]
    if m := re.fullmatch(r"([WX])" + _F + r"(\|SP)?", tok):
        return _gpr(rng, 32 if m[1] == "W" else 64, bool(m[3]))
    if m := re.fullmatch(r"([BHSDQ])" + _F, tok):
        return FPReg(_regnum(rng), _SIZES[m[1]])
    if m := re.fullmatch(r"V" + _F + r"\.(\d+)([BHSD])", tok):
        return VArr(_regnum(rng), _SIZES[m[3]], int(m[2]))
    if m := re.fullmatch(r"V" + _F + r"\.([BHSD])\[\w+\]", tok):
        esize = _SIZES[m[2]]
        return VElem(_regnum(rng), esize, rng.randrange(16 // esize))
    if m := re.fullmatch(r"\{Vt\.(\d+)([BHSD])\}\*(\d)", tok):
        start = _regnum(rng)
        regs = [VArr((start + i) % 32, _SIZES[m[2]], int(m[1])) for i in range(int(m[3]))]
        return regs[0] if len(regs) == 1 and rng.random() < 0.5 else tuple(regs)
    if m := re.fullmatch(r"([WX])m,(shift|rshift)", tok):
        width = 32 if m[1] == "W" else 64
        reg = _gpr(rng, width, False)
        if rng.random() < 0.25:
            return reg
        kinds = ["lsl", "lsr", "asr"] + (["ror"] if m[2] == "rshift" else [])
        return Shifted(reg, rng.choice(kinds), rng.choice([0, width - 1, rng.randrange(width)]))
    if m := re.fullmatch(r"Rm,ext(32|64)", tok):
        width = int(m[1])
        if rng.random() < 0.15:
            return _gpr(rng, width, False)
        kinds = ["uxtb", "uxth", "uxtw", "sxtb", "sxth", "sxtw"]
        kind = rng.choice(kinds + (["uxtx", "sxtx"] if width == 64 else []))
        reg = _gpr(rng, 64 if kind in ("uxtx", "sxtx") else 32, False)
        return Extended(reg, kind, rng.choice([0, 4, rng.randrange(5)]))
    if tok == "#imm12sh":
        return rng.choice([0, 1, 4095, rng.randrange(4096), 4096, 4095 << 12,
                           rng.randrange(1, 4096) << 12])
    if tok in ("#bimm32", "#bimm64"):
        values = bitmask_values(int(tok[-2:]))
        return rng.choice([values[0], values[-1], rng.choice(values)])
    if tok in ("#imm16", "#brk16", "#udf16"):
        return rng.choice([0, 0xFFFF, rng.randrange(1 << 16)])
    if tok in ("#hw32", "#hw64"):
        return rng.choice(range(0, int(tok[-2:]), 16))
    if tok in ("#immr32", "#imms32", "#bit32", "#immr64", "#imms64", "#bit64"):
        width = int(tok[-2:])
        return rng.choice([0, width - 1, rng.randrange(width)])
    if tok == "#nzcv":
        return rng.randrange(16)
    if tok == "#imm5":
        return rng.choice([0, 31, rng.randrange(32)])
    if tok == "#fimm":
        return enc.decode_fp_imm8(rng.choice([0, 0x7F, 0x80, 0xFF, rng.randrange(256)]))
    if tok == "#0.0":
        return 0.0
    if tok == "#movi64":
        return sum(0xFF << (8 * i) for i in range(8) if rng.random() < 0.5)
    if tok == "#imm8":
        return rng.choice([0, 255, rng.randrange(256)])
    if tok.startswith("cond@"):
        return rng.choice(CONDS)
    if tok in LABEL_BITS:
        lo, hi = -(1 << (LABEL_BITS[tok] - 1)), (1 << (LABEL_BITS[tok] - 1)) - 1
        return 4 * rng.choice([0, lo, hi, rng.randint(lo, hi), rng.randint(-64, 64)])
    if m := re.fullmatch(r"\[(\w+)\]", tok):
        return _gen_mem(m[1], form.msize, rng)
    raise AssertionError(f"no generator for token {token!r}")


def _gen_mem(mode, size, rng):
    base = _gpr(rng, 64, True)
    if mode == "uimm12":
        return MemOffset(base, size * rng.choice([0, 1, 4095, rng.randrange(4096)]))
    if mode in ("simm9", "pre9", "post9"):
        off = rng.choice([-256, 255, 0, -1, rng.randint(-256, 255)])
        return {"simm9": MemOffset, "pre9": MemPre, "post9": MemPost}[mode](base, off)
    if mode in ("pair", "pairpre", "pairpost"):
        off = size * rng.choice([-64, 63, 0, rng.randint(-64, 63)])
        return {"pair": MemOffset, "pairpre": MemPre, "pairpost": MemPost}[mode](base, off)
    if mode == "reg":
        ext = rng.choice(["lsl", "uxtw", "sxtw", "sxtx"])
        index = GPR(_regnum(rng, 30), 64 if ext in ("lsl", "sxtx") else 32)
        amount = rng.choice([0, size.bit_length() - 1])
        if ext == "lsl":
            return mem(base, index.lsl(amount)) if rng.random() < 0.5 else mem(base, index)
        return mem(base, Extended(index, ext, amount))
    if mode == "base":
        return MemOffset(base, 0)
    if mode == "postimm":
        return MemPost(base, size)
    if mode == "postreg":
        return MemPost(base, GPR(_regnum(rng, 30), 64))
    raise AssertionError(mode)


def gen_operands(form, rng):
    """Random operands the form accepts (retrying past CONSTRAINED UNPREDICTABLE picks)."""
    for _ in range(100):
        ops = tuple(gen_operand(tok, form, rng) for tok in form.operands)
        full, reason = form.match(ops)
        if full is not None:
            return full
    raise AssertionError(f"{form.name}: could not generate operands: {reason}")


# --------------------------------------------------------------------------- text comparison

def _number(text: str, width: int) -> int | float:
    if re.fullmatch(r"-?0x[0-9a-f]+|[0-9a-f]{16}", text):
        value = int(text, 16)
    elif re.fullmatch(r"-?\d+", text):
        value = int(text)
    else:
        return float(text)
    return value % (1 << width)


def canon(text: str) -> str:
    """Comparable text: lower case, single spaces, every number as decimal modulo the
    operation width (32 when the first operand is a W register), floats by value."""
    text = re.sub(r"\s+", " ", text.lower().strip())
    width = 32 if re.match(r"\S+ w(\d|zr|sp)", text) else 64

    def number(m):
        value = _number(m[2], width)
        return f"{m[1]}{value!r}" if isinstance(value, float) else f"{m[1]}{value}"
    text = re.sub(r"(#)([-0-9a-fx.e+]+)", number, text)
    return re.sub(r"(\[)(0x[0-9a-f]+|\d+)(?=\])", number, text)


def _t(mnemonic, *parts) -> str:
    return f"{mnemonic} {', '.join(str(p) for p in parts if p != '')}".strip()


def _imm(value) -> str:
    return f"#{value}"


def _is_zr(op) -> bool:
    return isinstance(op, GPR) and op.is_zr


def _ext_text(op, width, sp_involved) -> str:
    """Preferred spelling of an add/sub extended-register operand."""
    natural = "uxtx" if width == 64 else "uxtw"
    if isinstance(op, Extended):
        reg, kind, amount = op.reg, op.kind, op.amount
    elif isinstance(op, Shifted):
        reg, kind, amount = op.reg, natural, op.amount
    else:
        reg, kind, amount = op, natural, 0
    if sp_involved and kind == natural:
        return f"{reg}" + (f", lsl #{amount}" if amount else "")
    return f"{reg}, {kind}" + (f" #{amount}" if amount else "")


def _bitfield_alias(mn, rd, rn, immr, imms) -> list[str]:
    """ARM ARM preferred disassembly of SBFM/UBFM/BFM."""
    width = rd.width
    signed, prefix = mn == "sbfm", mn[0]
    if mn != "bfm":
        if immr == 0 and imms in (7, 15) and (signed or width == 32):
            return [_t(f"{prefix}xt{'bh'[imms == 15]}", rd, rn.w)]
        if immr == 0 and imms == 31 and signed and width == 64:
            return [_t("sxtw", rd, rn.w)]
        if mn == "ubfm" and imms != width - 1 and imms + 1 == immr:
            return [_t("lsl", rd, rn, _imm(width - 1 - imms))]
        if imms == width - 1:
            return [_t("asr" if signed else "lsr", rd, rn, _imm(immr))]
        if imms < immr:
            return [_t(f"{prefix}bfiz", rd, rn, _imm(width - immr), _imm(imms + 1))]
        return [_t(f"{prefix}bfx", rd, rn, _imm(immr), _imm(imms - immr + 1))]
    if imms < immr:
        out = [_t("bfi", rd, rn, _imm(width - immr), _imm(imms + 1))]
        if rn.is_zr:
            out.append(_t("bfc", rd, _imm(width - immr), _imm(imms + 1)))
        return out
    out = [_t("bfxil", rd, rn, _imm(immr), _imm(imms - immr + 1))]
    if rn.is_zr:  # clearing bits [immr, imms]: capstone also says bfc here
        out.append(_t("bfc", rd, _imm(immr), _imm(imms - immr + 1)))
    return out


def expected_texts(form, ops) -> list[str]:
    """Our listing text plus every preferred-alias spelling the architecture defines for
    these operands."""
    base = form.format(ops)
    base = re.sub(r"\.([+-]\d+)", lambda m: f"#{PC + int(m[1]):#x}", base)
    texts = [base]
    mn, name = form.mnemonic, form.name
    rest = base.split(" ", 1)[1] if " " in base else ""
    args = [spec.text(op, form) for spec, op in zip(form.specs, ops)]

    if name.startswith(("add_imm", "sub_imm", "adds_imm", "subs_imm")):
        rd, rn, imm = ops
        if mn == "add" and imm == 0 and (rd.is_sp or rn.is_sp):
            texts.append(_t("mov", rd, rn))
        if mn in ("adds", "subs") and rd.is_zr:
            texts.append(_t("cmn" if mn == "adds" else "cmp", *args[1:]))
    elif "_sreg" in name and mn in ("add", "adds", "sub", "subs"):
        rd, rn, _ = ops
        if mn in ("adds", "subs") and rd.is_zr:
            texts.append(_t("cmn" if mn == "adds" else "cmp", *args[1:]))
        elif mn in ("sub", "subs") and rn.is_zr:
            texts.append(_t("neg" if mn == "sub" else "negs", args[0], args[2]))
    elif "_ereg" in name:
        rd, rn, op = ops
        ext = _ext_text(op, rd.width, rd.is_sp or rn.is_sp)
        texts.append(_t(mn, rd, rn, ext))
        if mn in ("adds", "subs") and rd.is_zr:
            texts.append(_t("cmn" if mn == "adds" else "cmp", rn, ext))
    elif name.startswith(("orr_imm", "ands_imm")):
        rd, rn, _ = ops
        if mn == "orr" and rn.is_zr:
            texts.append(_t("mov", rd, args[2]))
        if mn == "ands" and rd.is_zr:
            texts.append(_t("tst", rn, args[2]))
    elif "_sreg" in name:  # logical shifted register
        rd, rn, op = ops
        plain = not isinstance(op, Shifted) or (op.kind == "lsl" and op.amount == 0)
        if mn == "orr" and rn.is_zr and plain:
            texts.append(_t("mov", rd, args[2]))
        if mn == "orn" and rn.is_zr:
            texts.append(_t("mvn", rd, args[2]))
        if mn == "ands" and rd.is_zr:
            texts.append(_t("tst", rn, args[2]))
    elif mn in ("movz", "movn"):
        rd, imm16, shift = ops
        if not (imm16 == 0 and shift != 0) and not (mn == "movn" and rd.width == 32
                                                    and imm16 == 0xFFFF):
            value = imm16 << shift
            value = value if mn == "movz" else ~value & enc.mask(rd.width)
            texts.append(_t("mov", rd, _imm(value)))
    elif mn in ("madd", "msub", "smaddl", "smsubl", "umaddl", "umsubl") and _is_zr(ops[3]):
        alias = {"madd": "mul", "msub": "mneg", "smaddl": "smull", "smsubl": "smnegl",
                 "umaddl": "umull", "umsubl": "umnegl"}[mn]
        texts.append(_t(alias, *args[:3]))
    elif mn in ("lslv", "lsrv", "asrv", "rorv"):
        texts.append(f"{mn[:3]} {rest}")
    elif mn == "extr" and ops[1] == ops[2]:
        texts.append(_t("ror", args[0], args[1], args[3]))
    elif mn in ("sbfm", "ubfm", "bfm"):
        texts.extend(_bitfield_alias(mn, *ops))
    elif mn in ("csinc", "csinv", "csneg"):
        rd, rn, rm, cond = ops
        if cond not in ("al", "nv") and rn == rm:
            inv = invert_cond(cond)
            if rn.is_zr and mn != "csneg":
                texts.append(_t("cset" if mn == "csinc" else "csetm", rd, inv))
            else:
                texts.append(_t({"csinc": "cinc", "csinv": "cinv", "csneg": "cneg"}[mn],
                                rd, rn, inv))
    elif mn in ("tbz", "tbnz") and ops[1] < 32:
        texts.append(base.replace(f"{mn} {ops[0]}", f"{mn} {ops[0].w}", 1))
    elif mn == "orr" and isinstance(ops[0], VArr) and ops[1] == ops[2]:
        texts.append(_t("mov", ops[0], ops[1]))
    elif mn == "not":
        texts.append(f"mvn {rest}")
    elif mn == "ins" or (mn == "umov" and ops[1].esize >= 4):
        texts.append(f"mov {rest}")
    return texts


# --------------------------------------------------------------------------- the sweep

CHECKS = {"count": 0}


@pytest.mark.parametrize("form", isa.FORMS, ids=lambda f: f.name)
def test_form_decodes_as_intended(form):
    rng = random.Random(zlib.crc32(form.name.encode()))
    for _ in range(SAMPLES_PER_FORM):
        ops = gen_operands(form, rng)
        word = form.encode(ops)
        got = disassemble(word)
        wanted = expected_texts(form, ops)
        assert canon(got) in {canon(t) for t in wanted}, \
            f"{form.name} {word:08x}: capstone says {got!r}, we meant {wanted}"
        CHECKS["count"] += 1


def test_table_is_large_and_every_mnemonic_has_a_method():
    from splatjit.emit_a64 import Assembler
    assert len(isa.FORMS) > 600
    for mnemonic in isa.FORMS_BY_MNEMONIC:
        name = mnemonic.replace(".", "_")
        assert hasattr(Assembler, name) or hasattr(Assembler, name + "_"), mnemonic


# --------------------------------------------------------------------------- hand-picked cases

def _words(build):
    from splatjit.emit_a64 import Assembler
    a = Assembler()
    build(a)
    code = a.finish()
    return [disassemble(w, i * 4) for i, (w,) in enumerate(struct.iter_unpack("<I", code))]


def test_aliases_emit_the_right_instructions():
    from splatjit.emit_a64.operands import sp, w0, w1, w2, x0, x1, x2, x3, xzr, v0, v1
    got = _words(lambda a: (
        a.mov(x0, x1), a.mov(x0, sp), a.mov(sp, x1), a.cmp(x1, 5), a.cmp(w1, -3),
        a.cmn(x0, x1.lsl(2)), a.tst(w0, 0xFF), a.neg(x0, x1), a.mvn(w0, w1),
        a.mul(x0, x1, x2), a.smull(x0, w1, w2), a.umull(x0, w1, w2), a.mneg(w0, w1, w2),
        a.lsl(x0, x1, 3), a.lsr(w0, w1, 31), a.asr(x0, x1, 63), a.ror(w0, w1, 7),
        a.lsl(x0, x1, x2), a.uxtb(w0, w1), a.uxth(w0, w1), a.sxtb(x0, w1), a.sxth(w0, w1),
        a.sxtw(x0, w1), a.ubfx(x0, x1, 4, 8), a.sbfx(w0, w1, 3, 5), a.ubfiz(x0, x1, 2, 30),
        a.bfi(w0, w1, 8, 4), a.bfxil(x0, x1, 16, 16), a.cset(w0, "eq"), a.csetm(x0, "lt"),
        a.cinc(x0, x1, "hs"), a.cneg(w0, w1, "mi"), a.cinv(x0, x3, "gt"),
        a.mov(v0.b16, v1.b16), a.mov(v0.s4[1], w1), a.mov(w0, v1.s4[3]),
        a.mov(v0.d[1], v1.d[0]), a.mov(x0, xzr)))
    assert got == [
        "mov x0, x1", "mov x0, sp", "mov sp, x1", "cmp x1, #5", "cmn w1, #3",
        "cmn x0, x1, lsl #2", "tst w0, #0xff", "neg x0, x1", "mvn w0, w1",
        "mul x0, x1, x2", "smull x0, w1, w2", "umull x0, w1, w2", "mneg w0, w1, w2",
        "lsl x0, x1, #3", "lsr w0, w1, #0x1f", "asr x0, x1, #0x3f", "ror w0, w1, #7",
        "lsl x0, x1, x2", "uxtb w0, w1", "uxth w0, w1", "sxtb x0, w1", "sxth w0, w1",
        "sxtw x0, w1", "ubfx x0, x1, #4, #8", "sbfx w0, w1, #3, #5", "ubfiz x0, x1, #2, #0x1e",
        "bfi w0, w1, #8, #4", "bfxil x0, x1, #0x10, #0x10", "cset w0, eq", "csetm x0, lt",
        "cinc x0, x1, hs", "cneg w0, w1, mi", "cinv x0, x3, gt",
        "mov v0.16b, v1.16b", "mov v0.s[1], w1", "mov w0, v1.s[3]",
        "mov v0.d[1], v1.d[0]", "mov x0, xzr"]


def test_addressing_modes_pick_scaled_then_unscaled():
    from splatjit.emit_a64.operands import post, pre, sp, w0, w1, x0, x1, x2, q0, d1, s2
    got = _words(lambda a: (
        a.ldr(x0, mem(x1, 8)), a.ldr(x0, mem(x1, 12)), a.ldr(x0, mem(x1, -8)),
        a.ldr(x0, mem(x1, 32760)), a.str(w0, pre(sp, -16)), a.ldrb(w0, post(x1, 1)),
        a.ldr(q0, mem(x1, x2.lsl(4))), a.ldr(d1, mem(x1, w0.sxtw(3))),
        a.ldrsw(x0, mem(x1, w1.uxtw())), a.stur(s2, mem(x0, 3)), a.ldp(x0, x1, pre(sp, -512)),
        a.stp(q0, q0, post(x2, 1008)), a.ld1((q0.v.s4, d1.v.s4), post(x0, 32)),
        a.st1(q0.v.b16, mem(x2))))
    assert got == [
        "ldr x0, [x1, #8]", "ldur x0, [x1, #0xc]", "ldur x0, [x1, #-8]",
        "ldr x0, [x1, #0x7ff8]", "str w0, [sp, #-0x10]!", "ldrb w0, [x1], #1",
        "ldr q0, [x1, x2, lsl #4]", "ldr d1, [x1, w0, sxtw #3]", "ldrsw x0, [x1, w1, uxtw]",
        "stur s2, [x0, #3]", "ldp x0, x1, [sp, #-0x200]!", "stp q0, q0, [x2], #0x3f0",
        "ld1 {v0.4s, v1.4s}, [x0], #32", "st1 {v0.16b}, [x2]"]


@pytest.mark.parametrize("build, needle", [
    (lambda a, o: a.orr(o.x0, o.sp, o.x1), "register 31 is xzr"),       # sp where zr is legal
    (lambda a, o: a.add(o.x0, o.x1, o.sp), "not sp"),                   # sp as Rm
    (lambda a, o: a.add(o.x0, o.x1, 5000), "imm12"),                   # not imm12
    (lambda a, o: a.and_(o.x0, o.x1, 0x1234), "bitmask"),               # not a bitmask
    (lambda a, o: a.ldr(o.x0, o.mem(o.x1, 4100)), "ldr_x_uimm"),        # neither scaled nor imm9
    (lambda a, o: a.ldr(o.x0, o.mem(o.x1, o.x2.lsl(2))), "index shift"),
    (lambda a, o: a.ldp(o.x0, o.x0, o.mem(o.x1, 16)), "same register"),
    (lambda a, o: a.ldr(o.x1, o.pre(o.x1, 8)), "writeback"),
    (lambda a, o: a.add(o.w0, o.x1, o.w2), "W register"),
    (lambda a, o: a.movk(o.w0, 1, 32), "shift"),
    (lambda a, o: a.fmov(o.s0, 0.1), "FMOV immediate"),
    (lambda a, o: a.lsl(o.x0, o.x1, 64), "shift amount"),
    (lambda a, o: a.b_cond("xx", o.Label()), "unknown condition"),
    (lambda a, o: a.emit("frobnicate"), "unknown mnemonic"),
])
def test_illegal_forms_raise_asm_error_naming_the_form(build, needle):
    from splatjit.emit_a64 import Assembler
    from splatjit.emit_a64 import operands
    from splatjit.errors import SplatJitError
    with pytest.raises(AsmError) as err:
        build(Assembler(), operands)
    assert needle in str(err.value)
    assert isinstance(err.value, SplatJitError)


@pytest.mark.parametrize("build", [
    lambda o: o.mem(o.w1, 8),                 # W base
    lambda o: o.mem(o.xzr, 0),                # xzr base
    lambda o: o.mem(o.x1, o.sp),              # sp index
    lambda o: o.mem(o.x1, o.x2.lsr(3)),       # lsr index
    lambda o: o.x1.lsl(64),                   # shift too far
    lambda o: o.w1.uxtb(5),                   # extend amount > 4
    lambda o: o.x1.uxtw(),                    # uxtw of an X register
    lambda o: o.v0.s4[4],                     # lane index out of range
    lambda o: o.GPR(31, 64, "r"),             # 31 is sp or zr, never a plain register
])
def test_invalid_operands_raise_at_construction(build):
    from splatjit.emit_a64 import operands
    with pytest.raises(AsmError):
        build(operands)


def test_numpy_and_imm_scalars_are_plain_immediates():
    import numpy as np
    from splatjit.emit_a64.operands import Imm, s0, x0, x1
    got = _words(lambda a: (a.add(x0, x1, np.int64(5)), a.mov(x0, np.uint16(7)),
                            a.fmov(s0, np.float32(2.0)), a.sub(x0, x1, Imm(4096))))
    assert got == ["add x0, x1, #5", "mov x0, #7", "fmov s0, #2.00000000",
                   "sub x0, x1, #1, lsl #12"]


def test_feature_gating():
    from splatjit.emit_a64 import Assembler
    from splatjit.emit_a64.operands import s0, s1, x0, x1
    a = Assembler(features=frozenset())
    a.add(x0, x0, x1)
    with pytest.raises(AsmError, match="feature 'fp'"):
        a.fadd(s0, s0, s1)
