"""`Assembler`: collects instructions, labels, alignment and constants; lays out and encodes.

Usage::

    a = Assembler(features={"avx2", "fma"})       # None: the host CPU (see cpu.py)
    loop = Label("loop")
    a.set_tag(12)                                 # later instructions map to bytecode offset 12
    a.mov(eax, dword[rdi + 8])
    a.label(loop)
    a.vfmadd231ps(ymm0, ymm1, a.const_f32s([1.0] * 8))
    a.dec(ecx)
    a.jne(loop)                                   # rel8 or rel32, chosen at finish()
    a.ret()
    code = a.finish()                             # bytes; then a.listing, a.tag_map

Every mnemonic of the ISA table is a method (``and_``/``or_``/``not_`` for Python keywords,
condition-code aliases such as ``jz``/``cmovnc``/``setnae`` included); each builds an
`Instruction` (validated then), checks the CPU features and appends it.

Layout: branches to labels start as rel8 and grow to rel32 until no displacement overflows
(a fixed point: branches only grow, so it terminates). Constants follow the code, each
aligned to its natural alignment (at most 64 bytes) relative to the start of the code, so
the code must be loaded at a 64-byte-aligned address.
"""
from __future__ import annotations

import bisect
import keyword
import struct
from collections.abc import Iterable, Sequence
from typing import Any

from splatjit.emit_x64 import cpu
from splatjit.emit_x64.encoding import fits_int8, nop_padding
from splatjit.emit_x64.errors import AsmError
from splatjit.emit_x64.instruction import Encoded, Instruction, encode
from splatjit.emit_x64.isa import TABLE
from splatjit.emit_x64.operands import Label, Operand, RipRel, fmt_num

_UNSET: Any = object()
_POOL_PAD = 0xCC        # int3 between code and constants


class _Insn:
    """An instruction in the stream; ``long_form``/``long_enc`` are set for relaxable branches."""
    __slots__ = ("insn", "form", "enc", "tag", "long_form", "long_enc", "is_long")

    def __init__(self, insn: Instruction, features: frozenset[str], tag: object):
        forms = insn.forms_for(features)
        self.insn, self.tag, self.form = insn, tag, forms[0]
        self.enc = encode(forms[0], insn.operands)
        self.long_form = self.long_enc = None
        self.is_long = False
        if forms[0].rel_size == 1:
            long_form = next((f for f in forms if f.rel_size == 4), None)
            if long_form is None:
                raise AsmError(f"{insn}: no rel32 form to relax to")
            self.long_form, self.long_enc = long_form, encode(long_form, insn.operands)

    def copy(self, tag: object) -> "_Insn":
        """The same encoded instruction with another tag (encodings are position independent;
        label and RIP fixups are resolved at layout)."""
        twin = _Insn.__new__(_Insn)
        twin.insn, twin.form, twin.enc, twin.tag = self.insn, self.form, self.enc, tag
        twin.long_form, twin.long_enc, twin.is_long = self.long_form, self.long_enc, False
        return twin

    def current(self) -> tuple[Encoded, Any]:
        return (self.long_enc, self.long_form) if self.is_long else (self.enc, self.form)


class Assembler:
    """Collects x86-64 code for one function body or stub; `finish` returns its bytes."""

    def __init__(self, features: Iterable[str] | None = None):
        self.features = cpu.host_features() if features is None else cpu.closure(features)
        self._items: list[Any] = []       # _Insn | Label | ("align", n) | ("data", bytes)
        self._bound: set[Label] = set()
        self._tag: object = None
        self._pool: dict[tuple, Label] = {}   # (bytes | labels, align) -> label of the entry
        self._code: bytes | None = None
        self.listing: list[tuple[int, str]] = []
        self.tag_map: dict[int, object] = {}
        self._label_offsets: dict[Label, int] = {}
        self._starts: list[int] = []
        self._start_tags: list[object] = []

    # ------------------------------------------------------------------ building
    def emit(self, insn: Instruction, tag: object = _UNSET) -> Instruction:
        """Append ``insn``; AsmError if the target CPU lacks its feature."""
        self._check_open()
        self._items.append(_Insn(insn, self.features, self._tag if tag is _UNSET else tag))
        return insn

    def set_tag(self, tag: object) -> None:
        """Tag (e.g. a bytecode offset) recorded for every following instruction."""
        self._tag = tag

    def label(self, label: Label | None = None) -> Label:
        """Bind ``label`` (or a new one) to the current position and return it."""
        self._check_open()
        label = label if label is not None else Label()
        if label in self._bound:
            raise AsmError(f"label {label} is bound twice")
        self._bound.add(label)
        self._items.append(label)
        return label

    def align(self, boundary: int) -> None:
        """Pad with multi-byte NOPs up to a multiple of ``boundary`` (a power of two <= 4096)."""
        if boundary <= 0 or boundary & (boundary - 1) or boundary > 4096:
            raise AsmError(f"alignment {boundary} is not a power of two up to 4096")
        self._check_open()
        self._items.append(("align", boundary))

    def db(self, data: bytes) -> None:
        """Raw bytes in the instruction stream."""
        self._check_open()
        self._items.append(("data", bytes(data)))

    # ------------------------------------------------------------------ constant pool
    def const_bytes(self, data: bytes, align: int | None = None) -> RipRel:
        """``[rip + constant]`` for ``data`` placed after the code (deduplicated).

        The operand is sized when ``len(data)`` is 1, 2, 4, 8, 16, 32 or 64 bytes.
        ``align`` defaults to the largest power of two dividing the length, at most 64.
        """
        data = bytes(data)
        if not data:
            raise AsmError("empty constant")
        if align is None:
            align = min(64, len(data) & -len(data))
        if align <= 0 or align & (align - 1) or align > 4096:
            raise AsmError(f"constant alignment {align} is not a power of two up to 4096")
        label = self._pool.setdefault((data, align), Label(f"const{len(self._pool)}"))
        size = len(data) * 8 if len(data) in (1, 2, 4, 8, 16, 32, 64) else None
        return RipRel(label, size)

    def const_f32(self, x: float) -> RipRel:
        return self.const_bytes(struct.pack("<f", x))

    def const_f64(self, x: float) -> RipRel:
        return self.const_bytes(struct.pack("<d", x))

    def const_i32(self, v: int) -> RipRel:
        return self.const_bytes((v & 0xFFFFFFFF).to_bytes(4, "little"))

    def const_i64(self, v: int) -> RipRel:
        return self.const_bytes((v & (2**64 - 1)).to_bytes(8, "little"))

    def const_f32s(self, values: Sequence[float]) -> RipRel:
        """A vector of f32 lanes (e.g. 4, 8 or 16 for an xmm/ymm/zmm operand)."""
        return self.const_bytes(struct.pack(f"<{len(values)}f", *values))

    def const_f64s(self, values: Sequence[float]) -> RipRel:
        return self.const_bytes(struct.pack(f"<{len(values)}d", *values))

    def const_i32s(self, values: Sequence[int]) -> RipRel:
        return self.const_bytes(b"".join((v & 0xFFFFFFFF).to_bytes(4, "little") for v in values))

    def const_i64s(self, values: Sequence[int]) -> RipRel:
        return self.const_bytes(b"".join((v & (2**64 - 1)).to_bytes(8, "little") for v in values))

    def jump_table(self, labels: Sequence[Label]) -> RipRel:
        """A table of int32 entries ``label - table`` in the pool (for ``br_table``).

        Dispatch: ``lea r11, [rip + table]; movsxd rax, dword [r11 + rcx*4];
        add rax, r11; jmp rax``.
        """
        key = (tuple(labels), 4)
        label = self._pool.setdefault(key, Label(f"table{len(self._pool)}"))
        return RipRel(label, 32)

    # ------------------------------------------------------------------ results
    def finish(self) -> bytes:
        """Lay out, relax branches, append constants and return the machine code.

        Afterwards ``listing`` holds (code offset, text) per instruction, ``tag_map``
        code offset -> tag for tagged instructions, and `label_offset` answers.
        """
        if self._code is not None:
            return self._code
        insns = [it for it in self._items if isinstance(it, _Insn)]
        branches = [it for it in insns if it.long_enc is not None]
        while True:
            addrs, starts = self._layout()
            grown = False
            for it, start in zip(insns, starts):
                if it.long_enc is None or it.is_long:
                    continue
                fx = it.enc.fixups[0]
                if fx.label not in addrs:
                    raise AsmError(f"{it.insn}: label {fx.label} is never bound")
                if not fits_int8(addrs[fx.label] - (start + len(it.enc.data))):
                    it.is_long, grown = True, True
            if not grown or not branches:
                break
        self._code = self._emit(addrs, starts)
        return self._code

    def label_offset(self, label: Label) -> int:
        """Code offset of a bound label or constant (after `finish`)."""
        if self._code is None:
            raise AsmError("label offsets are known only after finish()")
        if label not in self._label_offsets:
            raise AsmError(f"label {label} is not bound")
        return self._label_offsets[label]

    def tag_at(self, offset: int) -> object:
        """Tag of the instruction whose bytes contain code ``offset`` (None if untagged)."""
        i = bisect.bisect_right(self._starts, offset) - 1
        return self._start_tags[i] if i >= 0 else None

    # ------------------------------------------------------------------ internals
    def _check_open(self) -> None:
        if self._code is not None:
            raise AsmError("the assembler is finished; start a new one")

    def _layout(self) -> tuple[dict[Label, int], list[int]]:
        addrs: dict[Label, int] = {}
        starts: list[int] = []
        off = 0
        for it in self._items:
            if isinstance(it, _Insn):
                starts.append(off)
                off += len(it.current()[0].data)
            elif isinstance(it, Label):
                addrs[it] = off
            elif it[0] == "align":
                off += -off % it[1]
            else:
                off += len(it[1])
        for (data, align), label in self._pool_order():
            off += -off % align
            addrs[label] = off
            off += len(data) if isinstance(data, bytes) else 4 * len(data)
        return addrs, starts

    def _pool_order(self) -> list[tuple[tuple, Label]]:
        return sorted(self._pool.items(), key=lambda kv: -kv[0][1])

    def _emit(self, addrs: dict[Label, int], starts: list[int]) -> bytes:
        out = bytearray()
        listing, tag_map, start_tags = [], {}, []
        k = 0
        for it in self._items:
            if isinstance(it, _Insn):
                enc, form = it.current()
                assert len(out) == starts[k]
                k += 1
                listing.append((len(out), form.format(it.insn.operands)))
                start_tags.append(it.tag)
                if it.tag is not None:
                    tag_map[len(out)] = it.tag
                out += enc.resolve(len(out), addrs)
            elif isinstance(it, Label):
                pass
            elif it[0] == "align":
                out += nop_padding(-len(out) % it[1])
            else:
                listing.append((len(out), ".byte " + ", ".join(fmt_num(b) for b in it[1])))
                start_tags.append(None)
                out += it[1]
        for (data, align), label in self._pool_order():
            out += bytes((_POOL_PAD,)) * (-len(out) % align)
            if isinstance(data, tuple):
                for target in data:
                    if target not in addrs:
                        raise AsmError(f"jump table entry {target} is never bound")
                    out += (addrs[target] - addrs[label]).to_bytes(4, "little", signed=True)
            else:
                out += data
        self.listing, self.tag_map = listing, tag_map
        self._starts, self._start_tags = [s for s, _ in listing], start_tags
        self._label_offsets = addrs
        return bytes(out)


#: (features, mnemonic, operands) -> an encoded `_Insn` to copy. A JIT emits the same few
#: hundred instructions (frame accesses, trap stores) over and over; validating, matching
#: and encoding each once is most of the assembler's cost. Bounded: cleared when full.
_ENCODED: dict[tuple, _Insn] = {}
_ENCODED_LIMIT = 1 << 16


def _make_method(mnemonic: str):
    def method(self: Assembler, *operands: Operand | int, tag: object = _UNSET) -> Instruction:
        self._check_open()
        key = (self.features, mnemonic, operands)
        if any(isinstance(op, (Label, RipRel)) for op in operands):
            cached, key = None, None  # labels are unique: nothing to reuse, and no leak
        else:
            try:
                cached = _ENCODED.get(key)
            except TypeError:  # an unhashable operand (validation below reports it)
                cached, key = None, None
        if cached is None:
            insn = Instruction(mnemonic, *operands)
            cached = _Insn(insn, self.features, None)
            if key is not None:
                if len(_ENCODED) >= _ENCODED_LIMIT:
                    _ENCODED.clear()
                _ENCODED[key] = cached
        self._items.append(cached.copy(self._tag if tag is _UNSET else tag))
        return cached.insn
    method.__name__ = method.__qualname__ = mnemonic
    method.__doc__ = "; ".join(str(f) for f in TABLE.by_mnemonic[TABLE.canonical(mnemonic)])
    return method


for _name in list(TABLE.by_mnemonic) + list(TABLE.aliases):
    setattr(Assembler, _name + "_" if keyword.iskeyword(_name) else _name, _make_method(_name))
