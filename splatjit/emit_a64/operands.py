"""Typed, immutable AArch64 operands: registers, shifted/extended registers, memory, labels.

Registers know their number (0-31) and width. Register number 31 is ambiguous in the
encoding (SP or ZR depending on the instruction form), so `sp`/`wsp` and `xzr`/`wzr` are
distinct objects; the form table (`isa.py`) says which one a field accepts.

Everything that can be checked without knowing the instruction (a W register used as a
memory base, an extend amount outside 0-4, a shift by a negative amount) raises `AsmError`
at construction. Checks that depend on the form (offset scaling by the access size, shift
amount below the register width) happen when the form is selected, and the message names
the form.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from splatjit.errors import SplatJitError


class AsmError(SplatJitError):
    """An illegal instruction form, operand, or label use in the AArch64 assembler."""


SHIFTS = ("lsl", "lsr", "asr", "ror")
EXTENDS = ("uxtb", "uxth", "uxtw", "uxtx", "sxtb", "sxth", "sxtw", "sxtx")


def fmt_imm(value: int) -> str:
    """Immediate text in the style of capstone/LLVM: decimal below 10, hex above."""
    if -10 < value < 10:
        return f"#{value}"
    return f"#-0x{-value:x}" if value < 0 else f"#0x{value:x}"


# --------------------------------------------------------------------------- registers

@dataclass(frozen=True, slots=True)
class GPR:
    """A general-purpose register view. `kind` is 'r' (0-30), 'sp' or 'zr' (both code 31)."""

    code: int
    width: int  # 32 or 64
    kind: str = "r"

    def __post_init__(self):
        if self.width not in (32, 64):
            raise AsmError(f"GPR width must be 32 or 64, not {self.width}")
        if self.kind == "r" and not 0 <= self.code <= 30:
            raise AsmError(f"general register number {self.code} outside 0-30")
        if self.kind in ("sp", "zr") and self.code != 31:
            raise AsmError("sp/zr must have code 31")

    @property
    def is_sp(self) -> bool:
        return self.kind == "sp"

    @property
    def is_zr(self) -> bool:
        return self.kind == "zr"

    @property
    def x(self) -> "GPR":
        """The 64-bit view of this register."""
        return GPR(self.code, 64, self.kind)

    @property
    def w(self) -> "GPR":
        """The 32-bit view of this register."""
        return GPR(self.code, 32, self.kind)

    @property
    def name(self) -> str:
        if self.kind == "sp":
            return "sp" if self.width == 64 else "wsp"
        if self.kind == "zr":
            return "xzr" if self.width == 64 else "wzr"
        return ("x" if self.width == 64 else "w") + str(self.code)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return self.name

    # operand builders: x1.lsl(3), w2.sxtw(2)
    def _shift(self, kind: str, amount: int) -> "Shifted":
        return Shifted(self, kind, amount)

    def lsl(self, amount: int) -> "Shifted":
        return self._shift("lsl", amount)

    def lsr(self, amount: int) -> "Shifted":
        return self._shift("lsr", amount)

    def asr(self, amount: int) -> "Shifted":
        return self._shift("asr", amount)

    def ror(self, amount: int) -> "Shifted":
        return self._shift("ror", amount)

    def uxtb(self, amount: int = 0) -> "Extended":
        return Extended(self, "uxtb", amount)

    def uxth(self, amount: int = 0) -> "Extended":
        return Extended(self, "uxth", amount)

    def uxtw(self, amount: int = 0) -> "Extended":
        return Extended(self, "uxtw", amount)

    def uxtx(self, amount: int = 0) -> "Extended":
        return Extended(self, "uxtx", amount)

    def sxtb(self, amount: int = 0) -> "Extended":
        return Extended(self, "sxtb", amount)

    def sxth(self, amount: int = 0) -> "Extended":
        return Extended(self, "sxth", amount)

    def sxtw(self, amount: int = 0) -> "Extended":
        return Extended(self, "sxtw", amount)

    def sxtx(self, amount: int = 0) -> "Extended":
        return Extended(self, "sxtx", amount)


def XReg(code: int) -> GPR:
    return GPR(code, 64)


def WReg(code: int) -> GPR:
    return GPR(code, 32)


_FP_PREFIX = {1: "b", 2: "h", 4: "s", 8: "d", 16: "q"}
_ESIZE_LETTER = {1: "b", 2: "h", 4: "s", 8: "d"}
_LETTER_ESIZE = {v: k for k, v in _ESIZE_LETTER.items()}


@dataclass(frozen=True, slots=True)
class FPReg:
    """A scalar view of a SIMD&FP register: b/h/s/d/q (size in bytes 1/2/4/8/16)."""

    code: int
    size: int

    def __post_init__(self):
        if not 0 <= self.code <= 31:
            raise AsmError(f"vector register number {self.code} outside 0-31")
        if self.size not in _FP_PREFIX:
            raise AsmError(f"FP register size {self.size} not in 1/2/4/8/16 bytes")

    @property
    def name(self) -> str:
        return f"{_FP_PREFIX[self.size]}{self.code}"

    @property
    def v(self) -> "VReg":
        return VReg(self.code)

    def __getitem__(self, index: int) -> "VElem":
        """`v0.s[1]`: lane `index` of the vector register with this element size."""
        return VElem(self.code, self.size, index)

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__


@dataclass(frozen=True, slots=True)
class VArr:
    """A vector register with an arrangement: v0.4s is VArr(0, esize=4, lanes=4)."""

    code: int
    esize: int
    lanes: int

    def __post_init__(self):
        if not 0 <= self.code <= 31:
            raise AsmError(f"vector register number {self.code} outside 0-31")
        if self.esize not in _ESIZE_LETTER or self.esize * self.lanes not in (8, 16):
            raise AsmError(f"bad vector arrangement {self.lanes}x{self.esize} bytes")

    @property
    def arrangement(self) -> str:
        """'4S', '16B', '2D'... (upper case, as the form table spells it)."""
        return f"{self.lanes}{_ESIZE_LETTER[self.esize].upper()}"

    @property
    def name(self) -> str:
        return f"v{self.code}.{self.arrangement.lower()}"

    def __getitem__(self, index: int) -> "VElem":
        return VElem(self.code, self.esize, index)

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__


@dataclass(frozen=True, slots=True)
class VElem:
    """One lane of a vector register: v0.s[1] is VElem(0, esize=4, index=1)."""

    code: int
    esize: int
    index: int

    def __post_init__(self):
        if not 0 <= self.code <= 31:
            raise AsmError(f"vector register number {self.code} outside 0-31")
        if self.esize not in _ESIZE_LETTER:
            raise AsmError(f"bad element size {self.esize}")
        if not 0 <= self.index < 16 // self.esize:
            raise AsmError(f"lane index {self.index} out of range for "
                           f"{_ESIZE_LETTER[self.esize]} elements (0-{16 // self.esize - 1})")

    @property
    def name(self) -> str:
        return f"v{self.code}.{_ESIZE_LETTER[self.esize]}[{self.index}]"

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__


@dataclass(frozen=True, slots=True)
class VReg:
    """A SIMD&FP register without a view; pick one: v0.s (scalar), v0.s4 (vector)."""

    code: int

    def __post_init__(self):
        if not 0 <= self.code <= 31:
            raise AsmError(f"vector register number {self.code} outside 0-31")

    b = property(lambda self: FPReg(self.code, 1))
    h = property(lambda self: FPReg(self.code, 2))
    s = property(lambda self: FPReg(self.code, 4))
    d = property(lambda self: FPReg(self.code, 8))
    q = property(lambda self: FPReg(self.code, 16))
    S = s
    D = d
    Q = q
    b8 = property(lambda self: VArr(self.code, 1, 8))
    b16 = property(lambda self: VArr(self.code, 1, 16))
    h4 = property(lambda self: VArr(self.code, 2, 4))
    h8 = property(lambda self: VArr(self.code, 2, 8))
    s2 = property(lambda self: VArr(self.code, 4, 2))
    s4 = property(lambda self: VArr(self.code, 4, 4))
    d1 = property(lambda self: VArr(self.code, 8, 1))
    d2 = property(lambda self: VArr(self.code, 8, 2))

    def arr(self, arrangement: str) -> VArr:
        """`v0.arr('4s')` == v0.s4."""
        text = arrangement.lower()
        lanes, letter = int(text[:-1]), text[-1]
        if letter not in _LETTER_ESIZE:
            raise AsmError(f"bad arrangement {arrangement!r}")
        return VArr(self.code, _LETTER_ESIZE[letter], lanes)

    def __str__(self) -> str:
        return f"v{self.code}"

    __repr__ = __str__


# --------------------------------------------------------------------------- modifiers

@dataclass(frozen=True, slots=True)
class Shifted:
    """A register operand shifted by a constant: `x2, lsl #3`."""

    reg: GPR
    kind: str
    amount: int

    def __post_init__(self):
        if not isinstance(self.reg, GPR) or self.reg.is_sp:
            raise AsmError(f"shifted register must be a W/X register (not sp), got {self.reg}")
        if self.kind not in SHIFTS:
            raise AsmError(f"unknown shift {self.kind!r}")
        if not isinstance(self.amount, int) or not 0 <= self.amount < self.reg.width:
            raise AsmError(f"shift amount {self.amount} outside 0-{self.reg.width - 1}")

    def __str__(self) -> str:
        if self.kind == "lsl" and self.amount == 0:
            return str(self.reg)
        return f"{self.reg}, {self.kind} #{self.amount}"

    __repr__ = __str__


@dataclass(frozen=True, slots=True)
class Extended:
    """A register operand extended then shifted left by 0-4: `w2, sxtw #2`."""

    reg: GPR
    kind: str
    amount: int = 0

    def __post_init__(self):
        if not isinstance(self.reg, GPR) or self.reg.is_sp:
            raise AsmError(f"extended register must be a W/X register (not sp), got {self.reg}")
        if self.kind not in EXTENDS:
            raise AsmError(f"unknown extend {self.kind!r}")
        if not isinstance(self.amount, int) or not 0 <= self.amount <= 4:
            raise AsmError(f"extend amount {self.amount} outside 0-4")
        want = 64 if self.kind in ("uxtx", "sxtx") else 32
        if self.reg.width != want:
            raise AsmError(f"{self.kind} needs {'an X' if want == 64 else 'a W'} register, "
                           f"got {self.reg}")

    def __str__(self) -> str:
        return f"{self.reg}, {self.kind}" + (f" #{self.amount}" if self.amount else "")

    __repr__ = __str__


# --------------------------------------------------------------------------- immediates, labels

@dataclass(frozen=True, slots=True)
class Imm:
    """An immediate (int or float). Plain Python ints and floats are accepted wherever an
    `Imm` is; this class exists for callers who want to be explicit."""

    value: int | float

    def __str__(self) -> str:
        return fmt_imm(self.value) if isinstance(self.value, int) else f"#{self.value!r}"

    __repr__ = __str__


_label_counter = itertools.count()


@dataclass(frozen=True, eq=False, slots=True)
class Label:
    """A code position, bound by `Assembler.bind`. Compared by identity."""

    name: str = ""

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", f".L{next(_label_counter)}")

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__


# --------------------------------------------------------------------------- memory

def _check_base(base) -> None:
    if not isinstance(base, GPR) or base.width != 64 or base.is_zr:
        raise AsmError(f"memory base must be an X register or sp, got {base}")


@dataclass(frozen=True, slots=True)
class MemOffset:
    """`[base, #offset]` (bytes). The scaled imm12 form (LDR) or the unscaled imm9 form
    (LDUR) is picked per instruction from the access size."""

    base: GPR
    offset: int = 0

    def __post_init__(self):
        _check_base(self.base)
        if not isinstance(self.offset, int):
            raise AsmError(f"memory offset must be an int, got {self.offset!r}")

    def __str__(self) -> str:
        return f"[{self.base}, {fmt_imm(self.offset)}]" if self.offset else f"[{self.base}]"

    __repr__ = __str__


@dataclass(frozen=True, slots=True)
class MemPre:
    """`[base, #offset]!`: base += offset, then access."""

    base: GPR
    offset: int

    def __post_init__(self):
        _check_base(self.base)
        if not isinstance(self.offset, int):
            raise AsmError(f"pre-index offset must be an int, got {self.offset!r}")

    def __str__(self) -> str:
        return f"[{self.base}, {fmt_imm(self.offset)}]!"

    __repr__ = __str__


@dataclass(frozen=True, slots=True)
class MemPost:
    """`[base], #offset` or `[base], xm` (register post-increment: LD1/ST1 only)."""

    base: GPR
    offset: int | GPR

    def __post_init__(self):
        _check_base(self.base)
        if isinstance(self.offset, GPR):
            if self.offset.width != 64 or self.offset.kind != "r":
                raise AsmError(f"post-index register must be x0-x30, got {self.offset}")
        elif not isinstance(self.offset, int):
            raise AsmError(f"post-index offset must be an int or X register, got {self.offset!r}")

    def __str__(self) -> str:
        off = self.offset if isinstance(self.offset, GPR) else fmt_imm(self.offset)
        return f"[{self.base}], {off}"

    __repr__ = __str__


@dataclass(frozen=True, slots=True)
class MemIndex:
    """`[base, index{, extend #amount}]`. `extend` is 'lsl' (X index), 'uxtw'/'sxtw'
    (W index) or 'sxtx' (X index); `amount` must be 0 or log2(access size) (checked per
    instruction)."""

    base: GPR
    index: GPR
    extend: str = "lsl"
    amount: int = 0
    explicit: bool = False  # the amount was written (`lsl #0` differs from no shift)

    def __post_init__(self):
        _check_base(self.base)
        if not isinstance(self.index, GPR) or self.index.kind != "r":
            raise AsmError(f"memory index must be w0-w30/x0-x30, got {self.index}")
        want = {"lsl": 64, "uxtx": 64, "sxtx": 64, "uxtw": 32, "sxtw": 32}.get(self.extend)
        if want is None:
            raise AsmError(f"memory index extend must be lsl/uxtw/sxtw/sxtx, not {self.extend}")
        if self.index.width != want:
            raise AsmError(f"memory index {self.index} does not fit extend {self.extend}")
        if self.amount not in (0, 1, 2, 3, 4):
            raise AsmError(f"memory index shift {self.amount} outside 0-4")

    def __str__(self) -> str:
        ext = self.extend if self.extend != "uxtx" else "lsl"
        if self.explicit:
            tail = f", {ext} #{self.amount}"
        elif ext != "lsl":
            tail = f", {ext}"
        else:
            tail = ""
        return f"[{self.base}, {self.index}{tail}]"

    __repr__ = __str__


Mem = MemOffset | MemPre | MemPost | MemIndex


def mem(base: GPR, offset: "int | GPR | Shifted | Extended" = 0) -> Mem:
    """`mem(x1, 8)` -> [x1, #8]; `mem(x1, x2)`; `mem(x1, x2.lsl(3))`; `mem(x1, w2.sxtw(2))`."""
    if isinstance(offset, int):
        return MemOffset(base, offset)
    if isinstance(offset, GPR):
        return MemIndex(base, offset, "lsl" if offset.width == 64 else "uxtw", 0)
    if isinstance(offset, Shifted):
        if offset.kind != "lsl":
            raise AsmError(f"memory index shift must be lsl, not {offset.kind}")
        return MemIndex(base, offset.reg, "lsl", offset.amount, True)
    if isinstance(offset, Extended):
        if offset.kind not in ("uxtw", "sxtw", "sxtx", "uxtx"):
            raise AsmError(f"memory index extend must be uxtw/sxtw/sxtx, not {offset.kind}")
        return MemIndex(base, offset.reg, offset.kind, offset.amount, offset.amount != 0)
    raise AsmError(f"bad memory offset {offset!r}")


def pre(base: GPR, offset: int) -> MemPre:
    """`[base, #offset]!`."""
    return MemPre(base, offset)


def post(base: GPR, offset: "int | GPR") -> MemPost:
    """`[base], #offset` / `[base], xm`."""
    return MemPost(base, offset)


# --------------------------------------------------------------------------- conditions

CONDS = ("eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc",
         "hi", "ls", "ge", "lt", "gt", "le", "al", "nv")
COND_CODE = {name: i for i, name in enumerate(CONDS)} | {"cs": 2, "cc": 3}


def cond_code(cond: str) -> int:
    """Condition name ('eq', 'lt', 'hs'/'cs'...) -> 4-bit code; AsmError if unknown."""
    try:
        return COND_CODE[cond.lower()]
    except (KeyError, AttributeError):
        raise AsmError(f"unknown condition {cond!r}") from None


def invert_cond(cond: str) -> str:
    """The opposite condition ('eq' -> 'ne'). 'al'/'nv' have no inverse."""
    code = cond_code(cond)
    if code >= 14:
        raise AsmError(f"condition {cond} cannot be inverted")
    return CONDS[code ^ 1]


# --------------------------------------------------------------------------- register names

x = [XReg(i) for i in range(31)]
w = [WReg(i) for i in range(31)]
v = [VReg(i) for i in range(32)]
sp = GPR(31, 64, "sp")
wsp = GPR(31, 32, "sp")
xzr = GPR(31, 64, "zr")
wzr = GPR(31, 32, "zr")

(x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16, x17, x18, x19,
 x20, x21, x22, x23, x24, x25, x26, x27, x28, x29, x30) = x
(w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15, w16, w17, w18, w19,
 w20, w21, w22, w23, w24, w25, w26, w27, w28, w29, w30) = w
(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, v16, v17, v18, v19,
 v20, v21, v22, v23, v24, v25, v26, v27, v28, v29, v30, v31) = v
fp, lr = x29, x30

b = [FPReg(i, 1) for i in range(32)]
h = [FPReg(i, 2) for i in range(32)]
s = [FPReg(i, 4) for i in range(32)]
d = [FPReg(i, 8) for i in range(32)]
q = [FPReg(i, 16) for i in range(32)]
(s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15, s16, s17, s18, s19,
 s20, s21, s22, s23, s24, s25, s26, s27, s28, s29, s30, s31) = s
(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19,
 d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31) = d
(q0, q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11, q12, q13, q14, q15, q16, q17, q18, q19,
 q20, q21, q22, q23, q24, q25, q26, q27, q28, q29, q30, q31) = q

__all__ = (["AsmError", "GPR", "XReg", "WReg", "FPReg", "VReg", "VArr", "VElem", "Shifted",
            "Extended", "Imm", "Label", "MemOffset", "MemPre", "MemPost", "MemIndex", "Mem",
            "mem", "pre", "post", "CONDS", "cond_code", "invert_cond",
            "sp", "wsp", "xzr", "wzr", "fp", "lr"]
           + [f"{p}{i}" for p in "xw" for i in range(31)]
           + [f"{p}{i}" for p in "vsdq" for i in range(32)])
