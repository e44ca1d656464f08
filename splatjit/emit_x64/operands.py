"""Typed, immutable x86-64 operands: registers, memory references, immediates, labels.

Registers are module-level singletons (``rax``, ``eax``, ``r8b``, ``xmm17``, ``zmm31``) and
compare by value. Memory operands are built by operator overloading on 64-bit registers and
sized with a size specifier::

    qword[rsp + 8]            dword[rax + rcx*4 + 16]      ptr[rdi]   (size from the form)
    xmmword[rip + label]      dword[label]                 byte[rcx*2 - 1]

An illegal combination (``rsp`` as index, scale 3, a 32-bit base, a displacement outside
int32) raises `AsmError` when the operand is built, naming the form
``[base + index*scale + disp]``. Whether an operand suits a particular instruction form is
checked when the instruction is built (see `forms.py`).

Text formatting follows capstone's Intel syntax (``qword ptr [rax + rcx*4 + 0x10]``) so a
listing line and a disassembly of the same bytes read alike.
"""
from __future__ import annotations

import itertools

from splatjit.emit_x64.errors import AsmError

_MEM_FORM = "[base + index*scale + disp]"
SIZE_NAMES = {8: "byte", 16: "word", 32: "dword", 64: "qword", 80: "tbyte",
              128: "xmmword", 256: "ymmword", 512: "zmmword"}


def fmt_num(value: int) -> str:
    """Format an integer the way capstone does: decimal up to 9, hexadecimal above."""
    if value < 0:
        return "-" + fmt_num(-value)
    return str(value) if value <= 9 else hex(value)


class Operand:
    """Base of every operand; instances are immutable (a Label's slots may be assigned) and
    hashable.

    ``sig`` is the operand's kind without its value (``("r", 64)``, ``("v", 128, False)``,
    ``("m", 32)``, ``("i",)``, ``("l",)``): forms are looked up by it, then immediates and
    fixed registers are checked by value.
    """
    __slots__ = ()

    def _key(self) -> tuple:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _init(self, **fields: object) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)


# --------------------------------------------------------------------------- registers

_GPR_NAMES = {
    64: ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"] + [f"r{i}" for i in range(8, 16)],
    32: ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"] + [f"r{i}d" for i in range(8, 16)],
    16: ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"] + [f"r{i}w" for i in range(8, 16)],
    8: ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"] + [f"r{i}b" for i in range(8, 16)],
}


class GPR(Operand):
    """A general-purpose register: number 0-15 and width 8/16/32/64 bits.

    ``r.q``/``r.d``/``r.w``/``r.b`` are the 64/32/16/8-bit views of the same register.
    8-bit registers are the low bytes (``al`` .. ``r15b``); ``spl``/``bpl``/``sil``/``dil``
    force a REX prefix. The legacy high-byte registers (ah, ch, dh, bh) are not offered.
    There is one object per register (``GPR(0, 64) is rax``), so registers compare and hash
    by identity, at C speed.
    """
    __slots__ = ("num", "bits", "sig", "_plus")
    num: int
    bits: int
    sig: tuple      # operand kind for form lookup (see Operand)

    def __new__(cls, num: int, bits: int):
        reg = _GPR_OBJECTS.get((num, bits))
        if reg is None:
            if bits not in _GPR_NAMES or type(num) is not int or not 0 <= num < 16:
                raise AsmError(f"no general-purpose register {num} of {bits} bits")
            reg = _GPR_OBJECTS[(num, bits)] = object.__new__(cls)
            reg._init(num=num, bits=bits, sig=("r", bits), _plus={})
        return reg

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __reduce__(self):
        return (GPR, (self.num, self.bits))

    def _key(self) -> tuple:
        return (self.num, self.bits)

    @property
    def name(self) -> str:
        return _GPR_NAMES[self.bits][self.num]

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__

    @property
    def needs_rex(self) -> bool:
        """True when any encoding of this register needs a REX prefix (r8-r15, spl-dil)."""
        return self.num >= 8 or (self.bits == 8 and 4 <= self.num < 8)

    def view(self, bits: int) -> GPR:
        return _GPRS[bits][self.num]

    q = property(lambda self: self.view(64), doc="64-bit view")
    d = property(lambda self: self.view(32), doc="32-bit view")
    w = property(lambda self: self.view(16), doc="16-bit view")
    b = property(lambda self: self.view(8), doc="8-bit view (low byte)")

    # Address arithmetic: rax + 8, rax + rcx*4, rcx*8 - 16.
    def _as_mem(self) -> Mem:
        return Mem(base=self)

    def __add__(self, other: object) -> Mem:
        if type(other) is int and self.bits == 64:  # [reg + disp]: made once per process
            mem = self._plus.get(other)
            if mem is None:
                plus = self._plus
                if len(plus) >= _CACHE_LIMIT:
                    plus.clear()
                mem = plus[other] = Mem(self, None, 1, other, None)
            return mem
        return self._as_mem() + other

    __radd__ = __add__

    def __sub__(self, other: object) -> Mem:
        if type(other) is int:
            return self + (-other)
        return self._as_mem() - other

    def __mul__(self, scale: object) -> Mem:
        if not isinstance(scale, int):
            return NotImplemented
        return Mem(index=self, scale=scale)

    __rmul__ = __mul__


_GPR_OBJECTS: dict[tuple[int, int], GPR] = {}
_CACHE_LIMIT = 1 << 12    # [reg + disp] operands remembered per base register (then forgotten)
_GPRS = {bits: [GPR(n, bits) for n in range(16)] for bits in _GPR_NAMES}


class VecReg(Operand):
    """A vector register: number 0-31 (16-31 need EVEX) and width 128/256/512 bits; one
    object per register (``XMM(3) is xmm3``), compared and hashed by identity."""
    __slots__ = ("num", "sig")
    BITS = 0
    PREFIX = ""
    num: int
    sig: tuple

    def __new__(cls, num: int):
        reg = _VEC_OBJECTS.get((cls, num))
        if reg is None:
            if type(num) is not int or not 0 <= num < 32:
                raise AsmError(f"no vector register {cls.PREFIX}{num}")
            reg = _VEC_OBJECTS[(cls, num)] = object.__new__(cls)
            reg._init(num=num, sig=("v", cls.BITS, num >= 16))
        return reg

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __reduce__(self):
        return (type(self), (self.num,))

    def _key(self) -> tuple:
        return (self.num,)

    @property
    def bits(self) -> int:
        return self.BITS

    @property
    def name(self) -> str:
        return f"{self.PREFIX}{self.num}"

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__

    x = property(lambda self: XMM(self.num), doc="128-bit view")
    y = property(lambda self: YMM(self.num), doc="256-bit view")
    z = property(lambda self: ZMM(self.num), doc="512-bit view")


_VEC_OBJECTS: dict[tuple, VecReg] = {}


class XMM(VecReg):
    __slots__ = ()
    BITS, PREFIX = 128, "xmm"


class YMM(VecReg):
    __slots__ = ()
    BITS, PREFIX = 256, "ymm"


class ZMM(VecReg):
    __slots__ = ()
    BITS, PREFIX = 512, "zmm"


# --------------------------------------------------------------------------- labels, immediates

_label_ids = itertools.count()


class Label(Operand):
    """A code position bound later with ``Assembler.label``; compares by identity. An
    anonymous label is named ``L<uid>`` when its name is first read. The one operand
    whose attributes may be assigned (nothing does after __init__): a compiler makes
    ~10 per function, and plain slot stores halve the cost of making one."""
    __slots__ = ("_name", "uid")
    sig = ("l",)
    uid: int
    __setattr__ = object.__setattr__

    def __init__(self, name: str | None = None):
        self._name = name
        self.uid = next(_label_ids)

    @property
    def name(self) -> str:
        return self._name if self._name is not None else f"L{self.uid}"

    __eq__ = object.__eq__     # each Label has its own uid: identity is equality
    __hash__ = object.__hash__

    def _key(self) -> tuple:
        return (self.uid,)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Label({self.name!r})"


class Imm(Operand):
    """An immediate integer; its width is checked against the instruction form that uses it."""
    __slots__ = ("value",)
    sig = ("i",)
    value: int

    def __init__(self, value: int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise AsmError(f"immediate must be an int, got {value!r}")
        if not -(1 << 63) <= value < (1 << 64):
            raise AsmError(f"immediate {value:#x} does not fit in 64 bits")
        self._init(value=value)

    def _key(self) -> tuple:
        return (self.value,)

    def __str__(self) -> str:
        return fmt_num(self.value)

    __repr__ = __str__


# --------------------------------------------------------------------------- memory

class Mem(Operand):
    """``[base + index*scale + disp]`` with an optional operand size in bits.

    ``base`` and ``index`` are 64-bit GPRs (either may be None); ``rsp`` is never an index
    (``rax + rsp`` is rewritten to ``[rsp + rax]``); ``scale`` is 1, 2, 4 or 8; ``disp`` is a
    signed 32-bit byte offset. ``size`` (bits) is None when the instruction form decides.
    """
    __slots__ = ("base", "index", "scale", "disp", "size", "sig", "_hash", "_sized")
    base: GPR | None
    index: GPR | None
    scale: int
    disp: int
    size: int | None

    def __init__(self, base: GPR | None = None, index: GPR | None = None, scale: int = 1,
                 disp: int = 0, size: int | None = None):
        for role, reg in (("base", base), ("index", index)):
            if reg is not None and (not isinstance(reg, GPR) or reg.bits != 64):
                raise AsmError(f"{role} register {reg} in {_MEM_FORM} must be a 64-bit GPR")
        if index is not None and index.num == 4:
            raise AsmError(f"rsp cannot be the index register in {_MEM_FORM}")
        if scale not in (1, 2, 4, 8):
            raise AsmError(f"scale {scale} in {_MEM_FORM} must be 1, 2, 4 or 8")
        if scale != 1 and index is None:
            raise AsmError(f"scale {scale} without an index register in {_MEM_FORM}")
        if isinstance(disp, bool) or not isinstance(disp, int) or not -(1 << 31) <= disp < (1 << 31):
            raise AsmError(f"displacement {disp!r} in {_MEM_FORM} does not fit in int32")
        _check_size(size)
        _fill(self, base, index, scale, disp, size)

    def _key(self) -> tuple:
        return (self.base, self.index, self.scale, self.disp, self.size)

    def __eq__(self, other: object) -> bool:
        return self is other or (type(other) is Mem and self._hash == other._hash
                                 and self._key() == other._key())

    def __hash__(self) -> int:
        return self._hash

    def with_size(self, size: int | None) -> Mem:
        """This address with operand size `size` (bits); each size is made once per operand."""
        if size == self.size:
            return self
        sized = self._sized
        if sized is None:
            object.__setattr__(self, "_sized", {})
            sized = self._sized
        mem = sized.get(size)
        if mem is None:
            _check_size(size)
            mem = sized[size] = _trusted_mem(self.base, self.index, self.scale, self.disp, size)
        return mem

    def __add__(self, other: object) -> Mem:
        if type(other) is int:
            disp = self.disp + other
            if not -(1 << 31) <= disp < (1 << 31):
                raise AsmError(f"displacement {disp!r} in {_MEM_FORM} does not fit in int32")
            return _trusted_mem(self.base, self.index, self.scale, disp, self.size)
        if isinstance(other, int) and not isinstance(other, bool):
            return Mem(self.base, self.index, self.scale, self.disp + other, self.size)
        if isinstance(other, GPR):
            other_regs, other_disp, other_size = ((other, 1),), 0, None
        elif isinstance(other, Mem):
            other_regs = ((other.base, 1), (other.index, other.scale))
            other_disp, other_size = other.disp, other.size
        else:
            return NotImplemented
        regs = [(r, s) for r, s in ((self.base, 1), (self.index, self.scale), *other_regs)
                if r is not None]
        scaled = [(r, s) for r, s in regs if s != 1]
        plain = [r for r, s in regs if s == 1]
        if len(regs) > 2 or len(scaled) > 1:
            raise AsmError(f"too many registers for {_MEM_FORM}: {' + '.join(str(r) for r, _ in regs)}")
        if scaled:
            base, (index, scale) = (plain[0] if plain else None), scaled[0]
        else:
            base, index, scale = (plain + [None, None])[0], (plain + [None, None])[1], 1
            if index is not None and index.num == 4:   # rsp can only be a base
                base, index = index, base
        return Mem(base, index, scale, self.disp + other_disp, self.size or other_size)

    __radd__ = __add__

    def __sub__(self, other: object) -> Mem:
        if isinstance(other, int) and not isinstance(other, bool):
            return self + (-other)
        return NotImplemented

    def format(self, size: int | None) -> str:
        parts = []
        if self.base is not None:
            parts.append(self.base.name)
        if self.index is not None:
            parts.append(self.index.name + (f"*{self.scale}" if self.scale != 1 else ""))
        text = " + ".join(parts)
        if not parts:
            text = fmt_num(self.disp & ((1 << 64) - 1))
        elif self.disp:
            text += f" - {fmt_num(-self.disp)}" if self.disp < 0 else f" + {fmt_num(self.disp)}"
        return _sized(f"[{text}]", size)

    def __str__(self) -> str:
        return self.format(self.size)

    __repr__ = __str__


def _fill(mem: Mem, base, index, scale, disp, size) -> None:
    init = object.__setattr__      # Mem is built often: skip _init's dict
    init(mem, "base", base)
    init(mem, "index", index)
    init(mem, "scale", scale)
    init(mem, "disp", disp)
    init(mem, "size", size)
    init(mem, "sig", ("m", size))
    init(mem, "_hash", hash((base, index, scale, disp, size)))
    init(mem, "_sized", None)


def _trusted_mem(base, index, scale, disp, size) -> Mem:
    """A `Mem` from fields already checked (those of another Mem, a checked disp or size)."""
    mem = object.__new__(Mem)
    _fill(mem, base, index, scale, disp, size)
    return mem


class RipRel(Operand):
    """``[rip + disp]``: a label (plus a byte offset) or a raw displacement.

    With a label, the displacement is resolved by the assembler relative to the end of the
    instruction. With an int, ``disp`` is the raw signed 32-bit displacement.
    """
    __slots__ = ("label", "disp", "size", "sig")
    label: Label | None
    disp: int
    size: int | None

    def __init__(self, target: Label | int, size: int | None = None, offset: int = 0):
        if isinstance(target, Label):
            label, disp = target, offset
        elif isinstance(target, int) and not isinstance(target, bool) and offset == 0:
            label, disp = None, target
        else:
            raise AsmError(f"[rip + disp] needs a Label or an int displacement, got {target!r}")
        if not -(1 << 31) <= disp < (1 << 31):
            raise AsmError(f"displacement {disp} in [rip + disp] does not fit in int32")
        _check_size(size)
        self._init(label=label, disp=disp, size=size, sig=("m", size))

    def _key(self) -> tuple:
        return (self.label, self.disp, self.size)

    def with_size(self, size: int | None) -> RipRel:
        if self.label is None:
            return RipRel(self.disp, size)
        return RipRel(self.label, size, self.disp)

    def __add__(self, other: object) -> RipRel:
        if isinstance(other, Label) and self.label is None:
            return RipRel(other, self.size, self.disp)
        if isinstance(other, int) and not isinstance(other, bool):
            if self.label is None:
                return RipRel(self.disp + other, self.size)
            return RipRel(self.label, self.size, self.disp + other)
        return NotImplemented

    def __sub__(self, other: object) -> RipRel:
        if isinstance(other, int) and not isinstance(other, bool):
            return self + (-other)
        return NotImplemented

    def format(self, size: int | None) -> str:
        if self.label is None:
            text = "rip" if not self.disp else (
                f"rip - {fmt_num(-self.disp)}" if self.disp < 0 else f"rip + {fmt_num(self.disp)}")
        else:
            text = f"rip + {self.label}"
            if self.disp:
                text += f" - {fmt_num(-self.disp)}" if self.disp < 0 else f" + {fmt_num(self.disp)}"
        return _sized(f"[{text}]", size)

    def __str__(self) -> str:
        return self.format(self.size)

    __repr__ = __str__


class _Rip:
    """``rip``: only useful in ``rip + label`` / ``rip + disp`` address expressions."""
    __slots__ = ()

    def __add__(self, other: object) -> RipRel:
        if isinstance(other, (Label, int)) and not isinstance(other, bool):
            return RipRel(other)
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other: object) -> RipRel:
        if isinstance(other, int) and not isinstance(other, bool):
            return RipRel(-other)
        return NotImplemented

    def __repr__(self) -> str:
        return "rip"


rip = _Rip()


def _check_size(size: int | None) -> None:
    if size is not None and size not in SIZE_NAMES:
        raise AsmError(f"memory operand size {size} bits is not one of {sorted(SIZE_NAMES)}")


def _sized(text: str, size: int | None) -> str:
    return f"{SIZE_NAMES[size]} ptr {text}" if size else text


class SizeSpec:
    """``qword[...]``: turns a register, address expression or label into a sized operand.
    One object per size (``SizeSpec(64) is qword``)."""
    __slots__ = ("bits",)

    def __new__(cls, bits: int | None):
        spec = _SIZE_SPECS.get(bits)
        if spec is None:
            spec = _SIZE_SPECS[bits] = object.__new__(cls)
            spec.bits = bits
        return spec

    def __getitem__(self, addr: object) -> Mem | RipRel:
        if type(addr) is Mem:
            return addr.with_size(self.bits)
        if isinstance(addr, GPR):
            addr = addr + 0
        elif isinstance(addr, Label):
            addr = RipRel(addr)
        elif isinstance(addr, int) and not isinstance(addr, bool):
            addr = Mem(disp=addr)
        if not isinstance(addr, (Mem, RipRel)):
            raise AsmError(f"cannot address {addr!r} in {_MEM_FORM}")
        return addr.with_size(self.bits)

    def __repr__(self) -> str:
        return SIZE_NAMES.get(self.bits, "ptr") if self.bits else "ptr"


_SIZE_SPECS: dict[int | None, SizeSpec] = {}
byte, word, dword, qword = SizeSpec(8), SizeSpec(16), SizeSpec(32), SizeSpec(64)
xmmword, ymmword, zmmword, ptr = SizeSpec(128), SizeSpec(256), SizeSpec(512), SizeSpec(None)

(rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15) = _GPRS[64]
(eax, ecx, edx, ebx, esp, ebp, esi, edi,
 r8d, r9d, r10d, r11d, r12d, r13d, r14d, r15d) = _GPRS[32]
(ax, cx, dx, bx, sp, bp, si, di, r8w, r9w, r10w, r11w, r12w, r13w, r14w, r15w) = _GPRS[16]
(al, cl, dl, bl, spl, bpl, sil, dil, r8b, r9b, r10b, r11b, r12b, r13b, r14b, r15b) = _GPRS[8]

GPR64, GPR32, GPR16, GPR8 = (tuple(_GPRS[b]) for b in (64, 32, 16, 8))
XMMS = tuple(XMM(i) for i in range(32))
YMMS = tuple(YMM(i) for i in range(32))
ZMMS = tuple(ZMM(i) for i in range(32))
globals().update({r.name: r for r in XMMS + YMMS + ZMMS})


def as_operand(value: object) -> Operand:
    """Accept an Operand as is and wrap a Python int as `Imm`; reject anything else."""
    if isinstance(value, Operand):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Imm(value)
    raise AsmError(f"not an x86-64 operand: {value!r}")


__all__ = (["Operand", "GPR", "VecReg", "XMM", "YMM", "ZMM", "Mem", "RipRel", "Imm", "Label",
            "SizeSpec", "rip", "byte", "word", "dword", "qword", "xmmword", "ymmword", "zmmword",
            "ptr", "as_operand", "GPR64", "GPR32", "GPR16", "GPR8", "XMMS", "YMMS", "ZMMS"]
           + [r.name for bits in (64, 32, 16, 8) for r in _GPRS[bits]]
           + [r.name for r in XMMS + YMMS + ZMMS])
