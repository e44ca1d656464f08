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
(a fixed point: branches only grow, so it terminates); `Assembler(relax=False)` gives every
branch its rel32 form at once. `Assembler(relax=False, packed=True)` also binds labels
inside runs of label-free code and keeps `copy_code` fixups as patch sites of the run
(nothing changes size, so neither needs an item of its own). Constants follow the code, each
aligned to its natural alignment (at most 64 bytes) relative to the start of the code, so
the code must be loaded at a 64-byte-aligned address.

Cost model: an instruction without labels is matched and encoded once per process (per
feature set) and then costs a dictionary lookup and a bytes append; one naming a label
(a branch, ``[rip + label]``) reuses the encoding of the same instruction with any other
label, and one with a 64-bit immediate (an address) the encoding of the same instruction
with any other such immediate. Runs of label-free code are kept as one byte string, so
layout and branch relaxation only walk labels, alignments and label-naming instructions.
The listing and `tag_map` are built when first read.
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
from splatjit.emit_x64.instruction import Instruction, encode
from splatjit.emit_x64.isa import TABLE
from splatjit.emit_x64.operands import Imm, Label, Operand, RipRel, fmt_num

_UNSET: Any = object()
_POOL_PAD = 0xCC        # int3 between code and constants
#: Stands for the label of a label-naming instruction in its shared encoding (`_Template`);
#: made without taking a number from the counter that names anonymous labels.
_HOLE = Label.__new__(Label)
_HOLE._init(_name="<label>", uid=-1)


class _Insn:
    """A label-free instruction encoded for one feature set; shared by every emission."""
    __slots__ = ("insn", "form", "data", "text")

    def __init__(self, insn: Instruction, form, data: bytes):
        self.insn, self.form, self.data, self.text = insn, form, data, None

    def listing_text(self) -> str:
        if self.text is None:
            self.text = self.form.format(self.insn.operands)
        return self.text


class _Template:
    """The encoding of a label-naming instruction with `_HOLE` for its label: the short
    (rel8) and, for a relaxable branch, the long (rel32) form, each as (form, bytes,
    fixups); fixups are (position, size, addend), relative to the end of the instruction."""
    __slots__ = ("insn", "short", "long")

    def __init__(self, insn: Instruction, features: frozenset[str]):
        forms = insn.forms_for(features)
        self.insn = insn
        self.short = _encoded(forms[0], insn.operands)
        self.long = None
        if forms[0].rel_size == 1:
            long_form = next((f for f in forms if f.rel_size == 4), None)
            if long_form is None:
                raise AsmError(f"{insn}: no rel32 form to relax to")
            self.long = _encoded(long_form, insn.operands)


def _encoded(form, operands) -> tuple:
    enc = encode(form, operands)
    return form, enc.data, tuple((fx.pos, fx.size, fx.label, fx.addend) for fx in enc.fixups)


class _ByteText:
    """The listing "form" of copied code: its bytes as a `.byte` line."""
    __slots__ = ("data",)

    def __init__(self, data: bytes):
        self.data = data

    def format(self, operands) -> str:
        return _text(self.data)


class _FixedCode:
    """Copied code with label fixups, in a `_Ref`: `short` is (form, bytes, fixups) like a
    `_Template`'s, `long` None (its size never changes)."""
    __slots__ = ("short", "long")

    def __init__(self, data: bytes, fixups: tuple):
        self.short, self.long = (_ByteText(data), data, fixups), None


class _Ref:
    """One emission of a label-naming instruction: its template, its operands (the label
    in place), the label its fixups resolve against (None: they name labels of their own)
    and whether layout chose the long form."""
    __slots__ = ("t", "operands", "label", "is_long")

    def __init__(self, t: _Template, operands: tuple, label: Label | None):
        self.t, self.operands, self.label, self.is_long = t, operands, label, False

    def current(self) -> tuple:
        return self.t.long if self.is_long else self.t.short

    def listing_text(self) -> str:
        return self.current()[0].format(self.operands)

    def describe(self) -> str:
        return self.t.short[0].format(self.operands)


class _Align:
    __slots__ = ("boundary",)

    def __init__(self, boundary: int):
        self.boundary = boundary


class Assembler:
    """Collects x86-64 code for one function body or stub; `finish` returns its bytes."""

    def __init__(self, features: Iterable[str] | None = None, relax: bool = True,
                 packed: bool = False):
        """`relax`: branches to labels start short and grow at `finish` (else every branch
        with a rel32 form takes it at once: larger code, one layout pass). `packed` (needs
        relax=False): every item has its final size when appended, so labels get their
        code offsets as they are bound and `copy_code` fixups their positions as they are
        copied; labels are no stream items (fewer of them; `stream` is then unavailable)."""
        if packed and relax:
            raise AsmError("packed code needs relax=False (its runs never change size)")
        self.features = cpu.host_features() if features is None else cpu.closure(features)
        self._long = not relax
        self._packed = packed
        #: packed: label -> its code offset, bound so far
        self._label_at: dict[Label, int] = {}
        #: packed: the code offset of `_chunk`'s first byte (everything before it has its
        #: final size)
        self._base = 0
        #: packed: (code offsets of the copy's start and end, its fixups) per copy_code with
        #: fixups (patched at finish: `_patch_copies`)
        self._inner_copies: list[tuple[int, int, tuple]] = []
        self._cache = _ENCODED.setdefault(self.features, {})
        self._branches = _BRANCHES.setdefault(self.features, {})
        # The stream: bytearray (label-free code), Label, _Align, _Ref. `_chunk` collects the
        # current run of label-free code; `_recs` holds one item per instruction and `.byte`
        # line, in order: an _Insn, a _Ref or the raw bytes; `_runs` holds (index of the
        # first rec, tag) wherever the tag changes.
        self._items: list[Any] = []
        self._chunk = bytearray()
        self._recs: list[Any] = []
        self._runs: list[tuple[int, object]] = [(0, None)]
        self._mark = 0                        # len(_recs) when `_chunk` started
        self._chunk_recs: list[int] = []      # per bytes item: how many _recs it holds
        self._bound: set[Label] = set()
        self._tag: object = None
        self._pool: dict[tuple, Label] = {}   # (bytes | labels, align) -> label of the entry
        self._code: bytes | None = None
        self._item_starts: list[int] = []
        self._label_offsets: dict[Label, int] = {}
        self._lines: list[tuple[int, Any, object]] | None = None  # (offset, item, tag)

    # ------------------------------------------------------------------ building
    def emit(self, insn: Instruction, tag: object = _UNSET) -> Instruction:
        """Append ``insn``; AsmError if the target CPU lacks its feature."""
        self._check_open()
        _slow(self, insn.mnemonic, insn.operands, self._tag if tag is _UNSET else tag)
        return insn

    def set_tag(self, tag: object) -> None:
        """Tag (e.g. a bytecode offset) recorded for every following instruction."""
        self._tag = tag
        self._runs.append((len(self._recs), tag))

    def label(self, label: Label | None = None) -> Label:
        """Bind ``label`` (or a new one) to the current position and return it."""
        if self._code is not None:
            self._check_open()
        if label is None:
            label = Label()
        if self._packed:
            at = self._label_at
            if label in at:
                raise AsmError(f"label {label} is bound twice")
            at[label] = self._base + len(self._chunk)
            return label
        if label in self._bound:
            raise AsmError(f"label {label} is bound twice")
        self._bound.add(label)
        self._flush()
        self._items.append(label)
        return label

    def align(self, boundary: int) -> None:
        """Pad with multi-byte NOPs up to a multiple of ``boundary`` (a power of two <= 4096)."""
        if boundary <= 0 or boundary & (boundary - 1) or boundary > 4096:
            raise AsmError(f"alignment {boundary} is not a power of two up to 4096")
        self._check_open()
        self._flush()
        self._items.append(_Align(boundary))
        if self._packed:
            self._base += -self._base % boundary

    def db(self, data: bytes) -> None:
        """Raw bytes in the instruction stream."""
        self._check_open()
        data = bytes(data)
        self._chunk += data
        self._record(data, None)

    def here(self) -> int | None:
        """A packed assembler's code offset of the next byte (final: everything before it
        has its final size; a label bound now gets it); None when not packed."""
        return self._base + len(self._chunk) if self._packed else None

    def copy_code(self, data: bytes, fixups: tuple = ()) -> None:
        """Machine code assembled elsewhere (a template's copy), appended as one instruction
        record with the current tag, so disasm maps it to its op. `fixups`: (position, size,
        label, addend) fields patched at `finish` with ``label + addend - end of data``;
        code with fixups has a fixed size (no branch relaxation)."""
        if not fixups:
            self._chunk += data
            self._recs.append(data)
            return
        if self._packed:  # patched at finish, where the copy lies
            start = self._base + len(self._chunk)
            self._inner_copies.append((start, start + len(data), fixups))
            self._chunk += data
            self._recs.append(data)
            return
        self._append_ref(_Ref(_FixedCode(data, fixups), (), None), self._tag)

    @property
    def stream(self) -> tuple[list, dict]:
        """(items, pool): the recorded stream in order (bytearray runs of label-free code,
        bound Labels, alignments, label-naming instruction records) and constant label ->
        its (data, align) key. For tools that turn a short run of code into a template."""
        if self._packed:
            raise AsmError("a packed assembler's labels and fixups are not items of its stream")
        self._flush()
        return self._items, {label: key for key, label in self._pool.items()}

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
        # (a new Label per call, as anonymous label names count every Label made)
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
        self._flush()
        items = self._items
        branches = [it for it in items if type(it) is _Ref and it.t.long is not None]
        while True:
            addrs, starts = self._layout()
            grown = False
            for it in branches:
                if it.is_long:
                    continue
                label = it.label
                if label not in addrs:
                    raise AsmError(f"{it.describe()}: label {label} is never bound")
                _, data, _ = it.t.short
                if not fits_int8(addrs[label] - (starts[id(it)] + len(data))):
                    it.is_long, grown = True, True
            if not grown:
                break
        self._code = self._emit(addrs)
        return self._code

    @property
    def listing(self) -> list[tuple[int, str]]:
        """(code offset, text) per instruction and `db` run, after `finish`."""
        return [(off, _text(it)) for off, it, _ in self._line_list()]

    @property
    def tag_map(self) -> dict[int, object]:
        """Code offset -> tag of every tagged instruction, after `finish`."""
        return {off: tag for off, it, tag in self._line_list() if tag is not None}

    def label_offset(self, label: Label) -> int:
        """Code offset of a bound label or constant (after `finish`)."""
        if self._code is None:
            raise AsmError("label offsets are known only after finish()")
        if label not in self._label_offsets:
            raise AsmError(f"label {label} is not bound")
        return self._label_offsets[label]

    def tag_at(self, offset: int) -> object:
        """Tag of the instruction whose bytes contain code ``offset`` (None if untagged)."""
        lines = self._line_list()
        i = bisect.bisect_right(lines, offset, key=lambda line: line[0]) - 1
        return lines[i][2] if i >= 0 else None

    # ------------------------------------------------------------------ internals
    def _check_open(self) -> None:
        if self._code is not None:
            raise AsmError("the assembler is finished; start a new one")

    def _flush(self) -> None:
        """Closes the current run of label-free code (before a label, alignment or _Ref)."""
        n = len(self._recs) - self._mark
        if n:
            self._base += len(self._chunk)
            self._items.append(self._chunk)
            self._chunk_recs.append(n)
            self._chunk = bytearray()
            self._mark = len(self._recs)

    def _record(self, item, tag: object) -> None:
        """Appends a rec whose tag may differ from the current one."""
        if tag is self._tag:
            self._recs.append(item)
            return
        n = len(self._recs)
        self._runs.append((n, tag))
        self._recs.append(item)
        self._runs.append((n + 1, self._tag))

    def _append_ref(self, ref: _Ref, tag: object) -> None:
        if self._long and ref.t.long is not None:
            ref.is_long = True
        self._flush()
        self._items.append(ref)
        self._record(ref, tag)
        self._mark = len(self._recs)
        if self._packed:  # (long, as every label-naming instruction of packed code)
            self._base += len(ref.current()[1])

    def _layout(self) -> tuple[dict[Label, int], dict[int, int]]:
        """Label and constant addresses, and the start of every _Ref (by id), for the
        branch sizes chosen so far."""
        if self._packed:  # (finish flushed the last run: `_base` is the end of the code)
            addrs, starts, off = dict(self._label_at), {}, self._base
        else:
            addrs, starts, off = self._layout_items()
        for (data, align), label in self._pool_order():
            off += -off % align
            addrs[label] = off
            off += len(data) if isinstance(data, bytes) else 4 * len(data)
        return addrs, starts

    def _layout_items(self) -> tuple[dict[Label, int], dict[int, int], int]:
        """`_layout`'s label addresses and _Ref starts, and the end of the code, from the
        stream's items."""
        addrs: dict[Label, int] = {}
        starts: dict[int, int] = {}
        off = 0
        for it in self._items:
            kind = type(it)
            if kind is bytearray:
                off += len(it)
            elif kind is _Ref:
                starts[id(it)] = off
                off += len((it.t.long if it.is_long else it.t.short)[1])  # it.current(), inline
            elif kind is _Align:
                off += -off % it.boundary
            else:
                addrs[it] = off
        return addrs, starts, off

    def _patch_copies(self, out: bytearray, addrs: dict) -> None:
        """Writes each copy_code fixup of a packed assembler into `out` (the laid-out code):
        an int32 `label + addend - end of the copy` (struct's range check is the rel32
        reach check)."""
        pack_into, size, target = _I32.pack_into, 4, None
        try:
            for start, end, fixups in self._inner_copies:
                for pos, size, target, addend in fixups:
                    if size != 4:
                        break
                    pack_into(out, start + pos, addrs[target] + addend - end)
                if size != 4:
                    raise AsmError(f"copied code: a {size}-byte field (only rel32 is patched)")
        except KeyError:
            raise AsmError(f"copied code: label {target} is never bound") from None
        except struct.error:
            raise AsmError(f"copied code: a rel32 field cannot reach {target}") from None

    def _pool_order(self) -> list[tuple[tuple, Label]]:
        return sorted(self._pool.items(), key=lambda kv: -kv[0][1])

    def _emit(self, addrs: dict[Label, int]) -> bytes:
        out = bytearray()
        item_starts = []
        for it in self._items:
            kind = type(it)
            item_starts.append(len(out))
            if kind is bytearray:
                out += it
            elif kind is _Ref:
                _, data, fixups = it.current()
                start = len(out)
                out += data
                end, label = start + len(data), it.label
                for pos, size, target, addend in fixups:  # patched in place when it fits
                    at = addrs.get(target if label is None else label)
                    value = 0 if at is None else at + addend - end
                    if at is not None and size == 4 and -_IMM32 <= value < _IMM32:
                        _I32.pack_into(out, start + pos, value)
                    elif at is not None and size == 1 and -128 <= value < 128:
                        out[start + pos] = value & 0xFF
                    else:  # (other sizes, and the errors)
                        out[start:] = _resolve(data, fixups, start, addrs, label)
                        break
            elif kind is _Align:
                out += nop_padding(-len(out) % it.boundary)
        if self._packed and len(out) != self._base:
            raise AsmError(f"packed code laid out in {len(out)} bytes, not {self._base}")
        self._patch_copies(out, addrs)
        for (data, align), label in self._pool_order():
            out += bytes((_POOL_PAD,)) * (-len(out) % align)
            if isinstance(data, tuple):
                for target in data:
                    if target not in addrs:
                        raise AsmError(f"jump table entry {target} is never bound")
                    out += (addrs[target] - addrs[label]).to_bytes(4, "little", signed=True)
            else:
                out += data
        self._item_starts = item_starts
        self._label_offsets = addrs
        return bytes(out)

    def _line_list(self) -> list[tuple[int, Any, object]]:
        """(offset, item, tag) per instruction and `db` run, computed once after finish."""
        if self._lines is None:
            if self._code is None:
                return []
            tags = [None] * len(self._recs)
            runs = self._runs + [(len(tags), None)]
            for (first, tag), (end, _) in zip(runs, runs[1:]):
                tags[first:end] = [tag] * (end - first)  # runs never go back
            lines = []
            recs, counts = iter(zip(self._recs, tags)), iter(self._chunk_recs)
            for it, start in zip(self._items, self._item_starts):
                kind = type(it)
                if kind is bytearray:
                    off = start
                    for _ in range(next(counts)):
                        item, tag = next(recs)
                        lines.append((off, item, tag))
                        off += len(item) if type(item) is bytes else len(item.data)
                elif kind is _Ref:
                    item, tag = next(recs)
                    lines.append((start, item, tag))
            self._lines = lines
        return self._lines


def _text(item) -> str:
    if type(item) is bytes:
        return ".byte " + ", ".join(fmt_num(b) for b in item)
    return item.listing_text()


def _hole(op):
    if isinstance(op, Label):
        return _HOLE
    if isinstance(op, RipRel) and op.label is not None:
        return RipRel(_HOLE, op.size, op.disp)
    return op


def _resolve(data: bytes, fixups: tuple, address: int, addrs: dict[Label, int],
             label: Label | None) -> bytes:
    """``data`` with every fixup patched, for an instruction placed at ``address``."""
    if not fixups:
        return data
    if len(fixups) == 1:  # (a branch or one [rip + label]; errors: the loop below)
        pos, size, target, addend = fixups[0]
        at = addrs.get(target if label is None else label)
        if at is not None:
            try:
                field = (at + addend - address - len(data)).to_bytes(size, "little", signed=True)
            except OverflowError:
                pass
            else:
                return data[:pos] + field + data[pos + size:]
    out = bytearray(data)
    end = address + len(out)
    for pos, size, target, addend in fixups:
        if label is not None:
            target = label
        if target not in addrs:
            raise AsmError(f"label {target} is used but never bound")
        value = addrs[target] + addend - end
        lo, hi = -(1 << (8 * size - 1)), 1 << (8 * size - 1)
        if not lo <= value < hi:
            raise AsmError(f"displacement {value} to {target} does not fit in {8 * size} bits")
        out[pos:pos + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    return bytes(out)


#: features -> {(mnemonic, operands): _Insn} for label-free instructions, and
#: features -> {(mnemonic, operands with _HOLE): _Template} for label-naming ones. A JIT
#: emits the same few hundred instructions (frame accesses, trap stores) over and over;
#: validating, matching and encoding each once is most of the assembler's cost. Bounded:
#: a table is cleared when full.
_ENCODED: dict[frozenset, dict] = {}
_TEMPLATES: dict[frozenset, dict] = {}
_BRANCHES: dict[frozenset, dict] = {}   # features -> {mnemonic: _Template of `mnemonic label`}
#: features -> {(mnemonic, operands with None for a wide immediate): _Insn}: the encoding of
#: an instruction whose immediate is in the wide range (`_emit_wide`), patched per value.
_WIDE_IMM: dict[frozenset, dict] = {}
_WIDE_NEG_LO, _WIDE_NEG_HI = -(1 << 63), -(1 << 31)
_WIDE_LO, _WIDE_HI = 1 << 32, 1 << 63
_CACHE_LIMIT = 1 << 14
_IMM32 = 1 << 31
_I32 = struct.Struct("<i")


def _make_method(mnemonic: str):
    def method(self: Assembler, *operands: Operand | int, tag: object = _UNSET) -> Instruction:
        if self._code is not None:
            raise AsmError("the assembler is finished; start a new one")
        try:
            cached = self._cache.get((mnemonic, operands))
        except TypeError:  # an unhashable operand (validation below reports it)
            cached = None
        if cached is None:
            return _slow(self, mnemonic, operands, self._tag if tag is _UNSET else tag)
        self._chunk += cached.data
        if tag is _UNSET:
            self._recs.append(cached)
        else:
            self._record(cached, tag)
        return cached.insn
    method.__name__ = method.__qualname__ = mnemonic
    method.__doc__ = TABLE.describe(TABLE.canonical(mnemonic))
    return method


def _slow(a: Assembler, mnemonic: str, operands: tuple, tag: object) -> Instruction:
    """An instruction missing from the cache: label-naming, new, or invalid (raises)."""
    if len(operands) == 1 and type(operands[0]) is Label:  # a branch or call to a label
        t = a._branches.get(mnemonic)
        if t is not None:
            insn = Instruction.__new__(Instruction)
            insn.forms, insn.mnemonic, insn.operands = t.insn.forms, t.insn.mnemonic, operands
            a._append_ref(_Ref(t, operands, operands[0]), tag)
            return insn
    label = None
    for op in operands:
        if isinstance(op, Label):
            label = op if label is None or label is op else _HOLE
        elif isinstance(op, RipRel) and op.label is not None:
            label = op.label if label is None or label is op.label else _HOLE
    if label is None:
        wide = _wide_imm_index(operands)
        if wide >= 0:
            return _emit_wide(a, mnemonic, operands, wide, tag)
        insn = Instruction(mnemonic, *operands)
        form = insn.forms_for(a.features)[0]
        item = _Insn(insn, form, encode(form, insn.operands).data)
        if not any(type(op) is int and not -_IMM32 <= op < _IMM32 for op in operands):
            try:  # (64-bit immediates are addresses and one-off constants: not worth keeping)
                cache = a._cache
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                cache[(mnemonic, operands)] = item
            except TypeError:
                pass
        a._chunk += item.data
        a._record(item, tag)
        return insn
    if label is _HOLE:  # a branch label and a RIP-relative one: encoded on its own
        insn = Instruction(mnemonic, *operands)
        a._append_ref(_Ref(_Template(insn, a.features), insn.operands, None), tag)
        return insn
    holes = tuple(_hole(op) for op in operands)
    templates = _TEMPLATES.setdefault(a.features, {})
    key = (mnemonic, holes)
    try:
        t = templates.get(key)
    except TypeError:  # an unhashable operand: validation names it
        Instruction(mnemonic, *operands)
        raise
    if t is None:
        t = _Template(Instruction(mnemonic, *holes), a.features)
        if len(templates) >= _CACHE_LIMIT:
            templates.clear()
        templates[key] = t
        if holes == (_HOLE,):
            a._branches[mnemonic] = t
    insn = Instruction.__new__(Instruction)
    insn.forms, insn.mnemonic = t.insn.forms, t.insn.mnemonic
    insn.operands = tuple(op if isinstance(op, (Label, RipRel)) else done
                          for op, done in zip(operands, t.insn.operands))
    a._append_ref(_Ref(t, insn.operands, label), tag)
    return insn


def _wide_imm_index(operands: tuple) -> int:
    """Index of the operand that is an int in `_WIDE_IMM`'s range, or -1."""
    for i, op in enumerate(operands):
        if type(op) is int and (_WIDE_NEG_LO <= op < _WIDE_NEG_HI or _WIDE_LO <= op < _WIDE_HI):
            return i
    return -1


def _emit_wide(a: Assembler, mnemonic: str, operands: tuple, i: int, tag: object) -> Instruction:
    """Appends a label-free instruction whose operand ``i`` is a wide immediate (an address,
    say), reusing the encoding of the same instruction with another wide immediate.

    Every value in the wide range [-2**63, -2**31) u [2**32, 2**63) fits exactly the 64-bit
    immediate fields of the ISA table (raw or sign-extended) and no narrower one, so all of
    them select the same forms; the encoding differs only in its last 8 bytes.
    """
    key = (mnemonic, operands[:i] + (None,) + operands[i + 1:])
    templates = _WIDE_IMM.setdefault(a.features, {})
    t = templates.get(key)
    value = operands[i]
    if t is None:
        insn = Instruction(mnemonic, *operands)
        form = insn.forms_for(a.features)[0]
        item = _Insn(insn, form, encode(form, insn.operands).data)
        if form.imm_size == 8 and item.data.endswith(value.to_bytes(8, "little", signed=True)):
            if len(templates) >= _CACHE_LIMIT:
                templates.clear()
            templates[key] = item
    else:
        insn = Instruction.__new__(Instruction)
        insn.forms, insn.mnemonic = t.insn.forms, t.insn.mnemonic
        done = t.insn.operands
        insn.operands = done[:i] + (Imm(value),) + done[i + 1:]
        item = _Insn(insn, t.form, t.data[:-8] + value.to_bytes(8, "little", signed=True))
    a._chunk += item.data
    a._record(item, tag)
    return insn


for _name in list(TABLE.by_mnemonic) + list(TABLE.aliases):
    setattr(Assembler, _name + "_" if keyword.iskeyword(_name) else _name, _make_method(_name))
