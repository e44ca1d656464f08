"""Operand specifications: the vocabulary the form table (`isa.py`) is written in.

A form lists its operands as tokens in the ARM ARM's own spelling. `parse_spec(token)`
turns each token into a `Spec` that can `check` an operand (return a rejection reason, or
None), `encode` it into instruction bits, and render it as listing `text`.

Register tokens: `Xd`, `Wn|SP` (31 means SP; without `|SP` it means ZR), `Sd`, `Qt`,
`Vd.4S`, `Vn.S[i5]` (lane, index encoding i5/i4/hl/h), `{Vt.4S}*2` (register list).
The field is named by the letter: d=0, n=5, m=16, a=10, t=0, t2=10.
Modifiers: `Xm,shift` (lsl/lsr/asr), `Xm,rshift` (also ror), `Rm,ext64`/`Rm,ext32`.
Immediates: `#imm12sh #bimm32 #bimm64 #imm16 #hw32 #hw64 #immr32 #immr64 #imms32 #imms64
#nzcv #imm5 #brk16 #udf16 #bit32 #bit64 #fimm #0.0 #movi64 #imm8`; `cond@12`, `cond@0`.
Labels: `label26`, `label19`, `label14` (a `Label`, or an int byte offset from the
instruction). Memory (access size from `Form.msize`): `[uimm12] [simm9] [pre9] [post9]
[reg] [pair] [pairpre] [pairpost] [base] [postimm] [postreg]`.
A token may end in `=default` (`Xn=x30`, `#hw64=0`): the operand may then be omitted.
"""
from __future__ import annotations

import re

from . import encoding as enc
from .operands import (GPR, AsmError, Extended, FPReg, Label, MemIndex, MemOffset, MemPost,
                       MemPre, Shifted, VArr, VElem, cond_code, fmt_imm, CONDS, x30)

FIELD_LSB = {"d": 0, "n": 5, "m": 16, "a": 10, "t": 0, "t2": 10}
_LETTER_SIZE = {"B": 1, "H": 2, "S": 4, "D": 8, "Q": 16}
_SHIFT_CODE = {"lsl": 0, "lsr": 1, "asr": 2, "ror": 3}
_EXT_CODE = {"uxtb": 0, "uxth": 1, "uxtw": 2, "uxtx": 3, "sxtb": 4, "sxth": 5, "sxtw": 6,
             "sxtx": 7}
LABEL_BITS = {"label26": 26, "label19": 19, "label14": 14}


def _is_int(op) -> bool:
    return isinstance(op, int) and not isinstance(op, bool)


def shape(op) -> tuple:
    """The type-level key of an operand: what a `Spec.shapes` set is made of."""
    kind = type(op)
    if kind is GPR:
        return (GPR, op.width)
    if kind is FPReg:
        return (FPReg, op.size)
    if kind is VArr:
        return (VArr, op.esize, op.lanes)
    if kind is VElem:
        return (VElem, op.esize)
    return (kind,)


_INT, _FLOAT = frozenset({(int,)}), frozenset({(int,), (float,)})


class Spec:
    """One operand slot of a form. Subclasses override check/encode/text.

    `shapes` is the set of operand `shape`s `check` can possibly accept; the assembler
    uses it to skip forms without running `check` (it must never be narrower than check).
    """

    token = ""
    default = None
    optional = False
    reloc: str | None = None  # label specs: 'label26' / 'label19' / 'label14'
    shapes: frozenset = _INT

    def check(self, op, form) -> str | None:
        raise NotImplementedError

    def encode(self, op, form) -> int:
        raise NotImplementedError

    def text(self, op, form) -> str | None:
        return fmt_imm(op) if _is_int(op) else str(op)


# --------------------------------------------------------------------------- registers

class GprSpec(Spec):
    def __init__(self, width: int, lsb: int, sp_ok: bool):
        self.width, self.lsb, self.sp_ok = width, lsb, sp_ok
        self.shapes = frozenset({(GPR, width)})

    def check(self, op, form):
        kind = "X" if self.width == 64 else "W"
        if not isinstance(op, GPR) or op.width != self.width:
            return f"expected {'an X' if kind == 'X' else 'a W'} register, got {op!r}"
        if op.is_sp and not self.sp_ok:
            return f"{op} not allowed here (register 31 is {kind.lower()}zr in this form)"
        if op.is_zr and self.sp_ok:
            return f"{op} not allowed here (register 31 is {'sp' if kind == 'X' else 'wsp'} " \
                   f"in this form)"
        return None

    def encode(self, op, form):
        return op.code << self.lsb


class FpSpec(Spec):
    def __init__(self, size: int, lsb: int):
        self.size, self.lsb = size, lsb
        self.shapes = frozenset({(FPReg, size)})

    def check(self, op, form):
        if not isinstance(op, FPReg) or op.size != self.size:
            return f"expected a {8 * self.size}-bit FP register, got {op!r}"
        return None

    def encode(self, op, form):
        return op.code << self.lsb


class VecSpec(Spec):
    def __init__(self, esize: int, lanes: int, lsb: int):
        self.esize, self.lanes, self.lsb = esize, lanes, lsb
        self.shapes = frozenset({(VArr, esize, lanes)})

    def check(self, op, form):
        if not isinstance(op, VArr) or (op.esize, op.lanes) != (self.esize, self.lanes):
            return f"expected a vector of {self.lanes}x{8 * self.esize}-bit, got {op!r}"
        return None

    def encode(self, op, form):
        return op.code << self.lsb


class ElemSpec(Spec):
    """A vector lane. `how`: i5 (DUP/UMOV/INS imm5 at 16), i4 (INS source imm4 at 11),
    hl (by-element S: H at 11, L at 21), h (by-element D: H at 11)."""

    def __init__(self, esize: int, lsb: int, how: str):
        self.esize, self.lsb, self.how = esize, lsb, how
        self.shapes = frozenset({(VElem, esize)})

    def check(self, op, form):
        if not isinstance(op, VElem) or op.esize != self.esize:
            return f"expected a {8 * self.esize}-bit vector lane, got {op!r}"
        return None

    def encode(self, op, form):
        shift = self.esize.bit_length() - 1  # log2(esize)
        bits = op.code << self.lsb
        if self.how == "i5":
            return bits | (((op.index << 1 | 1) << shift) << 16)
        if self.how == "i4":
            return bits | ((op.index << shift) << 11)
        if self.how == "hl":
            return bits | ((op.index >> 1) << 11) | ((op.index & 1) << 21)
        return bits | (op.index << 11)  # h


class VListSpec(Spec):
    """`{Vt.T, ...}`: `count` consecutive registers (mod 32) of one arrangement. A single
    `VArr` is a list of one."""

    def __init__(self, esize: int, lanes: int, count: int):
        self.esize, self.lanes, self.count = esize, lanes, count
        self.shapes = frozenset({(VArr, esize, lanes), (tuple,), (list,)})

    def check(self, op, form):
        regs = (op,) if isinstance(op, VArr) else tuple(op) if isinstance(op, (tuple, list)) \
            else None
        if not regs or len(regs) != self.count:
            return f"expected a list of {self.count} vector register(s), got {op!r}"
        for i, reg in enumerate(regs):
            if not isinstance(reg, VArr) or (reg.esize, reg.lanes) != (self.esize, self.lanes):
                return f"list element {reg!r} is not {self.lanes}x{8 * self.esize}-bit"
            if reg.code != (regs[0].code + i) % 32:
                return f"list registers must be consecutive, got {op!r}"
        return None

    def encode(self, op, form):
        first = op if isinstance(op, VArr) else op[0]
        return first.code

    def text(self, op, form):
        regs = (op,) if isinstance(op, VArr) else tuple(op)
        return "{" + ", ".join(map(str, regs)) + "}"


class ShiftSpec(Spec):
    """`Rm{, shift #amount}` for add/sub (lsl/lsr/asr) and logical (also ror) forms."""

    def __init__(self, width: int, kinds: tuple[str, ...]):
        self.width, self.kinds = width, kinds
        self.shapes = frozenset({(GPR, width), (Shifted,)})

    def check(self, op, form):
        reg = op.reg if isinstance(op, Shifted) else op
        if not isinstance(reg, GPR) or reg.width != self.width or reg.is_sp:
            return f"expected {'an X' if self.width == 64 else 'a W'} register (not sp), got {op!r}"
        if isinstance(op, Shifted) and op.kind not in self.kinds:
            return f"shift {op.kind} not allowed (only {'/'.join(self.kinds)})"
        return None

    def encode(self, op, form):
        if isinstance(op, Shifted):
            return (op.reg.code << 16) | (_SHIFT_CODE[op.kind] << 22) | (op.amount << 10)
        return op.code << 16


class ExtSpec(Spec):
    """`Rm, extend #0-4` of add/sub (extended register). A bare register means
    uxtx (64-bit form) / uxtw (32-bit form) #0, as does `lsl #n`."""

    shapes = frozenset({(GPR, 32), (GPR, 64), (Extended,), (Shifted,)})

    def __init__(self, width: int):
        self.width = width

    def _parts(self, op):
        natural = "uxtx" if self.width == 64 else "uxtw"
        if isinstance(op, Extended):
            return op.reg, op.kind, op.amount
        if isinstance(op, Shifted) and op.kind == "lsl":
            return op.reg, natural, op.amount
        return op, natural, 0

    def check(self, op, form):
        if not isinstance(op, (GPR, Extended, Shifted)):
            return f"expected an extended register, got {op!r}"
        reg, kind, amount = self._parts(op)
        if not isinstance(reg, GPR) or reg.is_sp:
            return f"extended register must be a W/X register (not sp), got {op!r}"
        want = 64 if kind in ("uxtx", "sxtx") else 32
        if reg.width != want:
            return f"{kind} needs {'an X' if want == 64 else 'a W'} register, got {reg}"
        if self.width == 32 and want == 64:
            return f"{kind} not available in the 32-bit form"
        if amount > 4:
            return f"extend amount {amount} outside 0-4"
        return None

    def encode(self, op, form):
        reg, kind, amount = self._parts(op)
        return (reg.code << 16) | (_EXT_CODE[kind] << 13) | (amount << 10)


# --------------------------------------------------------------------------- immediates

class UImmSpec(Spec):
    def __init__(self, lsb: int, bits: int, what: str, limit: int | None = None):
        self.lsb, self.bits, self.what = lsb, bits, what
        self.limit = (1 << bits) if limit is None else limit

    def check(self, op, form):
        if not _is_int(op) or not 0 <= op < self.limit:
            return f"{self.what} must be an int in 0-{self.limit - 1}, got {op!r}"
        return None

    def encode(self, op, form):
        return op << self.lsb


class Imm12ShSpec(Spec):
    """Unsigned 12-bit immediate, optionally shifted left by 12 (picked automatically)."""

    def check(self, op, form):
        if not _is_int(op) or not (0 <= op < 4096 or (op & 0xFFF == 0 and 0 < op >> 12 < 4096)):
            return f"immediate {op!r} is not imm12 or imm12 << 12"
        return None

    def encode(self, op, form):
        return (op << 10) if op < 4096 else ((op >> 12) << 10) | (1 << 22)

    def text(self, op, form):
        return fmt_imm(op) if op < 4096 else f"{fmt_imm(op >> 12)}, lsl #12"


class BitmaskSpec(Spec):
    def __init__(self, width: int):
        self.width = width

    def check(self, op, form):
        if not _is_int(op) or not -(1 << (self.width - 1)) <= op < (1 << self.width):
            return f"immediate {op!r} does not fit {self.width} bits"
        if enc.encode_bitmask(op, self.width) is None:
            return f"immediate {op & enc.mask(self.width):#x} is not a {self.width}-bit " \
                   f"logical (bitmask) immediate"
        return None

    def encode(self, op, form):
        n, immr, imms = enc.encode_bitmask(op, self.width)
        return (n << 22) | (immr << 16) | (imms << 10)

    def text(self, op, form):
        return fmt_imm(op & enc.mask(self.width))


class HwSpec(Spec):
    """MOVZ/MOVN/MOVK shift: 0/16 (32-bit) or 0/16/32/48 (64-bit), written `lsl #n`."""

    def __init__(self, width: int):
        self.width = width

    def check(self, op, form):
        if not _is_int(op) or op % 16 or not 0 <= op < self.width:
            return f"shift must be one of {list(range(0, self.width, 16))}, got {op!r}"
        return None

    def encode(self, op, form):
        return (op // 16) << 21

    def text(self, op, form):
        return f"lsl #{op}" if op else None


class BitSpec(Spec):
    """TBZ/TBNZ bit number: b5 at 31, b40 at 19."""

    def __init__(self, width: int):
        self.width = width

    def check(self, op, form):
        if not _is_int(op) or not 0 <= op < self.width:
            return f"bit number must be in 0-{self.width - 1}, got {op!r}"
        return None

    def encode(self, op, form):
        return ((op >> 5) << 31) | ((op & 31) << 19)


class FpImmSpec(Spec):
    shapes = _FLOAT

    def check(self, op, form):
        if not isinstance(op, (int, float)) or enc.encode_fp_imm8(op) is None:
            return f"{op!r} is not an FMOV immediate (+-n/16 * 2**e, n 16-31, e -3..4)"
        return None

    def encode(self, op, form):
        return enc.encode_fp_imm8(op) << 13

    def text(self, op, form):
        return f"#{float(op)!r}"


class ZeroSpec(Spec):
    """The literal `#0.0` (FCMP) or `#0`: no bits."""

    shapes = _FLOAT

    def __init__(self, text: str):
        self._text = text

    def check(self, op, form):
        if not isinstance(op, (int, float)) or op != 0:
            return f"expected {self._text}, got {op!r}"
        return None

    def encode(self, op, form):
        return 0

    def text(self, op, form):
        return self._text


class MoviSpec(Spec):
    """MOVI immediate a:b:c (16-18) d:e:f:g:h (5-9). `bytemask`: a 64-bit value whose
    bytes are each 0x00 or 0xFF (imm8 bit i = byte i); else a plain 8-bit value."""

    def __init__(self, bytemask: bool):
        self.bytemask = bytemask

    def _imm8(self, op):
        if not _is_int(op):
            return None
        if not self.bytemask:
            return op if 0 <= op < 256 else None
        if not 0 <= op < 1 << 64:
            return None
        imm8 = 0
        for i in range(8):
            byte = (op >> (8 * i)) & 0xFF
            if byte not in (0, 0xFF):
                return None
            imm8 |= (byte & 1) << i
        return imm8

    def check(self, op, form):
        if self._imm8(op) is None:
            return (f"{op!r} is not a MOVI byte-mask immediate" if self.bytemask
                    else f"{op!r} is not an 8-bit immediate")
        return None

    def encode(self, op, form):
        imm8 = self._imm8(op)
        return ((imm8 >> 5) << 16) | ((imm8 & 31) << 5)


class CondSpec(Spec):
    shapes = frozenset({(str,)})

    def __init__(self, lsb: int):
        self.lsb = lsb

    def check(self, op, form):
        if not isinstance(op, str) or op.lower() not in CONDS + ("cs", "cc"):
            return f"expected a condition (eq, ne, lt...), got {op!r}"
        return None

    def encode(self, op, form):
        return cond_code(op) << self.lsb

    def text(self, op, form):
        return CONDS[cond_code(op)]


class LabelSpec(Spec):
    """A branch/literal target: a `Label` (fixed up later) or an int byte offset."""

    def __init__(self, kind: str):
        self.reloc = kind
        self.bits = LABEL_BITS[kind]
        self.shapes = frozenset({(Label,), (int,)})

    def check(self, op, form):
        if isinstance(op, Label):
            return None
        if not _is_int(op) or op % 4:
            return f"expected a Label or a byte offset multiple of 4, got {op!r}"
        if not enc.fits_signed(op >> 2, self.bits):
            return f"offset {op} outside +-{1 << (self.bits + 1)} bytes"
        return None

    def encode(self, op, form):
        return 0 if isinstance(op, Label) else patch_label(0, self.reloc, op)

    def text(self, op, form):
        return str(op) if isinstance(op, Label) else f".{op:+d}"


def patch_label(word: int, reloc: str, offset: int) -> int:
    """`word` with the pc-relative byte `offset` placed in its `reloc` field."""
    bits = LABEL_BITS[reloc]
    if offset % 4 or not enc.fits_signed(offset >> 2, bits):
        raise AsmError(f"branch offset {offset} out of range for {reloc} "
                       f"(+-{1 << (bits + 1)} bytes)")
    lsb = 0 if reloc == "label26" else 5
    return word | (((offset >> 2) & enc.mask(bits)) << lsb)


# --------------------------------------------------------------------------- memory

class MemSpec(Spec):
    """All memory modes; `mode` picks the addressing form."""

    _CLASS = {"uimm12": MemOffset, "simm9": MemOffset, "pair": MemOffset, "base": MemOffset,
              "pre9": MemPre, "pairpre": MemPre, "post9": MemPost, "pairpost": MemPost,
              "postimm": MemPost, "postreg": MemPost, "reg": MemIndex}

    def __init__(self, mode: str):
        self.mode = mode
        self.shapes = frozenset({(self._CLASS[mode],)})

    def check(self, op, form):
        size, mode = form.msize, self.mode
        want = self._CLASS[mode]
        if not isinstance(op, want):
            return f"expected {want.__name__} addressing, got {op!r}"
        if mode == "reg":
            if op.amount not in (0, size.bit_length() - 1):
                return f"index shift must be 0 or {size.bit_length() - 1} for a {size}-byte access"
            return None
        off = op.offset
        if mode == "postreg":
            return None if isinstance(off, GPR) else "expected a post-index register"
        if not _is_int(off):
            return f"expected an integer offset, got {off!r}"
        if mode == "uimm12":
            if off % size or not 0 <= off // size < 4096:
                return f"offset {off} is not a multiple of {size} in 0-{4095 * size}"
        elif mode in ("simm9", "pre9", "post9"):
            if not -256 <= off < 256:
                return f"offset {off!r} outside -256..255"
        elif mode in ("pair", "pairpre", "pairpost"):
            if off % size or not -64 <= off // size < 64:
                return f"offset {off} is not a multiple of {size} in {-64 * size}..{63 * size}"
        elif mode == "base":
            if off:
                return "this form takes no offset"
        elif mode == "postimm":
            if off != size:
                return f"post-index immediate must equal the transfer size {size}"
        return None

    def encode(self, op, form):
        size, mode = form.msize, self.mode
        bits = op.base.code << 5
        if mode == "reg":
            option = {"lsl": 3, "uxtx": 3, "uxtw": 2, "sxtw": 6, "sxtx": 7}[op.extend]
            s_bit = 1 if (op.amount or (size == 1 and op.explicit)) else 0
            return bits | (op.index.code << 16) | (option << 13) | (s_bit << 12)
        if mode == "uimm12":
            return bits | ((op.offset // size) << 10)
        if mode in ("simm9", "pre9", "post9"):
            return bits | ((op.offset & 0x1FF) << 12)
        if mode in ("pair", "pairpre", "pairpost"):
            return bits | (((op.offset // size) & 0x7F) << 15)
        if mode == "postimm":
            return bits | (31 << 16)
        if mode == "postreg":
            return bits | (op.offset.code << 16)
        return bits  # base

    def text(self, op, form):
        if self.mode != "reg":
            return str(op)
        ext = "lsl" if op.extend in ("lsl", "uxtx") else op.extend
        if op.amount or (form.msize == 1 and op.explicit):
            tail = f", {ext} #{op.amount}"
        else:
            tail = "" if ext == "lsl" else f", {ext}"
        return f"[{op.base}, {op.index}{tail}]"


# --------------------------------------------------------------------------- token parser

_FIXED = {
    "#imm12sh": lambda: Imm12ShSpec(),
    "#bimm32": lambda: BitmaskSpec(32), "#bimm64": lambda: BitmaskSpec(64),
    "#imm16": lambda: UImmSpec(5, 16, "imm16"),
    "#hw32": lambda: HwSpec(32), "#hw64": lambda: HwSpec(64),
    "#immr32": lambda: UImmSpec(16, 6, "immr", 32), "#immr64": lambda: UImmSpec(16, 6, "immr"),
    "#imms32": lambda: UImmSpec(10, 6, "imms", 32), "#imms64": lambda: UImmSpec(10, 6, "imms"),
    "#nzcv": lambda: UImmSpec(0, 4, "nzcv"),
    "#imm5": lambda: UImmSpec(16, 5, "imm5"),
    "#brk16": lambda: UImmSpec(5, 16, "imm16"),
    "#udf16": lambda: UImmSpec(0, 16, "imm16"),
    "#bit32": lambda: BitSpec(32), "#bit64": lambda: BitSpec(64),
    "#fimm": lambda: FpImmSpec(),
    "#0.0": lambda: ZeroSpec("#0.0"),
    "#movi64": lambda: MoviSpec(True), "#imm8": lambda: MoviSpec(False),
    "cond@12": lambda: CondSpec(12), "cond@0": lambda: CondSpec(0),
    "label26": lambda: LabelSpec("label26"), "label19": lambda: LabelSpec("label19"),
    "label14": lambda: LabelSpec("label14"),
}
_F = r"(d|n|m|a|t2|t)"


def _parse_default(text: str):
    if text == "x30":
        return x30
    return int(text, 0)


def parse_spec(token: str) -> Spec:
    """The `Spec` for one operand token of the form table; AsmError if unknown."""
    spec = _parse(token.split("=")[0])
    spec.token = token
    if "=" in token:
        spec.optional, spec.default = True, _parse_default(token.split("=", 1)[1])
    return spec


def _parse(tok: str) -> Spec:
    if tok in _FIXED:
        return _FIXED[tok]()
    if m := re.fullmatch(r"([WX])" + _F + r"(\|SP)?", tok):
        return GprSpec(32 if m[1] == "W" else 64, FIELD_LSB[m[2]], bool(m[3]))
    if m := re.fullmatch(r"([BHSDQ])" + _F, tok):
        return FpSpec(_LETTER_SIZE[m[1]], FIELD_LSB[m[2]])
    if m := re.fullmatch(r"V" + _F + r"\.(\d+)([BHSD])", tok):
        return VecSpec(_LETTER_SIZE[m[3]], int(m[2]), FIELD_LSB[m[1]])
    if m := re.fullmatch(r"V" + _F + r"\.([BHSD])\[(i5|i4|hl|h)\]", tok):
        return ElemSpec(_LETTER_SIZE[m[2]], FIELD_LSB[m[1]], m[3])
    if m := re.fullmatch(r"\{Vt\.(\d+)([BHSD])\}\*([1-4])", tok):
        return VListSpec(_LETTER_SIZE[m[2]], int(m[1]), int(m[3]))
    if m := re.fullmatch(r"([WX])m,(shift|rshift)", tok):
        kinds = ("lsl", "lsr", "asr") + (("ror",) if m[2] == "rshift" else ())
        return ShiftSpec(32 if m[1] == "W" else 64, kinds)
    if m := re.fullmatch(r"Rm,ext(32|64)", tok):
        return ExtSpec(int(m[1]))
    if m := re.fullmatch(r"\[(\w+)\]", tok):
        return MemSpec(m[1])
    raise AsmError(f"unknown operand token {tok!r} in the form table")
