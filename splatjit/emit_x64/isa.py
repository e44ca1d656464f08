"""The x86-64 ISA as data: one table of instruction forms (row syntax: see `forms.py`).

Within a mnemonic, rows are in preference order: when several forms take the same operands
(``add eax, 1`` fits ``83 /0 ib``, ``05 id`` and ``81 /0 id``) the first whose CPU features
the assembler has is used, so shorter encodings come first, and VEX before EVEX.

Families (ALU ops, condition codes, ps/pd/ss/sd arithmetic, AVX-512 vector lengths) are
expanded by the small loops below; each loop body is literally the SDM row.
Feature names follow Linux /proc/cpuinfo flags (``sse4_1``, ``avx512f``) plus ``base``.

Adding an instruction form is one row here; the capstone sweep in
``tests/test_x64_encoding.py`` encodes and checks every row automatically.
"""
from __future__ import annotations

from splatjit.emit_x64.forms import FormTable

ROWS: list[str] = []
add = ROWS.append

CONDITIONS = ("o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g")
CC_ALIASES = {"c": "b", "nae": "b", "nb": "ae", "nc": "ae", "z": "e", "nz": "ne", "na": "be",
              "nbe": "a", "pe": "p", "po": "np", "nge": "l", "nl": "ge", "ng": "le", "nle": "g"}


def _p(n: int) -> str:
    """Legacy operand-size prefix/REX.W for an n-bit GPR form."""
    return {8: "", 16: "66 ", 32: "", 64: "REX.W "}[n]


_IMM = {16: "iw", 32: "id", 64: "id"}
_IMMP = {16: "imm16", 32: "imm32", 64: "imm32"}
_ACC = {8: "AL", 16: "AX", 32: "EAX", 64: "RAX"}

# ---------------------------------------------------------------- integer ALU, two operands
for name, d in (("ADD", 0), ("OR", 1), ("ADC", 2), ("SBB", 3), ("AND", 4), ("SUB", 5),
                ("XOR", 6), ("CMP", 7)):
    b = d * 8
    add(f"{name} r/m8, r8 | {b:02X} /r | base")
    add(f"{name} r8, r/m8 | {b + 2:02X} /r | base")
    add(f"{name} AL, imm8 | {b + 4:02X} ib | base")
    add(f"{name} r/m8, imm8 | 80 /{d} ib | base")
    for n in (16, 32, 64):
        add(f"{name} r/m{n}, r{n} | {_p(n)}{b + 1:02X} /r | base")
        add(f"{name} r{n}, r/m{n} | {_p(n)}{b + 3:02X} /r | base")
        add(f"{name} r/m{n}, simm8 | {_p(n)}83 /{d} ib | base")
        add(f"{name} {_ACC[n]}, {_IMMP[n]} | {_p(n)}{b + 5:02X} {_IMM[n]} | base")
        add(f"{name} r/m{n}, {_IMMP[n]} | {_p(n)}81 /{d} {_IMM[n]} | base")

add("TEST r/m8, r8 | 84 /r | base")
add("TEST r8, r/m8 | 84 /r | base | RM")
add("TEST AL, imm8 | A8 ib | base")
add("TEST r/m8, imm8 | F6 /0 ib | base")
for n in (16, 32, 64):
    add(f"TEST r/m{n}, r{n} | {_p(n)}85 /r | base")
    add(f"TEST r{n}, r/m{n} | {_p(n)}85 /r | base | RM")
    add(f"TEST {_ACC[n]}, {_IMMP[n]} | {_p(n)}A9 {_IMM[n]} | base")
    add(f"TEST r/m{n}, {_IMMP[n]} | {_p(n)}F7 /0 {_IMM[n]} | base")

# ---------------------------------------------------------------- moves
add("MOV r/m8, r8 | 88 /r | base")
add("MOV r8, r/m8 | 8A /r | base")
add("MOV r8, imm8 | B0+r ib | base")
add("MOV r/m8, imm8 | C6 /0 ib | base")
for n in (16, 32, 64):
    add(f"MOV r/m{n}, r{n} | {_p(n)}89 /r | base")
    add(f"MOV r{n}, r/m{n} | {_p(n)}8B /r | base")
    if n != 64:
        add(f"MOV r{n}, {_IMMP[n]} | {_p(n)}B8+r {_IMM[n]} | base")
    add(f"MOV r/m{n}, {_IMMP[n]} | {_p(n)}C7 /0 {_IMM[n]} | base")
add("MOV r64, imm64 | REX.W B8+r io | base")           # capstone: movabs
add("MOVABS r64, imm64 | REX.W B8+r io | base")

for name, op in (("MOVZX", 0xB6), ("MOVSX", 0xBE)):
    for n in (16, 32, 64):
        add(f"{name} r{n}, r/m8 | {_p(n)}0F {op:02X} /r | base")
    for n in (32, 64):
        add(f"{name} r{n}, r/m16 | {_p(n)}0F {op + 1:02X} /r | base")
add("MOVSXD r64, r/m32 | REX.W 63 /r | base")
for n in (16, 32, 64):
    add(f"LEA r{n}, m | {_p(n)}8D /r | base")
    add(f"XCHG r/m{n}, r{n} | {_p(n)}87 /r | base")
    add(f"XCHG r{n}, r/m{n} | {_p(n)}87 /r | base | RM")
add("XCHG r/m8, r8 | 86 /r | base")
add("XCHG r8, r/m8 | 86 /r | base | RM")
add("BSWAP r32 | 0F C8+r | base")
add("BSWAP r64 | REX.W 0F C8+r | base")
add("CBW | 66 98 | base")
add("CWDE | 98 | base")
add("CDQE | REX.W 98 | base")
add("CWD | 66 99 | base")
add("CDQ | 99 | base")
add("CQO | REX.W 99 | base")

# ---------------------------------------------------------------- unary, multiply, divide
for name, d in (("INC", 0), ("DEC", 1), ("NOT", 2), ("NEG", 3), ("MUL", 4), ("IMUL", 5),
                ("DIV", 6), ("IDIV", 7)):
    op8, op = ("FE", "FF") if d < 2 else ("F6", "F7")
    add(f"{name} r/m8 | {op8} /{d} | base")
    for n in (16, 32, 64):
        add(f"{name} r/m{n} | {_p(n)}{op} /{d} | base")
for n in (16, 32, 64):
    add(f"IMUL r{n}, r/m{n} | {_p(n)}0F AF /r | base")
    add(f"IMUL r{n}, r/m{n}, simm8 | {_p(n)}6B /r ib | base")
    add(f"IMUL r{n}, r/m{n}, {_IMMP[n]} | {_p(n)}69 /r {_IMM[n]} | base")

# ---------------------------------------------------------------- shifts and rotates
for name, d in (("ROL", 0), ("ROR", 1), ("RCL", 2), ("RCR", 3), ("SHL", 4), ("SHR", 5), ("SAR", 7)):
    for n in (8, 16, 32, 64):
        o = 0 if n == 8 else 1
        add(f"{name} r/m{n}, 1 | {_p(n)}{0xD0 + o:02X} /{d} | base")
        add(f"{name} r/m{n}, imm8 | {_p(n)}{0xC0 + o:02X} /{d} ib | base")
        add(f"{name} r/m{n}, CL | {_p(n)}{0xD2 + o:02X} /{d} | base")
for name, op in (("SHLD", 0xA4), ("SHRD", 0xAC)):
    for n in (16, 32, 64):
        add(f"{name} r/m{n}, r{n}, imm8 | {_p(n)}0F {op:02X} /r ib | base")
        add(f"{name} r/m{n}, r{n}, CL | {_p(n)}0F {op + 1:02X} /r | base")
for n in (16, 32, 64):
    add(f"BT r/m{n}, r{n} | {_p(n)}0F A3 /r | base")
    add(f"BT r/m{n}, imm8 | {_p(n)}0F BA /4 ib | base")
    add(f"BSF r{n}, r/m{n} | {_p(n)}0F BC /r | base")
    add(f"BSR r{n}, r/m{n} | {_p(n)}0F BD /r | base")
    add(f"POPCNT r{n}, r/m{n} | {'66 ' if n == 16 else ''}F3 {'REX.W ' if n == 64 else ''}0F B8 /r | popcnt")
    add(f"LZCNT r{n}, r/m{n} | {'66 ' if n == 16 else ''}F3 {'REX.W ' if n == 64 else ''}0F BD /r | lzcnt")
    add(f"TZCNT r{n}, r/m{n} | {'66 ' if n == 16 else ''}F3 {'REX.W ' if n == 64 else ''}0F BC /r | bmi1")

# ---------------------------------------------------------------- BMI1 / BMI2 (VEX-encoded GPR ops)
for n, w in ((32, "W0"), (64, "W1")):
    add(f"ANDN r{n}, r{n}, r/m{n} | VEX.LZ.0F38.{w} F2 /r | bmi1")
    add(f"BEXTR r{n}, r/m{n}, r{n} | VEX.LZ.0F38.{w} F7 /r | bmi1")
    add(f"BLSI r{n}, r/m{n} | VEX.LZ.0F38.{w} F3 /3 | bmi1")
    add(f"BLSMSK r{n}, r/m{n} | VEX.LZ.0F38.{w} F3 /2 | bmi1")
    add(f"BLSR r{n}, r/m{n} | VEX.LZ.0F38.{w} F3 /1 | bmi1")
    add(f"BZHI r{n}, r/m{n}, r{n} | VEX.LZ.0F38.{w} F5 /r | bmi2")
    add(f"SARX r{n}, r/m{n}, r{n} | VEX.LZ.F3.0F38.{w} F7 /r | bmi2")
    add(f"SHLX r{n}, r/m{n}, r{n} | VEX.LZ.66.0F38.{w} F7 /r | bmi2")
    add(f"SHRX r{n}, r/m{n}, r{n} | VEX.LZ.F2.0F38.{w} F7 /r | bmi2")
    add(f"RORX r{n}, r/m{n}, imm8 | VEX.LZ.F2.0F3A.{w} F0 /r ib | bmi2")
    add(f"PDEP r{n}, r{n}, r/m{n} | VEX.LZ.F2.0F38.{w} F5 /r | bmi2")
    add(f"PEXT r{n}, r{n}, r/m{n} | VEX.LZ.F3.0F38.{w} F5 /r | bmi2")

# ---------------------------------------------------------------- condition codes
for i, cc in enumerate(CONDITIONS):
    C = cc.upper()
    add(f"SET{C} r/m8 | 0F {0x90 + i:02X} /0 | base")
    for n in (16, 32, 64):
        add(f"CMOV{C} r{n}, r/m{n} | {_p(n)}0F {0x40 + i:02X} /r | base")
    add(f"J{C} rel8 | {0x70 + i:02X} cb | base")
    add(f"J{C} rel32 | 0F {0x80 + i:02X} cd | base")

# ---------------------------------------------------------------- control flow, stack, misc
add("JMP rel8 | EB cb | base")
add("JMP rel32 | E9 cd | base")
add("JMP r/m64 | FF /4 | base")
add("CALL rel32 | E8 cd | base")
add("CALL r/m64 | FF /2 | base")
add("RET | C3 | base")
add("RET imm16 | C2 iw | base")
add("PUSH r64 | 50+r | base")
add("PUSH r/m64 | FF /6 | base")
add("PUSH simm8 | 6A ib | base")
add("PUSH imm32 | 68 id | base")
add("POP r64 | 58+r | base")
add("POP r/m64 | 8F /0 | base")
add("NOP | 90 | base")
add("NOP r/m16 | 66 0F 1F /0 | base")
add("NOP r/m32 | 0F 1F /0 | base")
add("LDMXCSR m32 | 0F AE /2 | sse")    # the SSE control/status register (FTZ, DAZ, rounding)
add("STMXCSR m32 | 0F AE /3 | sse")
add("UD2 | 0F 0B | base")
add("INT3 | CC | base")
add("HLT | F4 | base")
add("PAUSE | F3 90 | base")
add("MFENCE | 0F AE F0 | base")
add("LFENCE | 0F AE E8 | base")
add("SFENCE | 0F AE F8 | base")
add("CPUID | 0F A2 | base")
add("RDTSC | 0F 31 | base")
add("CLC | F8 | base")
add("STC | F9 | base")

# ---------------------------------------------------------------- SSE/SSE2 moves
for name, pfx, load, store, feat in (
        ("MOVAPS", "NP", "28", "29", "sse"), ("MOVUPS", "NP", "10", "11", "sse"),
        ("MOVAPD", "66", "28", "29", "sse2"), ("MOVUPD", "66", "10", "11", "sse2"),
        ("MOVDQA", "66", "6F", "7F", "sse2"), ("MOVDQU", "F3", "6F", "7F", "sse2")):
    add(f"{name} xmm, xmm/m128 | {pfx} 0F {load} /r | {feat}")
    add(f"{name} xmm/m128, xmm | {pfx} 0F {store} /r | {feat}")
add("MOVSS xmm, xmm/m32 | F3 0F 10 /r | sse")
add("MOVSS xmm/m32, xmm | F3 0F 11 /r | sse")
add("MOVSD xmm, xmm/m64 | F2 0F 10 /r | sse2")
add("MOVSD xmm/m64, xmm | F2 0F 11 /r | sse2")
add("MOVD xmm, r/m32 | 66 0F 6E /r | sse2")
add("MOVD r/m32, xmm | 66 0F 7E /r | sse2")
add("MOVQ xmm, xmm/m64 | F3 0F 7E /r | sse2")
add("MOVQ xmm/m64, xmm | 66 0F D6 /r | sse2")
add("MOVQ xmm, r/m64 | 66 REX.W 0F 6E /r | sse2")
add("MOVQ r/m64, xmm | 66 REX.W 0F 7E /r | sse2")
add("MOVHLPS xmm, xmm | 0F 12 /r | sse")
add("MOVLHPS xmm, xmm | 0F 16 /r | sse")
add("MOVMSKPS r32, xmm | 0F 50 /r | sse")
add("MOVMSKPD r32, xmm | 66 0F 50 /r | sse2")
add("PMOVMSKB r32, xmm | 66 0F D7 /r | sse2")

# ---------------------------------------------------------------- SSE floating point
for name, op in (("ADD", "58"), ("MUL", "59"), ("SUB", "5C"), ("MIN", "5D"), ("DIV", "5E"),
                 ("MAX", "5F"), ("SQRT", "51")):
    add(f"{name}PS xmm, xmm/m128 | NP 0F {op} /r | sse")
    add(f"{name}PD xmm, xmm/m128 | 66 0F {op} /r | sse2")
    add(f"{name}SS xmm, xmm/m32 | F3 0F {op} /r | sse")
    add(f"{name}SD xmm, xmm/m64 | F2 0F {op} /r | sse2")
for name, op in (("RCP", "53"), ("RSQRT", "52")):
    add(f"{name}PS xmm, xmm/m128 | NP 0F {op} /r | sse")
    add(f"{name}SS xmm, xmm/m32 | F3 0F {op} /r | sse")
for name, op in (("AND", "54"), ("ANDN", "55"), ("OR", "56"), ("XOR", "57")):
    add(f"{name}PS xmm, xmm/m128 | NP 0F {op} /r | sse")
    add(f"{name}PD xmm, xmm/m128 | 66 0F {op} /r | sse2")
add("CMPPS xmm, xmm/m128, imm8 | NP 0F C2 /r ib | sse")
add("CMPPD xmm, xmm/m128, imm8 | 66 0F C2 /r ib | sse2")
add("CMPSS xmm, xmm/m32, imm8 | F3 0F C2 /r ib | sse")
add("CMPSD xmm, xmm/m64, imm8 | F2 0F C2 /r ib | sse2")
add("UCOMISS xmm, xmm/m32 | NP 0F 2E /r | sse")
add("UCOMISD xmm, xmm/m64 | 66 0F 2E /r | sse2")
add("COMISS xmm, xmm/m32 | NP 0F 2F /r | sse")
add("COMISD xmm, xmm/m64 | 66 0F 2F /r | sse2")
add("SHUFPS xmm, xmm/m128, imm8 | NP 0F C6 /r ib | sse")
add("SHUFPD xmm, xmm/m128, imm8 | 66 0F C6 /r ib | sse2")
add("UNPCKLPS xmm, xmm/m128 | NP 0F 14 /r | sse")
add("UNPCKHPS xmm, xmm/m128 | NP 0F 15 /r | sse")
add("UNPCKLPD xmm, xmm/m128 | 66 0F 14 /r | sse2")
add("UNPCKHPD xmm, xmm/m128 | 66 0F 15 /r | sse2")
add("HADDPS xmm, xmm/m128 | F2 0F 7C /r | sse3")
add("MOVSHDUP xmm, xmm/m128 | F3 0F 16 /r | sse3")
add("MOVSLDUP xmm, xmm/m128 | F3 0F 12 /r | sse3")

# ---------------------------------------------------------------- conversions
for name, pfx, feat in (("SS", "F3", "sse"), ("SD", "F2", "sse2")):
    add(f"CVTSI2{name} xmm, r/m32 | {pfx} 0F 2A /r | {feat}")
    add(f"CVTSI2{name} xmm, r/m64 | {pfx} REX.W 0F 2A /r | {feat}")
    m = 32 if name == "SS" else 64
    for n in (32, 64):
        add(f"CVTT{name}2SI r{n}, xmm/m{m} | {pfx} {_p(n)}0F 2C /r | {feat}")
        add(f"CVT{name}2SI r{n}, xmm/m{m} | {pfx} {_p(n)}0F 2D /r | {feat}")
add("CVTSS2SD xmm, xmm/m32 | F3 0F 5A /r | sse2")
add("CVTSD2SS xmm, xmm/m64 | F2 0F 5A /r | sse2")
add("CVTPS2PD xmm, xmm/m64 | NP 0F 5A /r | sse2")
add("CVTPD2PS xmm, xmm/m128 | 66 0F 5A /r | sse2")
add("CVTDQ2PS xmm, xmm/m128 | NP 0F 5B /r | sse2")
add("CVTPS2DQ xmm, xmm/m128 | 66 0F 5B /r | sse2")
add("CVTTPS2DQ xmm, xmm/m128 | F3 0F 5B /r | sse2")
add("CVTDQ2PD xmm, xmm/m64 | F3 0F E6 /r | sse2")
add("CVTTPD2DQ xmm, xmm/m128 | 66 0F E6 /r | sse2")
for name, op in (("PS", "08"), ("PD", "09")):
    add(f"ROUND{name} xmm, xmm/m128, imm8 | 66 0F 3A {op} /r ib | sse4_1")
add("ROUNDSS xmm, xmm/m32, imm8 | 66 0F 3A 0A /r ib | sse4_1")
add("ROUNDSD xmm, xmm/m64, imm8 | 66 0F 3A 0B /r ib | sse4_1")

# ---------------------------------------------------------------- SSE2+ integer
_PINT = {"PADDB": "FC", "PADDW": "FD", "PADDD": "FE", "PADDQ": "D4", "PSUBB": "F8",
         "PSUBW": "F9", "PSUBD": "FA", "PSUBQ": "FB", "PMULLW": "D5", "PMULUDQ": "F4",
         "PMADDWD": "F5", "PAND": "DB", "PANDN": "DF", "POR": "EB", "PXOR": "EF",
         "PCMPEQB": "74", "PCMPEQW": "75", "PCMPEQD": "76", "PCMPGTB": "64", "PCMPGTW": "65",
         "PCMPGTD": "66", "PUNPCKLDQ": "62", "PUNPCKHDQ": "6A", "PUNPCKLQDQ": "6C",
         "PUNPCKHQDQ": "6D", "PSLLD": "F2", "PSRLD": "D2", "PSRAD": "E2", "PSLLQ": "F3",
         "PSRLQ": "D3", "PMAXSW": "EE", "PMINSW": "EA", "PMAXUB": "DE", "PMINUB": "DA"}
for name, op in _PINT.items():
    add(f"{name} xmm, xmm/m128 | 66 0F {op} /r | sse2")
for name, op, d in (("PSLLD", "72", 6), ("PSRLD", "72", 2), ("PSRAD", "72", 4), ("PSLLQ", "73", 6),
                    ("PSRLQ", "73", 2), ("PSLLDQ", "73", 7), ("PSRLDQ", "73", 3)):
    add(f"{name} xmm, imm8 | 66 0F {op} /{d} ib | sse2")
add("PSHUFD xmm, xmm/m128, imm8 | 66 0F 70 /r ib | sse2")
add("PSHUFB xmm, xmm/m128 | 66 0F 38 00 /r | ssse3")
for name, op in (("PMULLD", "40"), ("PMINSD", "39"), ("PMAXSD", "3D"), ("PMINUD", "3B"),
                 ("PMAXUD", "3F"), ("PCMPEQQ", "29"), ("PTEST", "17"), ("PMOVSXBD", "21"),
                 ("PMOVZXBD", "31"), ("PMOVSXWD", "23"), ("PMOVZXWD", "33"), ("PMOVSXDQ", "25"),
                 ("PMOVZXDQ", "35")):
    m = {"BD": 32, "WD": 64, "DQ": 64}.get(name[-2:], 128) if name.startswith("PMOV") else 128
    add(f"{name} xmm, xmm/m{m} | 66 0F 38 {op} /r | sse4_1")
add("PCMPGTQ xmm, xmm/m128 | 66 0F 38 37 /r | sse4_2")
add("PINSRD xmm, r/m32, imm8 | 66 0F 3A 22 /r ib | sse4_1")
add("PINSRQ xmm, r/m64, imm8 | 66 REX.W 0F 3A 22 /r ib | sse4_1")
add("PEXTRD r/m32, xmm, imm8 | 66 0F 3A 16 /r ib | sse4_1")
add("PEXTRQ r/m64, xmm, imm8 | 66 REX.W 0F 3A 16 /r ib | sse4_1")
add("EXTRACTPS r/m32, xmm, imm8 | 66 0F 3A 17 /r ib | sse4_1")
add("INSERTPS xmm, xmm/m32, imm8 | 66 0F 3A 21 /r ib | sse4_1")
add("BLENDPS xmm, xmm/m128, imm8 | 66 0F 3A 0C /r ib | sse4_1")
add("PBLENDW xmm, xmm/m128, imm8 | 66 0F 3A 0E /r ib | sse4_1")

# ---------------------------------------------------------------- AVX / AVX2 (VEX)
_V = (("xmm", 128, "avx"), ("ymm", 256, "avx"))
_VI = (("xmm", 128, "avx"), ("ymm", 256, "avx2"))       # integer ops: 256-bit needs AVX2
for name, pp, load, store in (("VMOVAPS", "", "28", "29"), ("VMOVUPS", "", "10", "11"),
                              ("VMOVAPD", "66.", "28", "29"), ("VMOVUPD", "66.", "10", "11"),
                              ("VMOVDQA", "66.", "6F", "7F"), ("VMOVDQU", "F3.", "6F", "7F")):
    for v, L, f in _V:
        add(f"{name} {v}, {v}/m{L} | VEX.{L}.{pp}0F.WIG {load} /r | {f}")
        add(f"{name} {v}/m{L}, {v} | VEX.{L}.{pp}0F.WIG {store} /r | {f}")
for name, pp, m in (("VMOVSS", "F3", 32), ("VMOVSD", "F2", 64)):
    add(f"{name} xmm, m{m} | VEX.LIG.{pp}.0F.WIG 10 /r | avx")
    add(f"{name} xmm, xmm, xmm | VEX.LIG.{pp}.0F.WIG 10 /r | avx")
    add(f"{name} m{m}, xmm | VEX.LIG.{pp}.0F.WIG 11 /r | avx")
add("VMOVD xmm, r/m32 | VEX.128.66.0F.W0 6E /r | avx")
add("VMOVD r/m32, xmm | VEX.128.66.0F.W0 7E /r | avx")
add("VMOVQ xmm, xmm/m64 | VEX.128.F3.0F.WIG 7E /r | avx")
add("VMOVQ xmm/m64, xmm | VEX.128.66.0F.WIG D6 /r | avx")
add("VMOVQ xmm, r/m64 | VEX.128.66.0F.W1 6E /r | avx")
add("VMOVQ r/m64, xmm | VEX.128.66.0F.W1 7E /r | avx")
for name, op, scalar in (("ADD", "58", True), ("MUL", "59", True), ("SUB", "5C", True),
                         ("MIN", "5D", True), ("DIV", "5E", True), ("MAX", "5F", True),
                         ("AND", "54", False), ("ANDN", "55", False), ("OR", "56", False),
                         ("XOR", "57", False), ("UNPCKL", "14", False), ("UNPCKH", "15", False)):
    for v, L, f in _V:
        add(f"V{name}PS {v}, {v}, {v}/m{L} | VEX.{L}.0F.WIG {op} /r | {f}")
        add(f"V{name}PD {v}, {v}, {v}/m{L} | VEX.{L}.66.0F.WIG {op} /r | {f}")
    if scalar:
        add(f"V{name}SS xmm, xmm, xmm/m32 | VEX.LIG.F3.0F.WIG {op} /r | avx")
        add(f"V{name}SD xmm, xmm, xmm/m64 | VEX.LIG.F2.0F.WIG {op} /r | avx")
for v, L, f in _V:
    add(f"VSQRTPS {v}, {v}/m{L} | VEX.{L}.0F.WIG 51 /r | avx")
    add(f"VSQRTPD {v}, {v}/m{L} | VEX.{L}.66.0F.WIG 51 /r | avx")
    add(f"VRCPPS {v}, {v}/m{L} | VEX.{L}.0F.WIG 53 /r | avx")
    add(f"VRSQRTPS {v}, {v}/m{L} | VEX.{L}.0F.WIG 52 /r | avx")
    add(f"VCMPPS {v}, {v}, {v}/m{L}, imm8 | VEX.{L}.0F.WIG C2 /r ib | avx")
    add(f"VCMPPD {v}, {v}, {v}/m{L}, imm8 | VEX.{L}.66.0F.WIG C2 /r ib | avx")
    add(f"VSHUFPS {v}, {v}, {v}/m{L}, imm8 | VEX.{L}.0F.WIG C6 /r ib | avx")
    add(f"VHADDPS {v}, {v}, {v}/m{L} | VEX.{L}.F2.0F.WIG 7C /r | avx")
    add(f"VBLENDPS {v}, {v}, {v}/m{L}, imm8 | VEX.{L}.66.0F3A.WIG 0C /r ib | avx")
    add(f"VPERMILPS {v}, {v}/m{L}, imm8 | VEX.{L}.66.0F3A.W0 04 /r ib | avx")
    add(f"VPERMILPS {v}, {v}, {v}/m{L} | VEX.{L}.66.0F38.W0 0C /r | avx")
    add(f"VROUNDPS {v}, {v}/m{L}, imm8 | VEX.{L}.66.0F3A.WIG 08 /r ib | avx")
    add(f"VCVTDQ2PS {v}, {v}/m{L} | VEX.{L}.0F.WIG 5B /r | avx")
    add(f"VCVTPS2DQ {v}, {v}/m{L} | VEX.{L}.66.0F.WIG 5B /r | avx")
    add(f"VCVTTPS2DQ {v}, {v}/m{L} | VEX.{L}.F3.0F.WIG 5B /r | avx")
    add(f"VMOVMSKPS r32, {v} | VEX.{L}.0F.WIG 50 /r | avx")
    add(f"VPTEST {v}, {v}/m{L} | VEX.{L}.66.0F38.WIG 17 /r | avx")
    add(f"VMASKMOVPS {v}, {v}, m{L} | VEX.{L}.66.0F38.W0 2C /r | avx")
    add(f"VMASKMOVPS m{L}, {v}, {v} | VEX.{L}.66.0F38.W0 2E /r | avx | MVR")
add("VCVTPS2PD xmm, xmm/m64 | VEX.128.0F.WIG 5A /r | avx")
add("VCVTPS2PD ymm, xmm/m128 | VEX.256.0F.WIG 5A /r | avx")
add("VCVTPD2PS xmm, ymm/m256 | VEX.256.66.0F.WIG 5A /r | avx")
for name, pp, m in (("SS", "F3", 32), ("SD", "F2", 64)):
    add(f"VSQRT{name} xmm, xmm, xmm/m{m} | VEX.LIG.{pp}.0F.WIG 51 /r | avx")
    add(f"VCMP{name} xmm, xmm, xmm/m{m}, imm8 | VEX.LIG.{pp}.0F.WIG C2 /r ib | avx")
    add(f"VROUND{name} xmm, xmm, xmm/m{m}, imm8 | VEX.LIG.66.0F3A.WIG {'0A' if m == 32 else '0B'} /r ib | avx")
    add(f"VUCOMI{name} xmm, xmm/m{m} | VEX.LIG.{'66.' if m == 64 else ''}0F.WIG 2E /r | avx")
    add(f"VCOMI{name} xmm, xmm/m{m} | VEX.LIG.{'66.' if m == 64 else ''}0F.WIG 2F /r | avx")
    add(f"VCVTSI2{name} xmm, xmm, r/m32 | VEX.LIG.{pp}.0F.W0 2A /r | avx")
    add(f"VCVTSI2{name} xmm, xmm, r/m64 | VEX.LIG.{pp}.0F.W1 2A /r | avx")
    for n, w in ((32, "W0"), (64, "W1")):
        add(f"VCVTT{name}2SI r{n}, xmm/m{m} | VEX.LIG.{pp}.0F.{w} 2C /r | avx")
        add(f"VCVT{name}2SI r{n}, xmm/m{m} | VEX.LIG.{pp}.0F.{w} 2D /r | avx")
add("VCVTSS2SD xmm, xmm, xmm/m32 | VEX.LIG.F3.0F.WIG 5A /r | avx")
add("VCVTSD2SS xmm, xmm, xmm/m64 | VEX.LIG.F2.0F.WIG 5A /r | avx")
add("VINSERTPS xmm, xmm, xmm/m32, imm8 | VEX.128.66.0F3A.WIG 21 /r ib | avx")
add("VEXTRACTPS r/m32, xmm, imm8 | VEX.128.66.0F3A.WIG 17 /r ib | avx")
add("VPINSRD xmm, xmm, r/m32, imm8 | VEX.128.66.0F3A.W0 22 /r ib | avx")
add("VPINSRQ xmm, xmm, r/m64, imm8 | VEX.128.66.0F3A.W1 22 /r ib | avx")
add("VPEXTRD r/m32, xmm, imm8 | VEX.128.66.0F3A.W0 16 /r ib | avx")
add("VPEXTRQ r/m64, xmm, imm8 | VEX.128.66.0F3A.W1 16 /r ib | avx")
for v, L in (("xmm", 128), ("ymm", 256)):
    add(f"VBROADCASTSS {v}, m32 | VEX.{L}.66.0F38.W0 18 /r | avx")
    add(f"VBROADCASTSS {v}, xmm | VEX.{L}.66.0F38.W0 18 /r | avx2")
    add(f"VPBROADCASTD {v}, xmm/m32 | VEX.{L}.66.0F38.W0 58 /r | avx2")
    add(f"VPBROADCASTQ {v}, xmm/m64 | VEX.{L}.66.0F38.W0 59 /r | avx2")
add("VBROADCASTSD ymm, m64 | VEX.256.66.0F38.W0 19 /r | avx")
add("VBROADCASTSD ymm, xmm | VEX.256.66.0F38.W0 19 /r | avx2")
add("VBROADCASTF128 ymm, m128 | VEX.256.66.0F38.W0 1A /r | avx")
add("VEXTRACTF128 xmm/m128, ymm, imm8 | VEX.256.66.0F3A.W0 19 /r ib | avx")
add("VINSERTF128 ymm, ymm, xmm/m128, imm8 | VEX.256.66.0F3A.W0 18 /r ib | avx")
add("VEXTRACTI128 xmm/m128, ymm, imm8 | VEX.256.66.0F3A.W0 39 /r ib | avx2")
add("VINSERTI128 ymm, ymm, xmm/m128, imm8 | VEX.256.66.0F3A.W0 38 /r ib | avx2")
add("VPERM2F128 ymm, ymm, ymm/m256, imm8 | VEX.256.66.0F3A.W0 06 /r ib | avx")
add("VPERM2I128 ymm, ymm, ymm/m256, imm8 | VEX.256.66.0F3A.W0 46 /r ib | avx2")
add("VPERMPS ymm, ymm, ymm/m256 | VEX.256.66.0F38.W0 16 /r | avx2")
add("VPERMD ymm, ymm, ymm/m256 | VEX.256.66.0F38.W0 36 /r | avx2")
add("VPERMQ ymm, ymm/m256, imm8 | VEX.256.66.0F3A.W1 00 /r ib | avx2")
add("VPERMPD ymm, ymm/m256, imm8 | VEX.256.66.0F3A.W1 01 /r ib | avx2")
add("VZEROUPPER | VEX.128.0F.WIG 77 | avx")
add("VZEROALL | VEX.256.0F.WIG 77 | avx")
for name, op in _PINT.items():
    if name[-1] in "DQ" and name[1:4] in ("SLL", "SRL", "SRA"):
        continue
    for v, L, f in _VI:
        add(f"V{name} {v}, {v}, {v}/m{L} | VEX.{L}.66.0F.WIG {op} /r | {f}")
for name, op in (("PMULLD", "40"), ("PMINSD", "39"), ("PMAXSD", "3D"), ("PMINUD", "3B"),
                 ("PMAXUD", "3F"), ("PCMPEQQ", "29"), ("PCMPGTQ", "37"), ("PSHUFB", "00")):
    for v, L, f in _VI:
        add(f"V{name} {v}, {v}, {v}/m{L} | VEX.{L}.66.0F38.WIG {op} /r | {f}")
for name, op, d in (("PSLLD", "72", 6), ("PSRLD", "72", 2), ("PSRAD", "72", 4), ("PSLLQ", "73", 6),
                    ("PSRLQ", "73", 2)):
    cnt = _PINT[name]
    for v, L, f in _VI:
        add(f"V{name} {v}, {v}, imm8 | VEX.{L}.66.0F.WIG {op} /{d} ib | {f}")
        add(f"V{name} {v}, {v}, xmm/m128 | VEX.{L}.66.0F.WIG {cnt} /r | {f}")
for name, op, w in (("PSLLVD", "47", "W0"), ("PSRLVD", "45", "W0"), ("PSRAVD", "46", "W0"),
                    ("PSLLVQ", "47", "W1"), ("PSRLVQ", "45", "W1")):
    for v, L, _ in _VI:
        add(f"V{name} {v}, {v}, {v}/m{L} | VEX.{L}.66.0F38.{w} {op} /r | avx2")
for v, L, f in _VI:
    add(f"VPSHUFD {v}, {v}/m{L}, imm8 | VEX.{L}.66.0F.WIG 70 /r ib | {f}")
    add(f"VPMOVMSKB r32, {v} | VEX.{L}.66.0F.WIG D7 /r | {f}")
    add(f"VPBLENDD {v}, {v}, {v}/m{L}, imm8 | VEX.{L}.66.0F3A.W0 02 /r ib | avx2")
    add(f"VPMASKMOVD {v}, {v}, m{L} | VEX.{L}.66.0F38.W0 8C /r | avx2")
    add(f"VPMASKMOVD m{L}, {v}, {v} | VEX.{L}.66.0F38.W0 8E /r | avx2 | MVR")
    h = L // 4
    for name, op in (("PMOVSXBD", "21"), ("PMOVZXBD", "31")):
        add(f"V{name} {v}, xmm/m{h} | VEX.{L}.66.0F38.WIG {op} /r | {f}")
    for name, op in (("PMOVSXWD", "23"), ("PMOVZXWD", "33"), ("PMOVSXDQ", "25"), ("PMOVZXDQ", "35")):
        add(f"V{name} {v}, xmm/m{2 * h} | VEX.{L}.66.0F38.WIG {op} /r | {f}")

# ---------------------------------------------------------------- FMA (VEX)
for kind, base in (("VFMADD", 0x98), ("VFMSUB", 0x9A), ("VFNMADD", 0x9C), ("VFNMSUB", 0x9E)):
    for order, off in (("132", 0x00), ("213", 0x10), ("231", 0x20)):
        op = base + off
        for v, L, _ in _V:
            add(f"{kind}{order}PS {v}, {v}, {v}/m{L} | VEX.{L}.66.0F38.W0 {op:02X} /r | fma")
            add(f"{kind}{order}PD {v}, {v}, {v}/m{L} | VEX.{L}.66.0F38.W1 {op:02X} /r | fma")
        add(f"{kind}{order}SS xmm, xmm, xmm/m32 | VEX.LIG.66.0F38.W0 {op + 1:02X} /r | fma")
        add(f"{kind}{order}SD xmm, xmm, xmm/m64 | VEX.LIG.66.0F38.W1 {op + 1:02X} /r | fma")

# ---------------------------------------------------------------- AVX-512 (EVEX)
# Every vector-length-generic row is expanded to zmm (avx512f) then xmm/ymm (+avx512vl).
# No opmask, zeroing, broadcast or embedded rounding: k registers are not modelled.


def _evex(ops: str, enc: str, feat: str = "avx512f", lengths: tuple[int, ...] = (512, 128, 256)) -> None:
    for L in lengths:
        v = {128: "xmm", 256: "ymm", 512: "zmm"}[L]
        add(f"{ops.format(v=v, L=L)} | EVEX.{L}.{enc} | {feat if L == 512 else feat + '+avx512vl'}")


for name, enc, load, store in (("VMOVUPS", "0F.W0", "10", "11"), ("VMOVAPS", "0F.W0", "28", "29"),
                               ("VMOVUPD", "66.0F.W1", "10", "11"), ("VMOVAPD", "66.0F.W1", "28", "29"),
                               ("VMOVDQU32", "F3.0F.W0", "6F", "7F"), ("VMOVDQU64", "F3.0F.W1", "6F", "7F"),
                               ("VMOVDQA32", "66.0F.W0", "6F", "7F"), ("VMOVDQA64", "66.0F.W1", "6F", "7F")):
    _evex(name + " {v}, {v}/m{L}", f"{enc} {load} /r")
    _evex(name + " {v}/m{L}, {v}", f"{enc} {store} /r")
for name, op in (("ADD", "58"), ("MUL", "59"), ("SUB", "5C"), ("MIN", "5D"), ("DIV", "5E"), ("MAX", "5F")):
    _evex(f"V{name}PS {{v}}, {{v}}, {{v}}/m{{L}}", f"0F.W0 {op} /r")
    _evex(f"V{name}PD {{v}}, {{v}}, {{v}}/m{{L}}", f"66.0F.W1 {op} /r")
    add(f"V{name}SS xmm, xmm, xmm/m32 | EVEX.LIG.F3.0F.W0 {op} /r | avx512f")
    add(f"V{name}SD xmm, xmm, xmm/m64 | EVEX.LIG.F2.0F.W1 {op} /r | avx512f")
for name, op in (("AND", "54"), ("ANDN", "55"), ("OR", "56"), ("XOR", "57")):
    _evex(f"V{name}PS {{v}}, {{v}}, {{v}}/m{{L}}", f"0F.W0 {op} /r", "avx512dq")
    _evex(f"V{name}PD {{v}}, {{v}}, {{v}}/m{{L}}", f"66.0F.W1 {op} /r", "avx512dq")
_evex("VSQRTPS {v}, {v}/m{L}", "0F.W0 51 /r")
_evex("VSQRTPD {v}, {v}/m{L}", "66.0F.W1 51 /r")
_evex("VCVTDQ2PS {v}, {v}/m{L}", "0F.W0 5B /r")
_evex("VCVTPS2DQ {v}, {v}/m{L}", "66.0F.W0 5B /r")
_evex("VCVTTPS2DQ {v}, {v}/m{L}", "F3.0F.W0 5B /r")
_evex("VRNDSCALEPS {v}, {v}/m{L}, imm8", "66.0F3A.W0 08 /r ib")
_evex("VPSHUFD {v}, {v}/m{L}, imm8", "66.0F.W0 70 /r ib")
_evex("VSHUFPS {v}, {v}, {v}/m{L}, imm8", "0F.W0 C6 /r ib")
_evex("VUNPCKLPS {v}, {v}, {v}/m{L}", "0F.W0 14 /r")
_evex("VUNPCKHPS {v}, {v}, {v}/m{L}", "0F.W0 15 /r")
_evex("VPTERNLOGD {v}, {v}, {v}/m{L}, imm8", "66.0F3A.W0 25 /r ib")
_evex("VPTERNLOGQ {v}, {v}, {v}/m{L}, imm8", "66.0F3A.W1 25 /r ib")
for kind, base in (("VFMADD", 0x98), ("VFMSUB", 0x9A), ("VFNMADD", 0x9C), ("VFNMSUB", 0x9E)):
    for order, off in (("132", 0x00), ("213", 0x10), ("231", 0x20)):
        op = base + off
        _evex(f"{kind}{order}PS {{v}}, {{v}}, {{v}}/m{{L}}", f"66.0F38.W0 {op:02X} /r")
        _evex(f"{kind}{order}PD {{v}}, {{v}}, {{v}}/m{{L}}", f"66.0F38.W1 {op:02X} /r")
        add(f"{kind}{order}SS xmm, xmm, xmm/m32 | EVEX.LIG.66.0F38.W0 {op + 1:02X} /r | avx512f")
        add(f"{kind}{order}SD xmm, xmm, xmm/m64 | EVEX.LIG.66.0F38.W1 {op + 1:02X} /r | avx512f")
for name, enc in (("VPADDD", "66.0F.W0 FE"), ("VPSUBD", "66.0F.W0 FA"), ("VPADDQ", "66.0F.W1 D4"),
                  ("VPSUBQ", "66.0F.W1 FB"), ("VPMULLD", "66.0F38.W0 40"), ("VPANDD", "66.0F.W0 DB"),
                  ("VPANDQ", "66.0F.W1 DB"), ("VPANDND", "66.0F.W0 DF"), ("VPORD", "66.0F.W0 EB"),
                  ("VPORQ", "66.0F.W1 EB"), ("VPXORD", "66.0F.W0 EF"), ("VPXORQ", "66.0F.W1 EF"),
                  ("VPMAXSD", "66.0F38.W0 3D"), ("VPMINSD", "66.0F38.W0 39"), ("VPMAXUD", "66.0F38.W0 3F"),
                  ("VPMINUD", "66.0F38.W0 3B"), ("VPSLLVD", "66.0F38.W0 47"), ("VPSRLVD", "66.0F38.W0 45"),
                  ("VPSRAVD", "66.0F38.W0 46"), ("VPMULUDQ", "66.0F.W1 F4")):
    _evex(name + " {v}, {v}, {v}/m{L}", enc + " /r")
for name, op, d in (("VPSLLD", "72", 6), ("VPSRLD", "72", 2), ("VPSRAD", "72", 4)):
    _evex(name + " {v}, {v}/m{L}, imm8", f"66.0F.W0 {op} /{d} ib")
_evex("VBROADCASTSS {v}, xmm/m32", "66.0F38.W0 18 /r")
_evex("VBROADCASTSD {v}, xmm/m64", "66.0F38.W1 19 /r", lengths=(512, 256))
_evex("VPBROADCASTD {v}, xmm/m32", "66.0F38.W0 58 /r")
_evex("VPBROADCASTQ {v}, xmm/m64", "66.0F38.W1 59 /r")
_evex("VPBROADCASTD {v}, r32", "66.0F38.W0 7C /r")
_evex("VPBROADCASTQ {v}, r64", "66.0F38.W1 7C /r")
_evex("VPERMPS {v}, {v}, {v}/m{L}", "66.0F38.W0 16 /r", lengths=(512, 256))
_evex("VPERMD {v}, {v}, {v}/m{L}", "66.0F38.W0 36 /r", lengths=(512, 256))
_evex("VSHUFF32X4 {v}, {v}, {v}/m{L}, imm8", "66.0F3A.W0 23 /r ib", lengths=(512, 256))
_evex("VEXTRACTF32X4 xmm/m128, {v}, imm8", "66.0F3A.W0 19 /r ib", lengths=(512, 256))
_evex("VINSERTF32X4 {v}, {v}, xmm/m128, imm8", "66.0F3A.W0 18 /r ib", lengths=(512, 256))
_evex("VEXTRACTI32X4 xmm/m128, {v}, imm8", "66.0F3A.W0 39 /r ib", lengths=(512, 256))
_evex("VINSERTI32X4 {v}, {v}, xmm/m128, imm8", "66.0F3A.W0 38 /r ib", lengths=(512, 256))
add("VEXTRACTF64X4 ymm/m256, zmm, imm8 | EVEX.512.66.0F3A.W1 1B /r ib | avx512f")
add("VINSERTF64X4 zmm, zmm, ymm/m256, imm8 | EVEX.512.66.0F3A.W1 1A /r ib | avx512f")
add("VEXTRACTI64X4 ymm/m256, zmm, imm8 | EVEX.512.66.0F3A.W1 3B /r ib | avx512f")
add("VINSERTI64X4 zmm, zmm, ymm/m256, imm8 | EVEX.512.66.0F3A.W1 3A /r ib | avx512f")
for name, pp, w, m in (("VMOVSS", "F3", "W0", 32), ("VMOVSD", "F2", "W1", 64)):
    add(f"{name} xmm, m{m} | EVEX.LIG.{pp}.0F.{w} 10 /r | avx512f")
    add(f"{name} xmm, xmm, xmm | EVEX.LIG.{pp}.0F.{w} 10 /r | avx512f")
    add(f"{name} m{m}, xmm | EVEX.LIG.{pp}.0F.{w} 11 /r | avx512f")
add("VMOVD xmm, r/m32 | EVEX.128.66.0F.W0 6E /r | avx512f")
add("VMOVD r/m32, xmm | EVEX.128.66.0F.W0 7E /r | avx512f")
add("VMOVQ xmm, r/m64 | EVEX.128.66.0F.W1 6E /r | avx512f")
add("VMOVQ r/m64, xmm | EVEX.128.66.0F.W1 7E /r | avx512f")
for name, pp, w, m in (("SS", "F3", "W0", 32), ("SD", "F2", "W1", 64)):
    add(f"VSQRT{name} xmm, xmm, xmm/m{m} | EVEX.LIG.{pp}.0F.{w} 51 /r | avx512f")
    add(f"VUCOMI{name} xmm, xmm/m{m} | EVEX.LIG.{'66.' if m == 64 else ''}0F.{w} 2E /r | avx512f")
    add(f"VCVTSI2{name} xmm, xmm, r/m32 | EVEX.LIG.{pp}.0F.W0 2A /r | avx512f")
    add(f"VCVTSI2{name} xmm, xmm, r/m64 | EVEX.LIG.{pp}.0F.W1 2A /r | avx512f")
    add(f"VCVTT{name}2SI r32, xmm/m{m} | EVEX.LIG.{pp}.0F.W0 2C /r | avx512f")
    add(f"VCVTT{name}2SI r64, xmm/m{m} | EVEX.LIG.{pp}.0F.W1 2C /r | avx512f")
add("VCVTSS2SD xmm, xmm, xmm/m32 | EVEX.LIG.F3.0F.W0 5A /r | avx512f")
add("VCVTSD2SS xmm, xmm, xmm/m64 | EVEX.LIG.F2.0F.W1 5A /r | avx512f")
add("VRNDSCALESS xmm, xmm, xmm/m32, imm8 | EVEX.LIG.66.0F3A.W0 0A /r ib | avx512f")
add("VRNDSCALESD xmm, xmm, xmm/m64, imm8 | EVEX.LIG.66.0F3A.W1 0B /r ib | avx512f")

ALIASES = {f"{kind}{alias}": f"{kind}{cc}" for kind in ("j", "set", "cmov")
           for alias, cc in CC_ALIASES.items()}
ALIASES.update({"sal": "shl"})

TABLE = FormTable(ROWS, ALIASES)

__all__ = ["ROWS", "TABLE", "ALIASES", "CONDITIONS", "CC_ALIASES"]
