"""Instruction forms: the parsed rows of `isa.py` and the matching of operands against them.

A row is written as in the Intel SDM opcode tables, one string per form::

    "ADD r/m64, simm8 | REX.W 83 /0 ib | base"
    "VFMADD231PS ymm, ymm, ymm/m256 | VEX.256.66.0F38.W0 B8 /r | fma"
    "VMASKMOVPS m128, xmm, xmm | VEX.128.66.0F38.W0 2E /r | avx | MVR"

Fields: ``MNEMONIC operand-patterns | encoding | features (joined by +) [| Op/En]``.

Operand patterns: ``r8 r16 r32 r64``, ``r/m8``..``r/m64``, ``m`` (any size), ``m8``..``m512``,
``xmm ymm zmm``, ``xmm/m32`` (register or memory of that size), fixed registers ``AL AX
EAX RAX CL``, the constant ``1``, ``imm8 imm16 imm32 imm64`` (raw; imm32 is sign-extended
in a 64-bit form), ``simm8`` (sign-extended to the operand size), ``rel8 rel32``.

Encoding: legacy rows list prefix bytes (66/F2/F3), ``REX.W``, opcode bytes (``B8+r`` adds
the register number), ``/r`` or ``/digit``, then ``ib iw id io`` / ``cb cd``. VEX/EVEX rows
start with ``VEX.L.pp.map.W`` (L: 128/256/512/LIG/LZ; W: W0/W1/WIG). The Op/En column is
inferred (the memory-capable operand is ModRM.rm; other registers fill ModRM.reg then
VEX.vvvv) unless given as letters R M V I O D X (X = implicit) per operand.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from splatjit.emit_x64.encoding import MAPS, PP
from splatjit.emit_x64.errors import AsmError
from splatjit.emit_x64.operands import (GPR, Imm, Label, Mem, Operand, RipRel, VecReg, al, ax,
                                        cl, eax, fmt_num, rax)

_FIXED = {"AL": al, "AX": ax, "EAX": eax, "RAX": rax, "CL": cl}
_VEC_BITS = {"xmm": 128, "ymm": 256, "zmm": 512}
ROLE_ORDER = ("reg", "rm", "vvvv", "opreg", "imm", "rel")   # order of Form.slots
_ROLE_LETTERS = {"R": "reg", "M": "rm", "V": "vvvv", "I": "imm", "O": "opreg", "D": "rel",
                 "X": "implicit"}


@dataclass(frozen=True)
class Pattern:
    """One operand slot of a form. ``mem`` is the memory size in bits (0: any, None: no memory)."""
    text: str
    kind: str          # gpr, vec, mem, fixed, one, imm, rel
    bits: int = 0      # register / immediate / branch-displacement width
    mem: int | None = None
    sext: bool = False

    @staticmethod
    def parse(text: str) -> Pattern:
        if text in _FIXED:
            return Pattern(text, "fixed", _FIXED[text].bits)
        if text == "1":
            return Pattern(text, "one")
        if text.startswith(("imm", "simm")):
            return Pattern(text, "imm", int(text.split("imm")[1]), sext=text.startswith("s"))
        if text.startswith("rel"):
            return Pattern(text, "rel", int(text[3:]))
        if text == "m":
            return Pattern(text, "mem", mem=0)
        if text.startswith("m"):
            return Pattern(text, "mem", mem=int(text[1:]))
        reg, _, mem = text.partition("/m")
        if text.startswith("r/m"):
            reg, mem = "r" + text[3:], text[3:]
        mem_bits = int(mem) if mem else None
        if reg in _VEC_BITS:
            return Pattern(text, "vec", _VEC_BITS[reg], mem_bits)
        if reg in ("r8", "r16", "r32", "r64"):
            return Pattern(text, "gpr", int(reg[1:]), mem_bits)
        raise ValueError(f"bad operand pattern {text!r}")


@dataclass(frozen=True, eq=False)
class Form:
    """One encodable instruction form; the generic encoder in `instruction.py` reads it."""
    mnemonic: str                  # lower case, as capstone prints it
    patterns: tuple[Pattern, ...]
    roles: tuple[str, ...]         # per operand: reg rm vvvv opreg imm rel implicit
    space: str                     # legacy | vex | evex
    prefixes: bytes                # legacy prefixes (66/F2/F3) in order
    opcode: bytes                  # legacy: escape + opcode bytes; VEX/EVEX: the opcode byte
    w: int                         # REX.W / VEX.W / EVEX.W
    vmap: int                      # VEX/EVEX map (1: 0F, 2: 0F38, 3: 0F3A)
    pp: int                        # VEX/EVEX implied prefix
    vl: int                        # VEX.L (0/1) or EVEX.L'L (0/1/2)
    digit: int | None              # ModRM.reg /digit
    modrm: bool
    imm_size: int                  # bytes of immediate (0: none)
    rel_size: int                  # bytes of branch displacement (0: none)
    features: frozenset[str]
    opsize: int                    # operand size in bits that sign-extended immediates reach
    row: str
    value_checked: bool            # operand values (immediates, fixed registers) matter
    slots: tuple[int | None, ...]  # operand index per role: reg, rm, vvvv, opreg, imm, rel

    def __str__(self) -> str:
        return f"{self.mnemonic} {', '.join(p.text for p in self.patterns)}".rstrip()

    @property
    def mem_bits(self) -> int | None:
        """Size of the memory operand this form can take (EVEX disp8*N uses it)."""
        for p in self.patterns:
            if p.mem:
                return p.mem
        return None

    def accepts_kinds(self, sigs: tuple[tuple, ...]) -> bool:
        """Whether operands of these kinds (`Operand.sig`) could fit, values aside."""
        return len(sigs) == len(self.patterns) and all(
            _kind_fits(p, sig, self.space) for p, sig in zip(self.patterns, sigs))

    def accepts(self, operands: tuple[Operand, ...], ignore_imm: bool = False) -> bool:
        if len(operands) != len(self.patterns):
            return False
        return all(_accepts(p, op, self, ignore_imm) for p, op in zip(self.patterns, operands))

    def format(self, operands: tuple[Operand, ...]) -> str:
        """Intel-syntax text in capstone's style, memory sized by the form."""
        texts = []
        for p, op in zip(self.patterns, operands):
            if isinstance(op, (Mem, RipRel)):
                texts.append(op.format(op.size if op.size else (p.mem or None)))
            else:
                texts.append(str(op))
        return f"{self.mnemonic} {', '.join(texts)}".rstrip()


def imm_fits(value: int, pattern: Pattern, opsize: int) -> bool:
    """Whether ``value`` encodes in the pattern's immediate field for this operand size.

    A raw field of b bits takes [-2**(b-1), 2**b). A sign-extended field (simm8, or imm32 in
    a 64-bit form) takes the values whose ``opsize``-bit two's complement fits in b signed bits.
    """
    b = pattern.bits
    if pattern.sext or (b == 32 and opsize == 64):
        if not -(1 << (opsize - 1)) <= value < (1 << opsize):
            return False
        signed = value - (1 << opsize) if value >= (1 << (opsize - 1)) else value
        return -(1 << (b - 1)) <= signed < (1 << (b - 1))
    return -(1 << (b - 1)) <= value < (1 << b)


def _kind_fits(p: Pattern, sig: tuple, space: str) -> bool:
    tag = sig[0]
    if tag == "m":
        return p.mem is not None and (sig[1] is None or p.mem == 0 or sig[1] == p.mem)
    if tag == "r":
        return p.kind in ("gpr", "fixed") and p.bits == sig[1]
    if tag == "v":
        return p.kind == "vec" and p.bits == sig[1] and (not sig[2] or space == "evex")
    if tag == "i":
        return p.kind in ("imm", "one")
    return tag == "l" and p.kind == "rel"


def _accepts(p: Pattern, op: Operand, form: Form, ignore_imm: bool) -> bool:
    kind = p.kind
    if isinstance(op, (Mem, RipRel)):
        return p.mem is not None and (op.size is None or p.mem == 0 or op.size == p.mem)
    if kind == "gpr":
        return isinstance(op, GPR) and op.bits == p.bits
    if kind == "vec":
        return (isinstance(op, VecReg) and op.bits == p.bits
                and (op.num < 16 or form.space == "evex"))
    if kind == "fixed":
        return op == _FIXED[p.text]
    if kind == "one":
        return isinstance(op, Imm) and op.value == 1
    if kind == "imm":
        return isinstance(op, Imm) and (ignore_imm or imm_fits(op.value, p, form.opsize))
    if kind == "rel":
        return isinstance(op, Label)
    return False


# --------------------------------------------------------------------------- row parsing

def parse_row(row: str) -> Form:
    fields = [f.strip() for f in row.split("|")]
    if len(fields) not in (3, 4):
        raise ValueError(f"bad ISA row {row!r}")
    head, enc, feats = fields[:3]
    mnemonic, _, ops = head.partition(" ")
    patterns = tuple(Pattern.parse(t.strip()) for t in ops.split(",")) if ops.strip() else ()
    tokens = enc.split()
    space, prefixes, w, vmap, pp, vl = "legacy", bytearray(), 0, 0, 0, 0
    if tokens[0].startswith(("VEX.", "EVEX.")):
        parts = tokens.pop(0).split(".")
        space = parts[0].lower()
        vl = {"128": 0, "256": 1, "512": 2, "LIG": 0, "LZ": 0}[parts[1]]
        pp = PP[int(parts[2], 16)] if parts[2] in ("66", "F2", "F3") else 0
        vmap = MAPS[parts[-2]]
        w = 1 if parts[-1] == "W1" else 0
    else:
        while tokens[0] in ("66", "F2", "F3", "NP"):
            tok = tokens.pop(0)
            if tok != "NP":
                prefixes.append(int(tok, 16))
    opcode, digit, modrm, plus_r, imm_size, rel_size = bytearray(), None, False, False, 0, 0
    for tok in tokens:
        if tok == "REX.W":
            w = 1
        elif tok == "/r":
            modrm = True
        elif tok.startswith("/"):
            modrm, digit = True, int(tok[1:])
        elif tok in ("ib", "iw", "id", "io"):
            imm_size = {"ib": 1, "iw": 2, "id": 4, "io": 8}[tok]
        elif tok in ("cb", "cd"):
            rel_size = {"cb": 1, "cd": 4}[tok]
        elif "+r" in tok:
            opcode.append(int(tok.split("+")[0], 16))
            plus_r = True
        else:
            opcode.append(int(tok, 16))
    opsize = next((p.bits if p.kind in ("gpr", "fixed") else p.mem
                   for p in patterns if p.kind in ("gpr", "fixed") or (p.kind == "mem" and p.mem)), 64)
    roles = _roles(patterns, space, modrm, digit, plus_r, fields[3] if len(fields) == 4 else None)
    return Form(mnemonic.lower(), patterns, roles, space, bytes(prefixes), bytes(opcode), w,
                vmap, pp, vl, digit, modrm, imm_size, rel_size,
                frozenset(feats.split("+")), opsize, row,
                any(p.kind in ("imm", "one", "fixed") for p in patterns),
                tuple(roles.index(r) if r in roles else None for r in ROLE_ORDER))


def _roles(patterns: tuple[Pattern, ...], space: str, modrm: bool, digit: int | None,
           plus_r: bool, explicit: str | None) -> tuple[str, ...]:
    if explicit:
        if len(explicit) != len(patterns):
            raise ValueError(f"Op/En {explicit!r} does not match {len(patterns)} operands")
        return tuple(_ROLE_LETTERS[c] for c in explicit)
    roles: list[str | None] = []
    for p in patterns:
        roles.append({"fixed": "implicit", "one": "implicit", "imm": "imm", "rel": "rel"}.get(p.kind))
    places = [i for i, r in enumerate(roles) if r is None]
    if plus_r:
        (i,) = places
        roles[i] = "opreg"
    elif modrm:
        mem_capable = [i for i in places if patterns[i].mem is not None]
        if mem_capable:
            rm = mem_capable[0]
        elif digit is not None and space != "legacy":
            rm = places[-1]
        elif digit is not None:
            rm = places[0]
        else:
            rm = places[-1] if space != "legacy" else places[1]
        roles[rm] = "rm"
        rest = [i for i in places if i != rm]
        for i, role in zip(rest, (["reg", "vvvv"] if digit is None else ["vvvv"])):
            roles[i] = role
    elif space != "legacy" and places:
        raise ValueError("VEX/EVEX register operands need ModRM")
    if None in roles:
        raise ValueError(f"cannot place operands {[p.text for p in patterns]}")
    return tuple(roles)  # type: ignore[arg-type]


def describe(op: Operand) -> str:
    """Operand kind for error messages: ``r64 rax``, ``m64 qword ptr [rax]``, ``imm 0x10``."""
    if isinstance(op, GPR):
        return f"r{op.bits} {op}"
    if isinstance(op, VecReg):
        return str(op)
    if isinstance(op, (Mem, RipRel)):
        return f"m{op.size or ''} {op}"
    if isinstance(op, Imm):
        return f"imm {fmt_num(op.value)}"
    if isinstance(op, Label):
        return f"label {op}"
    return repr(op)


def row_mnemonic(row: str) -> str:
    """The mnemonic `parse_row(row)` gives its form (lower case), read without parsing."""
    return row.split("|", 1)[0].strip().partition(" ")[0].lower()


def row_text(row: str) -> str:
    """`str(parse_row(row))` (mnemonic and operand patterns), read without parsing."""
    mnemonic, _, ops = row.split("|", 1)[0].strip().partition(" ")
    return f"{mnemonic.lower()} {', '.join(t.strip() for t in ops.split(','))}".rstrip()


class _FormsByMnemonic(Mapping):
    """mnemonic -> its forms in row order, each mnemonic's rows parsed on first access
    (an import parses none: most processes use a few dozen of ~300 mnemonics)."""

    def __init__(self, rows: list[str]):
        self.rows: dict[str, list[str]] = {}
        for row in rows:
            self.rows.setdefault(row_mnemonic(row), []).append(row)
        self.parsed: dict[str, list[Form]] = {}

    def __getitem__(self, name: str) -> list[Form]:
        forms = self.parsed.get(name)
        if forms is None:
            forms = [parse_row(row) for row in self.rows[name]]
            if any(f.mnemonic != name for f in forms):  # pragma: no cover - row_mnemonic's contract
                raise AssertionError(f"ISA rows of {name!r} parse to another mnemonic")
            self.parsed[name] = forms
        return forms

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, name) -> bool:
        return name in self.rows


class FormTable:
    """All forms by mnemonic, in preference order (shorter encodings first); a mnemonic's
    rows are parsed when it is first used (`by_mnemonic` is a read-only mapping)."""

    def __init__(self, rows: list[str], aliases: dict[str, str]):
        self.by_mnemonic = _FormsByMnemonic(rows)
        self.aliases = dict(aliases)
        self._by_kinds: dict[tuple, tuple[Form, ...]] = {}   # (name, sigs) -> forms

    @property
    def forms(self) -> list[Form]:
        return [f for name in self.by_mnemonic for f in self.by_mnemonic[name]]

    def describe(self, mnemonic: str) -> str:
        """Every form of `mnemonic` (canonical name) as text, without parsing its rows."""
        return "; ".join(row_text(row) for row in self.by_mnemonic.rows[mnemonic])

    def canonical(self, mnemonic: str) -> str:
        name = mnemonic.lower().rstrip("_")
        return self.aliases.get(name, name)

    def match(self, mnemonic: str, operands: tuple[Operand, ...]) -> tuple[Form, ...]:
        """The forms that encode ``mnemonic operands``, best first; AsmError when none does."""
        name = self.canonical(mnemonic)
        candidates = self.by_mnemonic.parsed.get(name)
        if candidates is None:
            if name not in self.by_mnemonic:
                raise AsmError(f"unknown x86-64 instruction {mnemonic!r}")
            candidates = self.by_mnemonic[name]
        try:
            key = (name, tuple(op.sig for op in operands))
        except AttributeError:
            raise AsmError(f"{name}: not an x86-64 operand in {operands!r}") from None
        by_kind = self._by_kinds.get(key)
        if by_kind is None:
            by_kind = self._by_kinds[key] = tuple(f for f in candidates if f.accepts_kinds(key[1]))
        forms = tuple(f for f in by_kind if not f.value_checked or f.accepts(operands))
        if not forms or any(op.sig == ("m", None) for op in operands):
            self._check(name, candidates, forms, operands)
        return forms

    @staticmethod
    def _check(name: str, candidates: list[Form], forms: tuple[Form, ...],
               operands: tuple[Operand, ...]) -> None:
        text = f"{name} {', '.join(describe(o) for o in operands)}".rstrip()
        if not forms:
            near = [str(f) for f in candidates if f.accepts(operands, ignore_imm=True)]
            if near:
                raise AsmError(f"{text}: immediate does not fit any form ({'; '.join(near)})")
            raise AsmError(f"{text}: no such form; forms are: {'; '.join(str(f) for f in candidates)}")
        for i, op in enumerate(operands):
            if isinstance(op, (Mem, RipRel)) and op.size is None:
                sizes = {f.patterns[i].mem for f in forms}
                if len(sizes) > 1:
                    raise AsmError(f"{text}: memory operand size is ambiguous "
                                   f"({', '.join(f'm{s}' for s in sorted(sizes))}); "
                                   f"write e.g. dword[...]")
