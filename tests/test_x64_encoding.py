"""Every form of the x86-64 ISA table, encoded with random and boundary operands, decoded by
capstone: one instruction spanning exactly our bytes, same mnemonic, same operands.

Operands are compared as text (registers, memory in capstone's Intel syntax, which
`Form.format` produces) except immediates, compared as numbers modulo the encoded field
width, and branch targets, compared as addresses.
"""
from __future__ import annotations

import random
import subprocess
import sys
import zlib

import capstone
import pytest

from splatjit.emit_x64 import ALL_FEATURES, Instruction, encode
from splatjit.emit_x64.forms import Form, Pattern, imm_fits
from splatjit.emit_x64.isa import TABLE
from splatjit.emit_x64.operands import (GPR, GPR64, XMMS, YMMS, ZMMS, Imm, Label, Mem, Operand,
                                        RipRel, al, ax, cl, eax, rax)

CS = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
CASES_PER_FORM = 8

CMP_PREDICATES = ["eq", "lt", "le", "unord", "neq", "nlt", "nle", "ord", "eq_uq", "nge", "ngt",
                  "false", "neq_oq", "ge", "gt", "true", "eq_os", "lt_oq", "le_oq", "unord_s",
                  "neq_us", "nlt_uq", "nle_uq", "ord_s", "eq_us", "nge_uq", "ngt_uq", "false_os",
                  "neq_os", "ge_oq", "gt_oq", "true_us"]
BASES = list(GPR64) + [None]
INDEXES = [r for r in GPR64 if r.num != 4] + [None]
DISPS = [0, 1, -1, 9, 10, 127, -128, 128, -129, 0x7FFFFFFF, -0x80000000]
FIXED = {"AL": al, "AX": ax, "EAX": eax, "RAX": rax, "CL": cl}


# --------------------------------------------------------------------------- operand generation

def evex_disps(n: int) -> list[int]:
    """Displacements around the EVEX disp8*N boundaries for element/vector size n bytes."""
    return [0, n, -n, 127 * n, -128 * n, 128 * n, -129 * n, n + 1, 1, -1]


def random_mem(rng: random.Random, size: int | None, disp_choices: list[int]) -> Operand:
    if rng.random() < 0.12:
        return RipRel(rng.choice([0, 1, -1, 200, -200, 0x7FFFFFFF, -0x80000000]), size)
    base, index = rng.choice(BASES), rng.choice(INDEXES)
    scale = rng.choice((1, 2, 4, 8)) if index is not None else 1
    disp = rng.choice(disp_choices) if rng.random() < 0.8 else rng.randrange(-2**31, 2**31)
    return Mem(base, index, scale, disp, size)


def random_imm(rng: random.Random, p: Pattern, form: Form) -> int:
    b = p.bits
    candidates = [0, 1, -1, 127, -128, 128, 255, 2**(b - 1) - 1, -2**(b - 1), 2**(b - 1),
                  2**b - 1, 2**form.opsize - 1, 2**form.opsize - 2**(b - 1)]
    candidates += [rng.randrange(-2**(b - 1), 2**b) for _ in range(4)]
    fits = [v for v in candidates if imm_fits(v, p, form.opsize)]
    return rng.choice(fits)


def random_operand(rng: random.Random, p: Pattern, form: Form) -> Operand:
    if p.kind == "fixed":
        return FIXED[p.text]
    if p.kind == "one":
        return Imm(1)
    if p.kind == "imm":
        return Imm(random_imm(rng, p, form))
    if p.kind == "rel":
        return Label()
    if p.mem is not None and (p.kind == "mem" or rng.random() < 0.5):
        n = (p.mem or 64) // 8
        disps = evex_disps(n) if form.space == "evex" else DISPS
        return random_mem(rng, p.mem or None, disps)
    if p.kind == "gpr":
        return GPR(rng.randrange(16), p.bits)
    limit = 32 if form.space == "evex" else 16
    regs = {128: XMMS, 256: YMMS, 512: ZMMS}[p.bits]
    return regs[rng.randrange(limit)]


# --------------------------------------------------------------------------- capstone comparison

def split_operands(op_str: str) -> list[str]:
    return [t.strip() for t in op_str.split(", ")] if op_str.strip() else []


def expected_text(form: Form, ops: tuple[Operand, ...]) -> tuple[str, list[Operand], list[str]]:
    """(capstone mnemonic, our operands in capstone's order, their texts)."""
    mnemonic = form.mnemonic
    texts = split_operands(form.format(ops)[len(mnemonic):])
    ops = list(ops)
    if mnemonic == "mov" and form.imm_size == 8:
        mnemonic = "movabs"
    if mnemonic[:-2] in ("cmp", "vcmp") and mnemonic[-2:] in ("ps", "pd", "ss", "sd"):
        predicate = ops[-1].value & 0xFF
        table = CMP_PREDICATES[:8] if mnemonic.startswith("cmp") else CMP_PREDICATES
        if predicate < len(table):
            mnemonic = f"{mnemonic[:-2]}{table[predicate]}{mnemonic[-2:]}"
            ops, texts = ops[:-1], texts[:-1]
    if form.roles[:2] == ("reg", "rm") and form.mnemonic in ("test", "xchg"):
        ops, texts = ops[::-1], texts[::-1]      # capstone prints r/m first
    return mnemonic, ops, texts


def capstone_quirks(form: Form, ops: list[Operand], texts: list[str],
                    theirs: list[str]) -> tuple[list[Operand], list[str]]:
    """Capstone 5 misprints two encodings that the SDM (and objdump) read as we do."""
    if form.mnemonic in ("rcl", "rcr") and form.patterns[-1].kind == "one" and len(theirs) == 1:
        return ops[:1], texts[:1]                 # "rcl byte ptr [m]" without ", 1"
    if form.mnemonic == "comisd" and isinstance(ops[1], (Mem, RipRel)):
        return ops, [texts[0], texts[1].replace("qword ptr", "xmmword ptr")]
    return ops, texts


def check_decodes(form: Form, ops: tuple[Operand, ...], data: bytes,
                  label_address: dict[Label, int] | None = None) -> None:
    decoded = list(CS.disasm(data, 0))
    where = f"{form.row!r} with {form.format(ops)!r} -> {data.hex()}"
    assert len(decoded) == 1 and decoded[0].size == len(data), \
        f"{where}: capstone decoded {[(i.mnemonic, i.op_str, i.size) for i in decoded]}"
    insn = decoded[0]
    mnemonic, our_ops, texts = expected_text(form, ops)
    theirs = split_operands(insn.op_str)
    our_ops, texts = capstone_quirks(form, our_ops, texts, theirs)
    assert insn.mnemonic == mnemonic, f"{where}: capstone says {insn.mnemonic} {insn.op_str}"
    assert len(theirs) == len(texts), f"{where}: capstone says {insn.mnemonic} {insn.op_str}"
    for op, ours, text in zip(our_ops, texts, theirs):
        if isinstance(op, Imm) and form.imm_size:
            width = 8 * form.imm_size
            assert (op.value - int(text, 0)) % (1 << width) == 0, f"{where}: imm {text}"
        elif isinstance(op, Label):
            assert int(text, 0) == label_address[op], f"{where}: target {text}"
        else:
            assert ours == text, f"{where}: capstone says {insn.mnemonic} {insn.op_str}"


def cases_for(form: Form, seed: int, count: int = CASES_PER_FORM):
    rng = random.Random(seed)
    for _ in range(count):
        ops = tuple(random_operand(rng, p, form) for p in form.patterns)
        enc = encode(form, ops)
        labels: dict[Label, int] = {}
        for fx in enc.fixups:
            # A target within reach of the field: rel8 forms get -128..127 around the end.
            reach = 127 if fx.size == 1 else 0x7FFFFFFF
            labels[fx.label] = max(0, len(enc.data) + rng.randint(-reach - 1, reach))
        yield ops, enc.resolve(0, labels), labels


# --------------------------------------------------------------------------- the sweep

MNEMONICS = sorted(TABLE.by_mnemonic)


@pytest.mark.parametrize("mnemonic", MNEMONICS)
def test_every_form_decodes_as_intended(mnemonic: str) -> None:
    for k, form in enumerate(TABLE.by_mnemonic[mnemonic]):
        assert form.features <= ALL_FEATURES, form.row
        for ops, data, labels in cases_for(form, zlib.crc32(f"{mnemonic}/{k}".encode())):
            # The public path accepts the same operands and offers this form.
            assert form in Instruction(mnemonic, *ops).forms, form.row
            check_decodes(form, ops, data, labels)


def test_table_covers_the_required_mnemonics() -> None:
    required = """mov movzx movsx movsxd lea add sub adc sbb and or xor cmp test inc dec neg
        not imul mul div idiv cdq cqo shl shr sar rol ror shld shrd jmp call ret push pop
        xchg bswap popcnt lzcnt tzcnt bsf bsr nop ud2 int3 mfence movss movsd movd movq movaps
        movups movapd movdqu addss addsd subss subsd mulss mulsd divss divsd sqrtss sqrtsd
        minss minsd maxss maxsd ucomiss ucomisd comiss comisd cvtsi2ss cvtsi2sd cvttss2si
        cvttsd2si cvtss2sd cvtsd2ss roundss roundsd andps andnps orps xorps andpd xorpd addps
        subps mulps divps minps maxps paddd psubd pmulld pand por pxor pcmpeqd pshufd shufps
        unpcklps cmpss cmpsd cmpps cvtdq2ps cvttps2dq vmovups vmovaps vmovdqu vaddps vsubps
        vmulps vdivps vmaxps vminps vfmadd231ps vfmadd231ss vfmadd231pd vfmadd231sd
        vfmadd213ss vfmadd213sd vbroadcastss vpaddd vpsubd vpmulld vpand vpor vpxor vxorps
        vextractf128 vperm2f128 vzeroupper vaddss vmulss""".split()
    cc = ("o no b ae e ne be a s ns p np l ge le g").split()
    required += [f"{k}{c}" for k in ("set", "cmov", "j") for c in cc]
    missing = [m for m in required if m not in TABLE.by_mnemonic]
    assert not missing


def test_the_table_parses_a_mnemonic_when_it_is_first_used() -> None:
    """Importing the assembler parses no ISA row (startup); assembling one instruction
    parses that mnemonic's rows only; the method docstrings, read from the rows, say what
    the parsed forms say; an unknown mnemonic is still an AsmError."""
    script = ("from splatjit.emit_x64 import Assembler, AsmError, rax, rbx\n"
              "from splatjit.emit_x64.isa import TABLE\n"
              "before = sorted(TABLE.by_mnemonic.parsed)\n"
              "a = Assembler(); a.add(rax, rbx); a.finish()\n"
              "after = sorted(TABLE.by_mnemonic.parsed)\n"
              "try:\n    TABLE.match('frobnicate', ())\nexcept AsmError as e:\n    err = str(e)\n"
              "print(before, after, err)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[] ['add'] unknown x86-64 instruction 'frobnicate'"
    for mnemonic in TABLE.by_mnemonic:
        assert TABLE.describe(mnemonic) == "; ".join(str(f) for f in TABLE.by_mnemonic[mnemonic])


def test_avx512_forms_cover_high_registers_and_all_lengths() -> None:
    for mn in ("vmovups", "vaddps", "vmulps", "vfmadd231ps", "vbroadcastss", "vpaddd", "vxorps"):
        lengths = {f.vl for f in TABLE.by_mnemonic[mn] if f.space == "evex"}
        assert lengths == {0, 1, 2}, mn


# --------------------------------------------------------------------------- addressing sweeps

def _form(row_start: str) -> Form:
    return next(f for f in TABLE.forms if f.row.startswith(row_start))


ADDRESSING_FORMS = [
    "MOV r64, r/m64 |",              # legacy, REX.W + REX.R/X/B
    "ADD r/m32, simm8 |",            # disp followed by an immediate
    "MOVSS xmm, xmm/m32 |",          # mandatory prefix before REX
    "VFMADD231PS ymm, ymm, ymm/m256 | VEX",   # 3-byte VEX with X/B
    "VADDPS zmm, zmm, zmm/m512 | EVEX",      # disp8*64
    "VADDSS xmm, xmm, xmm/m32 | EVEX",       # disp8*4 scalar
]


@pytest.mark.parametrize("row", ADDRESSING_FORMS)
def test_every_addressing_mode_decodes(row: str) -> None:
    """All bases (incl. rsp/rbp/r12/r13, none) x all indexes x all scales x boundary disps."""
    form = _form(row)
    n = form.mem_bits // 8
    disps = sorted(set(DISPS + (evex_disps(n) if form.space == "evex" else [])))
    rng = random.Random(7)
    mem_slot = form.roles.index("rm")
    count = 0
    for base in BASES:
        for index in INDEXES:
            for scale in ((1, 2, 4, 8) if index is not None else (1,)):
                for disp in disps:
                    ops = [random_operand(rng, p, form) for p in form.patterns]
                    ops[mem_slot] = Mem(base, index, scale, disp, form.mem_bits)
                    ops_t = tuple(ops)
                    check_decodes(form, ops_t, encode(form, ops_t).data)
                    count += 1
    assert count == 17 * (1 + 15 * 4) * len(disps)


def test_displacement_size_selection() -> None:
    """disp8 vs disp32 boundaries, rbp/r13 need disp8 0, rsp/r12 need a SIB byte."""
    from splatjit.emit_x64.operands import qword, r12, r13, rbp, rsp, rdi
    mov = _form("MOV r64, r/m64 |")
    size = lambda m: len(encode(mov, (rax, m)).data)  # noqa: E731
    assert size(qword[rdi]) == 3
    assert size(qword[rdi + 127]) == size(qword[rdi - 128]) == 4
    assert size(qword[rdi + 128]) == size(qword[rdi - 129]) == 7
    assert size(qword[rbp]) == size(qword[r13]) == 4          # [rbp + 0] with disp8
    assert size(qword[rsp]) == size(qword[r12]) == 4          # SIB byte
    assert size(qword[rsp + 8]) == 5
    vadd = _form("VADDPS zmm, zmm, zmm/m512 | EVEX")
    from splatjit.emit_x64.operands import zmm0, zmm1, zmm2
    esize = lambda m: len(encode(vadd, (zmm0, zmm1, m)).data)  # noqa: E731
    assert esize(qword[rdi + 64 * 127].with_size(512)) == 7   # compressed disp8
    assert esize(qword[rdi + 64 * 128].with_size(512)) == 10  # disp32
    assert esize(qword[rdi + 65].with_size(512)) == 10        # not a multiple of N
    assert encode(vadd, (zmm2, zmm1, Mem(rax, disp=-64 * 128, size=512))).data[-1] == 0x80
