"""`Assembler`: emits AArch64 instructions from the form table, with labels, fixups,
branch veneers, a literal pool, a listing and per-instruction tags.

Usage::

    a = Assembler()
    loop = a.label("loop")
    a.bind(loop)
    a.ldr(w2, mem(x0, 4))
    a.add(w1, w1, w2)
    a.subs(x3, x3, 1)
    a.b_ne(loop)            # or a.b_cond("ne", loop)
    a.ret()
    code = a.finish()       # bytes, little-endian words, literal pool appended
    a.listing               # [(offset, "ldr w2, [x0, #4]"), ...]
    a.tags                  # {offset: tag} for instructions emitted while a.tag was set

Every table mnemonic is a method (`and` -> `and_`, `not` -> `not_`, `b.eq` -> `b_eq`);
aliases (`mov`, `cmp`, `lsl`, `cset`, ...) are methods too. Operand errors raise
`AsmError` at the call, naming each candidate form and why it was rejected.

Layout happens in `finish`: a conditional branch (B.cond, CBZ/CBNZ, TBZ/TBNZ) whose target
is out of range becomes the inverted branch over a `B` (8 bytes); B/BL beyond +-128 MiB
and literal loads beyond +-1 MiB raise `AsmError`.
"""
from __future__ import annotations

import keyword
import numbers
import struct
from contextlib import contextmanager
from dataclasses import dataclass

from . import isa
from .aliases import ALIASES, AliasText, mov_imm
from .encoding import encode_fp_imm8, float_bits, materialize, mask
from .operands import GPR, AsmError, FPReg, Imm, Label, VArr, invert_cond
from .specs import LABEL_BITS, patch_label, shape

_B_OPCODE = 0x14000000


@dataclass(slots=True)
class _Insn:
    word: int
    text: "str | tuple"  # listing text, or (form, operands) / AliasText to format on demand
    tag: object
    target: Label | None = None
    reloc: str | None = None
    relaxable: bool = False
    long: bool = False  # expanded to inverted branch + B

    def size(self, pos: int) -> int:
        return 8 if self.long else 4

    def listing_text(self) -> str:
        text = self.text
        if type(text) is AliasText:
            self.text = str(text)
        elif isinstance(text, tuple):
            form, ops = text
            self.text = form.format(ops)
        return self.text


@dataclass
class _Align:
    alignment: int
    tag: object

    def size(self, pos: int) -> int:
        return -pos % self.alignment


_NOP = isa.FORMS_BY_NAME["nop"].bits
_CANDIDATES: dict[tuple, list] = {}  # (mnemonic, operand shapes) -> forms worth matching
#: (mnemonic, text, operands with a label as _HOLE, operand types) -> `Assembler._encode`'s
#: answer. Types are part of the key: 1 and True are equal but select other forms; float
#: operands are not cached (0.0 == -0.0). Bounded: cleared when full.
_ENCODED: dict[tuple, tuple] = {}
_ENCODED_LIMIT = 1 << 16
_HOLE = Label("<label>")


class Assembler:
    """One function's worth of AArch64 code. Not reusable after `finish`."""

    def __init__(self, features: frozenset[str] = isa.FEATURES):
        self.features = frozenset(features)
        self.tag: object = None  # attached to every instruction emitted while set
        self._items: list[_Insn | _Align] = []
        self._labels: dict[Label, int] = {}  # label -> index of the item it precedes
        self._pool: dict[bytes, Label] = {}
        self._listing: list[tuple[int, object]] = []  # (offset, _Insn or text)
        self.tags: dict[int, object] = {}
        self._label_offsets: dict[Label, int] = {}

    # ------------------------------------------------------------------ emission

    def emit(self, mnemonic: str, *operands, text: str | None = None) -> None:
        """Emit table mnemonic `mnemonic` with the first form that accepts `operands`
        (aliases such as `mov` are methods: use `getattr(asm, name)(*operands)`).
        A scaled load/store falls back to its unscaled twin (LDR -> LDUR).

        The form, operands and word of an instruction are found once per process: later
        emissions of it (its label, if it names one, aside) are a dictionary lookup."""
        types = tuple(map(type, operands))
        hole = types.index(Label) if Label in types else None
        if float in types:  # 0.0 == -0.0, with one hash: float operands are not cached
            key = hit = None
        else:
            key = (mnemonic, text, operands if hole is None else
                   operands[:hole] + (_HOLE,) + operands[hole + 1:], types)
            try:
                hit = _ENCODED.get(key)
            except TypeError:  # an unhashable operand: the slow path reports or handles it
                key = hit = None
        if hit is None:
            hit = self._encode(mnemonic, operands, hole)
            if key is not None and (hole is None or types.count(Label) == 1):
                if len(_ENCODED) >= _ENCODED_LIMIT:
                    _ENCODED.clear()
                _ENCODED[key] = hit
        form, ops, word, relaxable = hit
        if form.feature and form.feature not in self.features:
            raise AsmError(f"{form.name} needs feature {form.feature!r}")
        if hole is None:
            self._items.append(_Insn(word, text or (form, ops), self.tag))
            return
        label = operands[hole]
        ops = ops[:hole] + (label,) + ops[hole + 1:]
        self._items.append(_Insn(word, text or (form, ops), self.tag, label,
                                 form.specs[hole].reloc, relaxable))

    def _encode(self, mnemonic: str, operands: tuple, hole: int | None) -> tuple:
        """(form, operands with defaults, word, relaxable) with the label at `hole`, if
        any, replaced by `_HOLE`; AsmError when no form takes the operands."""
        operands = tuple(map(_plain, operands))
        shapes = tuple(map(shape, operands))
        form, ops = self._select(mnemonic, shapes, operands)
        if form is None and mnemonic in isa.UNSCALED:
            form, ops = self._select(isa.UNSCALED[mnemonic], shapes, operands)
        if form is None:
            self._reject(mnemonic, operands)
        word = form.encode(ops)
        if hole is not None and hole != form.label_index:  # pragma: no cover - specs reject it
            raise AsmError(f"{form.name}: a label as operand {hole + 1}")
        relaxable = hole is not None and form.mnemonic[:2] in ("b.", "cb", "tb") and \
            form.mnemonic not in ("b.al", "b.nv")
        if hole is not None:
            ops = ops[:hole] + (_HOLE,) + ops[hole + 1:]
        return form, ops, word, relaxable

    @staticmethod
    def _select(mnemonic: str, shapes: tuple, operands: tuple):
        key = (mnemonic, shapes)
        forms = _CANDIDATES.get(key)
        if forms is None:
            forms = _CANDIDATES[key] = [f for f in isa.FORMS_BY_MNEMONIC.get(mnemonic, ())
                                        if f.accepts_shapes(shapes)]
        for form in forms:
            ops, _ = form.match(operands)
            if ops is not None:
                return form, ops
        return None, None

    @staticmethod
    def _reject(mnemonic: str, operands: tuple):
        """Raise the AsmError that names every candidate form and why it refused."""
        if mnemonic not in isa.FORMS_BY_MNEMONIC:
            raise AsmError(f"unknown mnemonic {mnemonic!r}")
        forms = isa.FORMS_BY_MNEMONIC[mnemonic] + \
            isa.FORMS_BY_MNEMONIC.get(isa.UNSCALED.get(mnemonic), [])
        shapes = tuple(map(shape, operands))
        forms = [f for f in forms if f.accepts_shapes(shapes)] or forms  # closest first
        reasons = [f"{form.name}: {form.match(operands)[1]}" for form in forms]
        shown = ", ".join(map(repr, operands))
        raise AsmError(f"no form of {mnemonic} accepts ({shown}):\n  " + "\n  ".join(reasons))

    def word(self, value: int, text: str | None = None) -> None:
        """Emit a raw 32-bit word."""
        if not 0 <= value < 1 << 32:
            raise AsmError(f"word {value!r} does not fit 32 bits")
        self._items.append(_Insn(value, text or f".word 0x{value:08x}", self.tag))

    def align(self, alignment: int) -> None:
        """Pad with NOPs to a multiple of `alignment` bytes (a power of two >= 4)."""
        if alignment < 4 or alignment & (alignment - 1):
            raise AsmError(f"alignment {alignment} is not a power of two >= 4")
        self._items.append(_Align(alignment, self.tag))

    @contextmanager
    def tagged(self, tag):
        """Tag the instructions emitted inside the block with `tag`."""
        saved, self.tag = self.tag, tag
        try:
            yield
        finally:
            self.tag = saved

    # ------------------------------------------------------------------ labels

    def label(self, name: str = "") -> Label:
        """A new unbound label."""
        return Label(name)

    def bind(self, label: Label) -> Label:
        """Place `label` at the current position; a label binds once."""
        if not isinstance(label, Label):
            raise AsmError(f"bind expects a Label, got {label!r}")
        if label in self._labels:
            raise AsmError(f"label {label} bound twice")
        self._labels[label] = len(self._items)
        return label

    def label_offset(self, label: Label) -> int:
        """Byte offset of a bound label (after `finish`)."""
        try:
            return self._label_offsets[label]
        except KeyError:
            raise AsmError(f"label {label} has no offset (unbound, or finish() not called)") \
                from None

    # ------------------------------------------------------------------ constants

    def ldr_const(self, reg, value) -> None:
        """`ldr reg, =value` from the literal pool. `reg` is W/X/S/D/Q (or a vector
        arrangement of 8/16 bytes); `value` is an int (raw bits), a float (S/D) or bytes
        of exactly the register size. Equal constants share one pool slot."""
        size, data = _const_bytes(reg, value)
        label = self._pool.get(data)
        if label is None:
            label = self._pool[data] = Label(f".Lpool{len(self._pool)}")
        target = reg if not isinstance(reg, VArr) else FPReg(reg.code, size)
        self.emit("ldr", target, label, text=f"ldr {reg}, ={_const_text(value)}")

    def load_const(self, reg, value) -> None:
        """Put a constant in `reg` the cheapest way: GPR by MOVZ/MOVN/MOVK/ORR when it
        takes at most 3 instructions, else the pool; FP by FMOV (zero or imm8) when it
        can, else the pool; vectors by MOVI #0 when zero, else the pool."""
        if isinstance(reg, GPR):
            if not isinstance(value, int):
                raise AsmError(f"load_const: GPR value must be an int, got {value!r}")
            if len(materialize(value, reg.width)) <= 3:
                mov_imm(self, reg, value)
            else:
                self.ldr_const(reg, value)
            return
        size, data = _const_bytes(reg, value)
        if not any(data):
            if isinstance(reg, FPReg) and size in (4, 8):
                zr = GPR(31, 8 * size, "zr")
                return self.emit("fmov", reg, zr)
            return self.emit("movi", VArr(reg.code, 8, size // 8), 0)
        if isinstance(reg, FPReg) and size in (4, 8):
            fval = struct.unpack("<f" if size == 4 else "<d", data)[0]
            if encode_fp_imm8(fval) is not None:
                return self.emit("fmov", reg, fval)
        self.ldr_const(reg, value)

    # ------------------------------------------------------------------ layout

    def _layout(self) -> tuple[list[int], int, dict[Label, int]]:
        """Item offsets, end of code, and every label's offset; relaxes out-of-range
        conditional branches until nothing changes (sizes only grow, so it terminates)."""
        while True:
            offsets, pos = [], 0
            for item in self._items:
                offsets.append(pos)
                pos += item.size(pos)
            end = pos
            labels = {lab: (offsets[i] if i < len(offsets) else end)
                      for lab, i in self._labels.items()}
            pool_align = max((len(d) for d in self._pool), default=4)
            pos = end + (-end % pool_align)
            for data in sorted(self._pool, key=len, reverse=True):
                labels[self._pool[data]] = pos
                pos += len(data)
            changed = False
            for item, off in zip(self._items, offsets):
                if isinstance(item, _Insn) and item.relaxable and not item.long:
                    if item.target not in labels:
                        raise AsmError(f"label {item.target} used but never bound")
                    delta = (labels[item.target] - off) >> 2
                    limit = 1 << (LABEL_BITS[item.reloc] - 1)
                    if not -limit <= delta < limit:
                        item.long = changed = True
            if not changed:
                return offsets, end, labels

    def finish(self) -> bytes:
        """Resolve labels and return the code (little-endian 32-bit words) followed by the
        literal pool. Fills `listing`, `tags` and label offsets."""
        offsets, end, labels = self._layout()
        words = bytearray()
        self._listing, self.tags = [], {}
        for item, off in zip(self._items, offsets):
            if isinstance(item, _Align):
                for pad in range(off, off + item.size(off), 4):
                    self._put(words, pad, _NOP, "nop", item.tag)
                continue
            if item.target is None:
                self._put(words, off, item.word, item, item.tag)
                continue
            if item.target not in labels:
                raise AsmError(f"label {item.target} used but never bound")
            target = labels[item.target]
            if item.long:
                inverted = item.word ^ (1 if item.reloc == "label19" and
                                        item.word >> 24 == 0x54 else 1 << 24)
                self._put(words, off, patch_label(inverted, item.reloc, 8),
                          _inverse_text(item.listing_text()), item.tag)
                self._put(words, off + 4, patch_label(_B_OPCODE, "label26", target - off - 4),
                          f"b {item.target}", item.tag)
            else:
                try:
                    word = patch_label(item.word, item.reloc, target - off)
                except AsmError as err:
                    raise AsmError(f"{item.listing_text()}: {err.message}") from None
                self._put(words, off, word, item, item.tag)
        if self._pool:
            pool_start = min(labels[lab] for lab in self._pool.values())
            words.extend(b"\0" * (pool_start - len(words)))
            for data in sorted(self._pool, key=len, reverse=True):
                self._listing.append((len(words), f".{len(data)}byte 0x{data[::-1].hex()}"))
                words.extend(data)
        self._label_offsets = labels
        return bytes(words)

    def _put(self, words: bytearray, off: int, word: int, text, tag) -> None:
        words.extend(struct.pack("<I", word))
        self._listing.append((off, text))
        if tag is not None:
            self.tags[off] = tag

    @property
    def listing(self) -> list[tuple[int, str]]:
        """(code offset, text) per emitted word and pool entry, after `finish`."""
        return [(off, text if isinstance(text, str) else text.listing_text())
                for off, text in self._listing]

    @property
    def tag_map(self) -> dict[int, object]:
        """`tags` under the x86-64 assembler's name (what `CompiledModule` reads)."""
        return self.tags

    def listing_text(self) -> str:
        """The listing as text, one `offset: instruction` per line."""
        return "\n".join(f"{off:6x}:  {text}" for off, text in self.listing)


def _plain(op):
    """Unwrap `Imm`, and turn numpy/other integral and real scalars into int/float."""
    kind = type(op)
    if kind is int or kind is float or kind is bool:
        return op
    if kind is Imm:
        return _plain(op.value)
    if isinstance(op, numbers.Integral):
        return int(op)
    if isinstance(op, numbers.Real):
        return float(op)
    return op


def _inverse_text(text: str) -> str:
    """Listing text of the inverted short branch of a veneer (`b.eq L` -> `b.ne .+8`)."""
    mnemonic, _, rest = text.partition(" ")
    if mnemonic.startswith("b."):
        return f"b.{invert_cond(mnemonic[2:])} .+8"
    swap = {"cbz": "cbnz", "cbnz": "cbz", "tbz": "tbnz", "tbnz": "tbz"}[mnemonic]
    return f"{swap} {rest.rsplit(', ', 1)[0]}, .+8"


def _const_text(value) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value)[::-1].hex()
    return hex(value) if isinstance(value, int) else repr(value)


def _const_bytes(reg, value) -> tuple[int, bytes]:
    """(size, little-endian bytes) of `value` for register `reg`."""
    if isinstance(reg, GPR):
        if reg.is_sp or reg.is_zr:
            raise AsmError(f"cannot load a constant into {reg}")
        size = reg.width // 8
    elif isinstance(reg, FPReg) and reg.size in (4, 8, 16):
        size = reg.size
    elif isinstance(reg, VArr):
        size = reg.esize * reg.lanes
    else:
        raise AsmError(f"cannot load a constant into {reg!r}")
    if isinstance(value, (bytes, bytearray)):
        if len(value) != size:
            raise AsmError(f"constant of {len(value)} bytes for a {size}-byte register")
        return size, bytes(value)
    if isinstance(value, float):
        if isinstance(reg, GPR) or size not in (4, 8):
            raise AsmError(f"float constant needs an S or D register, got {reg}")
        value = float_bits(value, size)
    if not isinstance(value, int) or not -(1 << (8 * size - 1)) <= value < 1 << (8 * size):
        raise AsmError(f"constant {value!r} does not fit {size} bytes")
    return size, (value & mask(8 * size)).to_bytes(size, "little")


# ------------------------------------------------------------------ generated methods

def _method_name(mnemonic: str) -> str:
    name = mnemonic.replace(".", "_")
    return name + "_" if keyword.iskeyword(name) else name


def _table_method(mnemonic: str):
    def method(self, *operands):
        self.emit(mnemonic, *operands)
    forms = isa.FORMS_BY_MNEMONIC[mnemonic]
    method.__doc__ = f"{mnemonic}: " + "; ".join(", ".join(f.operands) for f in forms)
    return method


def _alias_method(name: str):
    fn = ALIASES[name]

    def method(self, *operands):
        fn(self, *map(_plain, operands))
    method.__doc__ = fn.__doc__ or f"{name} (alias)"
    return method


for _mnemonic in isa.FORMS_BY_MNEMONIC:
    setattr(Assembler, _method_name(_mnemonic), _table_method(_mnemonic))
for _name in ALIASES:
    setattr(Assembler, _method_name(_name), _alias_method(_name))
